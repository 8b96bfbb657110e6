/*
 * libkvstore - file backend: listing keys.
 *
 * A directory has no order, so listing goes through the core's walk
 * helper (kvstore_walks, one per store, scope = bucket name): the first
 * page of a walk reads the bucket directory once and decodes the names
 * into a snapshot, which the helper sorts once and serves the walk's
 * pages from. Its cursor states name a position by key, so a walk goes
 * on after an evicted or expired snapshot, in another process or after a
 * restart (a fresh scan of the keys after that key), and never returns a
 * key twice. Keys come out in byte-wise order.
 *
 * SPDX-License-Identifier: MIT
 */
#include "file.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define KVF_TEMP_STALE 3600   /* seconds before a leftover temp is removed */
#define KVF_REAP_PER_SCAN 64  /* expired records one scan removes, at most */

/* Leftovers of writers that crashed between create and rename. Any live
 * writer renames its temp file within moments, so an hour is safe. */
static void reap_temp(kvf_bucket *b, const char *name)
{
    struct stat st;
    if (fstatat(b->dfd, name, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
        S_ISREG(st.st_mode) && st.st_mtime + KVF_TEMP_STALE < time(NULL))
        unlinkat(b->dfd, name, 0);
}

static bool is_plain_file(kvf_bucket *b, const struct dirent *de)
{
    if (de->d_type == DT_REG)
        return true;
    if (de->d_type != DT_UNKNOWN)
        return false; /* directories, symlinks, FIFOs are not keys */
    struct stat st;
    return fstatat(b->dfd, de->d_name, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
           S_ISREG(st.st_mode);
}

/* One scan of a bucket directory: whether expiries must be checked (the
 * bucket has KVF_TTL_MARK) and how many expired records it may still
 * remove. */
typedef struct kvf_scan {
    bool ttl;
    unsigned reap;
} kvf_scan;

static void scan_begin(kvf_bucket *b, kvf_scan *sc)
{
    struct stat st;
    sc->ttl = fstatat(b->dfd, KVF_TTL_MARK, &st, AT_SYMLINK_NOFOLLOW) == 0;
    sc->reap = KVF_REAP_PER_SCAN;
}

/* Removes the expired record `name` if it is still the expired one once
 * its lock is held (a writer may have replaced it meanwhile). */
static void reap_expired(kvf_bucket *b, const char *name)
{
    kvf_lock_t lk;
    uint64_t expires;
    if (kvf_lock(b, name, &lk) != KVSTORE_OK)
        return; /* only a chance to reap lost */
    if (kvf_record_expires(b, name, &expires) && kvf_expired(expires))
        unlinkat(b->dfd, name, 0);
    kvf_unlock(&lk);
}

/* The key an entry of the bucket directory holds, into `key`
 * (KVSTORE_KEY_MAX + 1 bytes); returns its length, or 0 when the entry is
 * not a live key (reserved name, not a regular file, not a canonical
 * name, a hashed file not named after its key, an expired record). */
static size_t entry_key(kvf_bucket *b, const struct dirent *de, char *key,
                        kvf_scan *sc)
{
    uint64_t expires = 0;
    size_t klen;
    if (de->d_name[0] == '.') {
        /* reserved: temp files, the lock file, the expiry marker, "."
         * and ".." */
        if (strncmp(de->d_name, ".tmp.", 5) == 0)
            reap_temp(b, de->d_name);
        return 0;
    }
    if (!is_plain_file(b, de))
        return 0;
    if (kvf_name_is_hashed(de->d_name))
        klen = kvf_record_key(b, de->d_name, key, &expires);
    else if ((klen = kvf_name_decode(de->d_name, key)) != 0 && sc->ttl)
        kvf_record_expires(b, de->d_name, &expires);
    if (klen != 0 && kvf_expired(expires)) {
        if (sc->reap > 0) {
            sc->reap--;
            reap_expired(b, de->d_name);
        }
        return 0; /* expired: absent, reaped or not */
    }
    return klen;
}

int kvf_each_key(kvf_bucket *b, kvf_key_fn fn, void *ctx)
{
    int rc = KVSTORE_OK;

    /* A descriptor of its own: readdir moves the offset, and closedir
     * closes it. */
    int fd = openat(b->dfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    DIR *dir = fd < 0 ? NULL : fdopendir(fd);
    if (dir == NULL) {
        rc = kvf_errno(errno, "read directory", b->name);
        if (fd >= 0)
            close(fd);
        return rc;
    }
    kvf_scan sc;
    scan_begin(b, &sc);
    while (rc == KVSTORE_OK) {
        char key[KVSTORE_KEY_MAX + 1];
        errno = 0;
        struct dirent *de = readdir(dir);
        if (de == NULL) {
            if (errno != 0)
                rc = kvf_errno(errno, "read directory", b->name);
            break;
        }
        size_t klen = entry_key(b, de, key, &sc);
        if (klen != 0)
            rc = fn(ctx, key, klen);
    }
    closedir(dir);
    return rc;
}

/* The walk helper's fill: every key of the bucket with `prefix`, after
 * `after` when given. */
typedef struct fill_ctx {
    const char *prefix;
    size_t plen;
    const char *after;
    kvstore_walk_sink *sink;
} fill_ctx;

static int fill_one(void *ctx, const char *key, size_t len)
{
    const fill_ctx *f = ctx;
    if (len < f->plen || memcmp(key, f->prefix, f->plen) != 0 ||
        (f->after && strcmp(key, f->after) <= 0))
        return KVSTORE_OK;
    return kvstore_walk_add(f->sink, key, len);
}

static int fill_keys(void *ctx, const char *prefix, const char *after,
                     kvstore_walk_sink *sink)
{
    fill_ctx f = {prefix, strlen(prefix), after, sink};
    return kvf_each_key(ctx, fill_one, &f);
}

int kvf_list_keys(void *bucket, const char *prefix, const char *cursor,
                  size_t limit, kvstore_keys **out)
{
    kvf_bucket *b = bucket;
    return kvstore_walk_page(b->store->walks, b->name, prefix, cursor, limit,
                             fill_keys, b, out);
}

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

size_t kvf_entry_key(kvf_bucket *b, const struct dirent *de, char *key)
{
    if (de->d_name[0] == '.') {
        /* reserved: temp files, the lock file, "." and ".." */
        if (strncmp(de->d_name, ".tmp.", 5) == 0)
            reap_temp(b, de->d_name);
        return 0;
    }
    if (!is_plain_file(b, de))
        return 0;
    if (kvf_name_is_hashed(de->d_name))
        return kvf_record_key(b, de->d_name, key);
    return kvf_name_decode(de->d_name, key);
}

/* The walk helper's fill: every key of the bucket with `prefix`, after
 * `after` when given. */
static int fill_keys(void *ctx, const char *prefix, const char *after,
                     kvstore_walk_sink *sink)
{
    kvf_bucket *b = ctx;
    size_t plen = strlen(prefix);
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
    while (rc == KVSTORE_OK) {
        char key[KVSTORE_KEY_MAX + 1];
        errno = 0;
        struct dirent *de = readdir(dir);
        if (de == NULL) {
            if (errno != 0)
                rc = kvf_errno(errno, "read directory", b->name);
            break;
        }
        size_t klen = kvf_entry_key(b, de, key);
        if (klen == 0 || klen < plen || memcmp(key, prefix, plen) != 0 ||
            (after && strcmp(key, after) <= 0))
            continue;
        rc = kvstore_walk_add(sink, key, klen);
    }
    closedir(dir);
    return rc;
}

int kvf_list_keys(void *bucket, const char *prefix, const char *cursor,
                  size_t limit, kvstore_keys **out)
{
    kvf_bucket *b = bucket;
    return kvstore_walk_page(b->store->walks, b->name, prefix, cursor, limit,
                             fill_keys, b, out);
}

/*
 * libkvstore - file backend: listing keys with cursors.
 *
 * A directory has no order, so the first page of a walk reads the whole
 * bucket directory once, decodes and sorts the names, and keeps the sorted
 * snapshot in a small store-level cache under a random 64-bit token. The
 * cursor carries the token and the last key returned, so each later page
 * is a binary search in the snapshot: a full walk costs one directory scan
 * plus O(n log n) in memory, not one scan per page.
 *
 * The cursor stays meaningful without the cache: when its token is unknown
 * (another process, a restart, an evicted or expired snapshot) the bucket
 * is scanned again for the keys after the cursor's key, and that scan
 * becomes the new snapshot. Keys come out in byte-wise order; a key is
 * never returned twice by one walk.
 *
 * SPDX-License-Identifier: MIT
 */
#include "file.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define KVF_WALKS 16          /* cached snapshots per store, at most */
#define KVF_WALK_IDLE 300     /* seconds a snapshot survives unused */
#define KVF_TEMP_STALE 3600   /* seconds before a leftover temp is removed */

struct kvf_walk {
    kvf_walk *next;
    uint64_t token;
    time_t used;
    char bucket[KVSTORE_BUCKET_NAME_MAX + 1];
    char *prefix;   /* owned */
    char **keys;    /* owned array, sorted; the strings live in `arena` */
    size_t n;
    char *arena;    /* owned */
};

static void walk_free(kvf_walk *w)
{
    if (w == NULL)
        return;
    free(w->prefix);
    free(w->keys);
    free(w->arena);
    free(w);
}

void kvf_walks_free(kvf_store *s)
{
    while (s->walks) {
        kvf_walk *w = s->walks;
        s->walks = w->next;
        walk_free(w);
    }
}

static time_t now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec;
}

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

/* Reads the bucket directory into a new snapshot of the keys that start
 * with `prefix` and sort after `after` (NULL: all), sorted. */
static int scan(kvf_bucket *b, const char *prefix, const char *after,
                kvf_walk **out)
{
    size_t plen = strlen(prefix), cap = 1 << 16, used = 0, n = 0, ncap = 1024;
    kvf_walk *w = calloc(1, sizeof *w);
    size_t *offs = malloc(ncap * sizeof *offs);
    char *arena = malloc(cap);
    DIR *dir = NULL;
    int fd = -1, rc = KVSTORE_OK;

    *out = NULL;
    if (w == NULL || offs == NULL || arena == NULL)
        goto nomem;
    /* A descriptor of its own: readdir moves the offset, and closedir
     * closes it. */
    fd = openat(b->dfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0 || (dir = fdopendir(fd)) == NULL) {
        rc = kvf_errno(errno, "read directory", b->name);
        if (fd >= 0)
            close(fd);
        goto fail;
    }
    for (;;) {
        char key[KVSTORE_KEY_MAX + 1];
        size_t klen;
        errno = 0;
        struct dirent *de = readdir(dir);
        if (de == NULL) {
            if (errno != 0) {
                rc = kvf_errno(errno, "read directory", b->name);
                goto fail;
            }
            break;
        }
        klen = kvf_entry_key(b, de, key);
        if (klen == 0 || klen < plen || memcmp(key, prefix, plen) != 0 ||
            (after && strcmp(key, after) <= 0))
            continue;
        if (used + klen + 1 > cap) {
            char *grown = realloc(arena, cap *= 2);
            if (grown == NULL)
                goto nomem;
            arena = grown;
        }
        if (n == ncap) {
            size_t *grown = realloc(offs, (ncap *= 2) * sizeof *offs);
            if (grown == NULL)
                goto nomem;
            offs = grown;
        }
        memcpy(arena + used, key, klen + 1);
        offs[n++] = used;
        used += klen + 1;
    }
    closedir(dir);
    dir = NULL;

    /* The arena no longer moves: turn offsets into pointers and sort. */
    w->keys = malloc((n ? n : 1) * sizeof *w->keys);
    w->prefix = strdup(prefix);
    if (w->keys == NULL || w->prefix == NULL)
        goto nomem;
    for (size_t i = 0; i < n; i++)
        w->keys[i] = arena + offs[i];
    if (!kvf_sort_keys(w->keys, n))
        goto nomem;
    free(offs);
    w->arena = arena;
    w->n = n;
    memcpy(w->bucket, b->name, sizeof w->bucket);
    *out = w;
    return KVSTORE_OK;

nomem:
    rc = kvstore_set_error(KVSTORE_ENOMEM, "file: out of memory listing "
                           "bucket '%s'", b->name);
fail:
    if (dir)
        closedir(dir);
    free(offs);
    free(arena);
    walk_free(w);
    return rc;
}

/* Index of the first key of the snapshot that sorts after `after`. */
static size_t upper_bound(const kvf_walk *w, const char *after)
{
    size_t lo = 0, hi = w->n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (strcmp(w->keys[mid], after) <= 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

/* The position state the core wraps into a cursor (table version 2):
 * "f1." + 16 hex digits of the walk token + "." + the page's last key.
 * Keys hold no NUL and at most KVSTORE_KEY_MAX bytes, so the state is a
 * string of at most STATE_BUF - 1 <= KVSTORE_CURSOR_STATE_MAX bytes. */
#define STATE_MAGIC "f1."
#define STATE_HEAD (3 + 16 + 1)
#define STATE_BUF (STATE_HEAD + KVSTORE_KEY_MAX + 1)
_Static_assert(STATE_BUF - 1 <= KVSTORE_CURSOR_STATE_MAX,
               "a list state must fit a cursor");

static void state_format(char *state, uint64_t token, const char *last)
{
    static const char hex[] = "0123456789abcdef";
    memcpy(state, STATE_MAGIC, 3);
    for (int i = 0; i < 16; i++)
        state[3 + i] = hex[(token >> (4 * (15 - i))) & 15];
    state[STATE_HEAD - 1] = '.';
    memcpy(state + STATE_HEAD, last, strlen(last) + 1);
}

/* Parses a state strictly: the core checked only that this backend made a
 * state like it for this bucket, and a guest can forge one. */
static bool state_parse(const char *state, uint64_t *token, char *after)
{
    size_t len = strlen(state);
    if (len <= STATE_HEAD || len - STATE_HEAD > KVSTORE_KEY_MAX ||
        memcmp(state, STATE_MAGIC, 3) != 0 || state[STATE_HEAD - 1] != '.')
        return false;
    uint64_t t = 0;
    for (int i = 3; i < STATE_HEAD - 1; i++) {
        char c = state[i];
        int d = c >= '0' && c <= '9' ? c - '0'
                : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
        if (d < 0)
            return false;
        t = t << 4 | (uint64_t)d;
    }
    const char *key = state + STATE_HEAD;
    if (!kvstore_utf8_valid(key, len - STATE_HEAD))
        return false;
    *token = t;
    memcpy(after, key, len - STATE_HEAD + 1);
    return true;
}

/* Builds the page of at most `limit` keys from `pos`; the cursor names
 * the walk's token and the page's last key. Sets *done when the snapshot
 * is exhausted. */
static int page_from(const kvf_walk *w, size_t pos, size_t limit,
                     kvstore_keys **out, bool *done)
{
    kvstore_keys *page = kvstore_keys_new();
    int rc = page ? KVSTORE_OK : KVSTORE_ENOMEM;
    size_t end = pos + limit < w->n ? pos + limit : w->n;

    for (size_t i = pos; rc == KVSTORE_OK && i < end; i++)
        rc = kvstore_keys_add(page, w->keys[i], strlen(w->keys[i]));
    *done = end >= w->n;
    if (rc == KVSTORE_OK && !*done) {
        char state[STATE_BUF];
        state_format(state, w->token, w->keys[end - 1]);
        rc = kvstore_keys_set_cursor(page, state);
    }
    if (rc != KVSTORE_OK) {
        kvstore_keys_free(page);
        return rc == KVSTORE_ENOMEM
                   ? kvstore_set_error(rc, "file: out of memory listing")
                   : rc;
    }
    *out = page;
    return KVSTORE_OK;
}

/* Drops expired snapshots; caller holds walks_mu. Returns how many stay. */
static size_t expire(kvf_store *s, time_t t)
{
    size_t count = 0;
    for (kvf_walk **pp = &s->walks; *pp;) {
        kvf_walk *w = *pp;
        if (w->used + KVF_WALK_IDLE < t) {
            *pp = w->next;
            walk_free(w);
        } else {
            pp = &w->next;
            count++;
        }
    }
    return count;
}

/* Continues a cached walk; returns KVSTORE_NOTFOUND if `token` is not
 * cached for this bucket and prefix. */
static int continue_cached(kvf_bucket *b, const char *prefix, uint64_t token,
                           const char *after, size_t limit,
                           kvstore_keys **out)
{
    kvf_store *s = b->store;
    kvf_walk *gone = NULL;
    int rc = KVSTORE_NOTFOUND;
    time_t t = now();

    pthread_mutex_lock(&s->walks_mu);
    expire(s, t);
    for (kvf_walk **pp = &s->walks; *pp; pp = &(*pp)->next) {
        kvf_walk *w = *pp;
        if (w->token != token || strcmp(w->bucket, b->name) != 0 ||
            strcmp(w->prefix, prefix) != 0)
            continue;
        bool done;
        rc = page_from(w, upper_bound(w, after), limit, out, &done);
        w->used = t;
        if (rc == KVSTORE_OK && done) {
            *pp = w->next; /* the walk is over */
            gone = w;
        }
        break;
    }
    pthread_mutex_unlock(&s->walks_mu);
    walk_free(gone);
    return rc;
}

static void cache_walk(kvf_store *s, kvf_walk *w)
{
    kvf_walk *evict = NULL;
    time_t t = now();

    w->used = t;
    pthread_mutex_lock(&s->walks_mu);
    if (expire(s, t) >= KVF_WALKS) {
        /* Evict the least recently used snapshot; its walk falls back to
         * a rescan. */
        kvf_walk **victim = &s->walks;
        for (kvf_walk **pp = &s->walks; *pp; pp = &(*pp)->next)
            if ((*pp)->used < (*victim)->used)
                victim = pp;
        evict = *victim;
        *victim = evict->next;
    }
    w->next = s->walks;
    s->walks = w;
    pthread_mutex_unlock(&s->walks_mu);
    walk_free(evict);
}

static int bad_cursor(void)
{
    return kvstore_set_error(KVSTORE_EINVAL, "file: malformed cursor");
}

int kvf_list_keys(void *bucket, const char *prefix, const char *cursor,
                  size_t limit, kvstore_keys **out)
{
    kvf_bucket *b = bucket;
    char after[KVSTORE_KEY_MAX + 1];
    uint64_t token = 0;
    bool resume = cursor != NULL;
    int rc;

    *out = NULL;
    if (resume) {
        if (!state_parse(cursor, &token, after))
            return bad_cursor();
        rc = continue_cached(b, prefix, token, after, limit, out);
        if (rc != KVSTORE_NOTFOUND)
            return rc;
    }

    kvf_walk *w;
    rc = scan(b, prefix, resume ? after : NULL, &w);
    if (rc != KVSTORE_OK)
        return rc;
    w->token = kvf_random(b->store);
    bool done;
    rc = page_from(w, 0, limit, out, &done);
    if (rc == KVSTORE_OK && !done)
        cache_walk(b->store, w);
    else
        walk_free(w);
    return rc;
}

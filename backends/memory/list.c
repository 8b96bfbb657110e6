/*
 * libkvstore - memory backend: listing keys with cursors.
 *
 * Keys are listed in byte-wise order. A page is served from a sorted
 * snapshot of the bucket's keys, cached per bucket, so a walk in pages does
 * not sort again for each page: a full walk of n keys costs one O(n log n)
 * sort plus O(log n + page) per page.
 *
 * The cursor (inside the core's checksummed envelope, bound to the bucket
 * name) holds the id of the snapshot the walk uses and the last key
 * returned. The next page is "the first keys > last" in that snapshot if
 * it is still cached, else in a current snapshot. Since positions are keys,
 * not indexes, a cursor stays valid when the cache is gone (bucket
 * reopened, another walk replaced the snapshot), and no key is ever listed
 * twice in one walk. A walk keeps its snapshot even if keys are added or
 * removed meanwhile: keys changed during the walk may or may not appear,
 * which the contract allows, and the walk stays O(n).
 *
 * SPDX-License-Identifier: MIT
 */
#include "memory.h"

#include <stdlib.h>
#include <string.h>

/* Immutable once built; shared by the bucket cache and the pages being
 * built from it. */
struct mem_snapshot {
    _Atomic unsigned refs;
    uint64_t id;
    uint64_t keygen[MEM_STRIPES]; /* stripes' key generations when taken */
    size_t count;
    char **keys;                  /* sorted; point into arena */
    char *arena;                  /* the keys, NUL-terminated, back to back */
};

/* Cursor state: a format byte, the snapshot id, then the last key. */
#define CURSOR_FORMAT 1
#define CURSOR_HEAD 9

/* Snapshot ids are unique in the process, so a cursor from a store that
 * was freed and recreated never names a snapshot it did not use. */
static _Atomic uint64_t next_snapshot_id = 1;

void mem_snapshot_release(mem_snapshot *snap)
{
    if (!snap)
        return;
    if (atomic_fetch_sub_explicit(&snap->refs, 1, memory_order_acq_rel) != 1)
        return;
    free(snap->keys);
    free(snap->arena);
    free(snap);
}

static bool snapshot_fresh(mem_bucket *b, const mem_snapshot *snap)
{
    for (size_t i = 0; i < MEM_STRIPES; i++) {
        if (atomic_load_explicit(&b->stripes[i].keygen,
                                 memory_order_acquire) != snap->keygen[i])
            return false;
    }
    return true;
}

static int key_cmp(const void *a, const void *b)
{
    /* strcmp compares as unsigned char: byte-wise order. */
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static bool grow(void **p, size_t *cap, size_t need, size_t elem)
{
    size_t n = *cap ? *cap : 64;
    void *q;

    if (need <= *cap)
        return true;
    while (n < need)
        n *= 2;
    q = realloc(*p, n * elem);
    if (!q)
        return false;
    *p = q;
    *cap = n;
    return true;
}

/* Copies every key of the bucket, one stripe at a time under its read
 * lock, recording each stripe's key generation with its keys. */
static mem_snapshot *snapshot_build(mem_bucket *b)
{
    mem_snapshot *snap = calloc(1, sizeof(*snap));
    size_t *offs = NULL, offs_cap = 0, arena_len = 0, arena_cap = 0;
    size_t n = 0;

    if (!snap)
        return NULL;
    for (size_t i = 0; i < MEM_STRIPES; i++) {
        mem_stripe *st = &b->stripes[i];
        mem_entry *e, *tmp;
        size_t bytes = 0;
        bool ok;

        pthread_rwlock_rdlock(&st->lock);
        snap->keygen[i] = atomic_load_explicit(&st->keygen,
                                               memory_order_relaxed);
        HASH_ITER(hh, st->table, e, tmp)
            bytes += e->klen + 1;
        ok = grow((void **)&offs, &offs_cap, n + HASH_COUNT(st->table),
                  sizeof(*offs)) &&
             grow((void **)&snap->arena, &arena_cap, arena_len + bytes, 1);
        if (ok) {
            HASH_ITER(hh, st->table, e, tmp) {
                offs[n++] = arena_len;
                memcpy(snap->arena + arena_len, e->data, e->klen + 1);
                arena_len += e->klen + 1;
            }
        }
        pthread_rwlock_unlock(&st->lock);
        if (!ok)
            goto fail;
    }
    snap->keys = malloc((n ? n : 1) * sizeof(*snap->keys));
    if (!snap->keys)
        goto fail;
    for (size_t i = 0; i < n; i++)
        snap->keys[i] = snap->arena + offs[i];
    free(offs);
    qsort(snap->keys, n, sizeof(*snap->keys), key_cmp);
    snap->count = n;
    snap->id = atomic_fetch_add_explicit(&next_snapshot_id, 1,
                                         memory_order_relaxed);
    atomic_init(&snap->refs, 1);
    return snap;

fail:
    free(offs);
    free(snap->arena);
    free(snap);
    return NULL;
}

/* Returns a referenced snapshot for a page: the walk's own snapshot
 * (`want`, 0 for none) if cached, else the cached one if current, else a
 * new one, which replaces the cache. */
static mem_snapshot *snapshot_get(mem_bucket *b, uint64_t want)
{
    mem_snapshot *snap;

    /* Building under the lock makes concurrent listers wait for one build
     * instead of each sorting the same keys. */
    pthread_mutex_lock(&b->snap_lock);
    snap = b->snap;
    if (!snap || (snap->id != want && !snapshot_fresh(b, snap))) {
        snap = snapshot_build(b);
        if (snap) {
            mem_snapshot_release(b->snap);
            b->snap = snap;
        }
    }
    if (snap)
        atomic_fetch_add_explicit(&snap->refs, 1, memory_order_relaxed);
    pthread_mutex_unlock(&b->snap_lock);
    return snap;
}

/* First index whose key is > `key` (strict) or >= `key`. */
static size_t bound(const mem_snapshot *snap, const char *key, bool strict)
{
    size_t lo = 0, hi = snap->count;

    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int c = strcmp(snap->keys[mid], key);

        if (c < 0 || (strict && c == 0))
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

static bool has_prefix(const char *key, const char *prefix, size_t plen)
{
    return strncmp(key, prefix, plen) == 0;
}

/* Decodes and checks a cursor: sets *id and copies the last key into
 * `last` (KVSTORE_KEY_MAX + 1 bytes). */
static int cursor_parse(mem_bucket *b, const char *cursor, uint64_t *id,
                        char *last)
{
    unsigned char state[CURSOR_HEAD + KVSTORE_KEY_MAX];
    size_t len, klen;
    int rc = kvstore_cursor_decode(cursor, b->name, state, sizeof(state),
                                   &len);

    if (rc != KVSTORE_OK)
        return rc;
    if (len <= CURSOR_HEAD || state[0] != CURSOR_FORMAT)
        return kvstore_set_error(KVSTORE_EINVAL,
                                 "memory: cursor is not a memory cursor");
    klen = len - CURSOR_HEAD;
    if (memchr(state + CURSOR_HEAD, '\0', klen) ||
        !kvstore_utf8_valid((const char *)state + CURSOR_HEAD, klen))
        return kvstore_set_error(KVSTORE_EINVAL,
                                 "memory: cursor holds an invalid key");
    *id = 0;
    for (size_t i = 0; i < 8; i++)
        *id |= (uint64_t)state[1 + i] << (8 * i);
    memcpy(last, state + CURSOR_HEAD, klen);
    last[klen] = '\0';
    return KVSTORE_OK;
}

static int cursor_make(kvstore_keys *page, mem_bucket *b, uint64_t id,
                       const char *last)
{
    unsigned char state[CURSOR_HEAD + KVSTORE_KEY_MAX];
    size_t klen = strlen(last);
    char *cursor;
    int rc;

    state[0] = CURSOR_FORMAT;
    for (size_t i = 0; i < 8; i++)
        state[1 + i] = (unsigned char)(id >> (8 * i));
    memcpy(state + CURSOR_HEAD, last, klen);
    rc = kvstore_cursor_encode(&cursor, b->name, state, CURSOR_HEAD + klen);
    if (rc != KVSTORE_OK)
        return rc;
    rc = kvstore_keys_set_cursor(page, cursor);
    kvstore_free(cursor);
    return rc;
}

int mem_list_keys(void *bucket, const char *prefix, const char *cursor,
                  size_t limit, kvstore_keys **out)
{
    mem_bucket *b = bucket;
    char last[KVSTORE_KEY_MAX + 1];
    uint64_t want = 0;
    size_t plen = strlen(prefix), i, got = 0;
    mem_snapshot *snap;
    kvstore_keys *page;
    int rc = KVSTORE_OK;

    if (cursor) {
        rc = cursor_parse(b, cursor, &want, last);
        if (rc != KVSTORE_OK)
            return rc;
    }
    snap = snapshot_get(b, want);
    if (!snap)
        return kvstore_set_error(KVSTORE_ENOMEM, "memory: out of memory");
    page = kvstore_keys_new();
    if (!page) {
        mem_snapshot_release(snap);
        return kvstore_set_error(KVSTORE_ENOMEM, "memory: out of memory");
    }

    i = bound(snap, prefix, false);
    if (cursor) {
        size_t after = bound(snap, last, true);
        if (after > i)
            i = after;
    }
    for (; i < snap->count && got < limit; i++, got++) {
        const char *key = snap->keys[i];

        if (!has_prefix(key, prefix, plen))
            break;
        rc = kvstore_keys_add(page, key, strlen(key));
        if (rc != KVSTORE_OK)
            goto fail;
    }
    if (got > 0 && i < snap->count && has_prefix(snap->keys[i], prefix, plen)) {
        rc = cursor_make(page, b, snap->id, snap->keys[i - 1]);
        if (rc != KVSTORE_OK)
            goto fail;
    }
    mem_snapshot_release(snap);
    *out = page;
    return KVSTORE_OK;

fail:
    mem_snapshot_release(snap);
    kvstore_keys_free(page);
    return kvstore_set_error(rc, "memory: out of memory");
}

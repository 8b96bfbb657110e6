/*
 * Sorted walks (kvstore_walks, see <kvstore/backend.h>): the one listing
 * cache that backends without key order share.
 *
 * A snapshot is the keys a backend's fill callback appended, back to back
 * in one arena, and an array of pointers into it in byte-wise order. It is
 * taken on the first page of a walk (or when a state names no cached
 * snapshot), sorted once and kept under a token while its walk goes on, so
 * a walk of n keys in pages costs one O(n log n) sort and O(log n + page)
 * per page.
 *
 * Sorting is most of the cost of a big walk, and a comparison sort of
 * pointers to strings misses the cache on almost every comparison. So the
 * keys are sorted as (8-byte head, offset) records by an LSD radix sort on
 * the head, where the head is the 8 bytes after the prefix common to all
 * keys of the snapshot; only keys whose heads tie are compared as strings.
 *
 * Ownership: the cache owns its snapshots; a page being built holds a
 * reference (under the cache's mutex) so that eviction by another thread
 * unlinks the snapshot but does not free it under the reader.
 *
 * SPDX-License-Identifier: MIT
 */
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

#include "internal.h"

#define WALKS_DEFAULT_MAX 16
#define WALKS_DEFAULT_BYTES ((size_t)256 * 1024 * 1024)
#define WALKS_DEFAULT_IDLE_MS 300000

/* State: "w1" <16 hex digits> ":" <key>. */
#define STATE_MAGIC "w1"
#define STATE_HEAD 19

/* A key while the snapshot is being sorted: its first bytes after the
 * common prefix, big-endian (so integer order is byte-wise order, a short
 * key padded with zeros sorting first), and where it is in the arena. */
typedef struct walk_ent {
    uint64_t head;
    size_t off;
} walk_ent;
_Static_assert(sizeof(walk_ent) >= 2 * sizeof(const char *),
               "records turn into pointers in place");

struct kvstore_walk_sink {
    char *arena;        /* keys, each followed by a NUL */
    size_t used, cap;
    walk_ent *ents;     /* in append order */
    size_t n, ncap;
};

typedef struct snapshot {
    struct snapshot *next;
    unsigned refs;      /* pages being built from it; under walks->mu */
    bool cached;        /* linked in walks->list */
    uint64_t token;
    uint64_t version;   /* key-space version when taken; 0: unknown */
    bool complete;      /* taken without `after`: holds every key */
    uint64_t used_ms;   /* for idle expiry */
    uint64_t used_seq;  /* for LRU eviction: ms ties too often */
    size_t bytes;
    char *scope;        /* owned, one allocation with prefix */
    char *prefix;
    char *arena;        /* owned */
    const char **keys;  /* owned; sorted, no duplicates, into arena */
    size_t n;
} snapshot;

struct kvstore_walks {
    pthread_mutex_t mu;
    snapshot *list;     /* most recently inserted first */
    size_t count, bytes;
    size_t max_walks, max_bytes;
    uint64_t idle_ms;
    uint64_t next_token;
    uint64_t seq;       /* bumped by every page served */
};

static uint64_t now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static int nomem(void)
{
    return kvstore_set_error(KVSTORE_ENOMEM, "out of memory listing keys");
}

kvstore_walks *kvstore_walks_new(size_t max_walks, size_t max_bytes,
                                 uint64_t idle_ms)
{
    kvstore_walks *w = calloc(1, sizeof *w);
    uint64_t seed = 0;

    if (w == NULL)
        return NULL;
    if (pthread_mutex_init(&w->mu, NULL) != 0) {
        free(w);
        return NULL;
    }
    w->max_walks = max_walks ? max_walks : WALKS_DEFAULT_MAX;
    w->max_bytes = max_bytes ? max_bytes : WALKS_DEFAULT_BYTES;
    w->idle_ms = idle_ms ? idle_ms : WALKS_DEFAULT_IDLE_MS;
    /* Tokens need only be distinct within this cache; a random start
     * makes a stale token of an earlier cache (a restarted store) unlikely
     * to name a snapshot, which would anyway be of the same scope and
     * prefix only. */
    if (getrandom(&seed, sizeof seed, GRND_NONBLOCK) != (ssize_t)sizeof seed)
        seed = now_ms() ^ (uint64_t)(uintptr_t)w;
    w->next_token = seed;
    return w;
}

static void snapshot_free(snapshot *s)
{
    if (s == NULL)
        return;
    free(s->scope);
    free(s->arena);
    free(s->keys);
    free(s);
}

/* Unlinks `*pp` from the cache; frees it unless a page is being built
 * from it (the builder then frees it). Caller holds mu. */
static void unlink_at(kvstore_walks *w, snapshot **pp)
{
    snapshot *s = *pp;

    *pp = s->next;
    s->next = NULL;
    s->cached = false;
    w->count--;
    w->bytes -= s->bytes;
    if (s->refs == 0)
        snapshot_free(s);
}

void kvstore_walks_free(kvstore_walks *walks)
{
    if (walks == NULL)
        return;
    while (walks->list)
        unlink_at(walks, &walks->list);
    pthread_mutex_destroy(&walks->mu);
    free(walks);
}

void kvstore_walks_forget(kvstore_walks *walks, const char *scope)
{
    if (walks == NULL)
        return;
    pthread_mutex_lock(&walks->mu);
    for (snapshot **pp = &walks->list; *pp;) {
        if (scope == NULL || strcmp((*pp)->scope, scope) == 0)
            unlink_at(walks, pp);
        else
            pp = &(*pp)->next;
    }
    pthread_mutex_unlock(&walks->mu);
}

void kvstore_walks_stats(const kvstore_walks *walks, size_t *count,
                         size_t *bytes)
{
    kvstore_walks *w = (kvstore_walks *)walks;
    size_t c = 0, b = 0;

    if (w) {
        pthread_mutex_lock(&w->mu);
        c = w->count;
        b = w->bytes;
        pthread_mutex_unlock(&w->mu);
    }
    if (count)
        *count = c;
    if (bytes)
        *bytes = b;
}

/* Drops idle snapshots. Caller holds mu. */
static void expire(kvstore_walks *w, uint64_t t)
{
    for (snapshot **pp = &w->list; *pp;) {
        if ((*pp)->used_ms + w->idle_ms <= t)
            unlink_at(w, pp);
        else
            pp = &(*pp)->next;
    }
}

/* ---- taking a snapshot ---- */

static bool grow(void **p, size_t *cap, size_t need, size_t elem,
                 size_t first)
{
    size_t n = *cap ? *cap : first;
    void *q;

    if (need <= *cap)
        return true;
    while (n < need) {
        if (n > SIZE_MAX / 2 / elem)
            return false;
        n *= 2;
    }
    q = realloc(*p, n * elem);
    if (q == NULL)
        return false;
    *p = q;
    *cap = n;
    return true;
}

int kvstore_walk_reserve(kvstore_walk_sink *sink, size_t keys, size_t bytes)
{
    if (sink == NULL)
        return kvstore_set_error(KVSTORE_EINVAL, "walk_reserve: NULL sink");
    if (keys > SIZE_MAX - sink->n || bytes > SIZE_MAX - sink->used - keys ||
        !grow((void **)&sink->ents, &sink->ncap, sink->n + keys,
              sizeof *sink->ents, 256) ||
        !grow((void **)&sink->arena, &sink->cap, sink->used + bytes + keys,
              1, 4096))
        return nomem();
    return KVSTORE_OK;
}

/* True if one of `len` bytes at `p` is 0. Inline and a word at a time:
 * keys are short, and a call to memchr per key was 8% of a big walk. */
static inline bool has_nul(const char *p, size_t len)
{
    size_t i = 0;

    for (; i + 8 <= len; i += 8) {
        uint64_t w;

        memcpy(&w, p + i, 8);
        if ((w - UINT64_C(0x0101010101010101)) & ~w &
            UINT64_C(0x8080808080808080))
            return true;
    }
    for (; i < len; i++)
        if (p[i] == '\0')
            return true;
    return false;
}

int kvstore_walk_add(kvstore_walk_sink *sink, const char *key, size_t len)
{
    if (sink == NULL || key == NULL)
        return kvstore_set_error(KVSTORE_EINVAL, "walk_add: NULL argument");
    if (len == 0 || len > KVSTORE_KEY_MAX || has_nul(key, len))
        return kvstore_set_error(KVSTORE_EINVAL,
                                 "walk_add: not a key (%zu bytes)", len);
    if ((sink->n == sink->ncap &&
         !grow((void **)&sink->ents, &sink->ncap, sink->n + 1,
               sizeof *sink->ents, 256)) ||
        (sink->used + len + 1 > sink->cap &&
         !grow((void **)&sink->arena, &sink->cap, sink->used + len + 1, 1,
               4096)))
        return nomem();
    memcpy(sink->arena + sink->used, key, len);
    sink->arena[sink->used + len] = '\0';
    sink->ents[sink->n].off = sink->used;
    sink->n++;
    sink->used += len + 1;
    return KVSTORE_OK;
}

/* Length of the prefix every key shares. The entries are in append order,
 * so this reads the arena front to back. */
static size_t common_prefix(const kvstore_walk_sink *k)
{
    const char *first;
    size_t lcp;

    if (k->n == 0)
        return 0;
    first = k->arena + k->ents[0].off;
    lcp = strlen(first);
    for (size_t i = 1; i < k->n && lcp > 0; i++) {
        const char *s = k->arena + k->ents[i].off;
        size_t j = 0;

        while (j < lcp && s[j] == first[j])
            j++;
        lcp = j;
    }
    return lcp;
}

static uint64_t head_of(const char *s)
{
    uint64_t h = 0;
    int i = 0;

    for (; i < 8 && s[i]; i++)
        h = h << 8 | (unsigned char)s[i];
    return i == 0 ? 0 : h << (8 * (8 - i));
}

/* Sorts ents by head, stably, one byte at a time from the least
 * significant, skipping bytes that are the same in every head. */
static bool radix_sort(walk_ent *ents, size_t n)
{
    size_t (*count)[256] = calloc(8, sizeof *count);
    walk_ent *tmp, *src = ents, *dst;

    if (count == NULL)
        return false;
    tmp = malloc((n ? n : 1) * sizeof *tmp);
    if (tmp == NULL) {
        free(count);
        return false;
    }
    for (size_t i = 0; i < n; i++) {
        uint64_t h = ents[i].head;
        for (int b = 0; b < 8; b++)
            count[b][(h >> (8 * b)) & 255]++;
    }
    dst = tmp;
    for (int b = 0; b < 8; b++) {
        size_t pos = 0;
        bool constant = false;

        for (int v = 0; v < 256; v++) {
            size_t c = count[b][v];
            if (c == n) {
                constant = true;
                break;
            }
            count[b][v] = pos;
            pos += c;
        }
        if (constant)
            continue;
        for (size_t i = 0; i < n; i++) {
            unsigned v = (unsigned)(src[i].head >> (8 * b)) & 255;
            dst[count[b][v]++] = src[i];
        }
        walk_ent *t = src;
        src = dst;
        dst = t;
    }
    if (src != ents)
        memcpy(ents, src, n * sizeof *ents);
    free(tmp);
    free(count);
    return true;
}

/* Compares the rest of two keys whose heads tie; `ctx` is the arena at
 * the depth after the heads. */
static int tail_cmp(const void *a, const void *b, void *ctx)
{
    const char *base = ctx;

    return strcmp(base + ((const walk_ent *)a)->off,
                  base + ((const walk_ent *)b)->off);
}

/* Turns the sink into a sorted snapshot, without duplicates. Consumes
 * the sink's buffers whatever the outcome. */
static int snapshot_build(kvstore_walk_sink *k, const char *scope,
                          const char *prefix, snapshot **out)
{
    size_t slen = strlen(scope), plen = strlen(prefix), depth, n = 0;
    snapshot *s = calloc(1, sizeof *s);

    *out = NULL;
    if (s == NULL || (s->scope = malloc(slen + plen + 2)) == NULL)
        goto fail;
    memcpy(s->scope, scope, slen + 1);
    s->prefix = s->scope + slen + 1;
    memcpy(s->prefix, prefix, plen + 1);

    depth = common_prefix(k);
    for (size_t i = 0; i < k->n; i++)
        k->ents[i].head = head_of(k->arena + k->ents[i].off + depth);
    if (!radix_sort(k->ents, k->n))
        goto fail;
    /* Runs of tied heads: order them by the rest of the key. Only keys
     * longer than depth + 8 can tie without being equal. */
    for (size_t i = 0; i < k->n;) {
        size_t j = i + 1;

        while (j < k->n && k->ents[j].head == k->ents[i].head)
            j++;
        if (j - i > 1)
            qsort_r(k->ents + i, j - i, sizeof *k->ents, tail_cmp,
                    k->arena + depth + 8);
        i = j;
    }
    /* The sorted records become the pointer array in place (a pointer is
     * half a record, so writing pointer n never reaches a record not yet
     * read): no second big allocation, and no page faults for one. The
     * buffer changes type, so it is accessed with memcpy only. */
    {
        char *buf = (char *)k->ents;
        uint64_t prev_head = 0;
        const char *prev = NULL;

        for (size_t i = 0; i < k->n; i++) {
            walk_ent ent;
            const char *key;

            memcpy(&ent, buf + i * sizeof ent, sizeof ent);
            key = k->arena + ent.off;
            /* Equal keys have equal heads: strcmp only then. */
            if (prev && ent.head == prev_head && strcmp(key, prev) == 0)
                continue;
            memcpy(buf + n * sizeof key, &key, sizeof key);
            prev = key;
            prev_head = ent.head;
            n++;
        }
        s->keys = realloc(buf, (n ? n : 1) * sizeof *s->keys);
        if (s->keys == NULL) /* shrinking failed: keep the larger block */
            s->keys = (const char **)(void *)buf;
        k->ents = NULL;
    }
    s->n = n;
    s->arena = k->arena;
    s->bytes = sizeof *s + slen + plen + 2 + k->cap + n * sizeof *s->keys;
    k->arena = NULL;
    *out = s;
    return KVSTORE_OK;

fail:
    snapshot_free(s);
    free(k->arena);
    free(k->ents);
    k->arena = NULL;
    k->ents = NULL;
    return nomem();
}

/* ---- pages ---- */

/* First index whose key is > `key` (strict) or >= `key`. */
static size_t bound(const snapshot *s, const char *key, bool strict)
{
    size_t lo = 0, hi = s->n;

    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int c = strcmp(s->keys[mid], key);

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

static int set_state(kvstore_keys *page, uint64_t token, const char *last)
{
    char state[STATE_HEAD + KVSTORE_KEY_MAX + 1];

    snprintf(state, sizeof state, STATE_MAGIC "%016" PRIx64 ":%s", token,
             last);
    return kvstore_keys_set_cursor(page, state);
}

/* Builds the page after `after` (NULL: from the start); sets *more when
 * keys remain after it. */
static int page_build(const snapshot *s, const char *prefix,
                      const char *after, size_t limit, kvstore_keys **out,
                      bool *more)
{
    size_t plen = strlen(prefix), i = bound(s, prefix, false), got = 0;
    kvstore_keys *page = kvstore_keys_new();
    int rc = KVSTORE_OK;

    *out = NULL;
    *more = false;
    if (page == NULL)
        return nomem();
    if (after) {
        size_t a = bound(s, after, true);
        if (a > i)
            i = a;
    }
    for (; i < s->n && got < limit; i++, got++) {
        const char *key = s->keys[i];

        /* Sorted order jumps around the arena (filled in the backend's
         * order): ask for a key a few places ahead while copying this one. */
        if (i + 8 < s->n)
            __builtin_prefetch(s->keys[i + 8]);
        if (!has_prefix(key, prefix, plen))
            break;
        rc = kvstore_keys_add(page, key, strlen(key));
        if (rc != KVSTORE_OK)
            goto fail;
    }
    *more = got > 0 && i < s->n && has_prefix(s->keys[i], prefix, plen);
    if (*more && (rc = set_state(page, s->token, s->keys[i - 1])) !=
                     KVSTORE_OK)
        goto fail;
    *out = page;
    return KVSTORE_OK;

fail:
    kvstore_keys_free(page);
    return rc;
}

static int state_parse(const char *state, uint64_t *token, const char **last)
{
    uint64_t t = 0;

    if (strncmp(state, STATE_MAGIC, 2) != 0)
        goto bad;
    for (int i = 2; i < STATE_HEAD - 1; i++) {
        char c = state[i];
        int d = c >= '0' && c <= '9' ? c - '0'
              : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
        if (d < 0)
            goto bad;
        t = t << 4 | (uint64_t)d;
    }
    if (state[STATE_HEAD - 1] != ':' ||
        kvstore_key_check(state + STATE_HEAD) != KVSTORE_OK)
        goto bad;
    *token = t;
    *last = state + STATE_HEAD;
    return KVSTORE_OK;
bad:
    return kvstore_set_error(KVSTORE_EINVAL, "malformed list cursor state");
}

/* Finds and references the cached snapshot `token` of scope and prefix.
 * Caller holds mu. */
static snapshot *find(kvstore_walks *w, uint64_t token, const char *scope,
                      const char *prefix, uint64_t t)
{
    for (snapshot *s = w->list; s; s = s->next) {
        if (s->token == token && strcmp(s->scope, scope) == 0 &&
            strcmp(s->prefix, prefix) == 0) {
            s->refs++;
            s->used_ms = t;
            s->used_seq = ++w->seq;
            return s;
        }
    }
    return NULL;
}

/* Inserts a new snapshot, evicting the least recently used ones past the
 * bounds. Caller holds mu. */
static void insert(kvstore_walks *w, snapshot *s, uint64_t t)
{
    expire(w, t);
    while (w->list && (w->count + 1 > w->max_walks ||
                       w->bytes + s->bytes > w->max_bytes)) {
        snapshot **victim = &w->list;
        for (snapshot **pp = &w->list; *pp; pp = &(*pp)->next)
            if ((*pp)->used_seq < (*victim)->used_seq)
                victim = pp;
        unlink_at(w, victim);
    }
    s->used_ms = t;
    s->used_seq = ++w->seq;
    s->cached = true;
    s->next = w->list;
    w->list = s;
    w->count++;
    w->bytes += s->bytes;
}

/* A snapshot of every key at a known version can serve later walks of an
 * unchanged key space: it stays cached after its walk ends, until it is
 * evicted or idle. */
static bool reusable(const snapshot *s)
{
    return s->complete && s->version != 0;
}

/* Serves a page from `s`, which find() referenced, and drops that
 * reference; the walk's last page unlinks the snapshot unless it is
 * reusable. */
static int serve(kvstore_walks *walks, snapshot *s, const char *prefix,
                 const char *after, size_t limit, kvstore_keys **out)
{
    bool more;
    int rc = page_build(s, prefix, after, limit, out, &more);

    pthread_mutex_lock(&walks->mu);
    s->refs--;
    if (rc == KVSTORE_OK && !more && s->cached && !reusable(s)) {
        /* The walk is over: its token is not needed any more. */
        for (snapshot **pp = &walks->list; *pp; pp = &(*pp)->next) {
            if (*pp == s) {
                unlink_at(walks, pp);
                break;
            }
        }
    } else if (!s->cached && s->refs == 0) {
        snapshot_free(s);
    }
    pthread_mutex_unlock(&walks->mu);
    return rc;
}

/* Finds and references a complete snapshot of scope and prefix taken at
 * key-space version `version`. Caller holds mu. */
static snapshot *find_version(kvstore_walks *w, uint64_t version,
                              const char *scope, const char *prefix,
                              uint64_t t)
{
    for (snapshot *s = w->list; s; s = s->next) {
        if (s->complete && s->version == version &&
            strcmp(s->scope, scope) == 0 && strcmp(s->prefix, prefix) == 0) {
            s->refs++;
            s->used_ms = t;
            s->used_seq = ++w->seq;
            return s;
        }
    }
    return NULL;
}

int kvstore_walk_page_at(kvstore_walks *walks, const char *scope,
                         const char *prefix, const char *state, size_t limit,
                         uint64_t version, kvstore_walk_fill_fn fill,
                         void *ctx, kvstore_keys **out)
{
    const char *after = NULL;
    uint64_t token = 0, t;
    kvstore_walk_sink sink = { 0 };
    snapshot *s = NULL;
    bool more;
    int rc;

    if (out)
        *out = NULL;
    if (walks == NULL || scope == NULL || prefix == NULL || fill == NULL ||
        out == NULL || limit == 0)
        return kvstore_set_error(KVSTORE_EINVAL, "walk_page: bad argument");
    if (state && (rc = state_parse(state, &token, &after)) != KVSTORE_OK)
        return rc;

    if (state || version) {
        pthread_mutex_lock(&walks->mu);
        t = now_ms();
        expire(walks, t);
        if (state)
            s = find(walks, token, scope, prefix, t);
        /* Not the walk's own snapshot: one of the same key-space version
         * serves as well, being a copy of the same keys. */
        if (!s && version)
            s = find_version(walks, version, scope, prefix, t);
        pthread_mutex_unlock(&walks->mu);
    }
    if (s)
        return serve(walks, s, prefix, after, limit, out);

    rc = fill(ctx, prefix, after, &sink);
    if (rc != KVSTORE_OK) {
        free(sink.arena);
        free(sink.ents);
        return rc;
    }
    rc = snapshot_build(&sink, scope, prefix, &s);
    if (rc != KVSTORE_OK)
        return rc;
    /* Only a snapshot of every key can serve another walk. */
    s->complete = after == NULL;
    s->version = version;
    /* The token goes into the page's state: take it before the page. */
    pthread_mutex_lock(&walks->mu);
    s->token = walks->next_token++;
    pthread_mutex_unlock(&walks->mu);
    rc = page_build(s, prefix, after, limit, out, &more);
    if (rc != KVSTORE_OK || (!more && !reusable(s))) {
        snapshot_free(s);
        return rc;
    }
    pthread_mutex_lock(&walks->mu);
    insert(walks, s, now_ms());
    pthread_mutex_unlock(&walks->mu);
    return KVSTORE_OK;
}

int kvstore_walk_page(kvstore_walks *walks, const char *scope,
                      const char *prefix, const char *state, size_t limit,
                      kvstore_walk_fill_fn fill, void *ctx,
                      kvstore_keys **out)
{
    return kvstore_walk_page_at(walks, scope, prefix, state, limit, 0, fill,
                                ctx, out);
}

/*
 * Redis backend: list_keys over SCAN ... MATCH "B:<prefix>*".
 *
 * The bucket and the caller's prefix are glob-escaped (glob.c), so the
 * pattern can only match keys of this bucket; every returned key is
 * checked again anyway. Keys other clients wrote that the contract cannot
 * name (not UTF-8, containing NUL, over 1024 bytes) and the bucket marker
 * "B:" are skipped.
 *
 * SCAN's COUNT is a hint: one call may return a few more keys than asked
 * (the last hash bucket visited is returned whole). A page must not exceed
 * `limit`, and a SCAN cursor can only resume after a whole batch, so a
 * batch that does not fit is split: it is sorted, the page takes the
 * first keys, and the cursor carries the rest. The state is a string
 * (table version 2: the core wraps it, bound to backend, store and
 * bucket); "|" below is RD_SEP, the byte 0xFF, which never occurs in
 * UTF-8 and so never inside a key:
 *
 *   "C" <redis cursor>                 continue SCAN at the cursor
 *   "S" <redis cursor> | k1 | k2 ...   keys still owed from the last batch,
 *                                      then continue at the cursor
 *   "R" <c> " " <count> " " <next> | <last key>
 *                                      the keys owed did not fit in a
 *                                      cursor: rerun SCAN c COUNT count; if
 *                                      it ends at `next` again it visited
 *                                      the same hash buckets, so the keys
 *                                      up to <last key> were returned and
 *                                      are skipped; otherwise the batch is
 *                                      returned from its start (repeats
 *                                      are allowed, losses are not)
 *
 * The core's binding is an integrity check, not a secret, so the state
 * is parsed strictly on the way back in (cursor.c) and treated as
 * untrusted.
 *
 * SPDX-License-Identifier: MIT
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "redis.h"

/* A page aims at 7/8 of `limit` per SCAN so that COUNT's overshoot
 * rarely splits a batch; sparse matches let COUNT grow up to 8x. */
#define RD_SCALE_MAX 8
/* One call walks at most this many SCAN batches, then returns what it
 * has (possibly an empty page) with a cursor: a tiny bucket in a huge
 * database must not make one call run for seconds. */
#define RD_SCANS_PER_CALL 256
#define RD_SLOTS 4096 /* dedupe table: power of two >= 2 * KVSTORE_PAGE_MAX */

typedef struct rd_cand {
    const char *k;
    size_t len;
} rd_cand;

/* The page under construction with a hash set of its keys. Owned by
 * rd_list_keys. */
typedef struct rd_slot {
    uint32_t idx;            /* index + 1 into keys->keys; 0 is empty */
    uint32_t len;
} rd_slot;

typedef struct rd_page {
    kvstore_keys *keys;
    size_t limit;
    rd_slot slot[RD_SLOTS];
} rd_page;

/* Keyed: the keys come from the server, where any client may have chosen
 * them to collide. */
static uint32_t rd_hash(const char *k, size_t len)
{
    return (uint32_t)kvstore_hash(k, len);
}

static bool rd_page_has(const rd_page *pg, const char *k, size_t len)
{
    for (uint32_t i = rd_hash(k, len) & (RD_SLOTS - 1);;
         i = (i + 1) & (RD_SLOTS - 1)) {
        const rd_slot *s = &pg->slot[i];

        if (s->idx == 0)
            return false;
        if (s->len == len && memcmp(pg->keys->keys[s->idx - 1], k, len) == 0)
            return true;
    }
}

static int rd_page_add(rd_page *pg, const char *k, size_t len)
{
    uint32_t i = rd_hash(k, len) & (RD_SLOTS - 1);
    int rc;

    if (rd_page_has(pg, k, len))
        return KVSTORE_OK;
    rc = kvstore_keys_add(pg->keys, k, len);
    if (rc != KVSTORE_OK)
        return kvstore_set_error(rc, "redis: out of memory listing keys");
    while (pg->slot[i].idx != 0)
        i = (i + 1) & (RD_SLOTS - 1);
    pg->slot[i].idx = (uint32_t)pg->keys->count;
    pg->slot[i].len = (uint32_t)len;
    return KVSTORE_OK;
}

static int rd_cand_cmp(const void *a, const void *b)
{
    const rd_cand *x = a, *y = b;
    size_t n = x->len < y->len ? x->len : y->len;
    int c = memcmp(x->k, y->k, n);

    if (c != 0)
        return c;
    return (x->len > y->len) - (x->len < y->len);
}

/* Sorts and removes duplicates; returns the new count. */
static size_t rd_cand_sort(rd_cand *c, size_t n)
{
    size_t m = 0;

    if (n < 2)
        return n;
    qsort(c, n, sizeof *c, rd_cand_cmp);
    for (size_t i = 0; i < n; i++)
        if (m == 0 || rd_cand_cmp(&c[m - 1], &c[i]) != 0)
            c[m++] = c[i];
    return m;
}

/* Runs SCAN; on success *r holds the reply, *next the new cursor and
 * cands[0..*n) the names the lister takes that are not yet on the page
 * (pointing into *r; *cands is malloc'd, owned by the caller). */
static int rd_scan(const rd_lister *l, rd_page *pg, uint64_t cursor,
                   uint64_t count, redisReply **r, uint64_t *next,
                   rd_cand **cands, size_t *n)
{
    char cur[24], cnt[24];
    const char *argv[6] = { "SCAN", cur, "MATCH", l->pattern, "COUNT",
                            cnt };
    size_t lens[6] = { 4, 0, 5, l->pattern_len, 5, 0 };
    const redisReply *keys;
    int rc;

    *cands = NULL;
    *n = 0;
    lens[1] = (size_t)snprintf(cur, sizeof cur, "%" PRIu64, cursor);
    lens[5] = (size_t)snprintf(cnt, sizeof cnt, "%" PRIu64, count);
    rc = l->pool != NULL
             ? rd_call_on(l->store, l->pool, RD_RETRY, 6, argv, lens, r)
             : rd_call(l->store, RD_RETRY, 6, argv, lens, r);
    if (rc != KVSTORE_OK)
        return rc;
    if ((*r)->type != REDIS_REPLY_ARRAY || (*r)->elements != 2 ||
        (*r)->element[0]->type != REDIS_REPLY_STRING ||
        !rd_u64((*r)->element[0]->str, (*r)->element[0]->len, next) ||
        (*r)->element[1]->type != REDIS_REPLY_ARRAY) {
        rc = rd_unexpected(l->store, "SCAN", *r);
        goto fail;
    }
    keys = (*r)->element[1];
    if (keys->elements == 0)
        return KVSTORE_OK;
    *cands = malloc(keys->elements * sizeof **cands);
    if (*cands == NULL) {
        rc = kvstore_set_error(KVSTORE_ENOMEM, "redis: out of memory");
        goto fail;
    }
    for (size_t i = 0; i < keys->elements; i++) {
        const redisReply *e = keys->element[i];
        const char *k;
        size_t len;

        /* The pattern already restricts the keys; this is the second
         * lock on the door between buckets. */
        if (e->type != REDIS_REPLY_STRING ||
            !l->name_of(l, e->str, e->len, &k, &len))
            continue;
        if (!rd_page_has(pg, k, len)) {
            (*cands)[*n].k = k;
            (*cands)[(*n)++].len = len;
        }
    }
    return KVSTORE_OK;
fail:
    rd_reply_free(*r);
    *r = NULL;
    return rc;
}

/* Adds sorted, unique cands to the page; if they do not all fit, builds
 * the state that owes the rest into *state (malloc'd) and returns true
 * in *split. `origin`/`count` is the SCAN that produced them, `next` the
 * cursor it returned. */
static int rd_take(rd_page *pg, const rd_cand *c, size_t n, uint64_t origin,
                   uint64_t count, uint64_t next, char **state,
                   size_t *state_len, bool *split)
{
    size_t room = pg->limit - pg->keys->count, need;
    char head[72];
    int hl;
    int rc;

    *split = false;
    for (size_t i = 0; i < n && i < room; i++) {
        rc = rd_page_add(pg, c[i].k, c[i].len);
        if (rc != KVSTORE_OK)
            return rc;
    }
    if (n <= room)
        return KVSTORE_OK;
    *split = true;
    hl = snprintf(head, sizeof head, "S%" PRIu64, next);
    need = (size_t)hl;
    for (size_t i = room; i < n; i++)
        need += 1 + c[i].len;
    if (need <= RD_STATE_MAX) {
        char *s = malloc(need), *p;

        if (s == NULL)
            return kvstore_set_error(KVSTORE_ENOMEM, "redis: out of memory");
        memcpy(s, head, (size_t)hl);
        p = s + hl;
        for (size_t i = room; i < n; i++) {
            *p++ = RD_SEP_CHAR;
            memcpy(p, c[i].k, c[i].len);
            p += c[i].len;
        }
        *state = s;
        *state_len = need;
        return KVSTORE_OK;
    }
    /* room >= 1 here, so there is a last key taken. */
    hl = snprintf(head, sizeof head, "R%" PRIu64 " %" PRIu64 " %" PRIu64,
                  origin, count, next);
    need = (size_t)hl + 1 + c[room - 1].len;
    *state = malloc(need);
    if (*state == NULL)
        return kvstore_set_error(KVSTORE_ENOMEM, "redis: out of memory");
    memcpy(*state, head, (size_t)hl);
    (*state)[hl] = RD_SEP_CHAR;
    memcpy(*state + hl + 1, c[room - 1].k, c[room - 1].len);
    *state_len = need;
    return KVSTORE_OK;
}

/* Keeps, of the keys an "S" state owes, those that match `prefix` and
 * still exist in this bucket, in a new RD_SEP-separated buffer (*out, freed
 * by the caller; *out_len 0 when none is left). The cursor's checksum is
 * no secret, so the owed names are untrusted: without this check a forged
 * state could make the listing show names the bucket does not hold. One
 * round trip of pipelined EXISTS, which also drops keys deleted since the
 * state was written. */
static int rd_owed_filter(const rd_lister *l, const rd_state *st,
                          char **out, size_t *out_len)
{
    const char *s = st->keys, *end = st->keys + st->keys_len;
    size_t n = 0, kept = 0;
    rd_cmd *cmds = NULL;
    const char **argv = NULL;
    size_t *lens = NULL;
    char *names = NULL, *buf = NULL;
    const char **owed = NULL;
    size_t *owed_len = NULL;
    redisReply **replies = NULL;
    int rc = KVSTORE_ENOMEM;

    *out = NULL;
    *out_len = 0;
    for (const char *p = s; p <= end; p++)
        if (p == end || *p == RD_SEP_CHAR)
            n++;
    cmds = calloc(n, sizeof *cmds);
    argv = calloc(2 * n, sizeof *argv);
    lens = calloc(2 * n, sizeof *lens);
    names = malloc(n * RD_KEYBUF);
    owed = calloc(n, sizeof *owed);
    owed_len = calloc(n, sizeof *owed_len);
    replies = calloc(n, sizeof *replies);
    buf = malloc(st->keys_len + 1);
    if (!cmds || !argv || !lens || !names || !owed || !owed_len ||
        !replies || !buf)
        goto done;
    n = 0;
    for (const char *p = s; p <= end;) {
        const char *sep = memchr(p, RD_SEP, (size_t)(end - p));
        size_t len = (size_t)((sep ? sep : end) - p);
        size_t kl = l->key_of(l, p, len, names + n * RD_KEYBUF);

        if (kl > 0) {
            owed[n] = p;
            owed_len[n] = len;
            argv[2 * n] = "EXISTS";
            lens[2 * n] = 6;
            argv[2 * n + 1] = names + n * RD_KEYBUF;
            lens[2 * n + 1] = kl;
            cmds[n] = (rd_cmd){ 2, argv + 2 * n, lens + 2 * n };
            n++;
        }
        if (sep == NULL)
            break;
        p = sep + 1;
    }
    rc = KVSTORE_OK;
    if (n == 0)
        goto done;
    /* In a cluster each EXISTS goes to the node that serves its key. */
    rc = rd_run_many(l->store, RD_RETRY, n, cmds, replies);
    if (rc != KVSTORE_OK)
        goto done;
    for (size_t i = 0; i < n; i++) {
        if (replies[i]->type == REDIS_REPLY_INTEGER &&
            replies[i]->integer == 1) {
            if (kept)
                buf[kept++] = RD_SEP_CHAR;
            memcpy(buf + kept, owed[i], owed_len[i]);
            kept += owed_len[i];
        } else if (replies[i]->type != REDIS_REPLY_INTEGER) {
            rc = rd_unexpected(l->store, "EXISTS", replies[i]);
        }
        rd_reply_free(replies[i]);
    }
    if (rc == KVSTORE_OK && kept > 0) {
        *out = buf;
        *out_len = kept;
        buf = NULL;
    }
done:
    if (rc == KVSTORE_ENOMEM)
        kvstore_set_error(rc, "redis: out of memory listing keys");
    free(cmds);
    free(argv);
    free(lens);
    free(names);
    free(owed);
    free(owed_len);
    free(replies);
    free(buf);
    return rc;
}

/* Emits the keys an "S" state owes, already filtered by rd_owed_filter;
 * if the page fills first, the rest go back into a new "S" state. */
static int rd_take_owed(rd_page *pg, const rd_state *st, char **state,
                        size_t *state_len, bool *split)
{
    const char *s = st->keys;
    size_t at = 0, total = st->keys_len;

    *split = false;
    for (;;) {
        const char *sep = memchr(s + at, RD_SEP, total - at);
        size_t len = (sep ? (size_t)(sep - s) : total) - at;

        if (pg->keys->count == pg->limit) {
            char head[24];
            int hl = snprintf(head, sizeof head, "S%" PRIu64, st->cursor);
            size_t rest = total - at;

            /* A subset of a state that fitted, so it fits. */
            *state = malloc((size_t)hl + 1 + rest);
            if (*state == NULL)
                return kvstore_set_error(KVSTORE_ENOMEM,
                                         "redis: out of memory");
            memcpy(*state, head, (size_t)hl);
            (*state)[hl] = RD_SEP_CHAR;
            memcpy(*state + hl + 1, s + at, rest);
            *state_len = (size_t)hl + 1 + rest;
            *split = true;
            return KVSTORE_OK;
        }
        int rc = rd_page_add(pg, s + at, len);
        if (rc != KVSTORE_OK)
            return rc;
        if (sep == NULL)
            return KVSTORE_OK;
        at += len + 1;
    }
}

/* One page of the walk `l` from the state string `cursor` (NULL: the
 * start); the next state goes into the page as its cursor. */
int rd_walk(const rd_lister *l, const char *cursor, size_t limit,
            kvstore_keys **out)
{
    size_t target;
    rd_state st = { .kind = 'C' };
    rd_page *pg = NULL;
    char *state = NULL;
    size_t state_len = 0;
    bool split = false, done = false;
    uint64_t c, scale = 1;
    int rc = KVSTORE_OK;

    if (cursor != NULL) {
        /* The core unwrapped it: at most KVSTORE_CURSOR_STATE_MAX bytes,
         * still untrusted. */
        rc = rd_state_parse(&st, cursor, strlen(cursor));
        if (rc != KVSTORE_OK)
            goto fail;
    }

    pg = calloc(1, sizeof *pg);
    if (pg == NULL || (*out == NULL && (*out = kvstore_keys_new()) == NULL)) {
        rc = kvstore_set_error(KVSTORE_ENOMEM, "redis: out of memory");
        goto fail;
    }
    pg->keys = *out;
    pg->limit = limit;
    target = RD_PAGE_TARGET(limit);
    c = st.cursor;

    if (st.kind == 'S') {
        char *alive = NULL;
        size_t alive_len = 0;

        rc = rd_owed_filter(l, &st, &alive, &alive_len);
        if (rc == KVSTORE_OK && alive_len > 0) {
            st.keys = alive;
            st.keys_len = alive_len;
            rc = rd_take_owed(pg, &st, &state, &state_len, &split);
        }
        free(alive);
        done = st.cursor == 0;
    } else if (st.kind == 'R') {
        redisReply *r = NULL;
        rd_cand *cands = NULL;
        size_t n = 0, from = 0;
        uint64_t next = 0;

        rc = rd_scan(l, pg, st.cursor, st.count, &r, &next, &cands, &n);
        if (rc == KVSTORE_OK) {
            n = rd_cand_sort(cands, n);
            if (next == st.next) {
                rd_cand last = { st.keys, st.keys_len };
                while (from < n && rd_cand_cmp(&cands[from], &last) <= 0)
                    from++;
            }
            rc = rd_take(pg, cands + from, n - from, st.cursor, st.count,
                         next, &state, &state_len, &split);
            c = next;
            done = next == 0;
        }
        free(cands);
        if (r)
            rd_reply_free(r);
    }

    for (int scans = 0; rc == KVSTORE_OK && !split && !done &&
                        pg->keys->count < target && scans < RD_SCANS_PER_CALL;
         scans++) {
        size_t room = limit - pg->keys->count, n = 0;
        uint64_t count = room > 16 ? room - room / 8 : room, next = 0;
        redisReply *r = NULL;
        rd_cand *cands = NULL;

        count *= scale;
        if (count > RD_COUNT_MAX)
            count = RD_COUNT_MAX;
        rc = rd_scan(l, pg, c, count, &r, &next, &cands, &n);
        if (rc != KVSTORE_OK)
            break;
        if (n > room)
            n = rd_cand_sort(cands, n);
        if (n > room) {
            rc = rd_take(pg, cands, n, c, count, next, &state, &state_len,
                         &split);
        } else {
            for (size_t i = 0; i < n && rc == KVSTORE_OK; i++)
                rc = rd_page_add(pg, cands[i].k, cands[i].len);
        }
        /* Few matches for the keys walked: let the server walk further
         * per round trip. */
        if (4 * n < count && scale < RD_SCALE_MAX)
            scale *= 2;
        free(cands);
        rd_reply_free(r);
        c = next;
        done = next == 0;
    }

    if (rc == KVSTORE_OK && (split || !done)) {
        if (!split) {
            free(state);
            state = malloc(24);
            if (state == NULL)
                rc = kvstore_set_error(KVSTORE_ENOMEM,
                                       "redis: out of memory");
            else
                state_len = (size_t)snprintf(state, 24, "C%" PRIu64, c);
        }
        if (rc == KVSTORE_OK) {
            /* The states are built as counted bytes; the page takes a
             * string. */
            char *z = realloc(state, state_len + 1);

            if (z == NULL) {
                rc = kvstore_set_error(KVSTORE_ENOMEM,
                                       "redis: out of memory");
            } else {
                state = z;
                state[state_len] = '\0';
                if (kvstore_keys_set_cursor(pg->keys, state) != KVSTORE_OK)
                    rc = kvstore_set_error(KVSTORE_ENOMEM,
                                           "redis: out of memory");
            }
        }
    }
    free(state);
    free(pg);
    pg = NULL;
    if (rc == KVSTORE_OK)
        return KVSTORE_OK;
fail:
    free(pg);
    kvstore_keys_free(*out);
    *out = NULL;
    return rc;
}

/* list_keys: Redis keys "B:" + a usable key starting with the prefix. */
static bool rd_key_name(const rd_lister *l, const char *k, size_t len,
                        const char **name, size_t *name_len)
{
    const rd_bucket *b = l->b;

    if (len < b->prefix_len || memcmp(k, b->prefix, b->prefix_len) != 0)
        return false;
    k += b->prefix_len;
    len -= b->prefix_len;
    if (!rd_key_usable(k, len) || len < l->prefix_len ||
        memcmp(k, l->prefix, l->prefix_len) != 0)
        return false;
    *name = k;
    *name_len = len;
    return true;
}

static size_t rd_key_key(const rd_lister *l, const char *name, size_t len,
                         char *buf)
{
    const rd_bucket *b = l->b;

    /* The parser already checked the name is a usable key. */
    if (len < l->prefix_len || memcmp(name, l->prefix, l->prefix_len) != 0 ||
        len > KVSTORE_KEY_MAX)
        return 0;
    memcpy(buf, b->prefix, b->prefix_len);
    memcpy(buf + b->prefix_len, name, len);
    return b->prefix_len + len;
}

int rd_list_keys(void *bucket, const char *prefix, const char *cursor,
                 size_t limit, kvstore_keys **out)
{
    rd_bucket *b = bucket;
    rd_lister *l = calloc(1, sizeof *l);
    int rc;

    *out = NULL;
    if (l == NULL)
        return kvstore_set_error(KVSTORE_ENOMEM, "redis: out of memory");
    l->store = b->store;
    l->b = b;
    l->prefix = prefix;
    l->prefix_len = strlen(prefix);
    l->name_of = rd_key_name;
    l->key_of = rd_key_key;
    l->pattern_len = rd_glob_escape(l->pattern, 0, b->prefix, b->prefix_len);
    l->pattern_len = rd_glob_escape(l->pattern, l->pattern_len, prefix,
                                    l->prefix_len);
    l->pattern[l->pattern_len++] = '*';
    l->pattern[l->pattern_len] = '\0';
    *out = NULL;
    rc = l->store->cluster != NULL ? rd_cluster_walk(l, cursor, limit, out)
                                   : rd_walk(l, cursor, limit, out);
    free(l);
    return rc;
}

/* bucket_list: the markers, Redis keys "B:" whose B is a valid bucket
 * name (so "a:b:", a key "b:" of bucket "a", is not one). */
static bool rd_marker_name(const rd_lister *l, const char *k, size_t len,
                           const char **name, size_t *name_len)
{
    (void)l;
    if (len < 2 || k[len - 1] != ':' || !kvstore_bucket_name_valid(k, len - 1))
        return false;
    *name = k;
    *name_len = len - 1;
    return true;
}

static size_t rd_marker_key(const rd_lister *l, const char *name, size_t len,
                            char *buf)
{
    (void)l;
    if (!kvstore_bucket_name_valid(name, len))
        return 0;
    memcpy(buf, name, len);
    buf[len] = ':';
    return len + 1;
}

int rd_bucket_list(void *store, const char *cursor, size_t limit,
                   kvstore_keys **out)
{
    rd_lister *l = calloc(1, sizeof *l);
    int rc;

    *out = NULL;
    if (l == NULL)
        return kvstore_set_error(KVSTORE_ENOMEM, "redis: out of memory");
    l->store = store;
    l->name_of = rd_marker_name;
    l->key_of = rd_marker_key;
    /* Every key ending in ':'; rd_marker_name keeps the markers. */
    memcpy(l->pattern, "*:", 3);
    l->pattern_len = 2;
    *out = NULL;
    rc = l->store->cluster != NULL ? rd_cluster_walk(l, cursor, limit, out)
                                   : rd_walk(l, cursor, limit, out);
    free(l);
    return rc;
}

/*
 * kvstore-nats: list_keys.
 *
 * JetStream has no server-side cursor over a KV bucket: a listing is one
 * ordered consumer delivering the last message of every subject. So a
 * walk lists once, sorts the decoded keys and keeps them in a store-level
 * cache under a random token; later pages are served from the cache, and a
 * full walk costs about one listing. The cursor carries the token and the
 * last key returned, so when the token is unknown (expired, evicted, other
 * process) the walk restarts on the server and continues after that key.
 *
 * Keys are listed with our own ordered consumer rather than kvStore_Keys:
 * in libnats 3.4.1 kvStore_Keys charges the elapsed time of the whole
 * listing against its timeout (false timeouts with many keys, nats.c issue
 * 916) and there is no kvStore_KeysWithFilters. Here each message gets the
 * full timeout_ms, and the prefix becomes a subject filter
 * (nk_prefix_filters). Each walk holds its keys in memory: at most
 * NK_WALK_MAX walks per store, each dropped after its last page or
 * NK_WALK_TTL_MS without use.
 *
 * SPDX-License-Identifier: MIT
 */
#include "nats.h"

#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#define NK_WALK_TTL_MS (5 * 60 * 1000)
#define NK_WALK_MAX 64

struct nk_walk {
    nk_walk *next;
    char token[NK_TOKEN_LEN + 1];
    char bucket[KVSTORE_BUCKET_NAME_MAX + 1];
    char *prefix;
    char **keys;        /* sorted, owned */
    size_t n;
    int64_t expires;
};

static void walk_free(nk_walk *w)
{
    if (!w)
        return;
    for (size_t i = 0; i < w->n; i++)
        free(w->keys[i]);
    free(w->keys);
    free(w->prefix);
    free(w);
}

void nk_walks_free(nk_store *st)
{
    nk_walk *w = st->walks;
    while (w) {
        nk_walk *next = w->next;
        walk_free(w);
        w = next;
    }
    st->walks = NULL;
    st->nwalks = 0;
}

static int cmp_keys(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

typedef struct {
    char **v;
    size_t n, cap;
} keyvec;

static int keyvec_add(keyvec *kv, const char *key)
{
    if (kv->n == kv->cap) {
        size_t cap = kv->cap ? kv->cap * 2 : 256;
        char **v = realloc(kv->v, cap * sizeof *v);
        if (!v)
            return KVSTORE_ENOMEM;
        kv->v = v;
        kv->cap = cap;
    }
    if (!(kv->v[kv->n] = strdup(key)))
        return KVSTORE_ENOMEM;
    kv->n++;
    return KVSTORE_OK;
}

/* The count of messages still pending after `m`, from its ack subject:
 * "$JS.ACK.<stream>.<consumer>.<delivered>.<sseq>.<cseq>.<ts>.<pending>"
 * or, from newer servers, "$JS.ACK.<domain>.<hash>.<stream>.<consumer>.
 * <delivered>.<sseq>.<cseq>.<ts>.<pending>[.<token>]". natsMsg_GetMetaData
 * gives the same but allocates three strings per message, a measurable
 * share of a long listing. 0 (end) when the subject is not understood. */
static uint64_t msg_pending(natsMsg *m)
{
    const char *r = natsMsg_GetReply(m);
    const char *tok[12];
    int n = 0;

    if (!r || strncmp(r, "$JS.ACK.", 8) != 0)
        return 0;
    for (const char *p = r + 8; n < 12; n++) {
        tok[n] = p;
        p = strchr(p, '.');
        if (!p) {
            n++;
            break;
        }
        p++;
    }
    int at = n == 7 ? 6 : (n == 9 || n == 10) ? 8 : -1;
    if (at < 0)
        return 0;
    uint64_t v = 0;
    for (const char *p = tok[at]; *p >= '0' && *p <= '9'; p++)
        v = v * 10 + (uint64_t)(*p - '0');
    return v;
}

/* True if `host` is the stream's leader, asking the server when the
 * cached name disagrees (after a failover). */
static bool on_leader(nk_bucket *b, const char *host, int64_t deadline)
{
    char cached[sizeof b->leader];
    pthread_mutex_lock(&b->mu);
    memcpy(cached, b->leader, sizeof cached);
    pthread_mutex_unlock(&b->mu);
    if (strcmp(cached, host) == 0)
        return true;

    jsStreamInfo *si = NULL;
    jsOptions o;
    jsOptions_Init(&o);
    o.Wait = deadline - nk_now_ms() > 0 ? deadline - nk_now_ms() : 1;
    if (js_GetStreamInfo(&si, b->st->js, b->stream, &o, NULL) != NATS_OK ||
        !si->Cluster || !si->Cluster->Leader) {
        jsStreamInfo_Destroy(si);
        return false;
    }
    pthread_mutex_lock(&b->mu);
    snprintf(b->leader, sizeof b->leader, "%s", si->Cluster->Leader);
    bool same = strcmp(b->leader, host) == 0;
    pthread_mutex_unlock(&b->mu);
    jsStreamInfo_Destroy(si);
    return same;
}

/* Creates the listing consumer and returns how many messages it will
 * deliver for the snapshot (0: none). On a replicated bucket the consumer
 * must live on the stream leader: an ephemeral consumer placed on a
 * follower reads that follower's copy, which may not have applied the
 * caller's last acknowledged write yet. JetStream 2.9 offers no placement
 * for consumers, so one on a follower is dropped and created again. */
static int open_consumer(nk_bucket *b, const char *subj,
                         natsSubscription **out, uint64_t *total)
{
    nk_store *st = b->st;
    int64_t deadline = nk_now_ms() + st->timeout_ms;

    for (int attempt = 0;; attempt++) {
        natsSubscription *sub = NULL;
        jsConsumerInfo *ci = NULL;
        jsErrCode ec = 0;
        jsSubOptions so;
        jsOptions jo;
        natsStatus s;
        int rc = nk_wait_connected(st, deadline);

        if (rc != KVSTORE_OK)
            return rc;
        jsOptions_Init(&jo);
        jo.Wait = deadline - nk_now_ms() > 0 ? deadline - nk_now_ms() : 1;
        jsSubOptions_Init(&so);
        so.Stream = b->stream;
        so.Ordered = true;
        so.Config.DeliverPolicy = js_DeliverLastPerSubject;
        so.Config.HeadersOnly = true;
        s = js_SubscribeSync(&sub, st->js, subj, &jo, &so, &ec);
        if (s == NATS_OK)
            s = natsSubscription_SetPendingLimits(sub, -1, -1);
        /* Messages already pushed count as delivered, the rest as
         * pending: their sum is the snapshot. */
        if (s == NATS_OK)
            s = natsSubscription_GetConsumerInfo(&ci, sub, &jo, &ec);
        if (s == NATS_OK && b->replicated &&
            !(ci->Cluster && ci->Cluster->Leader &&
              on_leader(b, ci->Cluster->Leader, deadline))) {
            jsConsumerInfo_Destroy(ci);
            natsSubscription_Unsubscribe(sub);
            natsSubscription_Destroy(sub);
            if (nk_now_ms() >= deadline)
                return kvstore_set_error(KVSTORE_EUNAVAILABLE, "nats: "
                                         "listing bucket %s: no consumer on "
                                         "the stream leader within %lld ms",
                                         b->name, (long long)st->timeout_ms);
            continue;
        }
        if (s == NATS_OK) {
            *total = ci->NumPending + ci->Delivered.Consumer;
            jsConsumerInfo_Destroy(ci);
            *out = sub;
            return KVSTORE_OK;
        }
        jsConsumerInfo_Destroy(ci);
        if (sub) {
            natsSubscription_Unsubscribe(sub);
            natsSubscription_Destroy(sub);
        }
        /* Consumer creation can time out for seconds while a cluster
         * elects a leader after a node died: retry within timeout_ms. */
        if ((nk_transient(s, ec) || s == NATS_TIMEOUT ||
             s == NATS_CONNECTION_DISCONNECTED) &&
            nk_backoff(attempt, deadline))
            continue;
        return nk_fail(b, "listing keys", NK_READ, s, ec);
    }
}

/* Appends every live key matching `filter` and starting with `prefix`. */
static int walk_filter(nk_bucket *b, const char *filter, const char *prefix,
                       keyvec *out)
{
    nk_store *st = b->st;
    size_t plen = strlen(prefix);
    char subj[NK_SUBJ_MAX + 2];
    natsSubscription *sub = NULL;
    uint64_t pending = 0;
    natsStatus s;
    int rc;

    memcpy(subj, b->pre, b->pre_len);
    strcpy(subj + b->pre_len, filter);
    rc = open_consumer(b, subj, &sub, &pending);
    if (rc != KVSTORE_OK)
        return rc;

    rc = KVSTORE_OK;
    while (pending > 0 && rc == KVSTORE_OK) {
        natsMsg *m = NULL;
        char key[KVSTORE_KEY_MAX + 1];

        s = natsSubscription_NextMsg(&m, sub, st->timeout_ms);
        if (s != NATS_OK) {
            rc = nk_fail(b, "listing keys", NK_READ, s, 0);
            break;
        }
        pending = msg_pending(m);
        const char *ms = natsMsg_GetSubject(m);
        if (!nk_msg_is_delete(m) && strlen(ms) > b->pre_len &&
            nk_key_decode(ms + b->pre_len, key) &&
            strncmp(key, prefix, plen) == 0)
            rc = keyvec_add(out, key);
        natsMsg_Destroy(m);
        if (rc == KVSTORE_ENOMEM)
            rc = kvstore_set_error(rc, "nats: out of memory");
    }
    natsSubscription_Unsubscribe(sub);
    natsSubscription_Destroy(sub);
    return rc;
}

static int walk_new(nk_bucket *b, const char *prefix, nk_walk **out)
{
    char f[2][NK_ENC_MAX + 3];
    int nf = nk_prefix_filters(prefix, f);
    keyvec kv = { 0 };
    int rc = KVSTORE_OK;

    for (int i = 0; i < nf && rc == KVSTORE_OK; i++)
        rc = walk_filter(b, f[i], prefix, &kv);
    nk_walk *w = rc == KVSTORE_OK ? calloc(1, sizeof *w) : NULL;
    if (w)
        w->prefix = strdup(prefix);
    unsigned char rnd[NK_TOKEN_LEN / 2];
    if (w && w->prefix &&
        getrandom(rnd, sizeof rnd, 0) != (ssize_t)sizeof rnd)
        rc = kvstore_set_error(KVSTORE_EIO, "nats: no randomness for a "
                               "cursor token");
    if (rc == KVSTORE_OK && (!w || !w->prefix))
        rc = kvstore_set_error(KVSTORE_ENOMEM, "nats: out of memory");
    if (rc != KVSTORE_OK) {
        for (size_t i = 0; i < kv.n; i++)
            free(kv.v[i]);
        free(kv.v);
        if (w)
            free(w->prefix);
        free(w);
        return rc;
    }
    for (size_t i = 0; i < sizeof rnd; i++) {
        w->token[2 * i] = "0123456789abcdef"[rnd[i] >> 4];
        w->token[2 * i + 1] = "0123456789abcdef"[rnd[i] & 15];
    }
    strcpy(w->bucket, b->name);
    /* Stream order is often key order already (keys written in order):
     * a linear check saves the sort then. */
    bool sorted = true;
    for (size_t i = 1; i < kv.n && sorted; i++)
        sorted = strcmp(kv.v[i - 1], kv.v[i]) < 0;
    if (!sorted)
        qsort(kv.v, kv.n, sizeof *kv.v, cmp_keys);
    w->keys = kv.v;
    w->n = kv.n;
    *out = w;
    return KVSTORE_OK;
}

/* Fills `page` with the keys after `last`; sets *done when none remain. */
static int serve(const nk_walk *w, const char *last, size_t limit,
                 kvstore_keys *page, bool *done)
{
    size_t lo = 0, hi = w->n;
    while (lo < hi) {                    /* first key > last */
        size_t mid = lo + (hi - lo) / 2;
        if (strcmp(w->keys[mid], last) <= 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    size_t end = lo + limit < w->n ? lo + limit : w->n;
    for (size_t i = lo; i < end; i++)
        if (kvstore_keys_add(page, w->keys[i], strlen(w->keys[i])) !=
            KVSTORE_OK)
            return KVSTORE_ENOMEM;
    *done = end == w->n;
    if (*done)
        return kvstore_keys_set_cursor(page, NULL);

    char *cur = NULL;
    int rc = nk_cursor_make(&cur, w->bucket, w->token, w->keys[end - 1]);
    if (rc == KVSTORE_OK)
        rc = kvstore_keys_set_cursor(page, cur);
    kvstore_free(cur);
    return rc;
}

/* Unlinks expired walks and, past the cap, the least recently used.
 * Called with walk_mu held. */
static void prune(nk_store *st, int64_t now)
{
    nk_walk **pp = &st->walks;
    size_t kept = 0;
    while (*pp) {
        nk_walk *w = *pp;
        if (w->expires <= now || kept >= NK_WALK_MAX - 1) {
            *pp = w->next;
            walk_free(w);
            st->nwalks--;
        } else {
            kept++;
            pp = &w->next;
        }
    }
}

int nk_list_keys(void *bucket, const char *prefix, const char *cursor,
                 size_t limit, kvstore_keys **out)
{
    nk_bucket *b = bucket;
    nk_store *st = b->st;
    char token[NK_TOKEN_LEN + 1] = "";
    char last[KVSTORE_KEY_MAX + 1] = "";
    bool done = false;
    int rc = KVSTORE_OK;

    if (cursor && !nk_cursor_parse(b->name, cursor, token, last, &rc))
        return rc;
    kvstore_keys *page = kvstore_keys_new();
    if (!page)
        return kvstore_set_error(KVSTORE_ENOMEM, "nats: out of memory");

    if (cursor) {
        bool hit = false;
        pthread_mutex_lock(&st->walk_mu);
        for (nk_walk **pp = &st->walks; *pp; pp = &(*pp)->next) {
            nk_walk *w = *pp;
            if (strcmp(w->token, token) != 0 ||
                strcmp(w->bucket, b->name) != 0 ||
                strcmp(w->prefix, prefix) != 0)
                continue;
            hit = true;
            rc = serve(w, last, limit, page, &done);
            if (rc == KVSTORE_OK && done) {     /* walk finished */
                *pp = w->next;
                walk_free(w);
                st->nwalks--;
            } else {
                w->expires = nk_now_ms() + NK_WALK_TTL_MS;
            }
            break;
        }
        pthread_mutex_unlock(&st->walk_mu);
        if (hit) {
            if (rc != KVSTORE_OK) {
                kvstore_keys_free(page);
                return kvstore_set_error(rc, "nats: cannot build a page");
            }
            *out = page;
            return KVSTORE_OK;
        }
    }

    nk_walk *w = NULL;
    rc = walk_new(b, prefix, &w);
    if (rc != KVSTORE_OK) {
        kvstore_keys_free(page);
        return rc;
    }
    rc = serve(w, last, limit, page, &done);
    if (rc != KVSTORE_OK) {
        walk_free(w);
        kvstore_keys_free(page);
        return kvstore_set_error(rc, "nats: cannot build a page");
    }
    if (done) {
        walk_free(w);
    } else {
        int64_t now = nk_now_ms();
        w->expires = now + NK_WALK_TTL_MS;
        pthread_mutex_lock(&st->walk_mu);
        prune(st, now);
        w->next = st->walks;
        st->walks = w;
        st->nwalks++;
        pthread_mutex_unlock(&st->walk_mu);
    }
    *out = page;
    return KVSTORE_OK;
}

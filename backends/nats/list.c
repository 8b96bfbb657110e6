/*
 * kvstore-nats: list_keys.
 *
 * JetStream has no server-side cursor over a KV bucket: a listing is one
 * ordered consumer delivering the last message of every subject. So a
 * walk lists once through the core's walk helper (kvstore_walks, one per
 * store, scope = bucket name), which sorts the decoded keys and keeps
 * them under a token; later pages are served from that snapshot, and a
 * full walk costs about one listing. The cursor state names the token and
 * the last key returned, so when the token is unknown (expired, evicted,
 * other process, forged) the walk restarts on the server and continues
 * after that key.
 *
 * Keys are listed with our own ordered consumer rather than kvStore_Keys:
 * in libnats 3.4.1 kvStore_Keys charges the elapsed time of the whole
 * listing against its timeout (false timeouts with many keys, nats.c issue
 * 916) and there is no kvStore_KeysWithFilters. Here each message gets the
 * full timeout_ms, and the prefix becomes a subject filter
 * (nk_prefix_filters). Each walk holds its keys in memory: at most 64
 * walks per store (conn.c), each dropped after its last page or 5 minutes
 * without use.
 *
 * SPDX-License-Identifier: MIT
 */
#include "nats.h"

#include <string.h>

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
    o.Wait = nk_left_ms(deadline);
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
        int rc = nk_attempt_start(st, deadline, &jo);

        if (rc != KVSTORE_OK)
            return rc;
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
                       kvstore_walk_sink *out)
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
            rc = kvstore_walk_add(out, key, strlen(key));
        natsMsg_Destroy(m);
    }
    natsSubscription_Unsubscribe(sub);
    natsSubscription_Destroy(sub);
    return rc;
}

/* The walk helper's fill: every live key with `prefix`, from one consumer
 * per subject filter. `after` is not used: the server cannot skip keys by
 * order, and the helper drops those <= it. */
static int fill_keys(void *ctx, const char *prefix, const char *after,
                     kvstore_walk_sink *sink)
{
    nk_bucket *b = ctx;
    char f[2][NK_ENC_MAX + 3];
    int nf = nk_prefix_filters(prefix, f);
    int rc = KVSTORE_OK;

    (void)after;
    for (int i = 0; i < nf && rc == KVSTORE_OK; i++)
        rc = walk_filter(b, f[i], prefix, sink);
    return rc;
}

int nk_list_keys(void *bucket, const char *prefix, const char *cursor,
                 size_t limit, kvstore_keys **out)
{
    nk_bucket *b = bucket;
    return kvstore_walk_page(b->st->walks, b->name, prefix, cursor, limit,
                             fill_keys, b, out);
}

/*
 * kvstore-nats: pipelined batches.
 *
 * A batch sends all its requests on one private inbox subscription before
 * waiting for any answer, so n keys cost about one round trip instead of n:
 * puts and delete markers go straight to the bucket's subjects (the stream
 * answers each with a publish ack), gets go to the stream's direct-get API
 * (replicas 1) or to the leader's STREAM.MSG.GET API (replicas > 1, for read
 * your writes). Requests the server refused without acting (no leader yet)
 * are sent again within timeout_ms. Batches are not atomic. The JSON
 * answers (publish acks, STREAM.MSG.GET) are parsed by reply.c.
 *
 * SPDX-License-Identifier: MIT
 */
#include "nats.h"
#include "reply.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NK_WINDOW 256

typedef enum { OP_GET, OP_SET, OP_DEL } nk_op;

typedef enum {
    ST_TODO = 0,   /* to send (again) */
    ST_SENT,       /* sent in this round, no answer yet */
    ST_DONE
} nk_state;

typedef struct {
    nk_bucket *b;
    nk_op op;
    const char *const *keys;
    const void *const *values;
    const size_t *lens;
    void **outv;
    size_t *outl;
} nk_batch;

/* Outcome of one answer: done, send again, or a kvstore error. */
enum { R_DONE = 0, R_RETRY = 1 };

static int absent(nk_batch *bt, size_t i)
{
    bt->outv[i] = NULL;
    bt->outl[i] = 0;
    return R_DONE;
}

static int reply_get_direct(nk_batch *bt, size_t i, natsMsg *m)
{
    const char *status = NULL;
    if (natsMsgHeader_Get(m, "Status", &status) == NATS_OK && status) {
        if (strcmp(status, "404") == 0)
            return absent(bt, i);
        if (strcmp(status, "503") == 0 || strcmp(status, "408") == 0)
            return R_RETRY;
        return kvstore_set_error(KVSTORE_EIO, "nats: get_many in bucket %s:"
                                 " direct get answered status %s",
                                 bt->b->name, status);
    }
    if (nk_msg_is_delete(m))
        return absent(bt, i);
    int rc = nk_msg_value(m, &bt->outv[i], &bt->outl[i]);
    return rc == KVSTORE_OK ? R_DONE : rc;
}

/* A JetStream error answer: absent, send again, or the mapped failure. */
static int reply_error(nk_batch *bt, const nk_reply *r, const char *what,
                       int kind)
{
    if (bt->op == OP_GET && r->err_code == JSNoMessageFoundErr)
        return R_DONE;
    if (nk_transient(NATS_ERR, (jsErrCode)r->err_code))
        return R_RETRY;
    return nk_fail(bt->b, what, kind, NATS_ERR,
                   (jsErrCode)(r->err_code > 0 ? r->err_code : 0));
}

static int malformed(nk_batch *bt, const char *what)
{
    return kvstore_set_error(KVSTORE_EIO, "nats: %s in bucket %s: malformed "
                             "answer from the server", what, bt->b->name);
}

static int reply_get_leader(nk_batch *bt, size_t i, natsMsg *m)
{
    nk_reply r;
    int rc;

    if (nk_reply_parse(natsMsg_GetData(m), (size_t)natsMsg_GetDataLength(m),
                       NK_EXPECT_MSG, &r) != 0)
        return malformed(bt, "get_many");
    if (r.kind == NK_REPLY_ERROR) {
        rc = reply_error(bt, &r, "get_many", NK_READ);
        if (rc == R_DONE)
            absent(bt, i);
    } else if (r.hdrs != NULL && nk_hdrs_is_delete(r.hdrs, r.hdrs_len)) {
        rc = absent(bt, i);
    } else {
        /* Handed to the user: kvstore_malloc'd, "" when empty. */
        bt->outv[i] = r.data;
        bt->outl[i] = r.data_len;
        r.data = NULL;
        rc = R_DONE;
    }
    nk_reply_clear(&r);
    return rc;
}

static int reply_ack(nk_batch *bt, natsMsg *m)
{
    const char *what = bt->op == OP_SET ? "set_many" : "delete_many";
    nk_reply r;
    int rc = R_DONE;

    if (nk_reply_parse(natsMsg_GetData(m), (size_t)natsMsg_GetDataLength(m),
                       NK_EXPECT_ACK, &r) != 0)
        return malformed(bt, what);
    if (r.kind == NK_REPLY_ERROR)
        rc = reply_error(bt, &r, what, NK_WRITE);
    nk_reply_clear(&r);
    return rc;
}

static natsStatus send_one(nk_batch *bt, size_t i, const char *reply)
{
    nk_bucket *b = bt->b;
    natsConnection *nc = b->st->nc;
    char subj[NK_SUBJ_MAX];

    nk_subject(b, bt->keys[i], subj);
    if (bt->op == OP_SET)
        return natsConnection_PublishRequest(nc, subj, reply,
                                             bt->lens[i] ? bt->values[i] : "",
                                             (int)bt->lens[i]);
    if (bt->op == OP_DEL) {
        natsMsg *m = NULL;
        natsStatus s = natsMsg_Create(&m, subj, reply, NULL, 0);
        if (s == NATS_OK)
            s = natsMsgHeader_Set(m, "KV-Operation", "DEL");
        if (s == NATS_OK)
            s = natsConnection_PublishMsg(nc, m);
        natsMsg_Destroy(m);
        return s;
    }
    /* Subjects never hold '"' or '\\' (key.c), so no JSON escaping. */
    char api[96], body[NK_SUBJ_MAX + 32];
    snprintf(api, sizeof api, "$JS.API.%s.%s",
             b->direct ? "DIRECT.GET" : "STREAM.MSG.GET", b->stream);
    int bl = snprintf(body, sizeof body, "{\"last_by_subj\":\"%s\"}", subj);
    return natsConnection_PublishRequest(nc, api, reply, body, bl);
}

/* Writes "<inbox>.<i>" over reply, which holds "<inbox>." (ilen + 1
 * bytes): one per key, so without snprintf. */
static void reply_subject(char *reply, size_t ilen, size_t i)
{
    char digits[24];
    size_t n = 0;
    do {
        digits[n++] = (char)('0' + i % 10);
        i /= 10;
    } while (i > 0);
    char *p = reply + ilen + 1;
    while (n > 0)
        *p++ = digits[--n];
    *p = '\0';
}

/* Runs items [lo, hi) to completion or failure. */
static int run_window(nk_batch *bt, natsSubscription *sub, const char *inbox,
                      size_t lo, size_t hi, int64_t deadline)
{
    nk_state st[NK_WINDOW] = { 0 };
    size_t ilen = strlen(inbox);
    char reply[128];

    snprintf(reply, sizeof reply, "%s.", inbox);

    for (int attempt = 0;; attempt++) {
        size_t sent = 0, got = 0;
        int rc = nk_wait_connected(bt->b->st, deadline);
        if (rc != KVSTORE_OK)
            return rc;
        for (size_t i = lo; i < hi; i++) {
            if (st[i - lo] != ST_TODO)
                continue;
            reply_subject(reply, ilen, i);
            natsStatus s = send_one(bt, i, reply);
            if (s != NATS_OK)
                return nk_fail(bt->b, "batch", bt->op == OP_GET ? NK_READ
                               : NK_WRITE, s, 0);
            st[i - lo] = ST_SENT;
            sent++;
        }
        bool retry = false;
        while (got < sent) {
            natsMsg *m = NULL;
            int64_t left = deadline - nk_now_ms();
            natsStatus s = natsSubscription_NextMsg(&m, sub,
                                                    left > 0 ? left : 1);
            if (s != NATS_OK)
                return nk_fail(bt->b, "batch", bt->op == OP_GET ? NK_READ
                               : NK_WRITE, s, 0);
            const char *rs = natsMsg_GetSubject(m);
            char *end = NULL;
            size_t i = strlen(rs) > ilen + 1
                           ? (size_t)strtoull(rs + ilen + 1, &end, 10) : hi;
            if (i < lo || i >= hi || st[i - lo] != ST_SENT) {
                natsMsg_Destroy(m);      /* stale answer of a past round */
                continue;
            }
            got++;
            if (natsMsg_IsNoResponders(m))
                rc = R_RETRY;
            else if (bt->op != OP_GET)
                rc = reply_ack(bt, m);
            else if (bt->b->direct)
                rc = reply_get_direct(bt, i, m);
            else
                rc = reply_get_leader(bt, i, m);
            natsMsg_Destroy(m);
            if (rc < 0)
                return rc;
            st[i - lo] = rc == R_RETRY ? ST_TODO : ST_DONE;
            retry |= rc == R_RETRY;
        }
        if (!retry)
            return KVSTORE_OK;
        if (!nk_backoff(attempt, deadline))
            return nk_fail(bt->b, "batch", NK_READ, NATS_NO_RESPONDERS, 0);
    }
}

static int run(nk_batch *bt, size_t n)
{
    nk_store *st = bt->b->st;
    int64_t deadline = nk_now_ms() + st->timeout_ms;
    natsInbox *inbox = NULL;
    natsSubscription *sub = NULL;
    char wild[128];
    int rc;

    if (n == 0)
        return KVSTORE_OK;
    rc = nk_wait_connected(st, deadline);
    if (rc != KVSTORE_OK)
        return rc;
    natsStatus s = natsInbox_Create(&inbox);
    if (s == NATS_OK) {
        snprintf(wild, sizeof wild, "%s.*", inbox);
        s = natsConnection_SubscribeSync(&sub, st->nc, wild);
    }
    if (s == NATS_OK)
        s = natsSubscription_SetPendingLimits(sub, -1, -1);
    if (s != NATS_OK) {
        natsSubscription_Destroy(sub);
        natsInbox_Destroy(inbox);
        return nk_fail(bt->b, "batch", NK_READ, s, 0);
    }
    for (size_t lo = 0; lo < n && rc == KVSTORE_OK; lo += NK_WINDOW)
        rc = run_window(bt, sub, inbox, lo, lo + NK_WINDOW < n
                        ? lo + NK_WINDOW : n, deadline);
    natsSubscription_Unsubscribe(sub);
    natsSubscription_Destroy(sub);
    natsInbox_Destroy(inbox);
    return rc;
}

int nk_get_many(void *bucket, const char *const *keys, size_t n,
                void **values, size_t *lens)
{
    nk_batch bt = { .b = bucket, .op = OP_GET, .keys = keys,
                    .outv = values, .outl = lens };
    /* On failure the core frees the values already read. */
    return run(&bt, n);
}

int nk_set_many(void *bucket, const char *const *keys,
                const void *const *values, const size_t *lens, size_t n)
{
    nk_batch bt = { .b = bucket, .op = OP_SET, .keys = keys,
                    .values = values, .lens = lens };
    for (size_t i = 0; i < n; i++) {
        int rc = nk_check_size(bucket, lens[i]);
        if (rc != KVSTORE_OK)
            return rc;
    }
    return run(&bt, n);
}

int nk_delete_many(void *bucket, const char *const *keys, size_t n)
{
    nk_batch bt = { .b = bucket, .op = OP_DEL, .keys = keys };
    return run(&bt, n);
}

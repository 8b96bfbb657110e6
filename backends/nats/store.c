/*
 * kvstore-nats: single-key reads and writes.
 *
 * Reads fetch the last message of the key's subject: by direct get on
 * replicas-1 buckets, through the stream leader (STREAM.MSG.GET) otherwise,
 * so a read always sees the caller's acknowledged writes. A delete or purge
 * marker reads as absent. Every call is bounded by the store's timeout_ms;
 * failures where the server did not act (no leader yet, not connected) are
 * retried within it.
 *
 * SPDX-License-Identifier: MIT
 */
#include "nats.h"

#include <time.h>

#include <stdint.h>
#include <string.h>

bool nk_msg_is_delete(natsMsg *msg)
{
    const char *op = NULL;
    if (natsMsgHeader_Get(msg, "KV-Operation", &op) != NATS_OK || !op)
        return false;
    return strcmp(op, "DEL") == 0 || strcmp(op, "PURGE") == 0;
}

int nk_check_size(const nk_bucket *b, size_t len)
{
    if (len > (size_t)INT32_MAX || (int64_t)len > b->st->max_payload)
        return kvstore_set_error(KVSTORE_ETOOBIG, "nats: value of %zu bytes "
                                 "exceeds the server's max_payload of %lld "
                                 "bytes (headers included)", len,
                                 (long long)b->st->max_payload);
    return KVSTORE_OK;
}

bool nk_msg_expired(const nk_bucket *b, natsMsg *msg)
{
    struct timespec now;
    int64_t t;

    if (b->max_age_ns == 0 || (t = natsMsg_GetTime(msg)) <= 0)
        return false;
    clock_gettime(CLOCK_REALTIME, &now);
    return (int64_t)now.tv_sec * 1000000000 + now.tv_nsec - t >=
           b->max_age_ns;
}

int nk_fetch(nk_bucket *b, const char *subj, natsMsg **msg, uint64_t *seq,
             bool *deleted)
{
    nk_store *st = b->st;
    int64_t deadline = nk_now_ms() + st->timeout_ms;

    *msg = NULL;
    *seq = 0;
    *deleted = false;
    for (int attempt = 0;; attempt++) {
        natsMsg *m = NULL;
        jsErrCode ec = 0;
        jsOptions o;
        natsStatus s;
        int rc = nk_attempt_start(st, deadline, &o);

        if (rc != KVSTORE_OK)
            return rc;
        if (b->direct) {
            jsDirectGetMsgOptions d;
            jsDirectGetMsgOptions_Init(&d);
            d.LastBySubject = subj;
            s = js_DirectGetMsg(&m, st->js, b->stream, &o, &d);
        } else {
            s = js_GetLastMsg(&m, st->js, b->stream, subj, &o, &ec);
        }
        if (s == NATS_OK) {
            *seq = natsMsg_GetSequence(m);
            /* Past the bucket's max age, a message the server has not
             * removed yet reads as a delete: absent, and CAS still
             * compares against its sequence. */
            *deleted = nk_msg_is_delete(m) || nk_msg_expired(b, m);
            *msg = m;
            return KVSTORE_OK;
        }
        natsMsg_Destroy(m);
        if (s == NATS_NOT_FOUND &&
            (ec == 0 || ec == JSNoMessageFoundErr))
            return KVSTORE_NOTFOUND;
        if ((nk_transient(s, ec) || s == NATS_TIMEOUT ||
             s == NATS_CONNECTION_DISCONNECTED) &&
            nk_backoff(attempt, deadline))
            continue;
        return nk_fail(b, "get", NK_READ, s, ec);
    }
}

int nk_publish(nk_bucket *b, const char *subj, const void *value, size_t len,
               const uint64_t *expect, bool del)
{
    nk_store *st = b->st;
    int64_t deadline = nk_now_ms() + st->timeout_ms;

    for (int attempt = 0;; attempt++) {
        jsErrCode ec = 0;
        jsPubOptions po;
        natsStatus s;
        /* Never hand a write to nats.c's reconnect buffer: it could be
         * sent after we reported failure. */
        int rc = nk_wait_connected(st, deadline);

        if (rc != KVSTORE_OK)
            return rc;
        jsPubOptions_Init(&po);
        po.MaxWait = nk_left_ms(deadline);
        if (expect && *expect == 0)
            po.ExpectNoMessage = true;
        else if (expect)
            po.ExpectLastSubjectSeq = *expect;
        if (del) {
            natsMsg *m = NULL;
            s = natsMsg_Create(&m, subj, NULL, NULL, 0);
            if (s == NATS_OK)
                s = natsMsgHeader_Set(m, "KV-Operation", "DEL");
            if (s == NATS_OK)
                s = js_PublishMsg(NULL, st->js, m, &po, &ec);
            natsMsg_Destroy(m);
        } else {
            s = js_Publish(NULL, st->js, subj, value, (int)len, &po, &ec);
        }
        if (s == NATS_OK)
            return KVSTORE_OK;
        if (nk_transient(s, ec) && nk_backoff(attempt, deadline))
            continue;
        return nk_fail(b, del ? "delete" : "set", NK_WRITE, s, ec);
    }
}

int nk_msg_value(natsMsg *m, void **value, size_t *len)
{
    size_t n = (size_t)natsMsg_GetDataLength(m);
    void *v = kvstore_memdup(n ? natsMsg_GetData(m) : "", n);
    if (!v)
        return kvstore_set_error(KVSTORE_ENOMEM, "nats: out of memory");
    *value = v;
    *len = n;
    return KVSTORE_OK;
}

/* nk_fetch of `key`'s subject, without the sequence. */
static int fetch_key(nk_bucket *b, const char *key, natsMsg **m,
                     bool *deleted)
{
    char subj[NK_SUBJ_MAX];
    uint64_t seq;

    nk_subject(b, key, subj);
    return nk_fetch(b, subj, m, &seq, deleted);
}

int nk_get(void *bucket, const char *key, void **value, size_t *len)
{
    natsMsg *m = NULL;
    bool deleted;

    *value = NULL;
    *len = 0;
    int rc = fetch_key(bucket, key, &m, &deleted);
    if (rc == KVSTORE_OK)
        rc = deleted ? KVSTORE_NOTFOUND : nk_msg_value(m, value, len);
    natsMsg_Destroy(m);
    return rc;
}

int nk_set(void *bucket, const char *key, const void *value, size_t len)
{
    nk_bucket *b = bucket;
    char subj[NK_SUBJ_MAX];
    int rc = nk_check_size(b, len);

    if (rc != KVSTORE_OK)
        return rc;
    nk_subject(b, key, subj);
    return nk_publish(b, subj, len ? value : "", len, NULL, false);
}

int nk_del(void *bucket, const char *key)
{
    nk_bucket *b = bucket;
    char subj[NK_SUBJ_MAX];

    nk_subject(b, key, subj);
    return nk_publish(b, subj, NULL, 0, NULL, true);
}

int nk_exists(void *bucket, const char *key, bool *exists)
{
    natsMsg *m = NULL;
    bool deleted;
    int rc = fetch_key(bucket, key, &m, &deleted);

    *exists = rc == KVSTORE_OK && !deleted;
    natsMsg_Destroy(m);
    return rc == KVSTORE_NOTFOUND ? KVSTORE_OK : rc;
}

/*
 * kvstore-nats: opening buckets. Bucket B is the JetStream KV bucket B,
 * i.e. the stream KV_B on subjects $KV.B.>, so `nats kv` sees the same
 * data.
 *
 * SPDX-License-Identifier: MIT
 */
#include "nats.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The stream `nats kv add B --history 64 --storage file --replicas R`
 * creates (NK_HISTORY: why 64), except that direct get is off when R > 1
 * (read your writes). */
static natsStatus create_stream(nk_bucket *b, int64_t wait,
                                jsStreamInfo **si, jsErrCode *ec)
{
    char subj[sizeof b->pre + 1];
    const char *subjects[1] = { subj };
    jsStreamConfig sc;
    jsOptions o;

    snprintf(subj, sizeof subj, "%s>", b->pre);
    jsStreamConfig_Init(&sc);
    sc.Name = b->stream;
    sc.Subjects = subjects;
    sc.SubjectsLen = 1;
    sc.MaxMsgsPerSubject = b->st->history;
    sc.MaxBytes = -1;
    sc.MaxMsgSize = -1;
    sc.Storage = js_FileStorage;
    sc.Replicas = b->st->replicas;
    sc.AllowRollup = true;
    sc.DenyDelete = true;
    sc.Discard = js_DiscardNew;
    sc.AllowDirect = b->st->replicas == 1;
    sc.MaxAge = b->st->ttl_ms * 1000000; /* ns; 0: keep for ever */
    jsOptions_Init(&o);
    o.Wait = wait;
    return js_AddStream(si, b->st->js, &sc, &o, ec);
}

static bool is_kv_stream(const nk_bucket *b, const jsStreamConfig *c)
{
    char want[sizeof b->pre + 1];
    snprintf(want, sizeof want, "%s>", b->pre);
    if (c->MaxMsgsPerSubject < 1)
        return false;
    for (int i = 0; i < c->SubjectsLen; i++)
        if (strcmp(c->Subjects[i], want) == 0)
            return true;
    return false;
}

int nk_bucket_open(void **out, void *store, const char *name, bool create)
{
    nk_store *st = store;
    int64_t deadline = nk_now_ms() + st->timeout_ms;
    jsStreamInfo *si = NULL;
    int rc = KVSTORE_OK;

    nk_bucket *b = calloc(1, sizeof *b);
    if (!b)
        return kvstore_set_error(KVSTORE_ENOMEM, "nats: out of memory");
    b->st = st;
    snprintf(b->name, sizeof b->name, "%s", name);
    snprintf(b->stream, sizeof b->stream, "KV_%s", name);
    snprintf(b->pre, sizeof b->pre, "$KV.%s.", name);
    b->pre_len = strlen(b->pre);
    pthread_mutex_init(&b->mu, NULL);

    for (int attempt = 0;; attempt++) {
        jsErrCode ec = 0;
        jsOptions o;
        natsStatus s;

        rc = nk_attempt_start(st, deadline, &o);
        if (rc != KVSTORE_OK)
            break;
        s = js_GetStreamInfo(&si, st->js, b->stream, &o, &ec);
        if (s == NATS_NOT_FOUND || ec == JSStreamNotFoundErr) {
            if (!create) {
                rc = kvstore_set_error(KVSTORE_ENOSTORE, "nats: bucket %s "
                                       "does not exist", name);
                break;
            }
            ec = 0;
            s = create_stream(b, o.Wait, &si, &ec);
            if (ec == JSStreamNameExistErr)    /* created concurrently */
                continue;
            if (ec == JSStreamReplicasNotSupportedErr) {
                rc = kvstore_set_error(KVSTORE_EINVAL, "nats: cannot create "
                                       "bucket %s with replicas=%d: the "
                                       "server is not clustered", name,
                                       st->replicas);
                break;
            }
            /* Too few JetStream servers up for the replicas: one may be
             * restarting or still joining, so wait within timeout_ms. */
            if (ec == JSClusterNoPeersErr || ec == JSInsufficientResourcesErr) {
                if (nk_backoff(attempt, deadline))
                    continue;
                rc = kvstore_set_error(KVSTORE_EUNAVAILABLE, "nats: cannot "
                                       "create bucket %s: fewer than %d "
                                       "JetStream servers available "
                                       "(JetStream error %d)", name,
                                       st->replicas, (int)ec);
                break;
            }
        }
        if (s == NATS_OK)
            break;
        if ((nk_transient(s, ec) || s == NATS_TIMEOUT) &&
            nk_backoff(attempt, deadline))
            continue;
        if (ec == JSNotEnabledErr || ec == JSNotEnabledForAccountErr) {
            rc = kvstore_set_error(ec == JSNotEnabledErr ? KVSTORE_EUNAVAILABLE
                                   : KVSTORE_EACCESS, "nats: JetStream is "
                                   "not enabled on %s", st->redacted);
            break;
        }
        rc = nk_fail(b, "opening the bucket", NK_READ, s, ec);
        break;
    }
    if (rc == KVSTORE_OK) {
        const jsStreamConfig *c = si->Config;
        if (!is_kv_stream(b, c))
            rc = kvstore_set_error(KVSTORE_EIO, "nats: stream %s is not a "
                                   "key-value bucket", b->stream);
        /* Direct get only where no follower can answer (see nats.h). */
        b->direct = c->AllowDirect && c->Replicas <= 1;
        b->replicated = c->Replicas > 1;
        b->max_age_ns = c->MaxAge > 0 ? c->MaxAge : 0;
        if (si->Cluster && si->Cluster->Leader)
            snprintf(b->leader, sizeof b->leader, "%s", si->Cluster->Leader);
    }
    jsStreamInfo_Destroy(si);
    return kvstore_hand_over(rc, out, b, nk_bucket_close);
}

void nk_bucket_close(void *bucket)
{
    nk_bucket *b = bucket;
    pthread_mutex_destroy(&b->mu);
    free(b);
}

/*
 * kvstore-nats: watch.
 *
 * An ordered push consumer on the encoded prefix filter, delivering only
 * messages stored after the stream's last sequence when watch_start
 * began, on a nats.c delivery thread. This is what kvStore_Watch does underneath, but libnats 3.4.1's
 * kvStore_Watch has no "updates only" option: it would first replay the
 * current value of every matching key, and its end-of-snapshot marker can
 * swallow a write racing with the start. Keys are decoded and checked
 * against the prefix before the callback; delete and purge markers become
 * KVSTORE_EVENT_DELETE. The ordered consumer resumes after the last
 * delivered sequence when the connection comes back or a heartbeat is
 * missed, so events stored meanwhile are delivered late, not lost, while
 * the stream keeps them: a lagging watcher misses a write only once the
 * key has NK_HISTORY later ones. Before its first delivery, though, nats.c
 * (3.4) recreates it from sequence 1, the whole stream; so every message
 * carries its stream sequence, and those below first_seq, stored before
 * the watch, are dropped here.
 *
 * SPDX-License-Identifier: MIT
 */
#include "nats.h"

#include <stdlib.h>
#include <string.h>

typedef struct {
    nk_bucket *b;
    char *prefix;
    size_t plen;
    kvstore_watch_fn fn;
    void *payload;
    natsSubscription *sub;
    uint64_t first_seq; /* the stream sequence the watch starts at */
    pthread_mutex_t mu;
    pthread_cond_t cv;
    bool stopped;     /* watch_stop began: deliver nothing more */
    bool complete;    /* nats.c will not call on_msg again */
} nk_watch;

/* A message stored before the watch began, replayed by a recreated
 * consumer. A message whose metadata cannot be read (out of memory) is
 * taken as new. */
static bool before_watch(const nk_watch *w, natsMsg *msg)
{
    jsMsgMetaData *md = NULL;
    if (natsMsg_GetMetaData(&md, msg) != NATS_OK)
        return false;
    bool old = md->Sequence.Stream < w->first_seq;
    jsMsgMetaData_Destroy(md);
    return old;
}

static void on_msg(natsConnection *nc, natsSubscription *sub, natsMsg *msg,
                   void *closure)
{
    nk_watch *w = closure;
    char key[KVSTORE_KEY_MAX + 1];
    const char *subj = natsMsg_GetSubject(msg);
    bool stopped;

    (void)nc;
    (void)sub;
    pthread_mutex_lock(&w->mu);
    stopped = w->stopped;
    pthread_mutex_unlock(&w->mu);
    if (!stopped && !before_watch(w, msg) && strlen(subj) > w->b->pre_len &&
        nk_key_decode(subj + w->b->pre_len, key) &&
        strncmp(key, w->prefix, w->plen) == 0) {
        if (nk_msg_is_delete(msg))
            w->fn(w->payload, KVSTORE_EVENT_DELETE, key, NULL, 0);
        else
            w->fn(w->payload, KVSTORE_EVENT_SET, key,
                  natsMsg_GetDataLength(msg) ? natsMsg_GetData(msg) : "",
                  (size_t)natsMsg_GetDataLength(msg));
    }
    natsMsg_Destroy(msg);
}

static void on_complete(void *closure)
{
    nk_watch *w = closure;
    pthread_mutex_lock(&w->mu);
    w->complete = true;
    pthread_cond_broadcast(&w->cv);
    pthread_mutex_unlock(&w->mu);
}

static void watch_free(nk_watch *w)
{
    pthread_cond_destroy(&w->cv);
    pthread_mutex_destroy(&w->mu);
    free(w->prefix);
    free(w);
}

int nk_watch_start(void **out, void *bucket, const char *prefix,
                   kvstore_watch_fn fn, void *payload)
{
    nk_bucket *b = bucket;
    nk_store *st = b->st;
    int64_t deadline = nk_now_ms() + st->timeout_ms;
    char f[2][NK_ENC_MAX + 3];
    char subj[NK_SUBJ_MAX + 2];
    int rc;

    nk_watch *w = calloc(1, sizeof *w);
    if (!w || !(w->prefix = strdup(prefix))) {
        free(w);
        return kvstore_set_error(KVSTORE_ENOMEM, "nats: out of memory");
    }
    w->b = b;
    w->plen = strlen(prefix);
    w->fn = fn;
    w->payload = payload;
    pthread_mutex_init(&w->mu, NULL);
    pthread_cond_init(&w->cv, NULL);

    /* One consumer has one filter (nats-server 2.9): when the prefix needs
     * two, watch the whole bucket and filter here. */
    memcpy(subj, b->pre, b->pre_len);
    strcpy(subj + b->pre_len, nk_prefix_filters(prefix, f) == 1 ? f[0] : ">");

    for (int attempt = 0;; attempt++) {
        jsErrCode ec = 0;
        jsSubOptions so;
        jsOptions jo;
        natsStatus s;

        rc = nk_attempt_start(st, deadline, &jo);
        if (rc != KVSTORE_OK)
            break;
        /* Not DeliverNew: a consumer nats.c recreates must not take the
         * writes made meanwhile for old ones, nor the old ones for new. */
        jsStreamInfo *si = NULL;
        s = js_GetStreamInfo(&si, st->js, b->stream, &jo, &ec);
        if (s == NATS_OK)
            w->first_seq = si->State.LastSeq + 1;
        jsStreamInfo_Destroy(si);
        jsSubOptions_Init(&so);
        so.Stream = b->stream;
        so.Ordered = true;
        so.Config.DeliverPolicy = js_DeliverByStartSequence;
        so.Config.OptStartSeq = w->first_seq;
        jo.Wait = nk_left_ms(deadline);
        if (s == NATS_OK)
            s = js_Subscribe(&w->sub, st->js, subj, on_msg, w, &jo, &so,
                             &ec);
        if (s == NATS_OK)
            s = natsSubscription_SetOnCompleteCB(w->sub, on_complete, w);
        if (s == NATS_OK)
            s = natsSubscription_SetPendingLimits(w->sub, -1, -1);
        if (s == NATS_OK) {
            *out = w;
            return KVSTORE_OK;
        }
        if (w->sub) {
            natsSubscription_Unsubscribe(w->sub);
            natsSubscription_Destroy(w->sub);
            w->sub = NULL;
        }
        if ((nk_transient(s, ec) || s == NATS_TIMEOUT) &&
            nk_backoff(attempt, deadline))
            continue;
        rc = nk_fail(b, "watch", NK_READ, s, ec);
        break;
    }
    watch_free(w);
    return rc;
}

void nk_watch_stop(void *watch)
{
    nk_watch *w = watch;
    pthread_mutex_lock(&w->mu);
    w->stopped = true;
    pthread_mutex_unlock(&w->mu);
    /* After Unsubscribe nats.c delivers nothing new and calls on_complete
     * once a callback in flight has returned: only then may we free. */
    if (natsSubscription_Unsubscribe(w->sub) == NATS_OK) {
        pthread_mutex_lock(&w->mu);
        while (!w->complete)
            pthread_cond_wait(&w->cv, &w->mu);
        pthread_mutex_unlock(&w->mu);
    }
    natsSubscription_Destroy(w->sub);
    watch_free(w);
}

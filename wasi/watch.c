/*
 * The watcher: the guest export wasi:keyvalue/watcher (on-set, on-delete)
 * fed from kvstore_watch_start(). libkvstore calls back on its own
 * threads, engines run a guest on one thread: events are queued here
 * under a mutex and delivered by kvstore_wasi_pump() on the guest's
 * thread. The queue is bounded by the config keys watch_queue (events)
 * and watch_queue_bytes (key + value bytes); when an event does not fit,
 * it is dropped and counted (kvstore_wasi_dropped()): the events already
 * queued stay in order, and the guest can reread the bucket.
 *
 * SPDX-License-Identifier: MIT
 */
#include "internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void on_event(void *payload, kvstore_event event, const char *key,
                     const void *value, size_t len)
{
    wasi_watch *w = payload;
    kvstore_wasi_instance *i = w->inst;
    const kvstore_wasi_config *c = wasi_cfg(i);
    size_t klen = strlen(key);
    if (event != KVSTORE_EVENT_SET)
        len = 0;
    uint64_t size = (uint64_t)klen + 1 + len;
    /* Allocated outside the lock; freed again if it does not fit. */
    char *block = malloc(size);
    if (block) {
        memcpy(block, key, klen + 1);
        if (len)
            memcpy(block + klen + 1, value, len);
    }
    pthread_mutex_lock(&i->lock);
    if (!block || i->qlen >= c->queue_max || i->qbytes + size > c->queue_bytes) {
        i->dropped++;
        pthread_mutex_unlock(&i->lock);
        free(block);
        return;
    }
    wasi_event *e = &i->queue[(i->qhead + i->qlen) % c->queue_max];
    e->event = event;
    e->watch = (uint32_t)(w - i->watches);
    e->key = block;
    e->value = block + klen + 1;
    e->len = len;
    i->qlen++;
    i->qbytes += size;
    pthread_mutex_unlock(&i->lock);
}

int wasi_watch_start(kvstore_wasi_instance *i)
{
    const kvstore_wasi_config *c = wasi_cfg(i);
    if (!c->nwatch || !i->eng.call)
        return KVSTORE_OK;
    i->queue = calloc(c->queue_max, sizeof(*i->queue));
    i->watches = calloc(c->nwatch, sizeof(*i->watches));
    if (!i->queue || !i->watches)
        return KVSTORE_ENOMEM;
    for (size_t k = 0; k < c->nwatch; k++) {
        const char *id = c->watch[k];
        char name[KVSTORE_BUCKET_NAME_MAX + 1];
        kvstore_store *store;
        kvstore_bucket *b;
        wasi_watch *w = &i->watches[k];
        if (!wasi_allowed(c, id, strlen(id)))
            return KVSTORE_EACCESS;
        int rc = wasi_resolve(i, id, strlen(id), &store, name);
        if (rc != KVSTORE_OK)
            return rc;
        if ((rc = kvstore_bucket_open(&b, store, name)) != KVSTORE_OK)
            return rc;
        if (!(w->wb = malloc(sizeof(*w->wb)))) {
            kvstore_bucket_close(b);
            return KVSTORE_ENOMEM;
        }
        w->wb->bucket = b;
        w->wb->refs = 1;
        w->inst = i;
        i->nwatches = k + 1;
        if ((rc = kvstore_watch_start(&w->w, b, NULL, on_event, w)) != KVSTORE_OK)
            return rc;
    }
    return KVSTORE_OK;
}

void wasi_watch_stop(kvstore_wasi_instance *i)
{
    /* After kvstore_watch_stop no callback runs: the queue is ours. */
    for (size_t k = 0; k < i->nwatches; k++) {
        kvstore_watch_stop(i->watches[k].w);
        i->watches[k].w = NULL;
    }
    if (i->queue) {
        size_t cap = wasi_cfg(i)->queue_max;
        for (size_t k = 0; k < i->qlen; k++)
            free(i->queue[(i->qhead + k) % cap].key);
    }
    for (size_t k = 0; k < i->nwatches; k++)
        wasi_bucket_unref(i->watches[k].wb);
    free(i->queue);
    free(i->watches);
    i->queue = NULL;
    i->watches = NULL;
    i->nwatches = i->qlen = 0;
}

/* Delivers one event; 1 delivered, 0 skipped (no handle left), -1 the
 * guest trapped. Owns ev->key. */
static int deliver(kvstore_wasi_instance *i, wasi_event ev)
{
    char name[96];
    uint32_t args[5];
    size_t nargs;

    if (setjmp(i->jmp)) {
        i->have_jmp = false;
        i->in_guest = false;
        wasi_unwind(i);
        return -1;
    }
    i->have_jmp = true;
    uint64_t size = 0;
    i->mem = i->eng.memory(i->ctx, &size);
    i->mem_size = i->mem ? size : 0;
    wasi_defer(i, free, ev.key);
    /* own<bucket>: a new handle on the watched bucket, the guest's to drop. */
    wasi_bucket *wb = i->watches[ev.watch].wb;
    uint32_t handle = wasi_res_add(i, WASI_RES_BUCKET, wb);
    if (!handle) {
        /* The guest holds every handle it may: counted as dropped. */
        i->have_jmp = false;
        wasi_unwind(i);
        pthread_mutex_lock(&i->lock);
        i->dropped++;
        pthread_mutex_unlock(&i->lock);
        return 0;
    }
    wb->refs++;
    args[0] = handle;
    args[1] = wasi_lower_bytes(i, ev.key, strlen(ev.key), 1);
    args[2] = (uint32_t)strlen(ev.key);
    if (ev.event == KVSTORE_EVENT_SET) {
        args[3] = wasi_lower_bytes(i, ev.value, ev.len, 1);
        args[4] = (uint32_t)ev.len;
        nargs = 5;
    } else {
        nargs = 3;
    }
    snprintf(name, sizeof(name), "wasi:keyvalue/watcher@%s#%s",
             kvstore_wasi_version(i->wit),
             ev.event == KVSTORE_EVENT_SET ? "on-set" : "on-delete");
    i->have_jmp = false;
    wasi_unwind(i);
    int rc = i->eng.call(i->ctx, name, args, nargs);
    if (rc != 0 || i->trapped) {
        if (!i->trapped)
            snprintf(i->trap_msg, sizeof(i->trap_msg), "%s trapped", name);
        i->trapped = true;
        return -1;
    }
    return 1;
}

KVSTORE_API int kvstore_wasi_pump(kvstore_wasi_instance *i, size_t max)
{
    /* Not from inside an import or a guest callback: the guest is not
     * between calls then, and the import's trap frame is in use. */
    if (!i || i->trapped || i->have_jmp || i->in_guest)
        return -1;
    if (!i->queue)
        return 0;
    size_t cap = wasi_cfg(i)->queue_max;
    int done = 0;
    for (size_t k = 0; max == 0 || k < max; k++) {
        wasi_event ev;
        pthread_mutex_lock(&i->lock);
        if (!i->qlen) {
            pthread_mutex_unlock(&i->lock);
            break;
        }
        ev = i->queue[i->qhead];
        i->qhead = (i->qhead + 1) % cap;
        i->qlen--;
        i->qbytes -= strlen(ev.key) + 1 + ev.len;
        pthread_mutex_unlock(&i->lock);
        int rc = deliver(i, ev);
        if (rc < 0)
            return -1;
        done += rc;
        /* max == 0 means what is queued now: stop if new ones keep coming
         * faster than the guest takes them. */
        if (max == 0 && k + 1 >= cap)
            break;
    }
    return done;
}

KVSTORE_API size_t kvstore_wasi_pending(kvstore_wasi_instance *i)
{
    if (!i)
        return 0;
    pthread_mutex_lock(&i->lock);
    size_t n = i->qlen;
    pthread_mutex_unlock(&i->lock);
    return n;
}

KVSTORE_API uint64_t kvstore_wasi_dropped(kvstore_wasi_instance *i)
{
    if (!i)
        return 0;
    pthread_mutex_lock(&i->lock);
    uint64_t n = i->dropped;
    pthread_mutex_unlock(&i->lock);
    return n;
}

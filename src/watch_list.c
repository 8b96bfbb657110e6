/*
 * The watches of one backend object (kvstore_watch_list, see
 * <kvstore/backend.h>): a backend that commits its own writes matches
 * each write against its watches' buckets and prefixes and queues the
 * event on each one that matches.
 *
 * Ownership: the list owns its entries; each entry owns its
 * kvstore_watch_queue (the events and the callback thread).
 *
 * SPDX-License-Identifier: MIT
 */
#include <stdlib.h>
#include <string.h>

#include "internal.h"

typedef struct entry {
    struct entry *next;
    kvstore_watch_list *list;
    kvstore_watch_queue *queue;
    size_t plen;
    char bucket[KVSTORE_BUCKET_NAME_MAX + 1];
    char prefix[];
} entry;

struct kvstore_watch_list {
    pthread_mutex_t mu; /* guards head */
    entry *head;
};

kvstore_watch_list *kvstore_watch_list_new(void)
{
    kvstore_watch_list *l = calloc(1, sizeof *l);
    if (l == NULL)
        return NULL;
    pthread_mutex_init(&l->mu, NULL);
    return l;
}

void kvstore_watch_list_free(kvstore_watch_list *list)
{
    if (list == NULL)
        return;
    pthread_mutex_destroy(&list->mu);
    free(list);
}

int kvstore_watch_list_add(void **out, kvstore_watch_list *list,
                           const char *bucket, const char *prefix,
                           kvstore_watch_fn fn, void *payload)
{
    size_t blen = strlen(bucket), plen = strlen(prefix);
    if (blen > KVSTORE_BUCKET_NAME_MAX)
        return kvstore_set_error(KVSTORE_EINVAL, "bucket name too long");
    entry *e = calloc(1, sizeof *e + plen + 1);
    if (e == NULL)
        return kvstore_set_error(KVSTORE_ENOMEM, "out of memory");
    int rc = kvstore_watch_queue_new(&e->queue, fn, payload);
    if (rc != KVSTORE_OK) {
        free(e);
        return rc;
    }
    e->list = list;
    e->plen = plen;
    memcpy(e->bucket, bucket, blen + 1);
    memcpy(e->prefix, prefix, plen + 1);
    /* Linked last: every write pushed after this returns is seen. */
    pthread_mutex_lock(&list->mu);
    e->next = list->head;
    list->head = e;
    pthread_mutex_unlock(&list->mu);
    *out = e;
    return KVSTORE_OK;
}

void kvstore_watch_list_remove(void *watch)
{
    entry *e = watch;
    if (e == NULL)
        return;
    kvstore_watch_list *l = e->list;
    /* Unlinked under the lock: no push can queue to it afterwards. */
    pthread_mutex_lock(&l->mu);
    for (entry **p = &l->head; *p != NULL; p = &(*p)->next)
        if (*p == e) {
            *p = e->next;
            break;
        }
    pthread_mutex_unlock(&l->mu);
    /* Outside the lock: the callback may write, and so push, while the
     * queue waits for it. From its own callback the queue frees itself
     * when that returns; it no longer needs the entry either way. */
    kvstore_watch_queue_free(e->queue);
    free(e);
}

int kvstore_watch_list_push(kvstore_watch_list *list, const char *bucket,
                            kvstore_event event, const char *key,
                            const void *value, size_t len)
{
    int rc = KVSTORE_OK;
    size_t klen = strlen(key);
    pthread_mutex_lock(&list->mu);
    for (entry *e = list->head; e != NULL; e = e->next)
        if (strcmp(e->bucket, bucket) == 0 && klen >= e->plen &&
            memcmp(key, e->prefix, e->plen) == 0 &&
            kvstore_watch_queue_push(e->queue, event, key, value, len) !=
                KVSTORE_OK)
            rc = KVSTORE_ENOMEM;
    pthread_mutex_unlock(&list->mu);
    return rc;
}

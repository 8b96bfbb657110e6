/*
 * kvstore-nats: increment and compare-and-swap on the entry revision.
 *
 * A key's revision is the stream sequence of its last message (0 when the
 * subject has none, the marker's sequence after a delete). A conditional
 * write carries Nats-Expected-Last-Subject-Sequence (what kvStore_Update
 * sends; kvStore_Create's "no message" when the revision is 0), so the
 * stream refuses it with "wrong last sequence" if anyone wrote in between.
 * We publish these ourselves instead of calling kvStore_Create/Update to
 * get the JetStream error code, and so that a deleted key (marker present)
 * is recreated with one request.
 *
 * SPDX-License-Identifier: MIT
 */
#include "nats.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int nk_increment(void *bucket, const char *key, int64_t delta,
                 int64_t *result)
{
    nk_bucket *b = bucket;
    char subj[NK_SUBJ_MAX];

    nk_subject(b, key, subj);
    for (;;) {
        natsMsg *m = NULL;
        uint64_t seq = 0;
        bool deleted = false;
        int64_t cur = 0, next;
        int rc = nk_fetch(b, subj, &m, &seq, &deleted);

        if (rc != KVSTORE_OK && rc != KVSTORE_NOTFOUND)
            return rc;
        if (rc == KVSTORE_OK && !deleted &&
            kvstore_counter_parse(natsMsg_GetData(m),
                                  (size_t)natsMsg_GetDataLength(m),
                                  &cur) != KVSTORE_OK) {
            natsMsg_Destroy(m);
            return kvstore_set_error(KVSTORE_EINVAL, "nats: increment in "
                                     "bucket %s: the value is not a decimal "
                                     "int64", b->name);
        }
        natsMsg_Destroy(m);
        if (__builtin_add_overflow(cur, delta, &next))
            return kvstore_set_error(KVSTORE_EINVAL, "nats: increment in "
                                     "bucket %s: int64 overflow", b->name);
        char txt[24];
        int n = snprintf(txt, sizeof txt, "%" PRId64, next);
        rc = nk_publish(b, subj, txt, (size_t)n, &seq, false);
        if (rc == KVSTORE_ECONFLICT)
            continue;                /* someone else won: read again */
        if (rc == KVSTORE_OK && result)    /* NULL: caller ignores it */
            *result = next;
        return rc;
    }
}

typedef struct {
    nk_bucket *b;
    char subj[NK_SUBJ_MAX];
    uint64_t seq;         /* revision at the snapshot */
    void *value;          /* snapshot value, owned (NULL when absent) */
    size_t len;
} nk_cas;

int nk_cas_open(void **out, void *bucket, const char *key, bool *found,
                const void **value, size_t *len)
{
    nk_bucket *b = bucket;
    nk_cas *c = calloc(1, sizeof *c);
    natsMsg *m = NULL;
    bool deleted = false;

    if (!c)
        return kvstore_set_error(KVSTORE_ENOMEM, "nats: out of memory");
    c->b = b;
    nk_subject(b, key, c->subj);
    int rc = nk_fetch(b, c->subj, &m, &c->seq, &deleted);
    if (rc != KVSTORE_OK && rc != KVSTORE_NOTFOUND) {
        free(c);
        return rc;
    }
    *found = rc == KVSTORE_OK && !deleted;
    if (*found) {
        c->len = (size_t)natsMsg_GetDataLength(m);
        c->value = malloc(c->len + 1);
        if (!c->value) {
            natsMsg_Destroy(m);
            free(c);
            return kvstore_set_error(KVSTORE_ENOMEM, "nats: out of memory");
        }
        memcpy(c->value, c->len ? natsMsg_GetData(m) : "", c->len);
        *value = c->value;
        *len = c->len;
    }
    natsMsg_Destroy(m);
    *out = c;
    return KVSTORE_OK;
}

int nk_cas_swap(void *cas, const void *value, size_t len)
{
    nk_cas *c = cas;
    int rc = nk_check_size(c->b, len);
    if (rc != KVSTORE_OK)
        return rc;
    return nk_publish(c->b, c->subj, len ? value : "", len, &c->seq, false);
}

void nk_cas_free(void *cas)
{
    nk_cas *c = cas;
    free(c->value);
    free(c);
}

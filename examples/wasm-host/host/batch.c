/*
 * wasi:keyvalue/batch: get-many, set-many, delete-many (identical in both
 * drafts). Every element is lifted (bounds, UTF-8) before anything runs,
 * so a bad element traps before any key is touched; keys libkvstore
 * cannot take and batches above KVHOST_MAX_BATCH are `error`s.
 *
 * SPDX-License-Identifier: MIT
 */
#include "imports.h"

#include <stdlib.h>
#include <string.h>

/* Keys of one batch, in one block owned by the current import. */
typedef struct batch {
    size_t n;
    const char **keys;     /* n pointers into `text` */
    const void **values;   /* set-many: n pointers into guest memory */
    size_t *lens;          /* set-many value lengths / get-many lengths */
    void **got;            /* get-many results (kvstore_free each) */
    char text[];
} batch;

static void batch_free(void *p)
{
    batch *bt = p;
    if (bt->got)
        for (size_t i = 0; i < bt->n; i++)
            kvstore_free(bt->got[i]);
    free(bt->keys);
    free(bt->values);
    free(bt->lens);
    free(bt->got);
    free(bt);
}

/* Lifts list<string> (stride 8) or list<tuple<string, list<u8>>> (stride
 * 16) at (list, n) and copies the keys into a new batch. Traps on bad
 * memory; returns an error status for keys libkvstore cannot take. */
static int lift_batch(kvhost *h, uint32_t list, uint32_t n, bool with_values,
                      batch **out)
{
    uint32_t stride = with_values ? 16 : 8;
    uint64_t text = 0;
    *out = NULL;
    kvhost_span(h, list, (uint64_t)n * stride, 4);
    /* Pass 1: lift every element (the canonical ABI traps on any bad one,
     * whatever else is wrong with the batch). */
    for (uint32_t i = 0; i < n; i++) {
        uint32_t e = list + i * stride;
        uint32_t klen = kvhost_get_u32(h, e + 4);
        kvhost_string(h, kvhost_get_u32(h, e), klen);
        if (with_values)
            kvhost_span(h, kvhost_get_u32(h, e + 8), kvhost_get_u32(h, e + 12), 1);
        text += (uint64_t)klen + 1;
    }
    if (n > KVHOST_MAX_BATCH)
        return kvhost_fail(h, KVSTORE_EINVAL, "batch of %u keys is above the "
                           "host's limit of %d", (unsigned)n, KVHOST_MAX_BATCH);
    if (text > (uint64_t)n * (KVSTORE_KEY_MAX + 1))
        text = (uint64_t)n * (KVSTORE_KEY_MAX + 1); /* long keys fail below */
    batch *bt = calloc(1, sizeof(*bt) + (size_t)text + 1);
    if (!bt)
        return kvhost_fail(h, KVSTORE_ENOMEM, "host out of memory");
    bt->n = n;
    bt->keys = calloc(n ? n : 1, sizeof(*bt->keys));
    bt->lens = calloc(n ? n : 1, sizeof(*bt->lens));
    if (with_values)
        bt->values = calloc(n ? n : 1, sizeof(*bt->values));
    if (!bt->keys || !bt->lens || (with_values && !bt->values)) {
        batch_free(bt);
        return kvhost_fail(h, KVSTORE_ENOMEM, "host out of memory");
    }
    kvhost_defer(h, batch_free, bt);
    *out = bt;
    /* Pass 2: copy the keys; no guest code runs between the passes. */
    char *t = bt->text;
    for (uint32_t i = 0; i < n; i++) {
        uint32_t e = list + i * stride;
        int rc = kvhost_key(h, kvhost_get_u32(h, e), kvhost_get_u32(h, e + 4), t);
        if (rc != KVSTORE_OK) {
            char why[sizeof(h->errbuf)];
            memcpy(why, h->errbuf, sizeof(why));
            return kvhost_fail(h, rc, "key %u: %.400s", (unsigned)i, why);
        }
        bt->keys[i] = t;
        t += strlen(t) + 1;
        if (with_values) {
            uint32_t vl = kvhost_get_u32(h, e + 12);
            bt->values[i] = kvhost_span(h, kvhost_get_u32(h, e + 8), vl, 1);
            bt->lens[i] = vl;
        }
    }
    return KVSTORE_OK;
}

/* get-many: func(bucket: borrow<bucket>, keys: list<string>)
 *             -> result<list<option<tuple<string, list<u8>>>>, error>
 * core: (bucket, keys ptr, n, ret) ; ret: 16 bytes, list (ptr, len) @4.
 * Element: 20 bytes: is_some u8 @0, key (ptr, len) @4, value @12. */
void kv_get_many(kvhost *h, uint32_t b, uint32_t keys, uint32_t n, uint32_t ret)
{
    kvhost_enter(h);
    kvhost_span(h, ret, 16, 4);
    kvhost_bucket *hb = kvhost_res_get(h, b, KVHOST_RES_BUCKET);
    batch *bt;
    int rc = lift_batch(h, keys, n, false, &bt);
    if (rc == KVSTORE_OK) {
        bt->got = calloc(n ? n : 1, sizeof(*bt->got));
        if (!bt->got)
            rc = kvhost_fail(h, KVSTORE_ENOMEM, "host out of memory");
    }
    if (rc == KVSTORE_OK) {
        rc = kvstore_get_many(hb->bucket, bt->keys, n, bt->got, bt->lens);
        if (rc != KVSTORE_OK)
            rc = kvhost_lib_fail(h, rc);
    }
    if (rc == KVSTORE_OK) {
        uint32_t arr = kvhost_alloc(h, 4, (uint64_t)n * 20);
        for (uint32_t i = 0; i < n; i++) {
            uint32_t e = arr + i * 20;
            if (bt->got[i]) {
                kvhost_put_list(h, e + 4, bt->keys[i], strlen(bt->keys[i]));
                kvhost_put_list(h, e + 12, bt->got[i], bt->lens[i]);
                kvhost_put_u8(h, e, 1);
            } else {
                kvhost_put_u8(h, e, 0);
            }
        }
        kvhost_put_u32(h, ret + 4, arr);
        kvhost_put_u32(h, ret + 8, n);
        kvhost_put_u8(h, ret, 0);
    } else {
        kvhost_put_error(h, ret, 4, rc);
    }
    kvhost_leave(h);
}

/* set-many: func(bucket: borrow<bucket>,
 *                key-values: list<tuple<string, list<u8>>>) -> result<_, error>
 * core: (bucket, list ptr, n, ret) ; element: key @0, value @8 (16 bytes) */
void kv_set_many(kvhost *h, uint32_t b, uint32_t kvs, uint32_t n, uint32_t ret)
{
    kvhost_enter(h);
    kvhost_span(h, ret, 16, 4);
    kvhost_bucket *hb = kvhost_res_get(h, b, KVHOST_RES_BUCKET);
    batch *bt;
    int rc = lift_batch(h, kvs, n, true, &bt);
    if (rc == KVSTORE_OK) {
        rc = kvstore_set_many(hb->bucket, bt->keys, bt->values, bt->lens, n);
        if (rc != KVSTORE_OK)
            rc = kvhost_lib_fail(h, rc);
    }
    if (rc == KVSTORE_OK)
        kvhost_put_u8(h, ret, 0);
    else
        kvhost_put_error(h, ret, 4, rc);
    kvhost_leave(h);
}

/* delete-many: func(bucket: borrow<bucket>, keys: list<string>)
 *                -> result<_, error>
 * core: (bucket, keys ptr, n, ret) */
void kv_delete_many(kvhost *h, uint32_t b, uint32_t keys, uint32_t n, uint32_t ret)
{
    kvhost_enter(h);
    kvhost_span(h, ret, 16, 4);
    kvhost_bucket *hb = kvhost_res_get(h, b, KVHOST_RES_BUCKET);
    batch *bt;
    int rc = lift_batch(h, keys, n, false, &bt);
    if (rc == KVSTORE_OK) {
        rc = kvstore_delete_many(hb->bucket, bt->keys, n);
        if (rc != KVSTORE_OK)
            rc = kvhost_lib_fail(h, rc);
    }
    if (rc == KVSTORE_OK)
        kvhost_put_u8(h, ret, 0);
    else
        kvhost_put_error(h, ret, 4, rc);
    kvhost_leave(h);
}

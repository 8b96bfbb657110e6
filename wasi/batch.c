/*
 * wasi:keyvalue/batch: get-many, set-many, delete-many (identical in both
 * drafts). Every element is lifted (bounds, UTF-8) before anything runs,
 * so a bad element traps before any key is touched; keys libkvstore
 * cannot take and batches above the max_batch config key are `error`s.
 *
 * SPDX-License-Identifier: MIT
 */
#include "internal.h"

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
        for (size_t k = 0; k < bt->n; k++)
            kvstore_free(bt->got[k]);
    free(bt->keys);
    free(bt->values);
    free(bt->lens);
    free(bt->got);
    free(bt);
}

/* Lifts list<string> (stride 8) or list<tuple<string, list<u8>>> (stride
 * 16) at (list, n) and copies the keys into a new batch. Traps on bad
 * memory; returns an error status for keys libkvstore cannot take. */
static int lift_batch(kvstore_wasi_instance *i, uint32_t list, uint32_t n, bool with_values,
                      batch **out)
{
    uint32_t stride = with_values ? 16 : 8;
    uint64_t text = 0;
    *out = NULL;
    wasi_span(i, list, (uint64_t)n * stride, 4);
    /* Pass 1: lift every element (the canonical ABI traps on any bad one,
     * whatever else is wrong with the batch). */
    for (uint32_t k = 0; k < n; k++) {
        uint32_t e = list + k * stride;
        uint32_t klen = wasi_get_u32(i, e + 4);
        wasi_string(i, wasi_get_u32(i, e), klen);
        if (with_values)
            wasi_span(i, wasi_get_u32(i, e + 8), wasi_get_u32(i, e + 12), 1);
        text += (uint64_t)klen + 1;
    }
    if (n > wasi_cfg(i)->max_batch)
        return wasi_fail(i, KVSTORE_EINVAL, "batch of %u keys is above the "
                         "host's limit of %u", (unsigned)n,
                         (unsigned)wasi_cfg(i)->max_batch);
    if (text > (uint64_t)n * (KVSTORE_KEY_MAX + 1))
        text = (uint64_t)n * (KVSTORE_KEY_MAX + 1); /* long keys fail below */
    batch *bt = calloc(1, sizeof(*bt) + (size_t)text + 1);
    if (!bt)
        return wasi_fail(i, KVSTORE_ENOMEM, "host out of memory");
    bt->n = n;
    bt->keys = calloc(n ? n : 1, sizeof(*bt->keys));
    bt->lens = calloc(n ? n : 1, sizeof(*bt->lens));
    if (with_values)
        bt->values = calloc(n ? n : 1, sizeof(*bt->values));
    if (!bt->keys || !bt->lens || (with_values && !bt->values)) {
        batch_free(bt);
        return wasi_fail(i, KVSTORE_ENOMEM, "host out of memory");
    }
    wasi_defer(i, batch_free, bt);
    *out = bt;
    /* Pass 2: copy the keys; no guest code runs between the passes. */
    char *t = bt->text;
    for (uint32_t k = 0; k < n; k++) {
        uint32_t e = list + k * stride;
        int rc = wasi_key(i, wasi_get_u32(i, e), wasi_get_u32(i, e + 4), t);
        if (rc != KVSTORE_OK) {
            char why[sizeof(i->errbuf)];
            memcpy(why, i->errbuf, sizeof(why));
            return wasi_fail(i, rc, "key %u: %.400s", (unsigned)k, why);
        }
        bt->keys[k] = t;
        t += strlen(t) + 1;
        if (with_values) {
            uint32_t vl = wasi_get_u32(i, e + 12);
            bt->values[k] = wasi_span(i, wasi_get_u32(i, e + 8), vl, 1);
            bt->lens[k] = vl;
        }
    }
    return KVSTORE_OK;
}

/* get-many: func(bucket: borrow<bucket>, keys: list<string>) -> result<L, error>
 * core: (bucket, keys ptr, n, ret) ; ret: 16 bytes, list (ptr, len) @4.
 * The element type L differs (20 bytes, align 4, in both):
 *   draft, draft2: list<option<tuple<string, list<u8>>>>
 *                  is_some u8 @0, key (ptr, len) @4, value (ptr, len) @12;
 *                  an absent key is `none`.
 *   spin:          list<tuple<string, option<list<u8>>>>
 *                  key (ptr, len) @0, is_some u8 @8, value (ptr, len) @12;
 *                  every key comes back, an absent one with `none`. */
KVSTORE_API void kvstore_wasi_get_many(kvstore_wasi_instance *i, uint32_t b,
                                       uint32_t keys, uint32_t n, uint32_t ret)
{
    WASI_IMPORT_BEGIN(i);
    wasi_span(i, ret, 16, 4);
    wasi_bucket *wb = wasi_res_get(i, b, WASI_RES_BUCKET);
    bool spin = i->wit == KVSTORE_WASI_SPIN;
    batch *bt;
    int rc = lift_batch(i, keys, n, false, &bt);
    if (rc == KVSTORE_OK) {
        bt->got = calloc(n ? n : 1, sizeof(*bt->got));
        if (!bt->got)
            rc = wasi_fail(i, KVSTORE_ENOMEM, "host out of memory");
    }
    if (rc == KVSTORE_OK) {
        rc = kvstore_get_many(wb->bucket, bt->keys, n, bt->got, bt->lens);
        if (rc != KVSTORE_OK)
            rc = wasi_lib_fail(i, rc);
    }
    if (rc == KVSTORE_OK) {
        uint32_t arr = wasi_alloc(i, 4, (uint64_t)n * 20);
        for (uint32_t k = 0; k < n; k++) {
            uint32_t e = arr + k * 20;
            if (spin) {
                wasi_put_list(i, e, bt->keys[k], strlen(bt->keys[k]));
                if (bt->got[k])
                    wasi_put_list(i, e + 12, bt->got[k], bt->lens[k]);
                wasi_put_u8(i, e + 8, bt->got[k] ? 1 : 0);
            } else if (bt->got[k]) {
                wasi_put_list(i, e + 4, bt->keys[k], strlen(bt->keys[k]));
                wasi_put_list(i, e + 12, bt->got[k], bt->lens[k]);
                wasi_put_u8(i, e, 1);
            } else {
                wasi_put_u8(i, e, 0);
            }
        }
        wasi_put_u32(i, ret + 4, arr);
        wasi_put_u32(i, ret + 8, n);
        wasi_put_u8(i, ret, 0);
    } else {
        wasi_put_error(i, ret, 4, rc);
    }
    wasi_leave(i);
}

/* set-many: func(bucket: borrow<bucket>,
 *                key-values: list<tuple<string, list<u8>>>) -> result<_, error>
 * core: (bucket, list ptr, n, ret) ; element: key @0, value @8 (16 bytes) */
KVSTORE_API void kvstore_wasi_set_many(kvstore_wasi_instance *i, uint32_t b, uint32_t kvs, uint32_t n, uint32_t ret)
{
    WASI_IMPORT_BEGIN(i);
    wasi_span(i, ret, 16, 4);
    wasi_bucket *wb = wasi_res_get(i, b, WASI_RES_BUCKET);
    batch *bt;
    int rc = lift_batch(i, kvs, n, true, &bt);
    if (rc == KVSTORE_OK)
        rc = wasi_lib(i, kvstore_set_many(wb->bucket, bt->keys, bt->values,
                                          bt->lens, n));
    wasi_return_unit(i, ret, rc);
}

/* delete-many: func(bucket: borrow<bucket>, keys: list<string>)
 *                -> result<_, error>
 * core: (bucket, keys ptr, n, ret) */
KVSTORE_API void kvstore_wasi_delete_many(kvstore_wasi_instance *i, uint32_t b, uint32_t keys, uint32_t n, uint32_t ret)
{
    WASI_IMPORT_BEGIN(i);
    wasi_span(i, ret, 16, 4);
    wasi_bucket *wb = wasi_res_get(i, b, WASI_RES_BUCKET);
    batch *bt;
    int rc = lift_batch(i, keys, n, false, &bt);
    if (rc == KVSTORE_OK)
        rc = wasi_lib(i, kvstore_delete_many(wb->bucket, bt->keys, n));
    wasi_return_unit(i, ret, rc);
}

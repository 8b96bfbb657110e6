/*
 * wasi:keyvalue/atomics: increment for both drafts, and draft2's cas
 * resource. The two increments differ only in how the 64-bit delta and
 * result are read: u64 in the draft, s64 in draft2.
 *
 * SPDX-License-Identifier: MIT
 */
#include "internal.h"

#include <stdlib.h>
#include <string.h>

/* increment: func(bucket: borrow<bucket>, key: string, delta: u64|s64)
 *              -> result<u64|s64, error>
 * core: (bucket, key ptr, key len, delta i64, ret) ; ret: 24 bytes,
 * align 8: value @8, error @8. */
static void increment(kvstore_wasi_instance *i, uint32_t b, uint32_t kp, uint32_t kl,
                      uint64_t delta, bool is_unsigned, uint32_t ret)
{
    WASI_IMPORT_BEGIN(i);
    wasi_span(i, ret, 24, 8);
    wasi_bucket *wb = wasi_res_get(i, b, WASI_RES_BUCKET);
    char key[KVSTORE_KEY_MAX + 1];
    int64_t result = 0;
    int rc = wasi_key(i, kp, kl, key);
    if (rc == KVSTORE_OK && is_unsigned && delta > INT64_MAX)
        rc = wasi_fail(i, KVSTORE_EINVAL,
                         "delta %llu is above INT64_MAX (counters are int64)",
                         (unsigned long long)delta);
    if (rc == KVSTORE_OK) {
        rc = kvstore_increment(wb->bucket, key, (int64_t)delta, &result);
        if (rc != KVSTORE_OK)
            rc = wasi_lib_fail(i, rc);
    }
    /* The draft's u64 result cannot carry a negative counter (one another
     * client decremented): the increment happened, but is reported as an
     * error rather than as a huge number. */
    if (rc == KVSTORE_OK && is_unsigned && result < 0)
        rc = wasi_fail(i, KVSTORE_EINVAL,
                         "counter is %lld, which a u64 result cannot carry",
                         (long long)result);
    if (rc == KVSTORE_OK) {
        wasi_put_u64(i, ret + 8, (uint64_t)result);
        wasi_put_u8(i, ret, 0);
    } else {
        wasi_put_error(i, ret, 8, rc);
    }
    wasi_leave(i);
}

KVSTORE_API void kvstore_wasi_draft_increment(kvstore_wasi_instance *i, uint32_t b, uint32_t kp, uint32_t kl,
                      uint64_t delta, uint32_t ret)
{
    increment(i, b, kp, kl, delta, true, ret);
}

KVSTORE_API void kvstore_wasi_draft2_increment(kvstore_wasi_instance *i, uint32_t b, uint32_t kp, uint32_t kl,
                      uint64_t delta, uint32_t ret)
{
    increment(i, b, kp, kl, delta, false, ret);
}

/* Snapshots `key` of wb into a new cas resource; returns its handle or 0
 * with the error status in *rc. */
static uint32_t cas_open(kvstore_wasi_instance *i, wasi_bucket *wb, const char *key, int *rc)
{
    wasi_cas *c = calloc(1, sizeof(*c));
    if (!c || !(c->key = strdup(key))) {
        free(c);
        *rc = wasi_fail(i, KVSTORE_ENOMEM, "host out of memory");
        return 0;
    }
    c->wb = wb;
    wb->refs++;
    *rc = kvstore_cas_open(&c->cas, wb->bucket, key);
    if (*rc != KVSTORE_OK) {
        *rc = wasi_lib_fail(i, *rc);
        wasi_cas_free(c);
        return 0;
    }
    uint32_t handle = wasi_res_add(i, WASI_RES_CAS, c);
    if (!handle) {
        *rc = KVSTORE_ENOMEM;
        wasi_cas_free(c);
    }
    return handle;
}

/* [static]cas.new: func(bucket: borrow<bucket>, key: string)
 *                    -> result<cas, error>
 * core: (bucket, key ptr, key len, ret) ; ret: 16 bytes, handle @4 */
KVSTORE_API void kvstore_wasi_cas_new(kvstore_wasi_instance *i, uint32_t b, uint32_t kp, uint32_t kl, uint32_t ret)
{
    WASI_IMPORT_BEGIN(i);
    wasi_span(i, ret, 16, 4);
    wasi_bucket *wb = wasi_res_get(i, b, WASI_RES_BUCKET);
    char key[KVSTORE_KEY_MAX + 1];
    uint32_t handle = 0;
    int rc = wasi_key(i, kp, kl, key);
    if (rc == KVSTORE_OK)
        handle = cas_open(i, wb, key, &rc);
    if (rc == KVSTORE_OK) {
        wasi_put_u32(i, ret + 4, handle);
        wasi_put_u8(i, ret, 0);
    } else {
        wasi_put_error(i, ret, 4, rc);
    }
    wasi_leave(i);
}

/* [method]cas.current: func() -> result<option<list<u8>>, error>
 * core: (self, ret) ; ret as bucket.get */
KVSTORE_API void kvstore_wasi_cas_current(kvstore_wasi_instance *i, uint32_t cas, uint32_t ret)
{
    WASI_IMPORT_BEGIN(i);
    wasi_span(i, ret, 16, 4);
    wasi_cas *c = wasi_res_get(i, cas, WASI_RES_CAS);
    const void *v = NULL;
    size_t len = 0;
    int rc = kvstore_cas_current(c->cas, &v, &len);
    if (rc < 0)
        rc = wasi_lib_fail(i, rc);
    if (rc == KVSTORE_OK) {
        wasi_put_list(i, ret + 8, v, len);
        wasi_put_u8(i, ret + 4, 1);
        wasi_put_u8(i, ret, 0);
    } else if (rc == KVSTORE_NOTFOUND) {
        wasi_put_u8(i, ret + 4, 0);
        wasi_put_u8(i, ret, 0);
    } else {
        wasi_put_error(i, ret, 4, rc);
    }
    wasi_leave(i);
}

/* swap: func(cas: cas, value: list<u8>) -> result<_, cas-error>
 * cas-error: variant { store-error(error), cas-failed(cas) }
 * core: (cas, value ptr, value len, ret) ; ret: 20 bytes: cas-error tag
 * u8 @4, store-error's error @8 or cas-failed's new handle @8.
 * The handle is consumed (own<cas>) whatever the outcome. */
KVSTORE_API void kvstore_wasi_cas_swap(kvstore_wasi_instance *i, uint32_t cas, uint32_t vp, uint32_t vl, uint32_t ret)
{
    WASI_IMPORT_BEGIN(i);
    wasi_span(i, ret, 20, 4);
    wasi_cas *c = wasi_res_take(i, cas, WASI_RES_CAS);
    wasi_defer(i, wasi_cas_free, c);
    const uint8_t *val = wasi_span(i, vp, vl, 1);
    int rc = kvstore_cas_swap(c->cas, val, vl);
    if (rc == KVSTORE_OK) {
        wasi_put_u8(i, ret, 0);
    } else if (rc == KVSTORE_ECONFLICT) {
        /* The WIT asks for a handle already at the latest version. */
        uint32_t fresh = cas_open(i, c->wb, c->key, &rc);
        if (rc == KVSTORE_OK) {
            wasi_put_u32(i, ret + 8, fresh);
            wasi_put_u8(i, ret + 4, 1);
            wasi_put_u8(i, ret, 1);
        } else {
            wasi_put_error(i, ret + 4, 4, rc);
            wasi_put_u8(i, ret + 4, 0);
            wasi_put_u8(i, ret, 1);
        }
    } else {
        rc = wasi_lib_fail(i, rc);
        /* put_error writes is_err at its first argument: here that is the
         * cas-error tag, store-error = 0, rewritten below. */
        wasi_put_error(i, ret + 4, 4, rc);
        wasi_put_u8(i, ret + 4, 0);
        wasi_put_u8(i, ret, 1);
    }
    wasi_leave(i);
}

/* [resource-drop]cas: (self) */
KVSTORE_API void kvstore_wasi_cas_drop(kvstore_wasi_instance *i, uint32_t cas)
{
    WASI_IMPORT_BEGIN(i);
    wasi_cas_free(wasi_res_take(i, cas, WASI_RES_CAS));
    wasi_leave(i);
}

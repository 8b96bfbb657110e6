/*
 * wasi:keyvalue/atomics: increment for both drafts, and draft2's cas
 * resource. The two increments differ only in how the 64-bit delta and
 * result are read: u64 in the draft, s64 in draft2.
 *
 * SPDX-License-Identifier: MIT
 */
#include "imports.h"

#include <stdlib.h>
#include <string.h>

/* increment: func(bucket: borrow<bucket>, key: string, delta: u64|s64)
 *              -> result<u64|s64, error>
 * core: (bucket, key ptr, key len, delta i64, ret) ; ret: 24 bytes,
 * align 8: value @8, error @8. */
static void increment(kvhost *h, uint32_t b, uint32_t kp, uint32_t kl,
                      uint64_t delta, bool is_unsigned, uint32_t ret)
{
    kvhost_enter(h);
    kvhost_span(h, ret, 24, 8);
    kvhost_bucket *hb = kvhost_res_get(h, b, KVHOST_RES_BUCKET);
    char key[KVSTORE_KEY_MAX + 1];
    int64_t result = 0;
    int rc = kvhost_key(h, kp, kl, key);
    if (rc == KVSTORE_OK && is_unsigned && delta > INT64_MAX)
        rc = kvhost_fail(h, KVSTORE_EINVAL,
                         "delta %llu is above INT64_MAX (counters are int64)",
                         (unsigned long long)delta);
    if (rc == KVSTORE_OK) {
        rc = kvstore_increment(hb->bucket, key, (int64_t)delta, &result);
        if (rc != KVSTORE_OK)
            rc = kvhost_lib_fail(h, rc);
    }
    /* The draft's u64 result cannot carry a negative counter (one another
     * client decremented): the increment happened, but is reported as an
     * error rather than as a huge number. */
    if (rc == KVSTORE_OK && is_unsigned && result < 0)
        rc = kvhost_fail(h, KVSTORE_EINVAL,
                         "counter is %lld, which a u64 result cannot carry",
                         (long long)result);
    if (rc == KVSTORE_OK) {
        kvhost_put_u64(h, ret + 8, (uint64_t)result);
        kvhost_put_u8(h, ret, 0);
    } else {
        kvhost_put_error(h, ret, 8, rc);
    }
    kvhost_leave(h);
}

void kv_increment_u64(kvhost *h, uint32_t b, uint32_t kp, uint32_t kl,
                      uint64_t delta, uint32_t ret)
{
    increment(h, b, kp, kl, delta, true, ret);
}

void kv_increment_s64(kvhost *h, uint32_t b, uint32_t kp, uint32_t kl,
                      uint64_t delta, uint32_t ret)
{
    increment(h, b, kp, kl, delta, false, ret);
}

/* Snapshots `key` of hb into a new cas resource; returns its handle or 0
 * with the error status in *rc. */
static uint32_t cas_open(kvhost *h, kvhost_bucket *hb, const char *key, int *rc)
{
    kvhost_cas *c = calloc(1, sizeof(*c));
    if (!c || !(c->key = strdup(key))) {
        free(c);
        *rc = kvhost_fail(h, KVSTORE_ENOMEM, "host out of memory");
        return 0;
    }
    c->hb = hb;
    hb->refs++;
    *rc = kvstore_cas_open(&c->cas, hb->bucket, key);
    if (*rc != KVSTORE_OK) {
        *rc = kvhost_lib_fail(h, *rc);
        kvhost_cas_free(c);
        return 0;
    }
    uint32_t handle = kvhost_res_add(h, KVHOST_RES_CAS, c);
    if (!handle) {
        *rc = KVSTORE_ENOMEM;
        kvhost_cas_free(c);
    }
    return handle;
}

/* [static]cas.new: func(bucket: borrow<bucket>, key: string)
 *                    -> result<cas, error>
 * core: (bucket, key ptr, key len, ret) ; ret: 16 bytes, handle @4 */
void kv_cas_new(kvhost *h, uint32_t b, uint32_t kp, uint32_t kl, uint32_t ret)
{
    kvhost_enter(h);
    kvhost_span(h, ret, 16, 4);
    kvhost_bucket *hb = kvhost_res_get(h, b, KVHOST_RES_BUCKET);
    char key[KVSTORE_KEY_MAX + 1];
    uint32_t handle = 0;
    int rc = kvhost_key(h, kp, kl, key);
    if (rc == KVSTORE_OK)
        handle = cas_open(h, hb, key, &rc);
    if (rc == KVSTORE_OK) {
        kvhost_put_u32(h, ret + 4, handle);
        kvhost_put_u8(h, ret, 0);
    } else {
        kvhost_put_error(h, ret, 4, rc);
    }
    kvhost_leave(h);
}

/* [method]cas.current: func() -> result<option<list<u8>>, error>
 * core: (self, ret) ; ret as bucket.get */
void kv_cas_current(kvhost *h, uint32_t cas, uint32_t ret)
{
    kvhost_enter(h);
    kvhost_span(h, ret, 16, 4);
    kvhost_cas *c = kvhost_res_get(h, cas, KVHOST_RES_CAS);
    const void *v = NULL;
    size_t len = 0;
    int rc = kvstore_cas_current(c->cas, &v, &len);
    if (rc < 0)
        rc = kvhost_lib_fail(h, rc);
    if (rc == KVSTORE_OK) {
        kvhost_put_list(h, ret + 8, v, len);
        kvhost_put_u8(h, ret + 4, 1);
        kvhost_put_u8(h, ret, 0);
    } else if (rc == KVSTORE_NOTFOUND) {
        kvhost_put_u8(h, ret + 4, 0);
        kvhost_put_u8(h, ret, 0);
    } else {
        kvhost_put_error(h, ret, 4, rc);
    }
    kvhost_leave(h);
}

/* swap: func(cas: cas, value: list<u8>) -> result<_, cas-error>
 * cas-error: variant { store-error(error), cas-failed(cas) }
 * core: (cas, value ptr, value len, ret) ; ret: 20 bytes: cas-error tag
 * u8 @4, store-error's error @8 or cas-failed's new handle @8.
 * The handle is consumed (own<cas>) whatever the outcome. */
void kv_cas_swap(kvhost *h, uint32_t cas, uint32_t vp, uint32_t vl, uint32_t ret)
{
    kvhost_enter(h);
    kvhost_span(h, ret, 20, 4);
    kvhost_cas *c = kvhost_res_take(h, cas, KVHOST_RES_CAS);
    kvhost_defer(h, kvhost_cas_free, c);
    const uint8_t *val = kvhost_span(h, vp, vl, 1);
    int rc = kvstore_cas_swap(c->cas, val, vl);
    if (rc == KVSTORE_OK) {
        kvhost_put_u8(h, ret, 0);
    } else if (rc == KVSTORE_ECONFLICT) {
        /* The WIT asks for a handle already at the latest version. */
        uint32_t fresh = cas_open(h, c->hb, c->key, &rc);
        if (rc == KVSTORE_OK) {
            kvhost_put_u32(h, ret + 8, fresh);
            kvhost_put_u8(h, ret + 4, 1);
            kvhost_put_u8(h, ret, 1);
        } else {
            kvhost_put_error(h, ret + 4, 4, rc);
            kvhost_put_u8(h, ret + 4, 0);
            kvhost_put_u8(h, ret, 1);
        }
    } else {
        rc = kvhost_lib_fail(h, rc);
        /* put_error writes is_err at its first argument: here that is the
         * cas-error tag, store-error = 0, rewritten below. */
        kvhost_put_error(h, ret + 4, 4, rc);
        kvhost_put_u8(h, ret + 4, 0);
        kvhost_put_u8(h, ret, 1);
    }
    kvhost_leave(h);
}

/* [resource-drop]cas: (self) */
void kv_cas_drop(kvhost *h, uint32_t cas)
{
    kvhost_enter(h);
    kvhost_cas_free(kvhost_res_take(h, cas, KVHOST_RES_CAS));
    kvhost_leave(h);
}

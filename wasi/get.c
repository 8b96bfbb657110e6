/*
 * wasi:keyvalue/store [method]bucket.get, the hottest import, on its own.
 *
 * The value comes from kvstore_get_with: the backend lends it to
 * hold_value(), which copies it into the instance's value buffer, and it
 * is lowered into the guest (cabi_realloc, copy) once the call has
 * returned. Never from inside the callback: the backend may hold a lock
 * there, and the guest must not run under it. A backend that lends
 * (memory) then costs no allocation and no free per get.
 *
 * The key is lifted for what a C string needs and no more (a length of at
 * most KVSTORE_KEY_MAX without NUL, copied and checked eight bytes at a
 * time); libkvstore's own key check decides the rest before the call has
 * any effect, and a key it refuses is then sorted into the canonical
 * ABI's answer: not UTF-8 is a trap, anything else an error. The key is
 * checked for UTF-8 once, not once here and again in libkvstore.
 *
 * Written without a jmp_buf (internal.h): the checks come in the same
 * order as in every import (return area, handle, key) and each ends
 * through wasi_trap_finish.
 *
 * SPDX-License-Identifier: MIT
 */
#include "internal.h"

#include <stdlib.h>
#include <string.h>

/* What hold_value returns when the host cannot hold the value: not a
 * libkvstore status, so kvstore_get_with hands it back unchanged. */
#define HOST_NOMEM (-2000)

/* A buffer larger than this is freed after its get: one huge value does
 * not stay allocated for the instance's life. */
#define VALUE_KEEP ((size_t)64 * 1024)

/* Out of line: hold_value stays a leaf function without it. */
__attribute__((noinline))
static bool value_room(kvstore_wasi_instance *i, size_t len)
{
    size_t cap = i->value_cap ? i->value_cap : 256;
    while (cap < len)
        cap = cap > SIZE_MAX / 2 ? len : cap * 2;
    uint8_t *v = realloc(i->value, cap);
    if (!v)
        return false;
    i->value = v;
    i->value_cap = cap;
    return true;
}

void wasi_value_drop(kvstore_wasi_instance *i)
{
    free(i->value);
    i->value = NULL;
    i->value_cap = 0;
}

/* memcpy, inline for the 4 to 16 bytes of the small values most gets
 * return (two overlapping loads and stores): a call to memcpy costs as
 * much again as such a copy, and a get makes two. */
static inline void copy_value(uint8_t *dst, const void *src, size_t len)
{
    const uint8_t *s = src;
    if (len >= 8 && len <= 16) {
        uint64_t a, b;
        memcpy(&a, s, 8);
        memcpy(&b, s + len - 8, 8);
        memcpy(dst, &a, 8);
        memcpy(dst + len - 8, &b, 8);
    } else if (len >= 4 && len < 8) {
        uint32_t a, b;
        memcpy(&a, s, 4);
        memcpy(&b, s + len - 4, 4);
        memcpy(dst, &a, 4);
        memcpy(dst + len - 4, &b, 4);
    } else if (len) {
        memcpy(dst, s, len);
    }
}

/* The lending callback: copy and return, nothing else (kvstore_get_with). */
static int hold_value(void *ctx, const void *value, size_t len)
{
    kvstore_wasi_instance *i = ctx;
    if (len > i->value_cap && !value_room(i, len))
        return HOST_NOMEM;
    copy_value(i->value, value, len);
    i->value_len = len;
    return 0;
}

/* Copies the key at s (len bytes, of which up to 7 more may be read: the
 * caller checked they are inside guest memory) into buf (room for
 * KVSTORE_KEY_MAX + 8 bytes) as a C string, eight bytes at a time. True
 * when no byte of it is NUL. Per word x, (x - 0x01..01) & ~x sets a
 * byte's top bit when that byte is 0 (and maybe for bytes after a 0, which
 * does not matter); the tail word's bytes past the key become 0x01. */
static inline bool key_copy_no_nul(const uint8_t *s, uint32_t len, char *buf)
{
    const uint64_t ones = 0x0101010101010101ull;
    uint64_t x, zero = 0;
    uint32_t k = 0;
    for (; k + 8 <= len; k += 8) {
        memcpy(&x, s + k, 8);
        memcpy(buf + k, &x, 8);
        zero |= (x - ones) & ~x;
    }
    if (k < len) {
        uint64_t keep = ~0ull >> (64 - 8 * (len - k));
        memcpy(&x, s + k, 8);
        x = (x & keep) | (ones & ~keep);
        memcpy(buf + k, &x, 8);
        zero |= (x - ones) & ~x;
    }
    buf[len] = '\0';
    return (zero & 0x8080808080808080ull) == 0;
}

/* The key of a get in buf, or KVSTORE_EINVAL (error recorded) or
 * WASI_TRAPPED. Only a key the fast copy cannot take (NUL inside, longer
 * than KVSTORE_KEY_MAX, at the very end of memory) is checked here in
 * full, in the order of every import: UTF-8 (trap), then the rest. */
static inline int get_key(kvstore_wasi_instance *i, uint32_t kp, uint32_t kl,
                          char *buf)
{
    /* In memory with the bytes the last word reads past the key. */
    if (kl <= KVSTORE_KEY_MAX &&
        (uint64_t)kp + ((kl + 7u) & ~7u) <= i->mem_size &&
        key_copy_no_nul(i->mem + kp, kl, buf))
        return KVSTORE_OK;
    return wasi_key_lift(i, kp, kl, buf);
}

/* Writes result<option<list<u8>>, error> for not found or an error,
 * under a jmp_buf of its own, since lowering an error message calls
 * cabi_realloc and may trap. */
static void get_finish_slow(kvstore_wasi_instance *i, uint32_t ret, int rc)
{
    if (setjmp(i->jmp)) {
        wasi_trapped_here(i);
        return;
    }
    i->have_jmp = true;
    if (rc == KVSTORE_NOTFOUND) {
        wasi_put_u8(i, ret + 4, 0);
        wasi_put_u8(i, ret, 0);
    } else {
        wasi_put_error(i, ret, 4, rc);
    }
    wasi_leave(i);
}

/* [method]bucket.get: func(key: string) -> result<option<list<u8>>, error>
 * core: (self, key ptr, key len, ret) ; ret: 16 bytes,
 * is_some u8 @4, value (ptr, len) @8 */
KVSTORE_API void kvstore_wasi_bucket_get(kvstore_wasi_instance *i, uint32_t b,
                                         uint32_t kp, uint32_t kl, uint32_t ret)
{
    if (!wasi_enter(i))
        return;
    char key[KVSTORE_KEY_MAX + 8];
    wasi_bucket *wb = NULL;
    int rc = WASI_TRAPPED;
    if (wasi_span_ok(i, ret, 16, 4) &&
        (wb = wasi_res_find(i, b, WASI_RES_BUCKET)) != NULL)
        rc = get_key(i, kp, kl, key);
    if (rc == KVSTORE_OK) {
        rc = kvstore_get_with(wb->bucket, key, hold_value, i);
        if (rc == KVSTORE_OK) {
            size_t len = i->value_len;
            uint32_t p = 0;
            bool lowered = wasi_alloc_try(i, 1, len, &p);
            if (lowered) {
                /* The return area was checked before the guest ran;
                 * memory only grows, and i->mem is the address after the
                 * call. Nothing was deferred: no wasi_leave. */
                uint8_t *r = i->mem + ret;
                uint32_t l32 = (uint32_t)len;
                copy_value(i->mem + p, i->value, len);
                memcpy(r + 8, &p, 4);
                memcpy(r + 12, &l32, 4);
                r[4] = 1;
                r[0] = 0;
            }
            if (len > VALUE_KEEP)
                wasi_value_drop(i);
            if (!lowered)
                wasi_trap_finish(i);
            return;
        }
        if (rc == KVSTORE_EINVAL && !wasi_utf8_valid(key, kl)) {
            /* libkvstore refused the key before anything happened: the
             * canonical ABI traps on a string that is not UTF-8. */
            wasi_trap_set(i, "string at 0x%x is not valid UTF-8", (unsigned)kp);
            rc = WASI_TRAPPED;
        } else if (rc == HOST_NOMEM) {
            rc = wasi_fail(i, KVSTORE_ENOMEM, "host out of memory");
        } else if (rc < 0) {
            rc = wasi_lib_fail(i, rc);
        }
    }
    if (rc == WASI_TRAPPED) {
        wasi_trap_finish(i);
        return;
    }
    get_finish_slow(i, ret, rc);
}

/*
 * wasi:keyvalue/store: open, the bucket methods and list-keys for both
 * drafts. Return-area layouts (README, "How each import is lowered"):
 *   result<T, error> with a 4-aligned T: is_err u8 @0, payload @4
 *   error: tag u8 @0 (0 no-such-store, 1 access-denied, 2 other),
 *          other's string (ptr, len) @4
 *
 * SPDX-License-Identifier: MIT
 */
#include "imports.h"

#include <stdlib.h>
#include <string.h>

static bool allowed(const kvhost *h, const char *id, size_t len)
{
    if (!h->cfg->allow)
        return true;
    for (const char *const *a = h->cfg->allow; *a; a++)
        if (strlen(*a) == len && memcmp(*a, id, len) == 0)
            return true;
    return false;
}

/* open: func(identifier: string) -> result<bucket, error>
 * core: (id ptr, id len, ret) ; ret: 16 bytes, handle @4 */
void kv_open(kvhost *h, uint32_t idp, uint32_t idlen, uint32_t ret)
{
    kvhost_enter(h);
    kvhost_span(h, ret, 16, 4);
    const char *id = kvhost_string(h, idp, idlen);
    const char *prefix = h->cfg->prefix ? h->cfg->prefix : "";
    char name[KVSTORE_BUCKET_NAME_MAX + 1];
    kvstore_bucket *kb = NULL;
    kvhost_bucket *hb = NULL;
    uint32_t handle = 0;
    int rc;

    if (!allowed(h, id, idlen)) {
        rc = kvhost_fail(h, KVSTORE_EACCESS, "not allowed");
    } else if (memchr(id, '\0', idlen) ||
               strlen(prefix) + idlen > KVSTORE_BUCKET_NAME_MAX) {
        rc = kvhost_fail(h, KVSTORE_EINVAL,
                         "bucket identifier is not a bucket name");
    } else {
        size_t plen = strlen(prefix);
        memcpy(name, prefix, plen);
        memcpy(name + plen, id, idlen);
        name[plen + idlen] = '\0';
        rc = kvstore_bucket_open(&kb, h->cfg->store, name);
        if (rc != KVSTORE_OK)
            rc = kvhost_lib_fail(h, rc);
    }
    if (rc == KVSTORE_OK) {
        hb = malloc(sizeof(*hb));
        if (!hb) {
            kvstore_bucket_close(kb);
            rc = kvhost_fail(h, KVSTORE_ENOMEM, "host out of memory");
        } else {
            hb->bucket = kb;
            hb->refs = 1;
            handle = kvhost_res_add(h, KVHOST_RES_BUCKET, hb);
            if (!handle) {
                kvhost_bucket_unref(hb);
                rc = KVSTORE_ENOMEM;
            }
        }
    }
    if (rc == KVSTORE_OK) {
        kvhost_put_u32(h, ret + 4, handle);
        kvhost_put_u8(h, ret, 0);
    } else {
        kvhost_put_error(h, ret, 4, rc);
    }
    kvhost_leave(h);
}

static kvstore_bucket *bucket(kvhost *h, uint32_t handle)
{
    kvhost_bucket *hb = kvhost_res_get(h, handle, KVHOST_RES_BUCKET);
    return hb->bucket;
}

/* Writes option<list<u8>> @ret+4 from a get-like status. */
static void put_option_value(kvhost *h, uint32_t ret, int rc, const void *v,
                             size_t len)
{
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
}

/* [method]bucket.get: func(key: string) -> result<option<list<u8>>, error>
 * core: (self, key ptr, key len, ret) ; ret: 16 bytes,
 * is_some u8 @4, value (ptr, len) @8 */
void kv_get(kvhost *h, uint32_t b, uint32_t kp, uint32_t kl, uint32_t ret)
{
    kvhost_enter(h);
    kvhost_span(h, ret, 16, 4);
    kvstore_bucket *kb = bucket(h, b);
    char key[KVSTORE_KEY_MAX + 1];
    void *v = NULL;
    size_t len = 0;
    int rc = kvhost_key(h, kp, kl, key);
    if (rc == KVSTORE_OK) {
        rc = kvstore_get(kb, key, &v, &len);
        if (rc < 0)
            rc = kvhost_lib_fail(h, rc);
        if (v)
            kvhost_defer(h, kvstore_free, v);
    }
    put_option_value(h, ret, rc, v, len);
    kvhost_leave(h);
}

/* [method]bucket.set: func(key: string, value: list<u8>) -> result<_, error>
 * core: (self, key ptr, key len, value ptr, value len, ret) ; ret: 16 */
void kv_set(kvhost *h, uint32_t b, uint32_t kp, uint32_t kl, uint32_t vp,
            uint32_t vl, uint32_t ret)
{
    kvhost_enter(h);
    kvhost_span(h, ret, 16, 4);
    kvstore_bucket *kb = bucket(h, b);
    char key[KVSTORE_KEY_MAX + 1];
    int rc = kvhost_key(h, kp, kl, key);
    /* The value is lifted even when the key was refused: a bad list is a
     * trap whatever the key. libkvstore copies it before returning, so it
     * is passed straight from guest memory. */
    const uint8_t *val = kvhost_span(h, vp, vl, 1);
    if (rc == KVSTORE_OK) {
        rc = kvstore_set(kb, key, val, vl);
        if (rc != KVSTORE_OK)
            rc = kvhost_lib_fail(h, rc);
    }
    if (rc == KVSTORE_OK)
        kvhost_put_u8(h, ret, 0);
    else
        kvhost_put_error(h, ret, 4, rc);
    kvhost_leave(h);
}

/* [method]bucket.delete: func(key: string) -> result<_, error>
 * core: (self, key ptr, key len, ret) ; ret: 16 */
void kv_delete(kvhost *h, uint32_t b, uint32_t kp, uint32_t kl, uint32_t ret)
{
    kvhost_enter(h);
    kvhost_span(h, ret, 16, 4);
    kvstore_bucket *kb = bucket(h, b);
    char key[KVSTORE_KEY_MAX + 1];
    int rc = kvhost_key(h, kp, kl, key);
    if (rc == KVSTORE_OK) {
        rc = kvstore_delete(kb, key);
        if (rc != KVSTORE_OK)
            rc = kvhost_lib_fail(h, rc);
    }
    if (rc == KVSTORE_OK)
        kvhost_put_u8(h, ret, 0);
    else
        kvhost_put_error(h, ret, 4, rc);
    kvhost_leave(h);
}

/* [method]bucket.exists: func(key: string) -> result<bool, error>
 * core: (self, key ptr, key len, ret) ; ret: 16, bool u8 @4 */
void kv_exists(kvhost *h, uint32_t b, uint32_t kp, uint32_t kl, uint32_t ret)
{
    kvhost_enter(h);
    kvhost_span(h, ret, 16, 4);
    kvstore_bucket *kb = bucket(h, b);
    char key[KVSTORE_KEY_MAX + 1];
    bool found = false;
    int rc = kvhost_key(h, kp, kl, key);
    if (rc == KVSTORE_OK) {
        rc = kvstore_exists(kb, key, &found);
        if (rc != KVSTORE_OK)
            rc = kvhost_lib_fail(h, rc);
    }
    if (rc == KVSTORE_OK) {
        kvhost_put_u8(h, ret + 4, found ? 1 : 0);
        kvhost_put_u8(h, ret, 0);
    } else {
        kvhost_put_error(h, ret, 4, rc);
    }
    kvhost_leave(h);
}

/* [resource-drop]bucket: (self) ; traps on a handle that is not live */
void kv_bucket_drop(kvhost *h, uint32_t b)
{
    kvhost_enter(h);
    kvhost_bucket_unref(kvhost_res_take(h, b, KVHOST_RES_BUCKET));
    kvhost_leave(h);
}

static void keys_free(void *p)
{
    kvstore_keys_free(p);
}

/* Reads one page; the page is owned by the current import. */
static int list_page(kvhost *h, kvstore_bucket *kb, const char *cursor,
                     kvstore_keys **page)
{
    *page = NULL;
    int rc = kvstore_list_keys(kb, NULL, cursor, h->cfg->page_size, page);
    if (rc != KVSTORE_OK)
        return kvhost_lib_fail(h, rc);
    kvhost_defer(h, keys_free, *page);
    return KVSTORE_OK;
}

/* Writes list<string> (ptr, len) at addr: an array of n (ptr, len) pairs,
 * 4-aligned, then each key. */
static void put_keys(kvhost *h, uint32_t addr, const kvstore_keys *page)
{
    uint32_t arr = kvhost_alloc(h, 4, (uint64_t)page->count * 8);
    for (size_t i = 0; i < page->count; i++)
        kvhost_put_list(h, arr + (uint32_t)i * 8, page->keys[i],
                        strlen(page->keys[i]));
    kvhost_put_u32(h, addr, arr);
    kvhost_put_u32(h, addr + 4, (uint32_t)page->count);
}

/* draft: [method]bucket.list-keys: func(cursor: option<u64>)
 *          -> result<key-response, error>
 * core: (self, is_some, cursor u64, ret) ; ret: 32 bytes, align 8:
 * keys (ptr, len) @8, cursor is_some u8 @16, cursor u64 @24, error @8.
 * The u64 names an entry of the instance's cursor table. */
void kv_list_keys_u64(kvhost *h, uint32_t b, uint32_t has, uint64_t cursor,
                      uint32_t ret)
{
    kvhost_enter(h);
    kvhost_span(h, ret, 32, 8);
    kvstore_bucket *kb = bucket(h, b);
    if (has > 1)
        kvhost_trap(h, WASM_RT_TRAP_UNREACHABLE, "bad option discriminant %u",
                    (unsigned)has);
    const char *c = NULL;
    kvstore_keys *page = NULL;
    int rc = KVSTORE_OK;
    if (has) {
        c = kvhost_cursor_get(h, cursor);
        if (!c)
            rc = kvhost_fail(h, KVSTORE_EINVAL, "unknown or expired cursor %llu",
                             (unsigned long long)cursor);
    }
    if (rc == KVSTORE_OK)
        rc = list_page(h, kb, c, &page);
    if (rc == KVSTORE_OK) {
        put_keys(h, ret + 8, page);
        if (page->cursor) {
            kvhost_put_u64(h, ret + 24, kvhost_cursor_put(h, page->cursor));
            kvhost_put_u8(h, ret + 16, 1);
        } else {
            kvhost_put_u8(h, ret + 16, 0);
        }
        kvhost_put_u8(h, ret, 0);
    } else {
        kvhost_put_error(h, ret, 8, rc);
    }
    kvhost_leave(h);
}

/* draft2: [method]bucket.list-keys: func(cursor: option<string>)
 *           -> result<key-response, error>
 * core: (self, is_some, cursor ptr, cursor len, ret) ; ret: 24 bytes:
 * keys @4, cursor is_some u8 @12, cursor (ptr, len) @16, error @4. */
void kv_list_keys_string(kvhost *h, uint32_t b, uint32_t has, uint32_t cp,
                         uint32_t cl, uint32_t ret)
{
    kvhost_enter(h);
    kvhost_span(h, ret, 24, 4);
    kvstore_bucket *kb = bucket(h, b);
    if (has > 1)
        kvhost_trap(h, WASM_RT_TRAP_UNREACHABLE, "bad option discriminant %u",
                    (unsigned)has);
    char *c = NULL;
    kvstore_keys *page = NULL;
    int rc = KVSTORE_OK;
    if (has) {
        const char *s = kvhost_string(h, cp, cl);
        if (cl > KVSTORE_CURSOR_MAX || memchr(s, '\0', cl)) {
            rc = kvhost_fail(h, KVSTORE_EINVAL, "invalid cursor");
        } else if (!(c = malloc((size_t)cl + 1))) {
            rc = kvhost_fail(h, KVSTORE_ENOMEM, "host out of memory");
        } else {
            memcpy(c, s, cl);
            c[cl] = '\0';
            kvhost_defer(h, free, c);
        }
    }
    if (rc == KVSTORE_OK)
        rc = list_page(h, kb, c, &page);
    if (rc == KVSTORE_OK) {
        put_keys(h, ret + 4, page);
        if (page->cursor) {
            kvhost_put_list(h, ret + 16, page->cursor, strlen(page->cursor));
            kvhost_put_u8(h, ret + 12, 1);
        } else {
            kvhost_put_u8(h, ret + 12, 0);
        }
        kvhost_put_u8(h, ret, 0);
    } else {
        kvhost_put_error(h, ret, 4, rc);
    }
    kvhost_leave(h);
}

/*
 * wasi:keyvalue/store: open, the bucket methods and list-keys for every
 * version. Return-area layouts (README, "How each import is lowered"):
 *   result<T, error> with a 4-aligned T: is_err u8 @0, payload @4
 *   error: tag u8 @0 (0 no-such-store, 1 access-denied, 2 other),
 *          other's string (ptr, len) @4
 *
 * SPDX-License-Identifier: MIT
 */
#include "internal.h"

#include <stdlib.h>
#include <string.h>

/* open: func(identifier: string) -> result<bucket, error>
 * core: (id ptr, id len, ret) ; ret: 16 bytes, handle @4.
 * The identifier goes through the allow-list, then the identifier
 * policy and the prefix (config.c). */
KVSTORE_API void kvstore_wasi_store_open(kvstore_wasi_instance *i, uint32_t idp,
                                         uint32_t idlen, uint32_t ret)
{
    WASI_IMPORT_BEGIN(i);
    wasi_span(i, ret, 16, 4);
    const char *id = wasi_string(i, idp, idlen);
    char name[KVSTORE_BUCKET_NAME_MAX + 1];
    kvstore_store *store = NULL;
    kvstore_bucket *kb = NULL;
    wasi_bucket *wb = NULL;
    uint32_t handle = 0;
    int rc;

    if (!wasi_allowed(wasi_cfg(i), id, idlen)) {
        rc = wasi_fail(i, KVSTORE_EACCESS, "not allowed");
    } else if (wasi_res_full(i)) {
        /* Before opening anything: a guest looping on open costs little. */
        rc = wasi_fail(i, KVSTORE_ENOMEM, "more than %u open handles",
                       (unsigned)i->cap);
    } else {
        rc = wasi_resolve(i, id, idlen, &store, name);
        if (rc == KVSTORE_OK) {
            rc = kvstore_bucket_open(&kb, store, name);
            if (rc != KVSTORE_OK)
                rc = wasi_lib_fail(i, rc);
        }
    }
    if (rc == KVSTORE_OK) {
        wb = malloc(sizeof(*wb));
        if (!wb) {
            kvstore_bucket_close(kb);
            rc = wasi_fail(i, KVSTORE_ENOMEM, "host out of memory");
        } else {
            wb->bucket = kb;
            wb->refs = 1;
            handle = wasi_res_add(i, WASI_RES_BUCKET, wb);
            if (!handle) {
                wasi_bucket_unref(wb);
                rc = KVSTORE_ENOMEM;
            }
        }
    }
    if (rc == KVSTORE_OK) {
        wasi_put_u32(i, ret + 4, handle);
        wasi_put_u8(i, ret, 0);
    } else {
        wasi_put_error(i, ret, 4, rc);
    }
    wasi_leave(i);
}

static kvstore_bucket *bucket(kvstore_wasi_instance *i, uint32_t handle)
{
    wasi_bucket *wb = wasi_res_get(i, handle, WASI_RES_BUCKET);
    return wb->bucket;
}

/* [method]bucket.set: func(key: string, value: list<u8>) -> result<_, error>
 * core: (self, key ptr, key len, value ptr, value len, ret) ; ret: 16 */
KVSTORE_API void kvstore_wasi_bucket_set(kvstore_wasi_instance *i, uint32_t b, uint32_t kp, uint32_t kl, uint32_t vp,
            uint32_t vl, uint32_t ret)
{
    WASI_IMPORT_BEGIN(i);
    wasi_span(i, ret, 16, 4);
    kvstore_bucket *kb = bucket(i, b);
    char key[KVSTORE_KEY_MAX + 1];
    int rc = wasi_key(i, kp, kl, key);
    /* The value is lifted even when the key was refused: a bad list is a
     * trap whatever the key. libkvstore copies it before returning, so it
     * is passed straight from guest memory. */
    const uint8_t *val = wasi_span(i, vp, vl, 1);
    if (rc == KVSTORE_OK)
        rc = wasi_lib(i, kvstore_set(kb, key, val, vl));
    wasi_return_unit(i, ret, rc);
}

/* [method]bucket.delete: func(key: string) -> result<_, error>
 * core: (self, key ptr, key len, ret) ; ret: 16 */
KVSTORE_API void kvstore_wasi_bucket_delete(kvstore_wasi_instance *i, uint32_t b, uint32_t kp, uint32_t kl, uint32_t ret)
{
    WASI_IMPORT_BEGIN(i);
    wasi_span(i, ret, 16, 4);
    kvstore_bucket *kb = bucket(i, b);
    char key[KVSTORE_KEY_MAX + 1];
    int rc = wasi_key(i, kp, kl, key);
    if (rc == KVSTORE_OK)
        rc = wasi_lib(i, kvstore_delete(kb, key));
    wasi_return_unit(i, ret, rc);
}

/* [method]bucket.exists: func(key: string) -> result<bool, error>
 * core: (self, key ptr, key len, ret) ; ret: 16, bool u8 @4 */
KVSTORE_API void kvstore_wasi_bucket_exists(kvstore_wasi_instance *i, uint32_t b, uint32_t kp, uint32_t kl, uint32_t ret)
{
    WASI_IMPORT_BEGIN(i);
    wasi_span(i, ret, 16, 4);
    kvstore_bucket *kb = bucket(i, b);
    char key[KVSTORE_KEY_MAX + 1];
    bool found = false;
    int rc = wasi_key(i, kp, kl, key);
    if (rc == KVSTORE_OK) {
        rc = kvstore_exists(kb, key, &found);
        if (rc != KVSTORE_OK)
            rc = wasi_lib_fail(i, rc);
    }
    if (rc == KVSTORE_OK) {
        wasi_put_u8(i, ret + 4, found ? 1 : 0);
        wasi_put_u8(i, ret, 0);
    } else {
        wasi_put_error(i, ret, 4, rc);
    }
    wasi_leave(i);
}

/* [resource-drop]bucket: (self) ; traps on a handle that is not live */
KVSTORE_API void kvstore_wasi_bucket_drop(kvstore_wasi_instance *i, uint32_t b)
{
    WASI_IMPORT_BEGIN(i);
    wasi_bucket_unref(wasi_res_take(i, b, WASI_RES_BUCKET));
    wasi_leave(i);
}

static void keys_free(void *p)
{
    kvstore_keys_free(p);
}

/* Reads one page; the page is owned by the current import. */
static int list_page(kvstore_wasi_instance *i, kvstore_bucket *kb, const char *cursor,
                     kvstore_keys **page)
{
    *page = NULL;
    int rc = kvstore_list_keys(kb, NULL, cursor, wasi_cfg(i)->page_size, page);
    if (rc != KVSTORE_OK)
        return wasi_lib_fail(i, rc);
    wasi_defer(i, keys_free, *page);
    return KVSTORE_OK;
}

/* Writes list<string> (ptr, len) at addr: an array of n (ptr, len) pairs,
 * 4-aligned, then each key. */
static void put_keys(kvstore_wasi_instance *i, uint32_t addr, const kvstore_keys *page)
{
    uint32_t arr = wasi_alloc(i, 4, (uint64_t)page->count * 8);
    for (size_t k = 0; k < page->count; k++)
        wasi_put_list(i, arr + (uint32_t)k * 8, page->keys[k],
                      strlen(page->keys[k]));
    wasi_put_u32(i, addr, arr);
    wasi_put_u32(i, addr + 4, (uint32_t)page->count);
}

/* draft: [method]bucket.list-keys: func(cursor: option<u64>)
 *          -> result<key-response, error>
 * core: (self, is_some, cursor u64, ret) ; ret: 32 bytes, align 8:
 * keys (ptr, len) @8, cursor is_some u8 @16, cursor u64 @24, error @8.
 * The u64 names an entry of the instance's cursor table. */
KVSTORE_API void kvstore_wasi_draft_list_keys(kvstore_wasi_instance *i, uint32_t b, uint32_t has, uint64_t cursor,
                      uint32_t ret)
{
    WASI_IMPORT_BEGIN(i);
    wasi_span(i, ret, 32, 8);
    kvstore_bucket *kb = bucket(i, b);
    if (has > 1)
        wasi_trap(i, "bad option discriminant %u",
                    (unsigned)has);
    const char *c = NULL;
    kvstore_keys *page = NULL;
    int rc = KVSTORE_OK;
    if (has) {
        c = wasi_cursor_get(i, cursor);
        if (!c)
            rc = wasi_fail(i, KVSTORE_EINVAL, "unknown or expired cursor %llu",
                             (unsigned long long)cursor);
    }
    if (rc == KVSTORE_OK)
        rc = list_page(i, kb, c, &page);
    if (rc == KVSTORE_OK) {
        put_keys(i, ret + 8, page);
        if (page->cursor) {
            wasi_put_u64(i, ret + 24, wasi_cursor_put(i, page->cursor));
            wasi_put_u8(i, ret + 16, 1);
        } else {
            wasi_put_u8(i, ret + 16, 0);
        }
        wasi_put_u8(i, ret, 0);
    } else {
        wasi_put_error(i, ret, 8, rc);
    }
    wasi_leave(i);
}

/* draft2: [method]bucket.list-keys: func(cursor: option<string>)
 *           -> result<key-response, error>
 * core: (self, is_some, cursor ptr, cursor len, ret) ; ret: 24 bytes:
 * keys @4, cursor is_some u8 @12, cursor (ptr, len) @16, error @4. */
KVSTORE_API void kvstore_wasi_draft2_list_keys(kvstore_wasi_instance *i, uint32_t b, uint32_t has, uint32_t cp,
                         uint32_t cl, uint32_t ret)
{
    WASI_IMPORT_BEGIN(i);
    wasi_span(i, ret, 24, 4);
    kvstore_bucket *kb = bucket(i, b);
    if (has > 1)
        wasi_trap(i, "bad option discriminant %u",
                    (unsigned)has);
    char *c = NULL;
    kvstore_keys *page = NULL;
    int rc = KVSTORE_OK;
    if (has) {
        const char *s = wasi_string(i, cp, cl);
        if (cl > KVSTORE_CURSOR_MAX || memchr(s, '\0', cl)) {
            rc = wasi_fail(i, KVSTORE_EINVAL, "invalid cursor");
        } else if (!(c = malloc((size_t)cl + 1))) {
            rc = wasi_fail(i, KVSTORE_ENOMEM, "host out of memory");
        } else {
            memcpy(c, s, cl);
            c[cl] = '\0';
            wasi_defer(i, free, c);
        }
    }
    if (rc == KVSTORE_OK)
        rc = list_page(i, kb, c, &page);
    if (rc == KVSTORE_OK) {
        put_keys(i, ret + 4, page);
        if (page->cursor) {
            wasi_put_list(i, ret + 16, page->cursor, strlen(page->cursor));
            wasi_put_u8(i, ret + 12, 1);
        } else {
            wasi_put_u8(i, ret + 12, 0);
        }
        wasi_put_u8(i, ret, 0);
    } else {
        wasi_put_error(i, ret, 4, rc);
    }
    wasi_leave(i);
}

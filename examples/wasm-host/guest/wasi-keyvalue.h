/*
 * Guest-side bindings for wasi:keyvalue 0.2.0-draft and 0.2.0-draft2,
 * written by hand the way a bindings generator would: each WIT function
 * is a core import whose parameters are the flattened canonical-ABI
 * lowering of the WIT parameters, plus a pointer to a return area that
 * the host fills (every result here flattens to more than one value).
 * The structs below are those return areas; the _Static_asserts pin them
 * to the canonical ABI's layout (see ../README.md, "How each import is
 * lowered").
 *
 * Draft 1 ("0.2.0-draft", wasmtime/wasmCloud) functions are kv1_*, draft 2
 * ("0.2.0-draft2", Spin) functions are kv2_*.
 *
 * SPDX-License-Identifier: MIT
 */
#ifndef GUEST_WASI_KEYVALUE_H
#define GUEST_WASI_KEYVALUE_H

#include "rt.h"

/* string and list<u8>: (ptr, len), 8 bytes, align 4 */
typedef struct { const char *ptr; uint32_t len; } kv_string;
typedef struct { const uint8_t *ptr; uint32_t len; } kv_bytes;
typedef struct { kv_string *ptr; uint32_t len; } kv_string_list;

/* variant error { no-such-store, access-denied, other(string) } */
enum { KV_NO_SUCH_STORE = 0, KV_ACCESS_DENIED = 1, KV_OTHER = 2 };
typedef struct { uint8_t tag; kv_string other; } kv_error;

/* result<own<bucket>, error> and result<own<cas>, error> */
typedef struct {
    uint8_t is_err;
    union { uint32_t handle; kv_error err; } val;
} kv_result_handle;

/* result<option<list<u8>>, error> */
typedef struct {
    uint8_t is_err;
    union {
        struct { uint8_t is_some; kv_bytes value; } ok;
        kv_error err;
    } val;
} kv_result_option_bytes;

/* result<_, error> */
typedef struct { uint8_t is_err; kv_error err; } kv_result_unit;

/* result<bool, error> */
typedef struct {
    uint8_t is_err;
    union { uint8_t ok; kv_error err; } val;
} kv_result_bool;

/* result<u64, error> and result<s64, error> */
typedef struct {
    uint8_t is_err;
    union { uint64_t ok; kv_error err; } val;
} kv_result_u64;

/* draft:  record key-response { keys: list<string>, cursor: option<u64> } */
typedef struct {
    uint8_t is_err;
    union {
        struct {
            kv_string_list keys;
            struct { uint8_t is_some; uint64_t val; } cursor;
        } ok;
        kv_error err;
    } val;
} kv1_result_key_response;

/* draft2: record key-response { keys: list<string>, cursor: option<string> } */
typedef struct {
    uint8_t is_err;
    union {
        struct {
            kv_string_list keys;
            struct { uint8_t is_some; kv_string val; } cursor;
        } ok;
        kv_error err;
    } val;
} kv2_result_key_response;

/* option<tuple<string, list<u8>>> */
typedef struct { uint8_t is_some; kv_string key; kv_bytes value; } kv_option_entry;
/* tuple<string, list<u8>> */
typedef struct { kv_string key; kv_bytes value; } kv_entry;

/* result<list<option<tuple<string, list<u8>>>>, error> */
typedef struct {
    uint8_t is_err;
    union {
        struct { kv_option_entry *ptr; uint32_t len; } ok;
        kv_error err;
    } val;
} kv_result_entries;

/* draft2: result<_, cas-error>, cas-error = variant { store-error(error),
 * cas-failed(own<cas>) } */
enum { KV_CAS_STORE_ERROR = 0, KV_CAS_FAILED = 1 };
typedef struct {
    uint8_t is_err;
    struct {
        uint8_t tag;
        union { kv_error store_error; uint32_t cas_failed; } val;
    } err;
} kv2_result_swap;

#define KV_PIN(T, f, off) _Static_assert(__builtin_offsetof(T, f) == (off), #T "." #f)
KV_PIN(kv_error, other, 4);
_Static_assert(sizeof(kv_error) == 12, "error size");
KV_PIN(kv_result_handle, val.handle, 4);
KV_PIN(kv_result_option_bytes, val.ok.value, 8);
KV_PIN(kv_result_unit, err, 4);
KV_PIN(kv1_result_key_response, val.ok.cursor.is_some, 16);
KV_PIN(kv1_result_key_response, val.ok.cursor.val, 24);
KV_PIN(kv1_result_key_response, val.err, 8);
_Static_assert(sizeof(kv1_result_key_response) == 32, "draft key-response");
KV_PIN(kv2_result_key_response, val.ok.cursor.is_some, 12);
KV_PIN(kv2_result_key_response, val.ok.cursor.val, 16);
_Static_assert(sizeof(kv2_result_key_response) == 24, "draft2 key-response");
KV_PIN(kv_result_u64, val.ok, 8);
KV_PIN(kv_result_u64, val.err, 8);
_Static_assert(sizeof(kv_option_entry) == 20, "option<tuple<string,list<u8>>>");
_Static_assert(sizeof(kv_entry) == 16, "tuple<string,list<u8>>");
KV_PIN(kv2_result_swap, err.val.store_error, 8);
KV_PIN(kv2_result_swap, err.val.cas_failed, 8);
_Static_assert(sizeof(kv2_result_swap) == 20, "result<_, cas-error>");

/* The functions common to both drafts, under a prefix and a version. */
#define KV_DECLARE(P, VER)                                                     \
    GUEST_IMPORT("wasi:keyvalue/store@" VER, "open")                          \
    void P##_open(const char *id, uint32_t id_len, kv_result_handle *ret);     \
    GUEST_IMPORT("wasi:keyvalue/store@" VER, "[method]bucket.get")            \
    void P##_get(uint32_t b, const char *k, uint32_t klen,                     \
                 kv_result_option_bytes *ret);                                 \
    GUEST_IMPORT("wasi:keyvalue/store@" VER, "[method]bucket.set")            \
    void P##_set(uint32_t b, const char *k, uint32_t klen, const void *v,      \
                 uint32_t vlen, kv_result_unit *ret);                          \
    GUEST_IMPORT("wasi:keyvalue/store@" VER, "[method]bucket.delete")         \
    void P##_delete(uint32_t b, const char *k, uint32_t klen,                  \
                    kv_result_unit *ret);                                      \
    GUEST_IMPORT("wasi:keyvalue/store@" VER, "[method]bucket.exists")         \
    void P##_exists(uint32_t b, const char *k, uint32_t klen,                  \
                    kv_result_bool *ret);                                      \
    GUEST_IMPORT("wasi:keyvalue/store@" VER, "[resource-drop]bucket")         \
    void P##_bucket_drop(uint32_t b);                                          \
    GUEST_IMPORT("wasi:keyvalue/batch@" VER, "get-many")                      \
    void P##_get_many(uint32_t b, const kv_string *keys, uint32_t n,           \
                      kv_result_entries *ret);                                 \
    GUEST_IMPORT("wasi:keyvalue/batch@" VER, "set-many")                      \
    void P##_set_many(uint32_t b, const kv_entry *kvs, uint32_t n,             \
                      kv_result_unit *ret);                                    \
    GUEST_IMPORT("wasi:keyvalue/batch@" VER, "delete-many")                   \
    void P##_delete_many(uint32_t b, const kv_string *keys, uint32_t n,        \
                         kv_result_unit *ret);

KV_DECLARE(kv1, "0.2.0-draft")
KV_DECLARE(kv2, "0.2.0-draft2")

/* draft: list-keys(cursor: option<u64>), increment(delta: u64) -> u64 */
GUEST_IMPORT("wasi:keyvalue/store@0.2.0-draft", "[method]bucket.list-keys")
void kv1_list_keys(uint32_t b, uint32_t has_cursor, uint64_t cursor,
                   kv1_result_key_response *ret);
GUEST_IMPORT("wasi:keyvalue/atomics@0.2.0-draft", "increment")
void kv1_increment(uint32_t b, const char *k, uint32_t klen, uint64_t delta,
                   kv_result_u64 *ret);

/* draft2: list-keys(cursor: option<string>), increment(delta: s64) -> s64,
 * and the cas resource */
GUEST_IMPORT("wasi:keyvalue/store@0.2.0-draft2", "[method]bucket.list-keys")
void kv2_list_keys(uint32_t b, uint32_t has_cursor, const char *cursor,
                   uint32_t cursor_len, kv2_result_key_response *ret);
GUEST_IMPORT("wasi:keyvalue/atomics@0.2.0-draft2", "increment")
void kv2_increment(uint32_t b, const char *k, uint32_t klen, int64_t delta,
                   kv_result_u64 *ret);
GUEST_IMPORT("wasi:keyvalue/atomics@0.2.0-draft2", "[static]cas.new")
void kv2_cas_new(uint32_t b, const char *k, uint32_t klen,
                 kv_result_handle *ret);
GUEST_IMPORT("wasi:keyvalue/atomics@0.2.0-draft2", "[method]cas.current")
void kv2_cas_current(uint32_t cas, kv_result_option_bytes *ret);
GUEST_IMPORT("wasi:keyvalue/atomics@0.2.0-draft2", "swap")
void kv2_swap(uint32_t cas, const void *v, uint32_t vlen, kv2_result_swap *ret);
GUEST_IMPORT("wasi:keyvalue/atomics@0.2.0-draft2", "[resource-drop]cas")
void kv2_cas_drop(uint32_t cas);

/* Prints "error no-such-store", "error access-denied" or
 * "error other(MESSAGE)". */
static inline void out_error(const kv_error *e)
{
    switch (e->tag) {
    case KV_NO_SUCH_STORE: out("error no-such-store"); break;
    case KV_ACCESS_DENIED: out("error access-denied"); break;
    default:
        out("error other(");
        out_n(e->other.ptr, e->other.len);
        out(")");
    }
}

#define KV_STR(s) (s), (uint32_t)strlen(s)

#endif /* GUEST_WASI_KEYVALUE_H */

/*
 * The wasi:keyvalue import functions, once for both drafts. Each takes
 * the flattened canonical-ABI arguments of its WIT function and, where the
 * results do not fit one core value, the guest's return-area pointer
 * `ret`. bindings.c exposes them under the wasm2c names of both drafts;
 * only list-keys and increment differ between the drafts, in their
 * cursor and delta types.
 *
 * SPDX-License-Identifier: MIT
 */
#ifndef WASM_HOST_IMPORTS_H
#define WASM_HOST_IMPORTS_H

#include "kvhost.h"

/* store */
void kv_open(kvhost *h, uint32_t id, uint32_t id_len, uint32_t ret);
void kv_get(kvhost *h, uint32_t b, uint32_t key, uint32_t key_len, uint32_t ret);
void kv_set(kvhost *h, uint32_t b, uint32_t key, uint32_t key_len,
            uint32_t val, uint32_t val_len, uint32_t ret);
void kv_delete(kvhost *h, uint32_t b, uint32_t key, uint32_t key_len, uint32_t ret);
void kv_exists(kvhost *h, uint32_t b, uint32_t key, uint32_t key_len, uint32_t ret);
void kv_bucket_drop(kvhost *h, uint32_t b);
/* list-keys: option<u64> cursor (draft) / option<string> cursor (draft2) */
void kv_list_keys_u64(kvhost *h, uint32_t b, uint32_t has_cursor,
                      uint64_t cursor, uint32_t ret);
void kv_list_keys_string(kvhost *h, uint32_t b, uint32_t has_cursor,
                         uint32_t cursor, uint32_t cursor_len, uint32_t ret);

/* atomics: delta u64 -> u64 (draft) / s64 -> s64 (draft2) */
void kv_increment_u64(kvhost *h, uint32_t b, uint32_t key, uint32_t key_len,
                      uint64_t delta, uint32_t ret);
void kv_increment_s64(kvhost *h, uint32_t b, uint32_t key, uint32_t key_len,
                      uint64_t delta, uint32_t ret);
void kv_cas_new(kvhost *h, uint32_t b, uint32_t key, uint32_t key_len, uint32_t ret);
void kv_cas_current(kvhost *h, uint32_t cas, uint32_t ret);
void kv_cas_swap(kvhost *h, uint32_t cas, uint32_t val, uint32_t val_len, uint32_t ret);
void kv_cas_drop(kvhost *h, uint32_t cas);

/* batch */
void kv_get_many(kvhost *h, uint32_t b, uint32_t keys, uint32_t n, uint32_t ret);
void kv_set_many(kvhost *h, uint32_t b, uint32_t kvs, uint32_t n, uint32_t ret);
void kv_delete_many(kvhost *h, uint32_t b, uint32_t keys, uint32_t n, uint32_t ret);

/* host.print(ptr, len): the guests' only output */
void kv_print(kvhost *h, uint32_t ptr, uint32_t len);

#endif /* WASM_HOST_IMPORTS_H */

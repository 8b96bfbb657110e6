/*
 * Guest for Spin's wasi:keyvalue@0.2.0-draft2 of 2024-10-17, whose
 * batch.get-many returns list<tuple<string, option<list<u8>>>> (every
 * key, its value optional) rather than list<option<tuple<string,
 * list<u8>>>>. Same import name and core signature as draft2's: only the
 * element layout tells them apart, so the host must be told which one a
 * guest was built against. Also opens the identifier "" (the default
 * bucket, what wasmtime's in-memory store and older wasmCloud examples
 * open). Exports `run`.
 *
 * SPDX-License-Identifier: MIT
 */
#include "wasi-keyvalue.h"

#define NAME "spin"
#include "guest-ok.h"

/* tuple<string, option<list<u8>>>: key @0, is_some @8, value @12. */
typedef struct {
    kv_string key;
    uint8_t is_some;
    kv_bytes value;
} spin_entry;
_Static_assert(__builtin_offsetof(spin_entry, is_some) == 8, "spin is_some");
_Static_assert(__builtin_offsetof(spin_entry, value) == 12, "spin value");
_Static_assert(sizeof(spin_entry) == 20, "spin entry");

typedef struct {
    uint8_t is_err;
    union {
        struct { spin_entry *ptr; uint32_t len; } ok;
        kv_error err;
    } val;
} spin_result_entries;

GUEST_IMPORT("wasi:keyvalue/batch@0.2.0-draft2", "get-many")
void spin_get_many(uint32_t b, const kv_string *keys, uint32_t n,
                   spin_result_entries *ret);


static uint32_t open_bucket(const char *id)
{
    kv_result_handle r;
    kv2_open(KV_STR(id), &r);
    if (!ok(r.is_err, &r.val.err, "open"))
        return 0;
    return r.val.handle;
}

static void set(uint32_t b, const char *key, const char *val)
{
    kv_result_unit r;
    kv2_set(b, KV_STR(key), val, (uint32_t)strlen(val), &r);
    ok(r.is_err, &r.err, "set");
}

GUEST_EXPORT("run")
uint32_t run(void)
{
    uint32_t b = open_bucket("");
    if (!b)
        return 1;
    set(b, "fruit:a", "apple");
    set(b, "fruit:c", "cherry");
    set(b, "fruit:e", "");
    static const char *const names[] = {"fruit:a", "fruit:b", "fruit:c",
                                        "fruit:d", "fruit:e"};
    kv_string keys[5];
    for (uint32_t i = 0; i < 5; i++) {
        keys[i].ptr = names[i];
        keys[i].len = (uint32_t)strlen(names[i]);
    }
    spin_result_entries r;
    spin_get_many(b, keys, 5, &r);
    if (ok(r.is_err, &r.val.err, "get-many")) {
        out(NAME ": get-many");
        for (uint32_t i = 0; i < r.val.ok.len; i++) {
            const spin_entry *e = &r.val.ok.ptr[i];
            out(" ");
            out_n(e->key.ptr, e->key.len);
            if (e->is_some == 1) {
                out("=\"");
                out_n((const char *)e->value.ptr, e->value.len);
                out("\"");
            } else if (e->is_some == 0) {
                out("=none");
            } else {
                out("=?");
            }
        }
        out("\n");
    }
    kv2_bucket_drop(b);
    out(NAME ": done\n");
    out_flush();
    return failed ? 1 : 0;
}

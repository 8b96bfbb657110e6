/*
 * A hostile guest. Each attack(n) runs one abuse of the wasi:keyvalue
 * imports in a fresh instance and prints what came back; the host must
 * answer each with a trap (it then reports "host: hostile trapped: ...")
 * or an `error` result, survive, and change nothing outside this guest's
 * bucket. attack(n) returns 0 past the last attack.
 *
 * SPDX-License-Identifier: MIT
 */
#include "wasi-keyvalue.h"

#define BAD_PTR 0xFFFFFFF0u

static uint32_t bucket;

static uint32_t mem_size(void)
{
    return (uint32_t)(__builtin_wasm_memory_size(0) * 65536u);
}

static void say(uint32_t n, const char *what)
{
    out("hostile: attack ");
    out_u64(n);
    out(": ");
    out(what);
    out("\n");
}

/* Prints the outcome of a call that returned instead of trapping. */
static void result(uint8_t is_err, const kv_error *e)
{
    out("hostile:   -> ");
    if (is_err)
        out_error(e);
    else
        out("ok");
    out("\n");
}

static uint32_t open_bucket(const char *id)
{
    kv_result_handle o;
    kv1_open(KV_STR(id), &o);
    if (o.is_err) {
        out("hostile:   open ");
        out(id);
        out(" -> ");
        out_error(&o.val.err);
        out("\n");
        return 0;
    }
    return o.val.handle;
}

static void show_exists(const char *key, uint32_t len)
{
    kv_result_bool r;
    kv1_exists(bucket, key, len, &r);
    out("hostile:   exists ");
    out_n(key, len);
    if (r.is_err) {
        out(" -> ");
        out_error(&r.val.err);
        out("\n");
    } else {
        out(r.val.ok ? " -> true\n" : " -> false\n");
    }
}

static uint32_t bad_realloc(uint32_t old, uint32_t old_size, uint32_t align,
                            uint32_t new_size)
{
    (void)old; (void)old_size; (void)align; (void)new_size;
    return 0xFFFFFF00u;
}

static uint32_t reentrant_realloc(uint32_t old, uint32_t old_size,
                                  uint32_t align, uint32_t new_size)
{
    (void)old; (void)old_size; (void)align; (void)new_size;
    kv1_bucket_drop(bucket); /* the bucket the host is reading from */
    return 0;
}

/* Grows memory by 4 pages (so wasm2c may move it) before allocating: the
 * host must write its result into memory as it is afterwards. */
static uint32_t growing_realloc(uint32_t old, uint32_t old_size,
                                uint32_t align, uint32_t new_size)
{
    (void)old; (void)old_size;
    __builtin_wasm_memory_grow(0, 4);
    return (uint32_t)(uintptr_t)rt_alloc(align, new_size);
}

/* Sets "k1" and reads it back with cabi_realloc replaced by `fn`, which
 * the host calls to place the value; says what the get returned. */
static void get_through_realloc(uint32_t (*fn)(uint32_t, uint32_t, uint32_t,
                                               uint32_t),
                                kv_result_option_bytes *g)
{
    kv_result_unit u;
    kv1_set(bucket, KV_STR("k1"), "value", 5, &u);
    rt_realloc_override = fn;
    kv1_get(bucket, KV_STR("k1"), g);
    rt_realloc_override = 0;
    result(g->is_err, &g->val.err);
}

static const uint32_t NATTACKS = 32;

GUEST_EXPORT("attack")
uint32_t attack(uint32_t n)
{
    kv_result_unit u;
    kv_result_option_bytes g;
    kv1_result_key_response l1;
    kv2_result_key_response l2;
    kv_result_u64 inc;

    if (n > NATTACKS)
        return 0;
    bucket = open_bucket("hostile");
    if (!bucket)
        return 1;

    switch (n) {
    case 1:
        say(n, "set with a key pointer outside memory");
        kv1_set(bucket, (const char *)BAD_PTR, 32, "v", 1, &u);
        result(u.is_err, &u.err);
        break;
    case 2:
        say(n, "set with a key length that wraps around memory");
        kv1_set(bucket, (const char *)1024, 0xFFFFFFFFu, "v", 1, &u);
        result(u.is_err, &u.err);
        break;
    case 3:
        say(n, "set with a value running off the end of memory");
        kv1_set(bucket, KV_STR("k"), (const void *)(mem_size() - 4), 64, &u);
        result(u.is_err, &u.err);
        break;
    case 4:
        say(n, "get with an invalid UTF-8 key");
        kv1_get(bucket, "\xff\xfe", 2, &g);
        result(g.is_err, &g.val.err);
        break;
    case 5:
        say(n, "get with an overlong UTF-8 NUL (C0 80)");
        kv1_get(bucket, "\xc0\x80", 2, &g);
        result(g.is_err, &g.val.err);
        break;
    case 6:
        say(n, "set key \"a\\0b\" (a C string would make it \"a\")");
        kv1_set(bucket, "a\0b", 3, "evil", 4, &u);
        result(u.is_err, &u.err);
        show_exists("a", 1);
        break;
    case 7: {
        say(n, "set a key of 1 MiB + 1 bytes");
        uint32_t len = (1u << 20) + 1;
        char *big = rt_alloc(1, len);
        if (!big)
            return 1;
        memset(big, 'k', len);
        kv1_set(bucket, big, len, "v", 1, &u);
        result(u.is_err, &u.err);
        break;
    }
    case 8:
        say(n, "list-keys with a draft cursor the host never issued");
        kv1_list_keys(bucket, 1, 12345, &l1);
        result(l1.is_err, &l1.val.err);
        break;
    case 9:
        say(n, "list-keys with a garbage draft2 cursor");
        kv2_list_keys(bucket, 1, KV_STR("garbage"), &l2);
        result(l2.is_err, &l2.val.err);
        break;
    case 10: {
        say(n, "list-keys with a 5000-byte draft2 cursor");
        char *c = rt_alloc(1, 5000);
        if (!c)
            return 1;
        memset(c, 'A', 5000);
        kv2_list_keys(bucket, 1, c, 5000, &l2);
        result(l2.is_err, &l2.val.err);
        break;
    }
    case 11:
        say(n, "list-keys with option discriminant 7");
        kv1_list_keys(bucket, 7, 0, &l1);
        result(l1.is_err, &l1.val.err);
        break;
    case 12:
        say(n, "get on bucket handle 42, never opened");
        kv1_get(42, KV_STR("k"), &g);
        result(g.is_err, &g.val.err);
        break;
    case 13:
        say(n, "get on bucket handle 0");
        kv1_get(0, KV_STR("k"), &g);
        result(g.is_err, &g.val.err);
        break;
    case 14:
        say(n, "get on a bucket handle after dropping it");
        kv1_bucket_drop(bucket);
        kv1_get(bucket, KV_STR("k"), &g);
        result(g.is_err, &g.val.err);
        break;
    case 15:
        say(n, "drop the same bucket handle twice");
        kv1_bucket_drop(bucket);
        kv1_bucket_drop(bucket);
        out("hostile:   -> returned\n");
        break;
    case 16: {
        say(n, "use a cas handle as a bucket handle");
        kv_result_handle c;
        kv2_cas_new(bucket, KV_STR("x"), &c);
        if (c.is_err) {
            result(c.is_err, &c.val.err);
            break;
        }
        kv2_get(c.val.handle, KV_STR("k"), &g);
        result(g.is_err, &g.val.err);
        break;
    }
    case 17: {
        say(n, "drop the bucket under an open cas, then swap");
        kv_result_handle c;
        kv2_result_swap s;
        kv2_cas_new(bucket, KV_STR("cas-after-drop"), &c);
        if (c.is_err) {
            result(c.is_err, &c.val.err);
            break;
        }
        kv1_bucket_drop(bucket);
        kv2_swap(c.val.handle, "still-fine", 10, &s);
        if (s.is_err && s.err.tag == KV_CAS_STORE_ERROR)
            result(1, &s.err.val.store_error);
        else
            out(s.is_err ? "hostile:   -> cas-failed\n" : "hostile:   -> ok\n");
        bucket = open_bucket("hostile");
        show_exists(KV_STR("cas-after-drop"));
        break;
    }
    case 18:
        say(n, "set \"retptr-probe\" with the return area outside memory");
        kv1_set(bucket, KV_STR("retptr-probe"), "v", 1,
                (kv_result_unit *)BAD_PTR);
        out("hostile:   -> returned\n");
        break;
    case 19:
        say(n, "did the trapped set of attack 18 happen?");
        show_exists(KV_STR("retptr-probe"));
        break;
    case 20: {
        say(n, "set with a misaligned return area");
        static char area[32] __attribute__((aligned(4)));
        kv1_set(bucket, KV_STR("k"), "v", 1, (kv_result_unit *)(area + 1));
        out("hostile:   -> returned\n");
        break;
    }
    case 21:
        say(n, "cabi_realloc returns a pointer outside memory");
        get_through_realloc(bad_realloc, &g);
        break;
    case 22:
        say(n, "cabi_realloc calls back into the host (drops the bucket)");
        get_through_realloc(reentrant_realloc, &g);
        break;
    case 23:
        say(n, "draft increment by 2^63 (above INT64_MAX)");
        kv1_increment(bucket, KV_STR("counter"), (uint64_t)1 << 63, &inc);
        result(inc.is_err, &inc.val.err);
        break;
    case 24:
        say(n, "draft2 increment past INT64_MAX");
        kv2_set(bucket, KV_STR("big"), "9223372036854775807", 19, &u);
        kv2_increment(bucket, KV_STR("big"), 1, &inc);
        result(inc.is_err, &inc.val.err);
        break;
    case 25:
        say(n, "open bucket demo (not allowed to this guest)");
        open_bucket("demo");
        break;
    case 26: {
        say(n, "path-like keys stay keys of this bucket");
        static const char *const keys[] = {"../demo/visits", "/etc/passwd",
                                           "..", ".", "demo:visits"};
        for (int i = 0; i < 5; i++) {
            kv1_set(bucket, KV_STR(keys[i]), "666", 3, &u);
            out("hostile:   set ");
            out(keys[i]);
            out(u.is_err ? " -> error\n" : " -> ok\n");
        }
        break;
    }
    case 27:
        say(n, "get-many with the key list running off memory");
        kv_result_entries e;
        kv1_get_many(bucket, (const kv_string *)(mem_size() - 8), 100, &e);
        result(e.is_err, &e.val.err);
        break;
    case 28: {
        say(n, "get-many of 1001 keys");
        kv_string *keys = rt_alloc(4, 1001 * sizeof(kv_string));
        if (!keys)
            return 1;
        for (int i = 0; i < 1001; i++)
            keys[i] = (kv_string){KV_STR("k")};
        kv_result_entries e2;
        kv1_get_many(bucket, keys, 1001, &e2);
        result(e2.is_err, &e2.val.err);
        break;
    }
    case 29: {
        say(n, "open 100000 handles without dropping any");
        uint32_t opened = 0;
        bool told = false;
        for (uint32_t i = 0; i < 100000; i++) {
            kv_result_handle o;
            kv1_open(KV_STR("hostile"), &o);
            if (!o.is_err) {
                opened++;
            } else if (!told) {
                out("hostile:   opened ");
                out_u64(opened);
                out(" more handles, then ");
                out_error(&o.val.err);
                out("\n");
                told = true;
            }
        }
        out("hostile:   opened ");
        out_u64(opened);
        out(" in all\n");
        break;
    }
    case 30: {
        say(n, "drop a handle, open another, use the dropped number");
        uint32_t b1 = open_bucket("hostile");
        kv1_bucket_drop(b1);
        uint32_t b2 = open_bucket("hostile");
        out(b1 != b2 ? "hostile:   new handle has a new number\n"
                     : "hostile:   new handle reuses the number\n");
        kv1_set(b1, KV_STR("stale-handle"), "x", 1, &u);
        result(u.is_err, &u.err);
        break;
    }
    case 31: {
        say(n, "list forever: 5000 fresh listings, then the first cursor");
        static char names[20][6];
        kv_entry many[20];
        for (int i = 0; i < 20; i++) {
            memcpy(names[i], "lf:00", 6);
            names[i][3] = (char)('0' + i / 10);
            names[i][4] = (char)('0' + i % 10);
            many[i] = (kv_entry){{names[i], 5}, {(const uint8_t *)"x", 1}};
        }
        kv1_set_many(bucket, many, 20, &u);
        uint64_t first = 0;
        uint32_t pages = 0;
        for (uint32_t i = 0; i < 5000; i++) {
            kv1_list_keys(bucket, 0, 0, &l1);
            if (l1.is_err)
                break;
            pages++;
            if (i == 0 && l1.val.ok.cursor.is_some)
                first = l1.val.ok.cursor.val;
        }
        out("hostile:   listed ");
        out_u64(pages);
        out(" first pages\n");
        kv1_list_keys(bucket, 1, first, &l1);
        result(l1.is_err, &l1.val.err);
        kv_string keys[20];
        for (int i = 0; i < 20; i++)
            keys[i] = many[i].key;
        kv1_delete_many(bucket, keys, 20, &u);
        break;
    }
    case 32:
        say(n, "memory grows inside cabi_realloc");
        get_through_realloc(growing_realloc, &g);
        if (!g.is_err && g.val.ok.is_some) {
            out("hostile:   value ");
            out_n((const char *)g.val.ok.value.ptr, g.val.ok.value.len);
            out("\n");
        }
        break;
    }
    out_flush();
    return 1;
}

/*
 * Guest for wasi:keyvalue@0.2.0-draft2 (the Spin draft): counts visits
 * with a signed delta, stores JSON records, pages through the bucket with
 * the string cursor, uses the batch interface and a compare-and-swap that
 * loses a race and retries. Exports `run` (0 when every call succeeded).
 *
 * SPDX-License-Identifier: MIT
 */
#include "wasi-keyvalue.h"

#define NAME "draft2"
#define NORDERS 12
#include "guest-ok.h"

static void store_orders(uint32_t b)
{
    strbuf key, val;
    kv_result_unit r;
    for (uint64_t i = 1; i <= NORDERS; i++) {
        sb_reset(&key);
        sb_add(&key, "order:");
        sb_add_u64(&key, i, 4);
        sb_reset(&val);
        sb_add(&val, "{\"order\":");
        sb_add_u64(&val, i, 0);
        sb_add(&val, ",\"items\":");
        sb_add_u64(&val, i % 4 + 1, 0);
        sb_add(&val, ",\"draft\":\"0.2.0-draft2\"}");
        kv2_set(b, key.buf, (uint32_t)key.len, val.buf, (uint32_t)val.len, &r);
        if (!ok(r.is_err, &r.err, "set"))
            return;
    }
    out(NAME ": stored 12 order records\n");
}

static void show(uint32_t b, const char *key)
{
    kv_result_option_bytes r;
    kv2_get(b, KV_STR(key), &r);
    if (!ok(r.is_err, &r.val.err, "get"))
        return;
    out(NAME ": get ");
    out(key);
    if (r.val.ok.is_some) {
        out(" = ");
        out_n((const char *)r.val.ok.value.ptr, r.val.ok.value.len);
    } else {
        out(" -> none");
    }
    out("\n");
}

/* Walks every page, handing libkvstore's cursor string back verbatim. */
static void list_all(uint32_t b)
{
    kv2_result_key_response r;
    uint32_t has = 0, pages = 0, keys = 0, orders = 0;
    kv_string cursor = {0, 0};
    for (;;) {
        kv2_list_keys(b, has, cursor.ptr, cursor.len, &r);
        if (!ok(r.is_err, &r.val.err, "list-keys"))
            return;
        pages++;
        keys += r.val.ok.keys.len;
        for (uint32_t i = 0; i < r.val.ok.keys.len; i++) {
            const kv_string *k = &r.val.ok.keys.ptr[i];
            if (k->len >= 6 && memcmp(k->ptr, "order:", 6) == 0)
                orders++;
        }
        if (!r.val.ok.cursor.is_some)
            break;
        has = 1;
        cursor = r.val.ok.cursor.val;
    }
    out(NAME ": listed ");
    out_u64(keys);
    out(" keys (");
    out_u64(orders);
    out(" order records) in ");
    out_u64(pages);
    out(" pages\n");
}

static void batch(uint32_t b)
{
    kv_entry kvs[3] = {
        {{KV_STR("cart:a")}, {(const uint8_t *)"apple", 5}},
        {{KV_STR("cart:b")}, {(const uint8_t *)"bread", 5}},
        {{KV_STR("cart:c")}, {(const uint8_t *)"", 0}},
    };
    kv_result_unit u;
    kv2_set_many(b, kvs, 3, &u);
    if (!ok(u.is_err, &u.err, "set-many"))
        return;
    out(NAME ": set-many 3 keys\n");

    kv_string want[4] = {{KV_STR("cart:a")}, {KV_STR("cart:z")},
                         {KV_STR("cart:c")}, {KV_STR("cart:b")}};
    kv_result_entries g;
    kv2_get_many(b, want, 4, &g);
    if (!ok(g.is_err, &g.val.err, "get-many"))
        return;
    out(NAME ": get-many");
    for (uint32_t i = 0; i < g.val.ok.len; i++) {
        const kv_option_entry *e = &g.val.ok.ptr[i];
        out(" ");
        if (e->is_some) {
            out_n(e->key.ptr, e->key.len);
            out("=\"");
            out_n((const char *)e->value.ptr, e->value.len);
            out("\"");
        } else {
            out("none");
        }
    }
    out("\n");

    kv2_delete_many(b, want, 4, &u);
    if (ok(u.is_err, &u.err, "delete-many"))
        out(NAME ": delete-many 4 keys (one absent)\n");
}

/* Prints the snapshot value of a cas handle. */
static void show_current(uint32_t cas)
{
    kv_result_option_bytes r;
    kv2_cas_current(cas, &r);
    if (!ok(r.is_err, &r.val.err, "cas.current"))
        return;
    out(NAME ": cas.current ");
    if (r.val.ok.is_some)
        out_n((const char *)r.val.ok.value.ptr, r.val.ok.value.len);
    else
        out("none");
    out("\n");
}

/* Takes a snapshot of "motd", lets a plain set race it, swaps (and
 * loses), then retries with the handle the host returned. */
static void compare_and_swap(uint32_t b)
{
    kv_result_handle c;
    kv_result_unit u;
    kv2_result_swap s;

    kv2_set(b, KV_STR("motd"), "hello", 5, &u);
    if (!ok(u.is_err, &u.err, "set motd"))
        return;
    kv2_cas_new(b, KV_STR("motd"), &c);
    if (!ok(c.is_err, &c.val.err, "cas.new"))
        return;
    uint32_t cas = c.val.handle;
    show_current(cas);

    kv2_set(b, KV_STR("motd"), "raced", 5, &u); /* another writer */
    kv2_swap(cas, "hello, world", 12, &s); /* consumes `cas` */
    if (s.is_err && s.err.tag == KV_CAS_FAILED) {
        out(NAME ": swap lost the race (cas-failed), retrying\n");
        cas = s.err.val.cas_failed;
        show_current(cas);
        kv2_swap(cas, "hello, world", 12, &s);
    }
    if (s.is_err) {
        out(NAME ": swap failed: ");
        if (s.err.tag == KV_CAS_STORE_ERROR) {
            out_error(&s.err.val.store_error);
        } else {
            out("cas-failed again");
            kv2_cas_drop(s.err.val.cas_failed);
        }
        out("\n");
        failed = true;
        return;
    }
    out(NAME ": swap ok\n");
    show(b, "motd");
}

GUEST_EXPORT("run")
int run(void)
{
    kv_result_handle o;
    kv2_open(KV_STR("demo"), &o);
    if (!ok(o.is_err, &o.val.err, "open demo")) {
        out_flush();
        return 1;
    }
    uint32_t b = o.val.handle;
    out(NAME ": opened bucket demo\n");

    kv_result_u64 inc;
    kv2_increment(b, KV_STR("visits"), 1, &inc);
    if (ok(inc.is_err, &inc.val.err, "increment")) {
        out(NAME ": visit #");
        out_i64((int64_t)inc.val.ok);
        out("\n");
    }
    kv2_increment(b, KV_STR("balance"), -250, &inc);
    if (ok(inc.is_err, &inc.val.err, "increment")) {
        out(NAME ": balance ");
        out_i64((int64_t)inc.val.ok);
        out("\n");
    }

    store_orders(b);
    show(b, "order:0003");
    list_all(b);
    batch(b);
    compare_and_swap(b);

    kv2_bucket_drop(b);
    out(NAME ": done\n");
    out_flush();
    return failed ? 1 : 0;
}

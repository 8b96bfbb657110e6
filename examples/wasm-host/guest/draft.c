/*
 * Guest for wasi:keyvalue@0.2.0-draft (the wasmtime / wasmCloud draft):
 * counts its visits, stores JSON records, pages through the bucket with
 * the u64 cursor and uses the batch interface. Exports `run` (returns 0
 * when every call succeeded).
 *
 * SPDX-License-Identifier: MIT
 */
#include "wasi-keyvalue.h"

#define NAME "draft"
#define NUSERS 25
#include "guest-ok.h"

static void user_key(strbuf *sb, uint64_t i)
{
    sb_reset(sb);
    sb_add(sb, "user:");
    sb_add_u64(sb, i, 3);
}

static void store_users(uint32_t b, uint64_t visit)
{
    strbuf key, val;
    kv_result_unit r;
    for (uint64_t i = 1; i <= NUSERS; i++) {
        user_key(&key, i);
        sb_reset(&val);
        sb_add(&val, "{\"id\":");
        sb_add_u64(&val, i, 0);
        sb_add(&val, ",\"name\":\"user-");
        sb_add_u64(&val, i, 0);
        sb_add(&val, "\",\"since_visit\":");
        sb_add_u64(&val, visit, 0);
        sb_add(&val, ",\"draft\":\"0.2.0-draft\"}");
        kv1_set(b, key.buf, (uint32_t)key.len, val.buf, (uint32_t)val.len, &r);
        if (!ok(r.is_err, &r.err, "set"))
            return;
    }
    out(NAME ": stored " "25" " user records\n");
}

static void show(uint32_t b, const char *key)
{
    kv_result_option_bytes r;
    kv1_get(b, KV_STR(key), &r);
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

static void show_exists(uint32_t b, const char *key)
{
    kv_result_bool r;
    kv1_exists(b, KV_STR(key), &r);
    if (!ok(r.is_err, &r.val.err, "exists"))
        return;
    out(NAME ": exists ");
    out(key);
    out(r.val.ok ? " -> true\n" : " -> false\n");
}

/* Walks every page: the host hands out small integers standing for its
 * string cursors. */
static void list_all(uint32_t b)
{
    kv1_result_key_response r;
    uint32_t has = 0, pages = 0, keys = 0, users = 0;
    uint64_t cursor = 0;
    for (;;) {
        kv1_list_keys(b, has, cursor, &r);
        if (!ok(r.is_err, &r.val.err, "list-keys"))
            return;
        pages++;
        keys += r.val.ok.keys.len;
        for (uint32_t i = 0; i < r.val.ok.keys.len; i++) {
            const kv_string *k = &r.val.ok.keys.ptr[i];
            if (k->len >= 5 && memcmp(k->ptr, "user:", 5) == 0)
                users++;
        }
        if (!r.val.ok.cursor.is_some)
            break;
        has = 1;
        cursor = r.val.ok.cursor.val;
    }
    out(NAME ": listed ");
    out_u64(keys);
    out(" keys (");
    out_u64(users);
    out(" user records) in ");
    out_u64(pages);
    out(" pages\n");
}

static void batch(uint32_t b)
{
    static const char *const names[] = {"one", "two", "three", "four", "five"};
    kv_entry kvs[5];
    strbuf keys[5];
    kv_result_unit u;
    for (uint64_t i = 0; i < 5; i++) {
        sb_reset(&keys[i]);
        sb_add(&keys[i], "batch:");
        sb_add_u64(&keys[i], i + 1, 0);
        kvs[i].key = (kv_string){keys[i].buf, (uint32_t)keys[i].len};
        kvs[i].value = (kv_bytes){(const uint8_t *)names[i],
                                  (uint32_t)strlen(names[i])};
    }
    kv1_set_many(b, kvs, 5, &u);
    if (!ok(u.is_err, &u.err, "set-many"))
        return;
    out(NAME ": set-many 5 keys\n");

    kv_string want[3] = {{KV_STR("batch:1")}, {KV_STR("batch:3")},
                         {KV_STR("batch:404")}};
    kv_result_entries g;
    kv1_get_many(b, want, 3, &g);
    if (!ok(g.is_err, &g.val.err, "get-many"))
        return;
    out(NAME ": get-many");
    for (uint32_t i = 0; i < g.val.ok.len; i++) {
        const kv_option_entry *e = &g.val.ok.ptr[i];
        out(" ");
        if (e->is_some) {
            out_n(e->key.ptr, e->key.len);
            out("=");
            out_n((const char *)e->value.ptr, e->value.len);
        } else {
            out("none");
        }
    }
    out("\n");

    kv_string del[2] = {{KV_STR("batch:2")}, {KV_STR("batch:4")}};
    kv1_delete_many(b, del, 2, &u);
    if (!ok(u.is_err, &u.err, "delete-many"))
        return;
    out(NAME ": delete-many batch:2 batch:4\n");
    show_exists(b, "batch:2");
}

GUEST_EXPORT("run")
int run(void)
{
    kv_result_handle o;
    kv1_open(KV_STR("demo"), &o);
    if (!ok(o.is_err, &o.val.err, "open demo")) {
        out_flush();
        return 1;
    }
    uint32_t b = o.val.handle;
    out(NAME ": opened bucket demo\n");

    kv_result_u64 inc;
    kv1_increment(b, KV_STR("visits"), 1, &inc);
    uint64_t visit = 0;
    if (ok(inc.is_err, &inc.val.err, "increment")) {
        visit = inc.val.ok;
        out(NAME ": visit #");
        out_u64(visit);
        out("\n");
    }

    store_users(b, visit);
    show(b, "user:007");
    show(b, "user:999");
    show_exists(b, "user:001");
    list_all(b);
    batch(b);

    kv_result_unit u;
    kv1_delete(b, KV_STR("user:025"), &u);
    if (ok(u.is_err, &u.err, "delete"))
        out(NAME ": deleted user:025\n");
    show_exists(b, "user:025");

    kv1_bucket_drop(b);
    out(NAME ": done\n");
    out_flush();
    return failed ? 1 : 0;
}

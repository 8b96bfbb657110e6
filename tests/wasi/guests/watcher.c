/*
 * Guest exporting wasi:keyvalue/watcher@0.2.0-draft2 (on-set, on-delete).
 * `run` writes and deletes keys in the bucket "events", which the host
 * watches (config watch=events); the host pumps the events into the
 * exports afterwards, each with a bucket handle the guest owns: it checks
 * the key through that handle, prints the event and drops the handle.
 * `report` prints the counts.
 *
 * SPDX-License-Identifier: MIT
 */
#include "wasi-keyvalue.h"

#define NAME "watcher"
#include "guest-ok.h"

static uint32_t nsets, ndeletes;

GUEST_EXPORT("run")
uint32_t run(void)
{
    kv_result_handle o;
    kv_result_unit r;
    kv2_open(KV_STR("events"), &o);
    if (!ok(o.is_err, &o.val.err, "open"))
        return 1;
    uint32_t b = o.val.handle;
    kv2_set(b, KV_STR("w1"), "one", 3, &r);
    ok(r.is_err, &r.err, "set");
    kv2_set(b, KV_STR("w2"), "two", 3, &r);
    ok(r.is_err, &r.err, "set");
    kv2_delete(b, KV_STR("w1"), &r);
    ok(r.is_err, &r.err, "delete");
    kv2_set(b, KV_STR("w3"), "three", 5, &r);
    ok(r.is_err, &r.err, "set");
    kv2_bucket_drop(b);
    out_flush();
    return failed ? 1 : 0;
}

static void show_exists(uint32_t b, const char *key, uint32_t klen)
{
    kv_result_bool e;
    kv2_exists(b, key, klen, &e);
    if (ok(e.is_err, &e.val.err, "exists"))
        out(e.val.ok ? " (exists now)" : " (gone now)");
}

GUEST_EXPORT("wasi:keyvalue/watcher@0.2.0-draft2#on-set")
void on_set(uint32_t b, const char *key, uint32_t klen, const uint8_t *val,
            uint32_t vlen)
{
    nsets++;
    out(NAME ": on-set ");
    out_n(key, klen);
    out("=");
    out_n((const char *)val, vlen);
    show_exists(b, key, klen);
    out("\n");
    kv2_bucket_drop(b);
}

GUEST_EXPORT("wasi:keyvalue/watcher@0.2.0-draft2#on-delete")
void on_delete(uint32_t b, const char *key, uint32_t klen)
{
    ndeletes++;
    out(NAME ": on-delete ");
    out_n(key, klen);
    show_exists(b, key, klen);
    out("\n");
    kv2_bucket_drop(b);
}

GUEST_EXPORT("report")
uint32_t report(void)
{
    out(NAME ": ");
    out_u64(nsets);
    out(" sets, ");
    out_u64(ndeletes);
    out(" deletes\n");
    out_flush();
    return failed ? 1 : 0;
}

/*
 * The import tables: for each WIT version, every core import with its
 * module, field, core signature, typed function and argument-slot thunk,
 * so an engine binding registers them in one loop (docs/wasi.md).
 *
 * SPDX-License-Identifier: MIT
 */
#include "internal.h"

#define A(n) ((uint32_t)args[n])

static void t_open(kvstore_wasi_instance *i, const uint64_t *args)
{
    kvstore_wasi_store_open(i, A(0), A(1), A(2));
}
static void t_get(kvstore_wasi_instance *i, const uint64_t *args)
{
    kvstore_wasi_bucket_get(i, A(0), A(1), A(2), A(3));
}
static void t_set(kvstore_wasi_instance *i, const uint64_t *args)
{
    kvstore_wasi_bucket_set(i, A(0), A(1), A(2), A(3), A(4), A(5));
}
static void t_delete(kvstore_wasi_instance *i, const uint64_t *args)
{
    kvstore_wasi_bucket_delete(i, A(0), A(1), A(2), A(3));
}
static void t_exists(kvstore_wasi_instance *i, const uint64_t *args)
{
    kvstore_wasi_bucket_exists(i, A(0), A(1), A(2), A(3));
}
static void t_bucket_drop(kvstore_wasi_instance *i, const uint64_t *args)
{
    kvstore_wasi_bucket_drop(i, A(0));
}
static void t_draft_list(kvstore_wasi_instance *i, const uint64_t *args)
{
    kvstore_wasi_draft_list_keys(i, A(0), A(1), args[2], A(3));
}
static void t_draft2_list(kvstore_wasi_instance *i, const uint64_t *args)
{
    kvstore_wasi_draft2_list_keys(i, A(0), A(1), A(2), A(3), A(4));
}
static void t_draft_incr(kvstore_wasi_instance *i, const uint64_t *args)
{
    kvstore_wasi_draft_increment(i, A(0), A(1), A(2), args[3], A(4));
}
static void t_draft2_incr(kvstore_wasi_instance *i, const uint64_t *args)
{
    kvstore_wasi_draft2_increment(i, A(0), A(1), A(2), args[3], A(4));
}
static void t_cas_new(kvstore_wasi_instance *i, const uint64_t *args)
{
    kvstore_wasi_cas_new(i, A(0), A(1), A(2), A(3));
}
static void t_cas_current(kvstore_wasi_instance *i, const uint64_t *args)
{
    kvstore_wasi_cas_current(i, A(0), A(1));
}
static void t_swap(kvstore_wasi_instance *i, const uint64_t *args)
{
    kvstore_wasi_cas_swap(i, A(0), A(1), A(2), A(3));
}
static void t_cas_drop(kvstore_wasi_instance *i, const uint64_t *args)
{
    kvstore_wasi_cas_drop(i, A(0));
}
static void t_get_many(kvstore_wasi_instance *i, const uint64_t *args)
{
    kvstore_wasi_get_many(i, A(0), A(1), A(2), A(3));
}
static void t_set_many(kvstore_wasi_instance *i, const uint64_t *args)
{
    kvstore_wasi_set_many(i, A(0), A(1), A(2), A(3));
}
static void t_delete_many(kvstore_wasi_instance *i, const uint64_t *args)
{
    kvstore_wasi_delete_many(i, A(0), A(1), A(2), A(3));
}

#define FN(f) ((void (*)(void))(f))
#define ENTRY(mod, ver, name, sig, f, t) \
    {"wasi:keyvalue/" mod "@" ver, name, sig, FN(f), t}

#define COMMON(ver)                                                              \
    ENTRY("store", ver, "open", "(i32,i32,i32)->()", kvstore_wasi_store_open, t_open), \
    ENTRY("store", ver, "[method]bucket.get", "(i32,i32,i32,i32)->()",           \
          kvstore_wasi_bucket_get, t_get),                                       \
    ENTRY("store", ver, "[method]bucket.set", "(i32,i32,i32,i32,i32,i32)->()",   \
          kvstore_wasi_bucket_set, t_set),                                       \
    ENTRY("store", ver, "[method]bucket.delete", "(i32,i32,i32,i32)->()",        \
          kvstore_wasi_bucket_delete, t_delete),                                 \
    ENTRY("store", ver, "[method]bucket.exists", "(i32,i32,i32,i32)->()",        \
          kvstore_wasi_bucket_exists, t_exists),                                 \
    ENTRY("store", ver, "[resource-drop]bucket", "(i32)->()",                   \
          kvstore_wasi_bucket_drop, t_bucket_drop),                              \
    ENTRY("batch", ver, "get-many", "(i32,i32,i32,i32)->()",                     \
          kvstore_wasi_get_many, t_get_many),                                    \
    ENTRY("batch", ver, "set-many", "(i32,i32,i32,i32)->()",                     \
          kvstore_wasi_set_many, t_set_many),                                    \
    ENTRY("batch", ver, "delete-many", "(i32,i32,i32,i32)->()",                  \
          kvstore_wasi_delete_many, t_delete_many)

static const kvstore_wasi_import draft[] = {
    COMMON("0.2.0-draft"),
    ENTRY("store", "0.2.0-draft", "[method]bucket.list-keys", "(i32,i32,i64,i32)->()",
          kvstore_wasi_draft_list_keys, t_draft_list),
    ENTRY("atomics", "0.2.0-draft", "increment", "(i32,i32,i32,i64,i32)->()",
          kvstore_wasi_draft_increment, t_draft_incr),
};

/* Spin's shape differs only in get-many's element layout, which the
 * instance's wit selects: the same table serves both. */
static const kvstore_wasi_import draft2[] = {
    COMMON("0.2.0-draft2"),
    ENTRY("store", "0.2.0-draft2", "[method]bucket.list-keys",
          "(i32,i32,i32,i32,i32)->()", kvstore_wasi_draft2_list_keys, t_draft2_list),
    ENTRY("atomics", "0.2.0-draft2", "increment", "(i32,i32,i32,i64,i32)->()",
          kvstore_wasi_draft2_increment, t_draft2_incr),
    ENTRY("atomics", "0.2.0-draft2", "[static]cas.new", "(i32,i32,i32,i32)->()",
          kvstore_wasi_cas_new, t_cas_new),
    ENTRY("atomics", "0.2.0-draft2", "[method]cas.current", "(i32,i32)->()",
          kvstore_wasi_cas_current, t_cas_current),
    ENTRY("atomics", "0.2.0-draft2", "swap", "(i32,i32,i32,i32)->()",
          kvstore_wasi_cas_swap, t_swap),
    ENTRY("atomics", "0.2.0-draft2", "[resource-drop]cas", "(i32)->()",
          kvstore_wasi_cas_drop, t_cas_drop),
};

KVSTORE_API const kvstore_wasi_import *kvstore_wasi_imports(kvstore_wasi_wit wit,
                                                            size_t *count)
{
    size_t n = 0;
    const kvstore_wasi_import *t = NULL;
    switch (wit) {
    case KVSTORE_WASI_DRAFT:
        t = draft;
        n = sizeof(draft) / sizeof(draft[0]);
        break;
    case KVSTORE_WASI_DRAFT2:
    case KVSTORE_WASI_SPIN:
        t = draft2;
        n = sizeof(draft2) / sizeof(draft2[0]);
        break;
    }
    if (count)
        *count = n;
    return t;
}

KVSTORE_API const char *kvstore_wasi_version(kvstore_wasi_wit wit)
{
    switch (wit) {
    case KVSTORE_WASI_DRAFT: return "0.2.0-draft";
    case KVSTORE_WASI_DRAFT2:
    case KVSTORE_WASI_SPIN: return "0.2.0-draft2";
    }
    return NULL;
}

/*
 * libkvstore - the interface for backend authors ("sys" API).
 *
 * A backend is a constant, versioned table of functions whose name is its
 * URI scheme. The core is the only caller of the table: it validates every
 * argument the contract defines (handles, keys, bucket names, prefixes,
 * limits, value pointers) before calling a slot, so a slot receives only
 * valid input, and it supplies the fallbacks for optional slots left NULL.
 * The built-in backends (memory, file) and the modules (redis, nats) are
 * written against this header and nothing else.
 *
 * Memory handed to the user through a slot (values, pages) must come from
 * kvstore_malloc()/kvstore_realloc() or the kvstore_keys_* builders: the
 * user releases it with kvstore_free()/kvstore_keys_free().
 *
 * SPDX-License-Identifier: MIT
 */
#ifndef KVSTORE_BACKEND_H
#define KVSTORE_BACKEND_H

#include "kvstore.h"

KVSTORE_BEGIN_DECLS

/* ------------------------------------------------------------------ */
/* Parsed URIs                                                          */
/* ------------------------------------------------------------------ */

/** A URI parsed by the core: scheme ":" ["//" [userinfo "@"] hosts] path
 * ["?" params]. Opaque; lent to store_open for the duration of the call. */
typedef struct kvstore_uri kvstore_uri;

/** The scheme, lower-case, e.g. "redis+unix". Never NULL. */
KVSTORE_API const char *kvstore_uri_scheme(const kvstore_uri *uri);
/** The percent-decoded user name, or NULL if the URI has no userinfo.
 * For "nats://TOKEN@host" this is the token. */
KVSTORE_API const char *kvstore_uri_user(const kvstore_uri *uri);
/** The percent-decoded password (after the first ':' of the userinfo), or
 * NULL. Never put it in a message. */
KVSTORE_API const char *kvstore_uri_password(const kvstore_uri *uri);
/** The host part of the authority, raw ("h1:4222,h2:4223", "[::1]:6379"),
 * "" when empty ("file:///x"), NULL when the URI has no "//". */
KVSTORE_API const char *kvstore_uri_hosts(const kvstore_uri *uri);
/** The percent-decoded path: "/abs/dir" for "file:///abs/dir", "rel/dir"
 * for "file:rel/dir", "/0" for "redis://h/0", "" when there is none. */
KVSTORE_API const char *kvstore_uri_path(const kvstore_uri *uri);
/** The percent-decoded value of query parameter `name` ("" for "?name"),
 * or NULL if absent. The core has already rejected duplicate parameters
 * and names the backend did not list in kvstore_backend.options. */
KVSTORE_API const char *kvstore_uri_param(const kvstore_uri *uri,
                                          const char *name);
/** Parses parameter `name` as a decimal integer in [min, max]; absent gives
 * `dflt`. Returns KVSTORE_OK or KVSTORE_EINVAL with a message. */
KVSTORE_API int kvstore_uri_param_int(const kvstore_uri *uri,
                                      const char *name, int64_t min,
                                      int64_t max, int64_t dflt,
                                      int64_t *out);
/** Parses parameter `name` as true/false/1/0/yes/no; absent gives `dflt`.
 * Returns KVSTORE_OK or KVSTORE_EINVAL with a message. */
KVSTORE_API int kvstore_uri_param_bool(const kvstore_uri *uri,
                                       const char *name, bool dflt,
                                       bool *out);
/** The URI with any password replaced by "***": the only form of a URI
 * that may appear in a message. Never NULL. Lent like the URI. */
KVSTORE_API const char *kvstore_uri_redacted(const kvstore_uri *uri);

/** For a backend whose store is a local file or directory: checks that
 * `uri` has a path ("scheme:///abs/path" or "scheme:rel/path"), no host
 * and no credentials (which a local store cannot check), then reads the
 * boolean parameters "sync" and "create" (both default true; the table
 * lists "sync" among its options). `example` is the path's last word in
 * the advice of a message: "dir" gives "use file:///abs/dir or
 * file:rel/dir". Returns KVSTORE_OK with *path set to the URI's path (lent
 * like the URI), else KVSTORE_EINVAL with a message that starts with the
 * scheme, says why and ends with the redacted URI. */
KVSTORE_API int kvstore_uri_local(const kvstore_uri *uri, const char *example,
                                  const char **path, bool *sync,
                                  bool *create);

/* ------------------------------------------------------------------ */
/* The backend table                                                    */
/* ------------------------------------------------------------------ */

/** The table version this header describes. Fields are only ever
 * appended; each version's first field is marked below. */
#define KVSTORE_BACKEND_VERSION 2

/** The type of each slot of the table below, so that a backend can declare
 * its functions with them (see KVSTORE_SLOT_PROTOTYPES) and the compiler
 * checks every definition against the table. What each slot does is said
 * at its field. */
typedef int kvstore_slot_store_open(void **out, const kvstore_uri *uri);
typedef void kvstore_slot_store_close(void *store);
typedef int kvstore_slot_bucket_open(void **out, void *store,
                                     const char *name, bool create);
typedef void kvstore_slot_bucket_close(void *bucket);
typedef int kvstore_slot_get(void *bucket, const char *key, void **value,
                             size_t *len);
typedef int kvstore_slot_set(void *bucket, const char *key, const void *value,
                             size_t len);
typedef int kvstore_slot_del(void *bucket, const char *key);
typedef int kvstore_slot_exists(void *bucket, const char *key, bool *exists);
typedef int kvstore_slot_list_keys(void *bucket, const char *prefix,
                                   const char *cursor, size_t limit,
                                   kvstore_keys **out);
typedef int kvstore_slot_get_many(void *bucket, const char *const *keys,
                                  size_t n, void **values, size_t *lens);
typedef int kvstore_slot_set_many(void *bucket, const char *const *keys,
                                  const void *const *values,
                                  const size_t *lens, size_t n);
typedef int kvstore_slot_delete_many(void *bucket, const char *const *keys,
                                     size_t n);
typedef int kvstore_slot_increment(void *bucket, const char *key,
                                   int64_t delta, int64_t *result);
typedef int kvstore_slot_cas_open(void **out, void *bucket, const char *key,
                                  bool *found, const void **value,
                                  size_t *len);
typedef int kvstore_slot_cas_swap(void *cas, const void *value, size_t len);
typedef void kvstore_slot_cas_free(void *cas);
typedef int kvstore_slot_watch_start(void **out, void *bucket,
                                     const char *prefix, kvstore_watch_fn fn,
                                     void *payload);
typedef void kvstore_slot_watch_stop(void *watch);
typedef int kvstore_slot_set_ttl(void *bucket, const char *key,
                                 const void *value, size_t len,
                                 uint64_t ttl_ms);
typedef int kvstore_slot_ttl(void *bucket, const char *key, int64_t *ms_left);
typedef int kvstore_slot_bucket_list(void *store, const char *cursor,
                                     size_t limit, kvstore_keys **out);
typedef int kvstore_slot_bucket_remove(void *store, const char *name);
typedef int kvstore_slot_bucket_info(void *store, const char *name,
                                     kvstore_bucket_stat *info);
typedef int kvstore_slot_get_with(void *bucket, const char *key,
                                  kvstore_value_fn fn, void *ctx);

typedef struct kvstore_backend {
    /* --- version 1 --- */
    unsigned int version;        /* KVSTORE_BACKEND_VERSION at build time */
    const char *name;            /* URI scheme: [a-z][a-z0-9+.-]*, <= 32 */
    const char *const *options;  /* NULL-terminated query parameter names
                                    the backend accepts besides "create";
                                    NULL for none */

    /* Required. store_open gets the parsed URI (lent) and sets *out to the
     * backend's store state. The core calls store_close, bucket_close,
     * cas_free and watch_stop once each, only with the state a successful
     * open set: never with NULL. */
    kvstore_slot_store_open *store_open;
    kvstore_slot_store_close *store_close;
    /* Opens bucket `name` (already validated); creates it if missing when
     * `create` is true, else KVSTORE_ENOSTORE. */
    kvstore_slot_bucket_open *bucket_open;
    kvstore_slot_bucket_close *bucket_close;
    /* As kvstore_get: KVSTORE_OK with *value from kvstore_malloc() (never
     * NULL) or KVSTORE_NOTFOUND. */
    kvstore_slot_get *get;
    kvstore_slot_set *set;
    kvstore_slot_del *del;
    kvstore_slot_exists *exists;
    /* `prefix` is "" for all keys; `limit` is 1..KVSTORE_PAGE_MAX (0 from
     * the user becomes KVSTORE_PAGE_MAX). *out is built with
     * kvstore_keys_new().
     * Version 2 and later: the core owns the cursor. `cursor` is NULL for
     * the first page, else the position state this backend set on an
     * earlier page of the same bucket (a NUL-terminated string of at most
     * KVSTORE_CURSOR_STATE_MAX bytes); the backend sets the next page's
     * state with kvstore_keys_set_cursor() (NULL: no more pages) and the
     * core wraps it into a cursor bound to the backend, store and bucket.
     * The binding is an integrity check, not a secret: a guest can forge
     * a state, so treat it as untrusted (EINVAL, or a valid page of this
     * bucket, never a crash and never another bucket's keys).
     * Version 1: `cursor` is the user's string (printable ASCII of at most
     * KVSTORE_CURSOR_MAX bytes) and the backend wraps its own state with
     * kvstore_cursor_encode(). */
    kvstore_slot_list_keys *list_keys;

    /* Optional: NULL makes the core loop over get/set/del. get_many gets
     * values[] and lens[] zeroed and sets both for each key found (values
     * from kvstore_malloc(), never NULL); when it fails, the core frees
     * every value it set, so a slot can return at once. */
    kvstore_slot_get_many *get_many;
    kvstore_slot_set_many *set_many;
    kvstore_slot_delete_many *delete_many;

    /* Optional: NULL makes the core run a loop over the cas slots (or
     * return KVSTORE_ENOTSUP without them). */
    kvstore_slot_increment *increment;

    /* Optional, all three or none: compare-and-swap. cas_open snapshots the
     * key; it sets *found, and when found lends *value and *len (valid until
     * cas_free; not NULL even for an empty value). cas_swap writes only if
     * the key is unchanged since the snapshot, else KVSTORE_ECONFLICT. The
     * core calls cas_swap at most once per snapshot. */
    kvstore_slot_cas_open *cas_open;
    kvstore_slot_cas_swap *cas_swap;
    kvstore_slot_cas_free *cas_free;

    /* Optional, both or none: NULL makes kvstore_watch_start return
     * KVSTORE_ENOTSUP. `prefix` is "" for all keys. After watch_stop
     * returns, `fn` must never be called again. */
    kvstore_slot_watch_start *watch_start;
    kvstore_slot_watch_stop *watch_stop;

    /* --- version 2 --- */
    /* KVSTORE_CAP_* flags: what this backend can do (see kvstore_caps()). */
    unsigned int caps;
    /* Optional: NULL makes kvstore_set_ttl with a non-zero TTL and
     * kvstore_ttl return KVSTORE_ENOTSUP. set_ttl is called with ttl_ms >
     * 0 only (0 goes to set); it replaces the value and its expiry. ttl sets
     * *ms_left to the milliseconds left (>= 0) or -1 for no expiry, or
     * returns KVSTORE_NOTFOUND. An expired key is absent for every read,
     * reaped or not. */
    kvstore_slot_set_ttl *set_ttl;
    kvstore_slot_ttl *ttl;
    /* Optional: bucket management (NULL: KVSTORE_ENOTSUP). bucket_list
     * pages through the store's bucket names with cursor states as
     * list_keys of version 2 does; bucket_remove deletes a bucket and all
     * its keys (KVSTORE_ENOSTORE if missing); bucket_info fills the fields
     * of *info it knows (the core has zeroed it and set keys to -1) or
     * returns KVSTORE_ENOSTORE. Names are validated by the core. */
    kvstore_slot_bucket_list *bucket_list;
    kvstore_slot_bucket_remove *bucket_remove;
    kvstore_slot_bucket_info *bucket_info;
    /* Optional: a get that lends the value (kvstore_get_with). Calls
     * fn(ctx, value, len) once when the key is found (and not expired),
     * with `value` valid during the call only (never NULL, even for an
     * empty value; a lock may be held), and returns fn's result when
     * non-zero, else KVSTORE_OK; KVSTORE_NOTFOUND or an error without
     * calling fn. `fn` is the core's: it runs the user's callback and
     * records its result, so once fn was called the core returns that
     * result whatever the slot returns. NULL makes the core serve
     * kvstore_get_with by get, the user's callback and kvstore_free. */
    kvstore_slot_get_with *get_with;
} kvstore_backend;

/*
 * One skeleton for every backend: a backend names the function behind
 * slot S `<prefix>_S` (sq_get, lm_cas_open, ...), declares them all with
 * one line in its header,
 *   KVSTORE_SLOT_PROTOTYPES(sq);
 * (declaring a slot the backend leaves NULL is harmless: it is never
 * defined nor used), and fills its table from the groups below (C only:
 * they are designated initializers):
 *   static const kvstore_backend sq_backend =
 *       KVSTORE_BACKEND_TABLE(sq, "sqlite", sq_options, KVSTORE_CAP_TTL);
 * for a backend with every slot, or, for one that leaves some NULL,
 *   { .version = KVSTORE_BACKEND_VERSION, .name = "x", .options = NULL,
 *     KVSTORE_SLOTS_REQUIRED(x), KVSTORE_SLOTS_ATOMICS(x) }
 */
#define KVSTORE_SLOT_PROTOTYPES(p)                                        \
    kvstore_slot_store_open p##_store_open;                               \
    kvstore_slot_store_close p##_store_close;                             \
    kvstore_slot_bucket_open p##_bucket_open;                             \
    kvstore_slot_bucket_close p##_bucket_close;                           \
    kvstore_slot_get p##_get;                                             \
    kvstore_slot_set p##_set;                                             \
    kvstore_slot_del p##_del;                                             \
    kvstore_slot_exists p##_exists;                                       \
    kvstore_slot_list_keys p##_list_keys;                                 \
    kvstore_slot_get_many p##_get_many;                                   \
    kvstore_slot_set_many p##_set_many;                                   \
    kvstore_slot_delete_many p##_delete_many;                             \
    kvstore_slot_increment p##_increment;                                 \
    kvstore_slot_cas_open p##_cas_open;                                   \
    kvstore_slot_cas_swap p##_cas_swap;                                   \
    kvstore_slot_cas_free p##_cas_free;                                   \
    kvstore_slot_watch_start p##_watch_start;                             \
    kvstore_slot_watch_stop p##_watch_stop;                               \
    kvstore_slot_set_ttl p##_set_ttl;                                     \
    kvstore_slot_ttl p##_ttl;                                             \
    kvstore_slot_bucket_list p##_bucket_list;                             \
    kvstore_slot_bucket_remove p##_bucket_remove;                         \
    kvstore_slot_bucket_info p##_bucket_info;                             \
    kvstore_slot_get_with p##_get_with

/* The required slots. */
#define KVSTORE_SLOTS_REQUIRED(p)                                         \
    .store_open = p##_store_open, .store_close = p##_store_close,         \
    .bucket_open = p##_bucket_open, .bucket_close = p##_bucket_close,     \
    .get = p##_get, .set = p##_set, .del = p##_del,                       \
    .exists = p##_exists, .list_keys = p##_list_keys
/* get_many, set_many, delete_many. */
#define KVSTORE_SLOTS_BATCH(p)                                            \
    .get_many = p##_get_many, .set_many = p##_set_many,                   \
    .delete_many = p##_delete_many
/* increment and the three cas slots. */
#define KVSTORE_SLOTS_ATOMICS(p)                                          \
    .increment = p##_increment, .cas_open = p##_cas_open,                 \
    .cas_swap = p##_cas_swap, .cas_free = p##_cas_free
#define KVSTORE_SLOTS_WATCH(p)                                            \
    .watch_start = p##_watch_start, .watch_stop = p##_watch_stop
#define KVSTORE_SLOTS_TTL(p) .set_ttl = p##_set_ttl, .ttl = p##_ttl
#define KVSTORE_SLOTS_BUCKETS(p)                                          \
    .bucket_list = p##_bucket_list, .bucket_remove = p##_bucket_remove,   \
    .bucket_info = p##_bucket_info
/* A table of the current version with every slot set. */
#define KVSTORE_BACKEND_TABLE(p, scheme, option_names, cap_flags)         \
    {                                                                     \
        .version = KVSTORE_BACKEND_VERSION, .name = scheme,               \
        .options = option_names, .caps = cap_flags,                       \
        KVSTORE_SLOTS_REQUIRED(p), KVSTORE_SLOTS_BATCH(p),                \
        KVSTORE_SLOTS_ATOMICS(p), KVSTORE_SLOTS_WATCH(p),                 \
        KVSTORE_SLOTS_TTL(p), KVSTORE_SLOTS_BUCKETS(p),                   \
        .get_with = p##_get_with                                          \
    }

/**
 * How a slot that builds an object for `*out` (store_open, bucket_open,
 * cas_open, watch_start) ends: when rc is KVSTORE_OK it sets *out to `obj`,
 * else it releases `obj` with `undo` (which must accept an object built
 * only in part, as the error paths leave it) and leaves *out alone.
 * Returns rc:  return kvstore_hand_over(rc, out, b, my_bucket_close);
 */
static inline int kvstore_hand_over(int rc, void **out, void *obj,
                                    void (*undo)(void *))
{
    if (rc == KVSTORE_OK)
        *out = obj;
    else
        undo(obj);
    return rc;
}

/** What cas_open lends its caller: *found, and the snapshot's value and
 * length only when the key was found (as the cas_open slot says). */
static inline void kvstore_cas_lend(bool *found, const void **value,
                                    size_t *len, bool snap_found,
                                    const void *snap_value, size_t snap_len)
{
    *found = snap_found;
    if (snap_found) {
        *value = snap_value;
        *len = snap_len;
    }
}

/**
 * Registers a backend for its scheme. The table must stay valid and
 * unchanged for the life of the process (make it static const).
 * Registering the same table again is a harmless KVSTORE_OK; another table
 * with a taken name is KVSTORE_EEXISTS; a NULL table, a missing required
 * slot, a bad name or an unknown table version is KVSTORE_EINVAL.
 * Thread-safe.
 */
KVSTORE_API int kvstore_backend_register(const kvstore_backend *backend);

/* ------------------------------------------------------------------ */
/* Loadable modules                                                     */
/* ------------------------------------------------------------------ */

/** The layout version of the module descriptor. It is not an ABI version:
 * each backend table carries its own version, which is all the loader
 * checks besides this. Version 1 is the only layout; its second field,
 * once a minor ABI number, is ignored. */
#define KVSTORE_MODULE_VERSION 1
/* Kept so that modules written for 1.0 still compile. */
#define KVSTORE_MODULE_ABI_MAJOR KVSTORE_MODULE_VERSION
#define KVSTORE_MODULE_ABI_MINOR 0

typedef struct kvstore_module {
    unsigned int version;                   /* KVSTORE_MODULE_VERSION */
    unsigned int reserved;                  /* 0; ignored by the loader */
    const char *name;                       /* for messages, e.g. "redis" */
    const kvstore_backend *const *backends; /* NULL-terminated */
} kvstore_module;

/** The one symbol a module exports, a function of this type named
 * KVSTORE_MODULE_ENTRY_NAME. Define it with KVSTORE_MODULE_ENTRY:
 *   KVSTORE_MODULE_ENTRY { return &my_module; } */
typedef const kvstore_module *(*kvstore_module_entry_fn)(void);
#define KVSTORE_MODULE_ENTRY_NAME "kvstore_module_entry"
#define KVSTORE_MODULE_ENTRY \
    KVSTORE_API const kvstore_module *kvstore_module_entry(void); \
    KVSTORE_API const kvstore_module *kvstore_module_entry(void)

/** Defines a module named `module_name` that provides the backend tables
 * whose addresses follow, and its entry point, in one statement:
 *   KVSTORE_MODULE_DEFINE("redis", &redis_backend, &rediss_backend);
 * Use it once per module, at file scope. */
#define KVSTORE_MODULE_DEFINE(module_name, ...)                           \
    static const kvstore_backend *const kvstore_module_backends_[] = {    \
        __VA_ARGS__, NULL                                                 \
    };                                                                    \
    static const kvstore_module kvstore_module_ = {                       \
        KVSTORE_MODULE_VERSION, 0, module_name, kvstore_module_backends_  \
    };                                                                    \
    KVSTORE_MODULE_ENTRY { return &kvstore_module_; }                     \
    KVSTORE_API const kvstore_module *kvstore_module_entry(void)

/**
 * Loads the module at `path` (RTLD_NOW | RTLD_LOCAL), checks its
 * descriptor version and registers every backend it provides (tables of
 * version 1 and 2 are accepted alike). A module is never
 * unloaded once one of its backends is registered. Loading the same module
 * twice is harmless. Returns KVSTORE_OK, KVSTORE_EINVAL (NULL path, no
 * entry symbol, refused ABI version, bad table), KVSTORE_ENOSTORE (the
 * file cannot be loaded) or KVSTORE_EEXISTS. Thread-safe.
 */
KVSTORE_API int kvstore_backend_load(const char *path);

/* ------------------------------------------------------------------ */
/* Helpers for backends                                                 */
/* ------------------------------------------------------------------ */

/** Records a failure for kvstore_errmsg() on the calling thread and
 * returns `code`, so a slot can `return kvstore_set_error(...)`. Never put
 * a password or token in the message. */
KVSTORE_API int kvstore_set_error(int code, const char *fmt, ...)
    KVSTORE_PRINTF(2, 3);

/** Allocation for memory handed to the user (released by kvstore_free).
 * Like malloc/realloc; kvstore_memdup copies `len` bytes and adds a NUL
 * after them. All return NULL on failure without setting an error. */
KVSTORE_API void *kvstore_malloc(size_t size);
KVSTORE_API void *kvstore_realloc(void *p, size_t size);
KVSTORE_API void *kvstore_memdup(const void *p, size_t len);

/** True if `len` bytes at `s` are valid UTF-8 (no overlongs, no
 * surrogates, nothing above U+10FFFF). NUL bytes count as valid here. */
KVSTORE_API bool kvstore_utf8_valid(const char *s, size_t len);
/** KVSTORE_OK for a valid key, else KVSTORE_EINVAL with a message. */
KVSTORE_API int kvstore_key_check(const char *key);
/** KVSTORE_OK for a valid bucket name, else KVSTORE_EINVAL. */
KVSTORE_API int kvstore_bucket_name_check(const char *name);
/** True if the `len` bytes at `name` are a bucket name that
 * kvstore_bucket_name_check accepts (a NUL among them is not), without
 * setting a message: for names a backend reads back from its storage,
 * where an entry that is no bucket is skipped, not an error. */
KVSTORE_API bool kvstore_bucket_name_valid(const char *name, size_t len);

/** A keyed hash of `len` bytes for a backend's in-memory tables (hash
 * tables, de-duplication sets): SipHash-2-4 under a 128-bit key drawn at
 * random once per process, so keys a guest chooses cannot be made to
 * collide (hash flooding). It differs between processes: never store it
 * or send it elsewhere. Thread-safe. */
KVSTORE_API uint64_t kvstore_hash(const void *data, size_t len);

/** Parses a stored counter: the canonical ASCII decimal spelling of an
 * int64 that increment writes ("0", "42", "-7"), and nothing else: no '+',
 * no leading zeros, no "-0", no spaces, in range (as Redis INCR). Reads
 * exactly `len` bytes. Returns KVSTORE_OK or KVSTORE_EINVAL, without a
 * message. Every backend's increment uses it, so counters behave alike. */
KVSTORE_API int kvstore_counter_parse(const void *text, size_t len,
                                      int64_t *out);

/** Page builders. kvstore_keys_new returns an empty page (NULL on out of
 * memory); kvstore_keys_add copies `len` bytes of `key`; set_cursor copies
 * the cursor (NULL clears it). Both return KVSTORE_OK or KVSTORE_ENOMEM. */
KVSTORE_API kvstore_keys *kvstore_keys_new(void);
KVSTORE_API int kvstore_keys_add(kvstore_keys *page, const char *key,
                                 size_t len);
KVSTORE_API int kvstore_keys_set_cursor(kvstore_keys *page,
                                        const char *cursor);

/**
 * Cursor envelope: wraps a backend's position bytes `state` into a
 * printable cursor bound to `bucket` and checksummed, so that garbage,
 * truncated or other buckets' cursors are rejected on decode.
 * kvstore_cursor_encode sets *out (free with kvstore_free) and returns
 * KVSTORE_OK, KVSTORE_ENOMEM or KVSTORE_EINVAL (state too long: at most
 * KVSTORE_CURSOR_STATE_MAX bytes). kvstore_cursor_decode copies the state
 * into `buf` (cap bytes) and sets *len; anything not produced by encode
 * for the same bucket is KVSTORE_EINVAL with a message.
 */
#define KVSTORE_CURSOR_STATE_MAX 1536
KVSTORE_API int kvstore_cursor_encode(char **out, const char *bucket,
                                      const void *state, size_t len);
KVSTORE_API int kvstore_cursor_decode(const char *cursor, const char *bucket,
                                      void *buf, size_t cap, size_t *len);

/* ------------------------------------------------------------------ */
/* Sorted walks: the core's listing helper for backends                 */
/* ------------------------------------------------------------------ */

/**
 * A backend whose storage has no key order (a hash table, a directory, a
 * stream) lists keys by taking a snapshot of them, sorting it once and
 * serving every page of the walk from it. kvstore_walks does that for a
 * version 2 list_keys (and bucket_list): it keeps sorted snapshots under
 * short tokens, expires idle ones, evicts the least recently used past its
 * bounds, cuts pages and writes and reads the cursor state strings.
 *
 * A backend keeps one kvstore_walks per store (or per bucket) and calls
 * kvstore_walk_page from list_keys. The state it produces is
 * "w1" <16 hex digits of a token> ":" <last key returned>, so a page is a
 * binary search in the walk's snapshot, and a state whose token is
 * unknown (expired, evicted, another process, forged) still names a
 * position: a fresh snapshot is taken and the page starts after that key.
 * Keys come out in byte-wise (unsigned) order; one walk never returns a
 * key twice. A snapshot serves only the scope (bucket name) and prefix it
 * was taken for, so no state can reach another bucket's keys.
 *
 * Thread-safe: any number of threads may page through one kvstore_walks.
 * The fill callback runs without any lock of the walks held.
 */
typedef struct kvstore_walks kvstore_walks;
/** Where a fill callback appends the keys of a snapshot (lent to it). */
typedef struct kvstore_walk_sink kvstore_walk_sink;

/** Takes a snapshot: appends with kvstore_walk_add every key of the scope
 * that starts with `prefix` ("" for all), in any order. `after` is NULL,
 * or the key the page will start after: keys <= `after` may be skipped as
 * an optimisation, but need not be (the helper filters prefix and
 * position itself, and drops duplicates). Returns KVSTORE_OK, or an error
 * code with a message set (kvstore_set_error), which kvstore_walk_page
 * returns unchanged. `ctx` is the backend's, passed through. */
typedef int (*kvstore_walk_fill_fn)(void *ctx, const char *prefix,
                                    const char *after,
                                    kvstore_walk_sink *sink);

/** Creates a cache of at most `max_walks` snapshots holding about
 * `max_bytes` in all, each dropped after `idle_ms` without a page (0 for
 * any of them picks the default: 16 walks, 256 MiB, 300000 ms). One
 * snapshot larger than max_bytes is still kept while it is the only one,
 * so that a big walk does not retake it for every page. The last page of a
 * walk drops its snapshot at once. Returns NULL on out of memory.
 * Owned by the caller; free with kvstore_walks_free. */
KVSTORE_API kvstore_walks *kvstore_walks_new(size_t max_walks,
                                             size_t max_bytes,
                                             uint64_t idle_ms);
/** Frees the cache and every snapshot in it; no page may be in progress.
 * NULL is a no-op. */
KVSTORE_API void kvstore_walks_free(kvstore_walks *walks);
/** Drops every snapshot of `scope` (e.g. a bucket being removed), or of
 * all scopes when `scope` is NULL. Walks in progress continue from their
 * last key with a fresh snapshot. */
KVSTORE_API void kvstore_walks_forget(kvstore_walks *walks,
                                      const char *scope);
/** How many snapshots are cached and the bytes they hold (either pointer
 * may be NULL): for tests and diagnostics. */
KVSTORE_API void kvstore_walks_stats(const kvstore_walks *walks,
                                     size_t *count, size_t *bytes);

/** Appends `len` bytes of `key` to the snapshot (no NUL among them).
 * Empty keys, keys longer than KVSTORE_KEY_MAX and keys holding a NUL are
 * KVSTORE_EINVAL; out of memory is KVSTORE_ENOMEM (both with a message). */
KVSTORE_API int kvstore_walk_add(kvstore_walk_sink *sink, const char *key,
                                 size_t len);
/** Optional hint before appending: room for `keys` more keys of `bytes`
 * bytes in all. Returns KVSTORE_OK or KVSTORE_ENOMEM. */
KVSTORE_API int kvstore_walk_reserve(kvstore_walk_sink *sink, size_t keys,
                                     size_t bytes);

/**
 * Builds one page for list_keys: at most `limit` keys starting with
 * `prefix`, after the position in `state` (NULL: from the start). Serves
 * it from the walk's snapshot when `state` names one cached for the same
 * `scope` and `prefix`, else calls `fill` for a new snapshot. The page's
 * cursor is set to the next state, or NULL after the last page. `scope`
 * is any string naming the key space (the bucket name; "" for a per-bucket
 * cache or for bucket names themselves). A state not of the form above is
 * KVSTORE_EINVAL. Returns KVSTORE_OK with *out, or an error with a
 * message (KVSTORE_ENOMEM, fill's error) and *out NULL.
 */
KVSTORE_API int kvstore_walk_page(kvstore_walks *walks, const char *scope,
                                  const char *prefix, const char *state,
                                  size_t limit, kvstore_walk_fill_fn fill,
                                  void *ctx, kvstore_keys **out);

/**
 * kvstore_walk_page for a backend that knows when its key space changes:
 * `version` is a number that changes whenever a key of `scope` is added or
 * removed (or may have expired), and 0 when unknown (then this is exactly
 * kvstore_walk_page). A walk whose own snapshot is gone, a new walk
 * included, is then served from any cached snapshot of every key of the
 * same scope and prefix taken at the same version, instead of calling
 * `fill`: listing an unchanged bucket again costs a page, not a copy and a
 * sort. Such a snapshot stays cached after its walk ends (until evicted or
 * idle). Compute `version` before the call: a change racing with the call
 * then only costs a fill.
 */
KVSTORE_API int kvstore_walk_page_at(kvstore_walks *walks, const char *scope,
                                     const char *prefix, const char *state,
                                     size_t limit, uint64_t version,
                                     kvstore_walk_fill_fn fill, void *ctx,
                                     kvstore_keys **out);

/* ------------------------------------------------------------------ */
/* Watch delivery: the core's event queue and thread for backends      */
/* ------------------------------------------------------------------ */

/**
 * A backend that learns of its own writes (it commits them) delivers
 * watch events the same way: a copy of each event goes onto the watch's
 * queue, and a thread of the watch's own calls the user back, so a slow
 * callback delays only its own watch and a writer never waits for one.
 * kvstore_watch_queue is that queue and thread; the backend keeps the
 * bucket and prefix matching and calls kvstore_watch_queue_push for each
 * matching write, in the order the writes were applied.
 *
 * Thread-safe: any number of threads may push to one queue.
 */
typedef struct kvstore_watch_queue kvstore_watch_queue;

/** Starts a queue whose thread calls `fn(payload, ...)` for each pushed
 * event, in push order, with no lock of the queue held (the callback may
 * use the store) and every signal blocked in that thread. Returns KVSTORE_OK, or KVSTORE_ENOMEM (with a message)
 * when memory or the thread is lacking. Owned by the caller; free with
 * kvstore_watch_queue_free. */
KVSTORE_API int kvstore_watch_queue_new(kvstore_watch_queue **out,
                                        kvstore_watch_fn fn, void *payload);
/** Queues a copy of `key` and, for KVSTORE_EVENT_SET, of the `len` bytes
 * of `value` (`value` is ignored for a delete). Returns KVSTORE_OK, or
 * KVSTORE_ENOMEM when the copy cannot be made: that event is lost, the
 * queue goes on (the write it reports has already happened, so there is
 * no one to fail). No message is set. */
KVSTORE_API int kvstore_watch_queue_push(kvstore_watch_queue *q,
                                         kvstore_event event,
                                         const char *key, const void *value,
                                         size_t len);
/** Stops the thread and frees the queue with the events still in it.
 * From any other thread, it returns once the callback is not running and
 * never runs again. From the queue's own callback, the thread finishes
 * that call, then frees the queue itself. NULL is a no-op. */
KVSTORE_API void kvstore_watch_queue_free(kvstore_watch_queue *q);

/**
 * The watches of a backend object that sees every write (an LMDB
 * environment, a SQLite database): kvstore_watch_list keeps each watch's
 * bucket, prefix and kvstore_watch_queue, and kvstore_watch_list_push
 * queues a write's event on every watch whose bucket and prefix it
 * matches. Pushes of one thread reach each watch in push order.
 * Thread-safe: any number of threads may add, remove and push.
 */
typedef struct kvstore_watch_list kvstore_watch_list;

/** Creates an empty list; NULL on out of memory. Owned by the caller;
 * free with kvstore_watch_list_free once every watch is removed. */
KVSTORE_API kvstore_watch_list *kvstore_watch_list_new(void);
/** Frees an empty list. NULL is a no-op. */
KVSTORE_API void kvstore_watch_list_free(kvstore_watch_list *list);
/** Adds a watch of the keys of `bucket` that start with `prefix` ("" for
 * all): its own queue and thread call `fn(payload, ...)` (see
 * kvstore_watch_queue_new). Every event pushed after this returns is
 * seen. Sets *out to the watch, to be removed with
 * kvstore_watch_list_remove. Returns KVSTORE_OK, or KVSTORE_ENOMEM (or
 * KVSTORE_EINVAL for a bucket name longer than KVSTORE_BUCKET_NAME_MAX)
 * with a message. */
KVSTORE_API int kvstore_watch_list_add(void **out, kvstore_watch_list *list,
                                       const char *bucket,
                                       const char *prefix,
                                       kvstore_watch_fn fn, void *payload);
/** Removes a watch and frees it with its queue, as
 * kvstore_watch_queue_free does (also from the watch's own callback);
 * once it returns, no push reaches the watch. NULL is a no-op. */
KVSTORE_API void kvstore_watch_list_remove(void *watch);
/** Queues the event (a copy of `key` and, for KVSTORE_EVENT_SET, of the
 * `len` bytes of `value`) on every watch of `bucket` whose prefix `key`
 * starts with. Returns KVSTORE_OK, or KVSTORE_ENOMEM when a copy could
 * not be made: that watch misses the event, the others get it. No
 * message is set. */
KVSTORE_API int kvstore_watch_list_push(kvstore_watch_list *list,
                                        const char *bucket,
                                        kvstore_event event, const char *key,
                                        const void *value, size_t len);

/* ------------------------------------------------------------------ */
/* Group commit: the core's commit queue for backends                  */
/* ------------------------------------------------------------------ */

/**
 * A backend that commits its own writes (a transaction and an fsync per
 * commit) shares one commit among concurrent writers with
 * kvstore_commit_queue: a writer submits its operation and blocks; the
 * first writer that finds no commit running becomes the leader, hands
 * every operation queued so far to the backend's commit callback in one
 * call, records each one's status and wakes their writers. So a writer
 * returns only after the commit that covers its operation, and N
 * concurrent writers pay one commit instead of N.
 *
 * Gathering: writers that write in a loop come back as soon as their
 * commit releases them. While fewer operations are queued than the last
 * commit held plus those that queued while it ran, right after that
 * commit ended, the writers wait (on CLOCK_MONOTONIC) until as many are
 * queued, and the writer that fills the batch leads it, or until half the
 * last commit's time, at most 2 ms, has passed, and one of them leads. A lone writer (its last batch was its own operation, with no
 * one queued behind it) and a writer after a pause never wait.
 *
 * What an operation is, how a batch is applied, what makes it durable
 * and how failures are told apart stays with the backend: operations are
 * its own pointers, which the queue never reads.
 *
 * Threading: any number of threads may submit to one queue. The commit
 * callback runs on the leader's thread (one of the submitters), for one
 * batch at a time and with no lock of the queue held; it may not submit
 * to the same queue.
 */
typedef struct kvstore_commit_queue kvstore_commit_queue;

/** Commits one batch: `ops[0..n)` in the order they were submitted (one
 * writer's operations keep its order). `status[i]` is KVSTORE_OK on
 * entry; the callback sets the status of an operation that fails on its
 * own (a conflict, a bad counter) there, and it is what submit returns to
 * that operation's writer. Returns KVSTORE_OK, or an error code when the
 * batch failed as a whole (nothing of it was applied): every status of
 * the batch becomes that code. Errors are per thread and this runs on
 * another writer's thread, so an operation's message belongs in the
 * operation, for its writer to raise once submit returns. Both arrays are
 * lent for the call. */
typedef int (*kvstore_commit_fn)(void *ctx, void *const *ops, int *status,
                                 size_t n);

/** Creates a queue that commits with `commit(ctx, ...)`. Returns
 * KVSTORE_OK, or KVSTORE_ENOMEM with a message. Owned by the caller; free
 * with kvstore_commit_queue_free. */
KVSTORE_API int kvstore_commit_queue_new(kvstore_commit_queue **out,
                                         kvstore_commit_fn commit,
                                         void *ctx);
/** Queues `op` (the backend's, borrowed until this returns) and returns
 * once the commit that covers it has finished, with the status the
 * commit gave it. Never sets a message. The calling thread may lead
 * batches of other writers' operations meanwhile. */
KVSTORE_API int kvstore_commit_queue_submit(kvstore_commit_queue *q,
                                            void *op);
/** kvstore_commit_queue_submit for a backend that keeps each operation's
 * message in the operation: empties `msg` (a buffer inside `op` that the
 * commit callback fills, NUL-terminated, for an operation that fails),
 * submits `op` and, when the status is an error (negative), sets it as
 * the calling thread's error with `msg` as the message (the status's own
 * text if `msg` is still empty). Returns the status. */
KVSTORE_API int kvstore_commit_queue_run(kvstore_commit_queue *q, void *op,
                                         char *msg);
/** How many batches were committed and how many times a leader waited to
 * gather writers (either pointer may be NULL): for tests and
 * diagnostics. */
KVSTORE_API void kvstore_commit_queue_stats(kvstore_commit_queue *q,
                                            uint64_t *batches,
                                            uint64_t *gathers);
/** Frees the queue; no submit may be in progress. NULL is a no-op. */
KVSTORE_API void kvstore_commit_queue_free(kvstore_commit_queue *q);

/* ------------------------------------------------------------------ */
/* Shared per file: one object per file per process for backends       */
/* ------------------------------------------------------------------ */

/**
 * A backend whose store is a local file or directory that a process may
 * open only once (an LMDB environment), or whose writers must all meet in
 * one place (a SQLite database's commit queue), shares one object per
 * file among every store that opens it. kvstore_shared_get finds or opens
 * that object, kvstore_shared_put drops a reference. Files are told apart
 * by device and inode, so two spellings of a path share one object; an
 * object opened before fork() is never handed to the child, which opens
 * its own. Thread-safe: one lock of the process guards the registry.
 */
/** Opens the object for a file: sets *out, returns KVSTORE_OK or an error
 * with a message. `ctx` is the backend's, passed through. */
typedef int (*kvstore_shared_open_fn)(void **out, void *ctx);

/** Sets *out to the object that backend `kind` (its name, a string that
 * lives as long as the process) shares for the existing file or directory
 * at `path`, with one more reference. If there is none, calls
 * open_fn(out, ctx) and registers what it opened with one reference.
 * open_fn runs without the registry's lock, so a slow open delays no
 * other file's; a concurrent get of the same file waits for it and shares
 * its object (or, if it fails, opens the file itself): concurrent opens
 * of one file get one object. Returns KVSTORE_OK; open_fn's error; or,
 * when `path` cannot be examined, KVSTORE_ENOSTORE (missing),
 * KVSTORE_EACCESS or KVSTORE_EIO with a message. *out is NULL on error. */
KVSTORE_API int kvstore_shared_get(void **out, const char *kind,
                                   const char *path,
                                   kvstore_shared_open_fn open_fn, void *ctx);
/** Adds a reference to `obj`, an object of kvstore_shared_get that the
 * caller holds a reference to. */
KVSTORE_API void kvstore_shared_ref(void *obj);
/** Drops a reference to `obj`. The last one unregisters it and calls
 * free_fn(obj) under the registry's lock, so that a new object for the
 * same file is never opened while the old one closes. An object that is
 * not registered (NULL included) is ignored. */
KVSTORE_API void kvstore_shared_put(void *obj, void (*free_fn)(void *obj));

KVSTORE_END_DECLS

#endif /* KVSTORE_BACKEND_H */

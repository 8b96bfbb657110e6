/*
 * libkvstore core - internal declarations shared by the core's modules.
 * Nothing here is exported: the library is built with hidden visibility.
 *
 * SPDX-License-Identifier: MIT
 */
#ifndef KVSTORE_INTERNAL_H
#define KVSTORE_INTERNAL_H

#include <kvstore/backend.h>

#include <pthread.h>
#include <stdatomic.h>
#include <time.h>

/* Replaces kvstore_hash's process key: for tests only (known-answer
 * vectors, collision checks under many keys). Never called by the library. */
void kvs_hash_set_key(const unsigned char key[16]);

/* An observer as kvstore_observe registered it. Every one is kept on the
 * store's list until the store goes, since calls in flight may still use
 * one that was replaced. */
struct kvs_observer {
    kvstore_observer o;
    void *payload;
    struct kvs_observer *next;
};

/* A store lives while its user handle or any bucket of it is open: the
 * backend's store_close runs when the last of them goes (`refs`). */
struct kvstore_store {
    const kvstore_backend *be; /* zero-extended to this version's table */
    void *state;
    bool create;
    atomic_uint refs;
    char *id; /* scheme ":" hosts path: what a cursor binds to */
    _Atomic(struct kvs_observer *) observer; /* NULL: not observed */
    pthread_mutex_t observer_lock;           /* guards `observers` */
    struct kvs_observer *observers;          /* every one registered */
};

struct kvstore_bucket {
    const kvstore_backend *be;
    void *state;
    kvstore_store *store; /* holds a reference */
    char name[KVSTORE_BUCKET_NAME_MAX + 1];
};

struct kvstore_cas {
    const kvstore_backend *be;
    kvstore_bucket *bucket; /* for observations only */
    void *state;
    bool found;
    bool swapped;
    const void *value;
    size_t len;
};

struct kvstore_watch {
    const kvstore_backend *be;
    void *state;
};

/* error.c: every failure path of a public function goes through these, so
 * that a backend which returned a code without a message still leaves a
 * useful kvstore_errmsg(). */
unsigned kvs_error_mark(void);
int kvs_error_explain(int rc, unsigned mark, const char *op);
static inline int kvs_error_finish(int rc, unsigned mark, const char *op)
{
    /* Success, every operation's common path, returns without a call
     * (callgrind: 11 instructions a get, docs/benchmarks.md). */
    return rc >= 0 ? rc : kvs_error_explain(rc, mark, op);
}

/* validate.c */
bool kvs_scheme_valid(const char *s, size_t len);
int kvs_prefix_check(const char *prefix);
int kvs_cursor_check(const char *cursor);
int kvs_value_check(const void *value, size_t len);

/* cursor.c: the cursors of version 2 tables, bound to the backend, the
 * store and the bucket (`bucket` NULL for the bucket list). wrap sets
 * *out (kvstore_free) from a backend's state; unwrap checks the binding
 * and copies the state, NUL-terminated, into buf[KVSTORE_CURSOR_STATE_MAX
 * + 1]. Both return KVSTORE_OK or an error with a message. */
int kvs_cursor_wrap(char **out, const kvstore_store *store,
                    const char *bucket, const char *state);
int kvs_cursor_unwrap(const char *cursor, const kvstore_store *store,
                      const char *bucket, char *buf);

/* store.c: the store reference a bucket holds; the page wrapping of
 * version 2 cursors (`bucket` as for kvs_cursor_wrap). */
void kvs_store_release(kvstore_store *store);
int kvs_page_wrap(kvstore_keys *page, const kvstore_store *store,
                  const char *bucket);

/* observe.c: an operation is timed only while the store has an observer,
 * so that an unobserved call pays one atomic load. */
struct kvs_obs_call {
    struct kvs_observer *obs;
    struct timespec t0;
};

static inline bool kvs_obs_begin(struct kvs_obs_call *c,
                                 const kvstore_store *store)
{
    c->obs = atomic_load_explicit(&((kvstore_store *)store)->observer,
                                  memory_order_acquire);
    if (c->obs == NULL)
        return false;
    clock_gettime(CLOCK_MONOTONIC, &c->t0);
    return true;
}

void kvs_obs_end(const struct kvs_obs_call *c, kvstore_op op,
                 const char *bucket, size_t keys, size_t bytes_in,
                 size_t bytes_out, int result);
void kvs_obs_free(kvstore_store *store);

/* store.c: kvstore_set without its observation, for kvstore_set_ttl. */
int kvs_set(kvstore_bucket *b, const char *key, const void *value,
            size_t len);

/* named.c: the URI the store config file gives "@name" (free() it). */
int kvs_named_resolve(const char *at_name, char **out);

/* uri.c */
int kvs_uri_parse(kvstore_uri **out, const char *text);
void kvs_uri_free(kvstore_uri *uri);
size_t kvs_uri_param_count(const kvstore_uri *uri);
const char *kvs_uri_param_name(const kvstore_uri *uri, size_t i);

/* registry.c: entries are never removed, so returned tables stay valid.
 * kvs_registry_find gives the zero-extended copy the core dispatches
 * through; kvs_registry_find_registered the table as it was registered
 * (for tests of the registry). */
const kvstore_backend *kvs_registry_find(const char *scheme);
const kvstore_backend *kvs_registry_find_registered(const char *scheme);
int kvs_registry_check(const kvstore_backend *be);
/* Registers every table of a NULL-terminated list, or none of them. */
int kvs_registry_add_all(const kvstore_backend *const *list,
                         bool *added_any);

/* loader.c: checks a module descriptor (NULL, no backend list, module ABI
 * major differs or minor is newer) before its tables are registered:
 * KVSTORE_OK or KVSTORE_EINVAL with a message naming `path`. */
int kvs_module_check(const kvstore_module *mod, const char *path);
/* loader.c: finds the backend for `scheme`, loading a module if needed. */
int kvs_backend_for_scheme(const kvstore_backend **out, const char *scheme);

#endif /* KVSTORE_INTERNAL_H */

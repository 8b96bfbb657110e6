/*
 * libkvstore core - internal declarations shared by the core's modules.
 * Nothing here is exported: the library is built with hidden visibility.
 *
 * SPDX-License-Identifier: MIT
 */
#ifndef KVSTORE_INTERNAL_H
#define KVSTORE_INTERNAL_H

#include <kvstore/backend.h>

#include <stdatomic.h>

/* A store lives while its user handle or any bucket of it is open: the
 * backend's store_close runs when the last of them goes (`refs`). */
struct kvstore_store {
    const kvstore_backend *be; /* zero-extended to this version's table */
    void *state;
    bool create;
    atomic_uint refs;
    char *id; /* scheme ":" hosts path: what a cursor binds to */
};

struct kvstore_bucket {
    const kvstore_backend *be;
    void *state;
    kvstore_store *store; /* holds a reference */
    char name[KVSTORE_BUCKET_NAME_MAX + 1];
};

struct kvstore_cas {
    const kvstore_backend *be;
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
int kvs_error_finish(int rc, unsigned mark, const char *op);

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

/* uri.c */
int kvs_uri_parse(kvstore_uri **out, const char *text);
void kvs_uri_free(kvstore_uri *uri);
size_t kvs_uri_param_count(const kvstore_uri *uri);
const char *kvs_uri_param_name(const kvstore_uri *uri, size_t i);

/* registry.c: entries are never removed, so returned tables stay valid. */
const kvstore_backend *kvs_registry_find(const char *scheme);
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

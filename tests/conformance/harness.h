/*
 * Conformance suite: shared harness.
 *
 * The suite is written only against the public API <kvstore/kvstore.h> and
 * runs unchanged against every backend: `conformance URI`. Every test gets
 * a fresh store handle and a fresh bucket whose name starts with a random
 * run id, so runs against a shared server never see each other's keys.
 *
 * SPDX-License-Identifier: MIT
 */
#ifndef CONFORMANCE_HARNESS_H
#define CONFORMANCE_HARNESS_H

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdbool.h>
#include <cmocka.h>

#include <kvstore/kvstore.h>

/* open_uri, open_bucket and the other shortcuts of every test folder;
 * expect_bytes. */
#include "support.h"
#include "fx_conformance.h"

/* The URI under test, with {tmpdir} already substituted. */
extern const char *conf_uri;
/* True when two kvstore_open() calls with conf_uri reach different data
 * (memory: without a name): tests that need a second handle on the same
 * data skip themselves. */
extern bool conf_private;
/* True when nothing outlives the run (a private store, or a {tmpdir}
 * removed at exit): tests skip deleting their keys afterwards. */
extern bool conf_disposable;
/* True when a full listing walk may return a key more than once (the
 * backend documents it, e.g. Redis SCAN). */
extern bool conf_list_repeats;
/* True when the backend documents that a watch event carries the value
 * read after the event (file: inotify, redis: keyspace notifications):
 * every event still arrives once and in order, but a set's value may be
 * that of a later write, or NULL (len 0) once the key is gone. */
extern bool conf_watch_late_values;

/* Stores given with --other: another backend, or another store of this
 * one, for the checks that cursors are bound to their store. */
#define CONF_OTHER_MAX 4
extern const char *conf_other_uris[CONF_OTHER_MAX];
extern size_t conf_n_other;

/* Per-test state built by conf_setup and released by conf_teardown,
 * which also closes what a test added to it, when the test fails too. */
typedef struct conf_ctx {
    kvstore_store *store;
    kvstore_bucket *bucket;
    char name[KVSTORE_BUCKET_NAME_MAX + 1];
    kvstore_store *store2;   /* conf_second_store */
    kvstore_bucket *bucket2; /* conf_second_bucket */
    /* A test's own state (a watch recorder) and how to release it, before
     * the handles above are closed. */
    void *own;
    void (*own_free)(void *own);
} conf_ctx;

int conf_setup(void **state);
int conf_teardown(void **state);

/* Writes "<runid>_<suffix>" into buf (at least 65 bytes). */
void conf_bucket_name(char *buf, size_t cap, const char *suffix);
/* A fresh, unique bucket name for this run. */
void conf_unique_name(char *buf, size_t cap);
/* conf_uri with `param` ("a=b") appended after '?' or '&'; free() it. */
char *conf_uri_with(const char *param);
/* kvstore_open of conf_uri with `param` must fail with `code` (and a
 * message). */
void conf_open_fails_with(const char *param, int code);
/* Opens a new bucket of `s` with a fresh name (written to `name`, at
 * least KVSTORE_BUCKET_NAME_MAX + 1 bytes, unless NULL); fails the test on
 * error. The caller closes it (conf_drop_bucket). */
kvstore_bucket *conf_bucket_new(kvstore_store *s, char *name);
/* A second store handle on conf_uri, kept in c and closed by
 * conf_teardown; skips the test when the store is private (a second open
 * would reach other data). */
kvstore_store *conf_second_store(conf_ctx *c);
/* A second handle on the fixture's bucket through `s` (c->store, or
 * conf_second_store(c)), kept in c and closed by conf_teardown. */
kvstore_bucket *conf_second_bucket(conf_ctx *c, kvstore_store *s);
/* Closes a bucket a test opened, wiping it first unless the run is
 * disposable. NULL is a no-op. */
void conf_drop_bucket(kvstore_bucket *b);

/* Prints a formatted failure message and fails the test at file:line. */
void conf_fail_at(const char *file, int line, const char *fmt, ...)
    KVSTORE_PRINTF(3, 4);

/* Asserts that `b` holds exactly `len` bytes `data` at `key`. */
#define assert_value(b, key, data, len) \
    conf_assert_value((b), (key), (data), (len), __FILE__, __LINE__)
void conf_assert_value(kvstore_bucket *b, const char *key, const void *data,
                       size_t len, const char *file, int line);
/* Asserts that `key` is absent from `b` (get and exists agree). */
#define assert_absent(b, key) conf_assert_absent((b), (key), __FILE__, __LINE__)
void conf_assert_absent(kvstore_bucket *b, const char *key, const char *file,
                        int line);
/* Asserts status `code` and a non-empty error message. */
#define assert_fails(expr, code) \
    conf_assert_fails((expr), (code), #expr, __FILE__, __LINE__)
void conf_assert_fails(int rc, int code, const char *what, const char *file,
                       int line);

/* A set of strings, for listing walks. Counts how often each was added. */
typedef struct conf_set conf_set;
conf_set *conf_set_new(void);
void conf_set_free(conf_set *s);
/* Adds `key`; returns how many times it has been added so far. */
unsigned conf_set_add(conf_set *s, const char *key);
unsigned conf_set_count(const conf_set *s, const char *key);
size_t conf_set_size(const conf_set *s);

/* Walks every page of `b` under `prefix` with `limit`, starting from
 * `cursor` (NULL: from the start), adds every key to `seen`, and checks
 * each page's size against `limit`. Returns the number of pages. */
size_t conf_walk(kvstore_bucket *b, const char *prefix, const char *cursor,
                 size_t limit, conf_set *seen);
/* Lists every key of `b` under `prefix` into a new set. */
conf_set *conf_list_all(kvstore_bucket *b, const char *prefix);

/* Sets keys "<prefix><i>" (value "v") for i in [0, n), with set_many. */
void conf_fill(kvstore_bucket *b, const char *prefix, size_t n);
/* The cursor of the first page of `b` with keys (`limit` per page); fails
 * the test if there is none. free() it. */
char *conf_first_cursor(kvstore_bucket *b, const char *prefix, size_t limit);
/* A cursor of `a` (a first page of 3) is refused by `b`, and one of `b`
 * by `a`; `whose` names the cursors in the failure message. */
void conf_cursors_not_shared(kvstore_bucket *a, kvstore_bucket *b,
                             const char *whose);

/* Tests, one file per section of the contract. */
#define CONF_TESTS(X) \
    /* test_errors.c */ \
    X(version_matches_macros) \
    X(strerror_every_code) \
    X(errmsg_never_null) \
    /* test_open.c */ \
    X(open_bad_uris) \
    X(open_unknown_scheme) \
    X(open_unknown_parameter) \
    X(open_duplicate_parameter) \
    X(open_bad_create_value) \
    X(errmsg_hides_password) \
    X(bucket_names_invalid) \
    X(bucket_name_64_bytes) \
    X(bucket_create_false_missing) \
    X(bucket_create_false_existing) \
    X(bucket_reopen_keeps_data) \
    X(bucket_isolation_keys) \
    X(bucket_isolation_prefix_names) \
    X(null_args_store) \
    X(close_null) \
    /* test_store.c */ \
    X(set_get_roundtrip) \
    X(set_replaces) \
    X(get_missing) \
    X(delete_missing_ok) \
    X(delete_then_get) \
    X(exists_present_absent) \
    X(keys_invalid) \
    X(key_1024_bytes) \
    X(keys_special_roundtrip) \
    X(keys_similar_distinct) \
    X(value_empty) \
    X(value_binary) \
    X(value_1mib) \
    X(value_null_with_len) \
    X(read_your_writes_two_buckets) \
    X(second_handle_sees_writes) \
    /* test_list.c */ \
    X(list_empty_bucket) \
    X(list_prefix_bytewise) \
    X(list_prefix_literal) \
    X(list_prefix_invalid) \
    X(list_limit_respected) \
    X(list_limit_zero) \
    X(list_limit_size_max) \
    X(list_walk_2500) \
    X(list_walk_prefix) \
    X(list_cursor_garbage) \
    X(list_cursor_truncated) \
    X(list_cursor_forged) \
    X(list_cursor_other_bucket) \
    X(list_cursor_reopened_bucket) \
    X(list_cursor_second_handle) \
    X(list_cursor_store_reopened) \
    X(list_null_args) \
    /* test_atomics.c */ \
    X(increment_missing) \
    X(increment_negative) \
    X(increment_stored_decimal) \
    X(increment_existing_decimal) \
    X(increment_not_decimal) \
    X(increment_overflow) \
    X(increment_result_null) \
    X(increment_bad_args) \
    X(cas_swap_existing) \
    X(cas_conflict_set) \
    X(cas_conflict_same_value) \
    X(cas_conflict_delete) \
    X(cas_conflict_increment) \
    X(cas_absent_key) \
    X(cas_absent_conflict) \
    X(cas_swap_twice) \
    X(cas_empty_value) \
    X(cas_bad_args) \
    /* test_batch.c */ \
    X(batch_roundtrip) \
    X(batch_invalid_key_set) \
    X(batch_invalid_key_get) \
    X(batch_invalid_key_delete) \
    X(batch_zero) \
    X(batch_null_args) \
    /* test_watch.c */ \
    X(watch_set_delete) \
    X(watch_prefix_filter) \
    X(watch_other_bucket) \
    X(watch_order_per_key) \
    X(watch_other_handle) \
    X(watch_stop_silences) \
    X(watch_bad_args) \
    /* test_core11.c */ \
    X(bucket_outlives_store) \
    X(buckets_outlive_store) \
    X(cursor_other_store) \
    X(bucket_list_names) \
    X(bucket_list_cursor_bound) \
    X(bucket_info_counts) \
    X(bucket_remove) \
    X(ttl_matches_caps) \
    X(ttl_expiry_hides_key) \
    X(ttl_reports_and_set_clears) \
    X(core11_bad_args) \
    /* test_limits.c */ \
    X(value_huge_lengths) \
    X(list_cursor_rewrapped) \
    /* test_observe.c */ \
    X(observe_reports_operations) \
    X(observe_replace_and_stop) \
    X(observe_threads) \
    X(observe_bad_args) \
    /* test_existing.c */ \
    X(open_existing_missing) \
    X(open_existing_present) \
    X(open_existing_bad_args) \
    /* test_get_with.c */ \
    X(get_with_found) \
    X(get_with_absent) \
    X(get_with_empty_value) \
    X(get_with_large_value) \
    X(get_with_callback_result) \
    X(get_with_invalid) \
    X(get_with_null_ctx) \
    X(get_with_orphan_bucket) \
    X(get_with_expired) \
    X(get_with_observed) \
    X(get_with_concurrent_writes)

#define CONF_DECLARE(name) void test_##name(void **state);
CONF_TESTS(CONF_DECLARE)
#undef CONF_DECLARE

#endif /* CONFORMANCE_HARNESS_H */

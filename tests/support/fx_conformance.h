/*
 * Test helpers added by the conformance group of issue 9 (tests that
 * share them: conformance, modules, cli; any cmocka program may use them):
 * a temporary-directory fixture, a byte check for values the library
 * hands out outside kvstore_get (get_many, cas_current, watch events) and
 * a listing walk that calls no cmocka function (for threads).
 * Link test_support, which holds this file.
 *
 * SPDX-License-Identifier: MIT
 */
#ifndef KVS_TEST_FX_CONFORMANCE_H
#define KVS_TEST_FX_CONFORMANCE_H

#include "support.h"

/* A cmocka fixture for a test that needs only a fresh directory: register
 * it with DIR_TEST(test); the test reads the path from *state (a char *).
 * The directory and what is in it are removed after the test, also when
 * it fails. */
int dir_setup(void **state);
int dir_teardown(void **state);
#define DIR_TEST(test) \
    cmocka_unit_test_setup_teardown(test, dir_setup, dir_teardown)

/* Asserts that the value `v` of `n` bytes is exactly the `len` bytes at
 * `want`, or that it is absent (v NULL, n 0) when `want` is NULL; `what`
 * names the value in the failure message. */
void expect_bytes(const char *what, const void *v, size_t n,
                  const void *want, size_t len);

/* Walks every page of `b` under `prefix` (NULL: all) with `limit`,
 * calling `each` with every page until it returns false. No cmocka call:
 * worker threads and best-effort clean-up use it, and say what went
 * wrong themselves. Returns KVSTORE_OK after the last page, list_keys'
 * error, or -1 when `each` stopped the walk, a cursor could not be copied
 * or the walk did not end within 100000 pages. */
typedef bool (*page_fn)(void *arg, const kvstore_keys *page);
int walk_pages(kvstore_bucket *b, const char *prefix, size_t limit,
               page_fn each, void *arg);

/* Deletes every key of `b`, best effort (no cmocka call, errors ignored):
 * clean-up for stores that outlive a test, such as a shared server. */
void wipe_bucket(kvstore_bucket *b);

/* Opens `uri` and its bucket `bucket`, sets "k" to `value`, reads it back
 * (expect_str: freed with kvstore_free, whoever allocated it) and closes
 * both; fails the test on any error. */
void store_roundtrip(const char *uri, const char *bucket, const char *value);

#endif /* KVS_TEST_FX_CONFORMANCE_H */

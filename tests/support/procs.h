/*
 * Processes sharing a store: the cross-process checks of the backends
 * that keep their data in files (file, lmdb, sqlite). Each child opens
 * its own store from the URI, so nothing but the files is shared; a child
 * reports by its exit status only (it never calls a cmocka assert), and
 * the parent fails the test if one did not exit 0.
 *
 * SPDX-License-Identifier: MIT
 */
#ifndef KVS_TEST_PROCS_H
#define KVS_TEST_PROCS_H

#include <stdbool.h>
#include <stddef.h>

/* procs children, each with `threads` threads of `per_thread` additions
 * of one to a counter in bucket "shared". */
typedef struct procs_count {
    /* "{dir}" becomes a fresh temporary directory (procs_count_test). */
    const char *uri;
    int procs, threads, per_thread;
    /* false: kvstore_increment of "counter", whose results each thread
     * sees rise strictly; true: an increment written by hand over CAS on
     * "cas", retried on conflict (exact only if every concurrent write is
     * detected). */
    bool cas;
    /* The parent creates the bucket (and closes the store) first, so
     * the children race only on their writes. */
    bool create_first;
} procs_count;

/* Runs the children and asserts that every one succeeded and that the
 * counter, read through a store of `uri` afterwards, is exactly
 * procs * threads * per_thread. */
void procs_count_exact(const procs_count *run);

/* A cmocka test running procs_count_exact(*state) in a fresh directory,
 * removed afterwards. */
void procs_count_test(void **state);

/* PROCS_COUNT(name, .uri = "lmdb://{dir}", .procs = 2, ...): an entry of
 * a CMUnitTest array (in main, whose scope the procs_count lives in). */
#define PROCS_COUNT(test_name, ...) \
    { .name = #test_name, .test_func = procs_count_test, \
      .initial_state = &(procs_count){ __VA_ARGS__ } }

/* In another process with its own store of `uri`: writes `steps` to key
 * `key` of bucket `bucket`, in order ("-" deletes, anything else is the
 * value to set; NULL-terminated, NULL is none). Returns once it exited,
 * failing the test unless it succeeded. */
void procs_write_steps(const char *uri, const char *bucket, const char *key,
                       const char *const *steps);

#endif /* KVS_TEST_PROCS_H */

/*
 * Fixtures and checks of the tests of the backends that keep their data
 * in files (tests/file, tests/sqlite, tests/lmdb), on top of support.h,
 * fx_memory.h and fx_conformance.h (included here), and usable by any
 * folder: a fixture that gives a test its own directory and closes
 * whatever the test opened in it, a reopen of a test's store, listings
 * compared with the names they must hold, a compare-and-swap raced by
 * another process, and an event log of a watch that keeps whole keys.
 * Each helper fails the running test (cmocka) on an unexpected error.
 *
 * SPDX-License-Identifier: MIT
 */
#ifndef KVS_TEST_FX_FILES_H
#define KVS_TEST_FX_FILES_H

#include <pthread.h>

#include "fx_conformance.h"
#include "fx_memory.h"
#include "support.h"

/* A tmp_store with a fresh directory and no store in it yet (t->s and
 * t->b NULL), for a test that must act before opening one: it opens into
 * t->s and t->b what it needs, and the clean-up (store_teardown, which
 * also runs when the test fails) closes what they hold and removes the
 * directory. Register with TMP_STORE_TEST(test); the test reads its
 * tmp_store from *state. (A test that needs only the directory takes
 * fx_conformance's DIR_TEST.) */
int tmp_store_setup(void **state);
#define TMP_STORE_TEST(test)                                             \
    { .name = #test, .test_func = test, .setup_func = tmp_store_setup,   \
      .teardown_func = store_teardown }

/* Opens `uri`, in which "{dir}" becomes t->dir: a second store handle on
 * the test's files, owned by the caller (kvstore_close). */
kvstore_store *open_in(const tmp_store *t, const char *uri);

/* Closes t's bucket and store (t->b, t->s NULL then), keeping the
 * directory and its files. */
void tmp_store_shut(tmp_store *t);
/* tmp_store_shut, then opens `uri` ("{dir}": t->dir) and its bucket
 * `bucket` (NULL: none) in their place: a restart on the same files. */
void tmp_store_reopen(tmp_store *t, const char *uri, const char *bucket);

/* One kvstore_list_keys of `b` under `prefix` (NULL: all) with limit 0
 * must succeed in a single page (no cursor); returns its number of keys.
 * One call, so a check of what a single scan does sees exactly one. */
size_t listed_count(kvstore_bucket *b, const char *prefix);
/* The same single page must hold exactly the keys of `want`, in that
 * order, separated by single spaces ("": no key). */
void expect_listed(kvstore_bucket *b, const char *prefix, const char *want);

/* Walks every page of kvstore_bucket_list of `s` with `limit` and fails
 * the test on an error, a page over `limit` (when not 0), a name not
 * byte-wise after the one before, or names other than those of `want`
 * (separated by single spaces, in order; "": none). Returns the number
 * of pages. */
size_t expect_buckets(kvstore_store *s, size_t limit, const char *want);

/* Opens a compare-and-swap of `key` in `b`, checks that its snapshot is
 * `snapshot` (NULL: absent), has another process with its own store of
 * `uri` write `steps` to `key` of bucket `bucket` (procs_write_steps:
 * "-" deletes; NULL: no write), then swaps in `swap` and returns what
 * the swap says. */
int cas_across_processes(kvstore_bucket *b, const char *key,
                         const char *snapshot, const char *uri,
                         const char *bucket, const char *const *steps,
                         const char *swap);

/* The events a watch callback received, in order, for a test to wait on
 * and check, with whole keys and values (fx_memory's ev_log keeps 31
 * bytes of each: too few for the hashed-name keys of the file backend):
 * watch_log_event is the kvstore_watch_fn, with the log as its payload.
 * Thread-safe; free the log only after the watch stopped (or its bucket
 * closed). Events past WATCH_LOG_MAX are dropped. */
#define WATCH_LOG_MAX 256
typedef struct watch_event {
    kvstore_event type;
    char *key;
    char *value; /* a NUL-terminated copy; NULL for a delete */
} watch_event;
typedef struct watch_log {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    watch_event ev[WATCH_LOG_MAX];
    int n;
} watch_log;
watch_log *watch_log_new(void);
void watch_log_free(watch_log *log);
void watch_log_event(void *log, kvstore_event type, const char *key,
                     const void *value, size_t len);
/* Waits until the log holds at least `n` events, or 10 s passed (only so
 * that a test fails instead of hanging); returns how many it holds. */
int watch_log_wait(watch_log *log, int n);
/* Event `i` must be `type` on `key` with `value` (NULL: none). */
void expect_event(const watch_log *log, int i, kvstore_event type,
                  const char *key, const char *value);

#endif /* KVS_TEST_FX_FILES_H */

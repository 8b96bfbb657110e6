/*
 * Helpers shared by the cmocka test programs of every folder: temporary
 * directories, store and bucket shortcuts that fail the test with the
 * library's message, a walk over every page of a listing, and small file
 * checks. Each helper fails the running test (cmocka) on an unexpected
 * error, so callers need no error paths. Link tests/support (meson:
 * test_support) and add test_support_inc.
 *
 * SPDX-License-Identifier: MIT
 */
#ifndef KVS_TEST_SUPPORT_H
#define KVS_TEST_SUPPORT_H

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <kvstore/kvstore.h>

#include <sys/types.h>

#include "tmpdir.h"

/* A fresh directory under $TMPDIR (mkdtemp), owned by the caller;
 * tmp_free removes it with its contents, never following symlinks, and
 * frees the string. */
char *tmp_new(void);
void tmp_free(char *dir);

/* kvstore_open; fails the test with kvstore_errmsg() on error. */
kvstore_store *open_uri(const char *uri);
/* open_uri of a printf-formatted URI (never pass a URI as `fmt`: a
 * %-encoded password would be read as a conversion). */
kvstore_store *open_urif(const char *fmt, ...) KVSTORE_PRINTF(1, 2);
/* file://DIR?sync=false: durability is not what most tests check. */
kvstore_store *open_file_store(const char *dir);
/* kvstore_open(uri) must fail with `code`, leave the store NULL and say
 * why (a non-empty kvstore_errmsg()). */
void open_fails(const char *uri, int code);
/* kvstore_bucket_open; fails the test on error. */
kvstore_bucket *open_bucket(kvstore_store *s, const char *name);

/* One test's own store: a fresh directory, a store of `uri` in which
 * "{dir}" becomes that directory, and its bucket `bucket` (NULL: none,
 * b is NULL); fails the test on error. tmp_store_close closes both and removes the directory. */
typedef struct tmp_store {
    char *dir;
    kvstore_store *s;
    kvstore_bucket *b;
} tmp_store;
tmp_store tmp_store_open(const char *uri, const char *bucket);
void tmp_store_close(tmp_store *t);

/* The same as a cmocka fixture, so a test needs neither the set-up nor
 * the clean-up lines and a failing test still removes its directory:
 * register it with STORE_TEST(test, "file://{dir}?sync=false", "b") (the
 * URI and bucket as for tmp_store_open; bucket NULL: no bucket) and the
 * test reads its tmp_store from *state. */
typedef struct store_fixture {
    const char *uri;
    const char *bucket;
} store_fixture;
int store_setup(void **state);
int store_teardown(void **state);
#define STORE_TEST(test, uri_, bucket_)                                  \
    { .name = #test, .test_func = test, .setup_func = store_setup,       \
      .teardown_func = store_teardown,                                   \
      .initial_state = &(store_fixture){ (uri_), (bucket_) } }

/* Asserts that a kvstore call returns KVSTORE_OK; fails the test with
 * the call's text, its status and the library's message. */
#define assert_ok(call)                                                  \
    do {                                                                 \
        int rc_ = (call);                                                \
        if (rc_ != KVSTORE_OK)                                           \
            fail_msg("%s = %d: %s", #call, rc_, kvstore_errmsg());       \
    } while (0)

/* The value of `key` in bucket `bucket` of `s` as a NUL-terminated
 * malloc'd string (free()), or NULL if the key is absent. */
char *get_str(kvstore_store *s, const char *bucket, const char *key);

/* Sets `key` to the string `v` (without its NUL); fails on error. */
void set_str(kvstore_bucket *b, const char *key, const char *v);
/* Asserts that `key` holds exactly the string `want`, or is absent
 * (NOTFOUND, NULL value) when `want` is NULL. */
void expect_str(kvstore_bucket *b, const char *key, const char *want);

/* Lists every page of `b` under `prefix` (NULL: all) with `limit`,
 * starting at `cursor` (NULL: the first page), calling `each` (may be
 * NULL) for every key. Fails the test on an error, a page over
 * min(limit, KVSTORE_PAGE_MAX) (0: KVSTORE_PAGE_MAX), a key outside
 * `prefix` or a walk of more than 100000 pages. Returns the number of
 * pages. */
typedef void (*walk_fn)(void *arg, const char *key);
size_t walk_all(kvstore_bucket *b, const char *prefix, const char *cursor,
                size_t limit, walk_fn each, void *arg);
/* walk_fn callbacks. walk_count adds one to the size_t at `arg`.
 * walk_ordered counts in the walk_order at `arg` (zeroed first) and fails
 * the test unless every key comes byte-wise after the one before, which
 * also means no key twice. */
void walk_count(void *arg, const char *key);
typedef struct walk_order {
    char last[KVSTORE_KEY_MAX + 1];
    size_t keys;
} walk_order;
void walk_ordered(void *arg, const char *key);
/* walk_all from a cursor that may be refused (a forged or foreign one):
 * -1 if the first call is KVSTORE_EINVAL (with a message), else the
 * number of pages. */
long walk_foreign(kvstore_bucket *b, const char *prefix, const char *cursor,
                  size_t limit, walk_fn each, void *arg);

/* A bucket's keys that say whose they are: fill_tagged sets `n` keys
 * "<tag>/000".. (value `tag`); walk_tagged lists `b` under `prefix`
 * (NULL: all) from `cursor` (a forged or foreign one may be refused) in
 * pages of 7 and fails the test on a key that is not "<tag>/...". It
 * returns the number of keys, or -1 if the first call was EINVAL. */
void fill_tagged(kvstore_bucket *b, const char *tag, int n);
int walk_tagged(kvstore_bucket *b, const char *prefix, const char *cursor,
                const char *tag);

/* kvstore_list_keys on `b` from `cursor` must be EINVAL with a message
 * and a NULL page; `what` names the cursor in the failure message. */
void cursor_refused(kvstore_bucket *b, const char *prefix,
                    const char *cursor, const char *what);

/* The whole content of a small file into buf (NUL-terminated), or "" if
 * it cannot be read. */
void read_small(const char *path, char *buf, size_t cap);
/* Writes `text` to `path` (created or truncated); fails on error. */
void write_small(const char *path, const char *text);
/* The permission bits of `path` itself (lstat); fails if it is gone. */
mode_t mode_of(const char *path);
/* Number of entries in a directory other than "." and "..". */
int count_entries(const char *dir);
/* /proc/PID/cmdline into buf with NULs turned into spaces ("" if the
 * process is gone): what ps shows of a child's arguments. */
void proc_cmdline(int pid, char *buf, size_t cap);

/* Runs `path` with `argv` (stdout and stderr to /dev/null) and `input`
 * on its stdin once its command line (as ps shows it) holds `visible`
 * and not `secret`, or after 10 s without (no timing is asserted); the
 * CLI masks a password in its argv before it reads stdin. Fails the test
 * if the secret never left the command line. Returns the exit status
 * (-1 if killed). */
int run_masked(const char *path, char *const argv[], const char *input,
               const char *visible, const char *secret);

#endif /* KVS_TEST_SUPPORT_H */

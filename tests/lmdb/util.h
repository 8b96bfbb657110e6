/*
 * Helpers shared by the lmdb backend tests: a fresh temporary directory
 * per test, removed afterwards, and store/bucket shortcuts.
 *
 * SPDX-License-Identifier: MIT
 */
#ifndef KVLM_TEST_UTIL_H
#define KVLM_TEST_UTIL_H

#include <ftw.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include <kvstore/kvstore.h>

/* A temporary directory: created by tmp_new (mkdtemp), removed with
 * everything in it by tmp_free. The string is owned by the caller. */
static inline char *tmp_new(void)
{
    const char *base = getenv("TMPDIR");
    char buf[4096];
    snprintf(buf, sizeof buf, "%s/kvlm-test-XXXXXX", base ? base : "/tmp");
    char *dir = mkdtemp(buf);
    assert_non_null(dir);
    return strdup(dir);
}

static inline int tmp_rm_one(const char *path, const struct stat *st,
                             int flag, struct FTW *ftw)
{
    (void)st; (void)flag; (void)ftw;
    remove(path);
    return 0;
}

static inline void tmp_free(char *dir)
{
    if (dir == NULL)
        return;
    nftw(dir, tmp_rm_one, 16, FTW_DEPTH | FTW_PHYS);
    free(dir);
}

/* Opens "lmdb://<dir><suffix>" and fails the test on error. */
static inline kvstore_store *open_store(const char *dir, const char *suffix)
{
    char uri[8400];
    kvstore_store *s = NULL;
    snprintf(uri, sizeof uri, "lmdb://%s%s", dir, suffix ? suffix : "");
    int rc = kvstore_open(&s, uri);
    if (rc != KVSTORE_OK)
        fail_msg("open %s: %s", uri, kvstore_errmsg());
    return s;
}

static inline kvstore_bucket *open_bucket(kvstore_store *s, const char *name)
{
    kvstore_bucket *b = NULL;
    int rc = kvstore_bucket_open(&b, s, name);
    if (rc != KVSTORE_OK)
        fail_msg("bucket_open %s: %s", name, kvstore_errmsg());
    return b;
}

static inline void set_str(kvstore_bucket *b, const char *key, const char *v)
{
    int rc = kvstore_set(b, key, v, strlen(v));
    if (rc != KVSTORE_OK)
        fail_msg("set: %s", kvstore_errmsg());
}

/* Asserts that `key` holds exactly the string `want`. */
static inline void expect_str(kvstore_bucket *b, const char *key,
                              const char *want)
{
    void *v = NULL;
    size_t len = 0;
    int rc = kvstore_get(b, key, &v, &len);
    if (rc != KVSTORE_OK)
        fail_msg("get %s: rc %d %s", key, rc, kvstore_errmsg());
    assert_int_equal(len, strlen(want));
    assert_memory_equal(v, want, len);
    kvstore_free(v);
}

#endif /* KVLM_TEST_UTIL_H */

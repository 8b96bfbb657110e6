/*
 * Helpers shared by the sqlite backend tests: a fresh temporary directory
 * per test (removed afterwards) holding the database file, and
 * store/bucket shortcuts that fail the test on error.
 *
 * SPDX-License-Identifier: MIT
 */
#ifndef KVSQ_TEST_UTIL_H
#define KVSQ_TEST_UTIL_H

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

/* A temporary directory (mkdtemp); the string is owned by the caller and
 * released, with the directory and everything in it, by tmp_free. */
static inline char *tmp_new(void)
{
    const char *base = getenv("TMPDIR");
    char buf[4096];
    snprintf(buf, sizeof buf, "%s/kvsq-test-XXXXXX", base ? base : "/tmp");
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

/* "sqlite://<dir>/kv.db<suffix>" into buf. */
static inline void db_uri(char *buf, size_t cap, const char *dir,
                          const char *suffix)
{
    snprintf(buf, cap, "sqlite://%s/kv.db%s", dir, suffix ? suffix : "");
}

static inline kvstore_store *open_store(const char *dir, const char *suffix)
{
    char uri[4400];
    kvstore_store *s = NULL;
    db_uri(uri, sizeof uri, dir, suffix);
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
        fail_msg("bucket %s: %s", name, kvstore_errmsg());
    return b;
}

static inline void set_str(kvstore_bucket *b, const char *key, const char *v)
{
    int rc = kvstore_set(b, key, v, strlen(v));
    if (rc != KVSTORE_OK)
        fail_msg("set %s: %s", key, kvstore_errmsg());
}

/* Asserts that `key` holds exactly the string `v`. */
static inline void assert_str(kvstore_bucket *b, const char *key,
                              const char *v)
{
    void *got = NULL;
    size_t len = 0;
    int rc = kvstore_get(b, key, &got, &len);
    if (rc != KVSTORE_OK)
        fail_msg("get %s: %d %s", key, rc, kvstore_errmsg());
    if (len != strlen(v) || memcmp(got, v, len) != 0)
        fail_msg("get %s: got '%.*s', want '%s'", key, (int)len,
                 (const char *)got, v);
    kvstore_free(got);
}

#endif /* KVSQ_TEST_UTIL_H */

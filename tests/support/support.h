/*
 * Helpers shared by the test programs: temporary directories, store and
 * bucket shortcuts, and small file checks. docs/security.md maps each
 * threat to the test that proves the answer.
 *
 * SPDX-License-Identifier: MIT
 */
#ifndef KVS_TEST_SUPPORT_H
#define KVS_TEST_SUPPORT_H

#include <dirent.h>
#include <ftw.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include <kvstore/kvstore.h>

/* A fresh directory (mkdtemp); tmp_free removes it with its contents
 * without following symlinks. The string is owned by the caller. */
static inline char *tmp_new(void)
{
    const char *base = getenv("TMPDIR");
    char buf[4096];

    snprintf(buf, sizeof buf, "%s/kvs-sec-XXXXXX", base ? base : "/tmp");
    assert_non_null(mkdtemp(buf));
    char *dir = strdup(buf);
    assert_non_null(dir);
    return dir;
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

static inline kvstore_store *open_uri(const char *uri)
{
    kvstore_store *s = NULL;
    int rc = kvstore_open(&s, uri);

    if (rc != KVSTORE_OK)
        fail_msg("open %s: %s", uri, kvstore_errmsg());
    return s;
}

/* file://DIR?sync=false (durability is not what these tests check). */
static inline kvstore_store *open_file_store(const char *dir)
{
    char uri[4200];

    snprintf(uri, sizeof uri, "file://%s?sync=false", dir);
    return open_uri(uri);
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
        fail_msg("set %s: %s", key, kvstore_errmsg());
}

/* Asserts `key` holds exactly `want`. */
static inline void expect_str(kvstore_bucket *b, const char *key,
                              const char *want)
{
    void *v = NULL;
    size_t len = 0;
    int rc = kvstore_get(b, key, &v, &len);

    if (rc != KVSTORE_OK)
        fail_msg("get %s: %s", key, kvstore_errmsg());
    assert_int_equal(len, strlen(want));
    assert_memory_equal(v, want, len);
    kvstore_free(v);
}

/* The whole content of a small file, or "" if it cannot be read. */
static inline void read_small(const char *path, char *buf, size_t cap)
{
    FILE *f = fopen(path, "r");
    size_t n = 0;

    if (f) {
        n = fread(buf, 1, cap - 1, f);
        fclose(f);
    }
    buf[n] = '\0';
}

static inline void write_small(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");

    assert_non_null(f);
    fputs(text, f);
    assert_int_equal(fclose(f), 0);
}

/* Number of entries in a directory other than "." and "..". */
static inline int count_entries(const char *dir)
{
    DIR *d = opendir(dir);
    struct dirent *de;
    int n = 0;

    assert_non_null(d);
    while ((de = readdir(d)) != NULL)
        if (strcmp(de->d_name, ".") != 0 && strcmp(de->d_name, "..") != 0)
            n++;
    closedir(d);
    return n;
}

#endif /* KVS_TEST_SUPPORT_H */

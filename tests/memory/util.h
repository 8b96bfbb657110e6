/*
 * Helpers shared by the memory backend tests. Every test uses the public
 * API only (plus the cursor envelope from <kvstore/backend.h> to forge
 * cursors).
 *
 * SPDX-License-Identifier: MIT
 */
#ifndef MEMORY_TEST_UTIL_H
#define MEMORY_TEST_UTIL_H

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <kvstore/kvstore.h>

static inline kvstore_store *open_store(const char *uri)
{
    kvstore_store *s = NULL;

    assert_int_equal(kvstore_open(&s, uri), KVSTORE_OK);
    assert_non_null(s);
    return s;
}

static inline kvstore_bucket *open_bucket(kvstore_store *s, const char *name)
{
    kvstore_bucket *b = NULL;

    assert_int_equal(kvstore_bucket_open(&b, s, name), KVSTORE_OK);
    assert_non_null(b);
    return b;
}

static inline void set_str(kvstore_bucket *b, const char *key,
                           const char *value)
{
    assert_int_equal(kvstore_set(b, key, value, strlen(value)), KVSTORE_OK);
}

/* Asserts that `key` holds exactly the string `want` (NULL: absent). */
static inline void expect_str(kvstore_bucket *b, const char *key,
                              const char *want)
{
    void *v = NULL;
    size_t len = 0;
    int rc = kvstore_get(b, key, &v, &len);

    if (!want) {
        assert_int_equal(rc, KVSTORE_NOTFOUND);
        assert_null(v);
        return;
    }
    assert_int_equal(rc, KVSTORE_OK);
    assert_non_null(v);
    assert_int_equal(len, strlen(want));
    assert_memory_equal(v, want, len);
    kvstore_free(v);
}

#endif

/*
 * Conformance: keys, values and the store interface (API.md 4, 5).
 *
 * SPDX-License-Identifier: MIT
 */
#include "harness.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void test_set_get_roundtrip(void **state)
{
    conf_ctx *c = *state;
    assert_int_equal(kvstore_set(c->bucket, "hello", "world", 5), KVSTORE_OK);
    assert_value(c->bucket, "hello", "world", 5);
    /* The library keeps no reference to the caller's buffer. */
    char buf[] = "mutable";
    assert_int_equal(kvstore_set(c->bucket, "m", buf, 7), KVSTORE_OK);
    memset(buf, 'X', 7);
    assert_value(c->bucket, "m", "mutable", 7);
}

void test_set_replaces(void **state)
{
    conf_ctx *c = *state;
    assert_int_equal(kvstore_set(c->bucket, "k", "a longer value", 14),
                     KVSTORE_OK);
    assert_int_equal(kvstore_set(c->bucket, "k", "short", 5), KVSTORE_OK);
    assert_value(c->bucket, "k", "short", 5);
    assert_int_equal(kvstore_set(c->bucket, "k", "", 0), KVSTORE_OK);
    assert_value(c->bucket, "k", "", 0);
}

void test_get_missing(void **state)
{
    conf_ctx *c = *state;
    assert_absent(c->bucket, "never-set");
}

void test_delete_missing_ok(void **state)
{
    conf_ctx *c = *state;
    assert_int_equal(kvstore_delete(c->bucket, "never-set"), KVSTORE_OK);
    assert_int_equal(kvstore_delete(c->bucket, "never-set"), KVSTORE_OK);
}

void test_delete_then_get(void **state)
{
    conf_ctx *c = *state;
    assert_int_equal(kvstore_set(c->bucket, "d", "x", 1), KVSTORE_OK);
    assert_int_equal(kvstore_delete(c->bucket, "d"), KVSTORE_OK);
    assert_absent(c->bucket, "d");
    conf_set *seen = conf_list_all(c->bucket, NULL);
    assert_int_equal(conf_set_count(seen, "d"), 0);
    conf_set_free(seen);
    /* A deleted key can be set again. */
    assert_int_equal(kvstore_set(c->bucket, "d", "y", 1), KVSTORE_OK);
    assert_value(c->bucket, "d", "y", 1);
}

void test_exists_present_absent(void **state)
{
    conf_ctx *c = *state;
    bool e = true;
    assert_int_equal(kvstore_exists(c->bucket, "e", &e), KVSTORE_OK);
    assert_false(e);
    assert_int_equal(kvstore_set(c->bucket, "e", "", 0), KVSTORE_OK);
    assert_int_equal(kvstore_exists(c->bucket, "e", &e), KVSTORE_OK);
    assert_true(e);
    assert_int_equal(kvstore_delete(c->bucket, "e"), KVSTORE_OK);
    e = true;
    assert_int_equal(kvstore_exists(c->bucket, "e", &e), KVSTORE_OK);
    assert_false(e);
}

/* Every operation that takes a key rejects `key` with EINVAL. */
static void key_rejected(kvstore_bucket *b, const char *key, const char *what)
{
    void *v = (void *)1;
    size_t n = 7;
    bool e = true;
    int64_t r = 0;
    kvstore_cas *cas = NULL;
    int rc = kvstore_get(b, key, &v, &n);
    if (rc != KVSTORE_EINVAL)
        fail_msg("get(%s) = %d, expected EINVAL", what, rc);
    assert_fails(kvstore_set(b, key, "v", 1), KVSTORE_EINVAL);
    assert_fails(kvstore_delete(b, key), KVSTORE_EINVAL);
    assert_fails(kvstore_exists(b, key, &e), KVSTORE_EINVAL);
    assert_false(e);
    assert_fails(kvstore_increment(b, key, 1, &r), KVSTORE_EINVAL);
    rc = kvstore_cas_open(&cas, b, key);
    if (rc == KVSTORE_OK)
        kvstore_cas_free(cas);
    if (rc != KVSTORE_EINVAL)
        fail_msg("cas_open(%s) = %d, expected EINVAL", what, rc);
}

void test_keys_invalid(void **state)
{
    conf_ctx *c = *state;
    static const struct { const char *key, *what; } bad[] = {
        { "", "empty" },
        { "\xc0\xaf", "overlong 2-byte '/'" },
        { "a\xc0\x80", "overlong NUL" },
        { "\xe0\x80\xaf", "overlong 3-byte" },
        { "\xf0\x80\x80\xaf", "overlong 4-byte" },
        { "\xed\xa0\x80", "high surrogate" },
        { "\xed\xbf\xbf", "low surrogate" },
        { "\xe2\x82", "truncated 3-byte" },
        { "ab\xc3", "truncated at end" },
        { "\xf0\x9f\x98", "truncated 4-byte" },
        { "\x80", "lone continuation" },
        { "a\xbfz", "continuation in ASCII" },
        { "\xff", "0xFF" },
        { "\xfe", "0xFE" },
        { "x\xffy", "0xFF inside" },
        { "\xf4\x90\x80\x80", "above U+10FFFF" },
        { "\xf8\x88\x80\x80\x80", "5-byte form" },
        { "\xc3(", "bad continuation" },
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        key_rejected(c->bucket, bad[i].key, bad[i].what);

    char long_key[KVSTORE_KEY_MAX + 2];
    memset(long_key, 'k', KVSTORE_KEY_MAX + 1);
    long_key[KVSTORE_KEY_MAX + 1] = '\0';
    key_rejected(c->bucket, long_key, "1025 bytes");
    /* 1025 bytes made of multi-byte characters: bytes count, not chars. */
    memset(long_key, 'k', KVSTORE_KEY_MAX - 1);
    memcpy(long_key + KVSTORE_KEY_MAX - 1, "\xc3\xa9", 3);
    assert_int_equal(strlen(long_key), KVSTORE_KEY_MAX + 1);
    key_rejected(c->bucket, long_key, "1025 bytes ending in e-acute");

    /* Nothing was written by any of the rejected calls. */
    conf_set *seen = conf_list_all(c->bucket, NULL);
    assert_int_equal(conf_set_size(seen), 0);
    conf_set_free(seen);
}

/* Sets `key`, reads it back, finds it in a listing, deletes it. */
static void key_roundtrip(kvstore_bucket *b, const char *key)
{
    size_t len = strlen(key);
    assert_int_equal(kvstore_set(b, key, key, len), KVSTORE_OK);
    assert_value(b, key, key, len);
    conf_set *seen = conf_list_all(b, NULL);
    if (conf_set_count(seen, key) != 1 || conf_set_size(seen) != 1)
        fail_msg("listing does not return exactly the %zu-byte key", len);
    conf_set_free(seen);
    assert_int_equal(kvstore_delete(b, key), KVSTORE_OK);
    assert_absent(b, key);
}

void test_key_1024_bytes(void **state)
{
    conf_ctx *c = *state;
    char key[KVSTORE_KEY_MAX + 1];
    memset(key, 'k', KVSTORE_KEY_MAX);
    key[KVSTORE_KEY_MAX] = '\0';
    key_roundtrip(c->bucket, key);
    /* 341 three-byte characters and one byte: far over any file name
     * limit once encoded. */
    for (int i = 0; i < 341; i++)
        memcpy(key + 3 * i, "\xe2\x82\xac", 3);
    key[1023] = 'a';
    key[1024] = '\0';
    key_roundtrip(c->bucket, key);
    /* 256 four-byte characters. */
    for (int i = 0; i < 256; i++)
        memcpy(key + 4 * i, "\xf0\x9f\x98\x80", 4);
    key[1024] = '\0';
    key_roundtrip(c->bucket, key);
    /* Slashes only: a path of 1024 separators. */
    memset(key, '/', KVSTORE_KEY_MAX);
    key[KVSTORE_KEY_MAX] = '\0';
    key_roundtrip(c->bucket, key);
    /* Two long keys differing only in the last byte stay distinct. */
    memset(key, 'z', KVSTORE_KEY_MAX);
    char key2[KVSTORE_KEY_MAX + 1];
    memcpy(key2, key, sizeof key);
    key2[KVSTORE_KEY_MAX - 1] = 'y';
    assert_int_equal(kvstore_set(c->bucket, key, "1", 1), KVSTORE_OK);
    assert_int_equal(kvstore_set(c->bucket, key2, "2", 1), KVSTORE_OK);
    assert_value(c->bucket, key, "1", 1);
    assert_value(c->bucket, key2, "2", 1);
}

/* Every character class the contract names, alone and in combination. */
static const char *const special_keys[] = {
    "/", ".", "..", " ", "*", ">", "?", "[", ":", "%", "%%", "%2F", "%00",
    "%zz", "a/b", "a/b/c", "/leading", "trailing/", "//double", "./x",
    "../x", "../../etc/passwd", "a/../../b", "x/..", ".hidden", "..hidden",
    "...", "with space", " leading space", "trailing space ", "*glob*",
    "a*b", "[abc]", "]", "a?", "?*[", "key:with:colons", "a.>",
    "foo.*", "$", "$dollar", "~tilde", "back\\slash", "quote\"s", "it's",
    "#hash", "&amp", "a=b", "a+b", "a,b", ";semi", "@at", "!bang",
    "{brace}", "|pipe", "^caret", "`tick`", "tab\there", "new\nline",
    "cr\rreturn", "\x01\x02\x1f", "\x7f", "\xc3\xa9t\xc3\xa9",
    "\xe2\x82\xac", "\xf0\x9f\x98\x80", "\xe6\x97\xa5\xe6\x9c\xac",
    "\xef\xbf\xbf", "\xf4\x8f\xbf\xbf", "\xc2\x80", "\xd7\xa9\xd7\x9c",
    "Key", "key", "KEY", "_", "-", "-dash", "__", ".tmp", ".tmp.1234",
    "x.tmp", "~", "con", "nul", "aux", "lpt1",
};
#define N_SPECIAL (sizeof special_keys / sizeof special_keys[0])

void test_keys_special_roundtrip(void **state)
{
    conf_ctx *c = *state;
    for (size_t i = 0; i < N_SPECIAL; i++) {
        char v[16];
        int n = snprintf(v, sizeof v, "v%zu", i);
        if (kvstore_set(c->bucket, special_keys[i], v, (size_t)n) !=
            KVSTORE_OK)
            fail_msg("set(key #%zu) failed: %s", i, kvstore_errmsg());
    }
    for (size_t i = 0; i < N_SPECIAL; i++) {
        char v[16];
        int n = snprintf(v, sizeof v, "v%zu", i);
        assert_value(c->bucket, special_keys[i], v, (size_t)n);
        bool e = false;
        assert_int_equal(kvstore_exists(c->bucket, special_keys[i], &e),
                         KVSTORE_OK);
        assert_true(e);
    }
    /* The listing returns exactly the keys that were set, byte for byte. */
    conf_set *seen = conf_list_all(c->bucket, NULL);
    for (size_t i = 0; i < N_SPECIAL; i++)
        if (conf_set_count(seen, special_keys[i]) == 0)
            fail_msg("key #%zu missing from the listing", i);
    assert_int_equal(conf_set_size(seen), N_SPECIAL);
    conf_set_free(seen);
    for (size_t i = 0; i < N_SPECIAL; i++)
        assert_int_equal(kvstore_delete(c->bucket, special_keys[i]),
                         KVSTORE_OK);
    for (size_t i = 0; i < N_SPECIAL; i++)
        assert_absent(c->bucket, special_keys[i]);
    seen = conf_list_all(c->bucket, NULL);
    assert_int_equal(conf_set_size(seen), 0);
    conf_set_free(seen);
}

void test_keys_similar_distinct(void **state)
{
    conf_ctx *c = *state;
    /* Pairs a lossy encoding would merge: a key and its "directory", a
     * key and its escaped spelling, case variants. */
    static const char *const keys[] = {
        "a", "a/", "a/b", "a%2Fb", "a_b", "a-b", "a.b", "a b", "A",
        "a%", "a%25", "%61", "a\\b", "a//b", "a/./b",
    };
    const size_t n = sizeof keys / sizeof keys[0];
    for (size_t i = 0; i < n; i++)
        assert_int_equal(kvstore_set(c->bucket, keys[i], &i, sizeof i),
                         KVSTORE_OK);
    for (size_t i = 0; i < n; i++)
        assert_value(c->bucket, keys[i], &i, sizeof i);
    conf_set *seen = conf_list_all(c->bucket, NULL);
    assert_int_equal(conf_set_size(seen), n);
    conf_set_free(seen);
}

void test_value_empty(void **state)
{
    conf_ctx *c = *state;
    assert_int_equal(kvstore_set(c->bucket, "empty", "", 0), KVSTORE_OK);
    void *v = NULL;
    size_t n = 99;
    assert_int_equal(kvstore_get(c->bucket, "empty", &v, &n), KVSTORE_OK);
    assert_non_null(v);
    assert_int_equal(n, 0);
    kvstore_free(v);
    /* NULL with length 0 is an empty value too. */
    assert_int_equal(kvstore_set(c->bucket, "empty2", NULL, 0), KVSTORE_OK);
    v = NULL;
    n = 99;
    assert_int_equal(kvstore_get(c->bucket, "empty2", &v, &n), KVSTORE_OK);
    assert_non_null(v);
    assert_int_equal(n, 0);
    kvstore_free(v);
    bool e = false;
    assert_int_equal(kvstore_exists(c->bucket, "empty2", &e), KVSTORE_OK);
    assert_true(e);
}

void test_value_binary(void **state)
{
    conf_ctx *c = *state;
    unsigned char all[256 * 2];
    for (size_t i = 0; i < sizeof all; i++)
        all[i] = (unsigned char)(i % 256);
    assert_int_equal(kvstore_set(c->bucket, "bin", all, sizeof all),
                     KVSTORE_OK);
    assert_value(c->bucket, "bin", all, sizeof all);
    static const char nuls[] = { 0, 0, 'x', 0, '\n', 0 };
    assert_int_equal(kvstore_set(c->bucket, "nuls", nuls, sizeof nuls),
                     KVSTORE_OK);
    assert_value(c->bucket, "nuls", nuls, sizeof nuls);
    assert_int_equal(kvstore_set(c->bucket, "one-nul", "", 1), KVSTORE_OK);
    assert_value(c->bucket, "one-nul", "", 1);
}

void test_value_1mib(void **state)
{
    conf_ctx *c = *state;
    /* 1 MiB less a little: NATS counts headers against max_payload; the
     * contract promises at least 1 MiB for the other backends. */
    const size_t len = strncmp(conf_uri, "nats", 4) == 0
                           ? 1024 * 1024 - 4096 : 1024 * 1024;
    unsigned char *big = malloc(len);
    assert_non_null(big);
    for (size_t i = 0; i < len; i++)
        big[i] = (unsigned char)((i * 2654435761u) >> 13);
    int rc = kvstore_set(c->bucket, "big", big, len);
    if (rc != KVSTORE_OK) {
        free(big);
        fail_msg("set of %zu bytes = %d: %s", len, rc, kvstore_errmsg());
    }
    void *v = NULL;
    size_t n = 0;
    assert_int_equal(kvstore_get(c->bucket, "big", &v, &n), KVSTORE_OK);
    assert_int_equal(n, len);
    assert_memory_equal(v, big, len);
    kvstore_free(v);
    free(big);
}

void test_value_null_with_len(void **state)
{
    conf_ctx *c = *state;
    assert_fails(kvstore_set(c->bucket, "k", NULL, 1), KVSTORE_EINVAL);
    assert_fails(kvstore_set(c->bucket, "k", NULL, 1024), KVSTORE_EINVAL);
    assert_absent(c->bucket, "k");
}

void test_read_your_writes_two_buckets(void **state)
{
    conf_ctx *c = *state;
    kvstore_bucket *b2 = conf_second_bucket(c, c->store);
    for (int i = 0; i < 20; i++) {
        char v[8];
        int n = snprintf(v, sizeof v, "%d", i);
        assert_int_equal(kvstore_set(c->bucket, "ryw", v, (size_t)n),
                         KVSTORE_OK);
        assert_value(b2, "ryw", v, (size_t)n);
        bool e = false;
        assert_int_equal(kvstore_exists(b2, "ryw", &e), KVSTORE_OK);
        assert_true(e);
        assert_int_equal(kvstore_delete(b2, "ryw"), KVSTORE_OK);
        assert_absent(c->bucket, "ryw");
    }
}

void test_second_handle_sees_writes(void **state)
{
    conf_ctx *c = *state;
    kvstore_bucket *b2 = conf_second_bucket(c, conf_second_store(c));
    assert_int_equal(kvstore_set(c->bucket, "shared", "1", 1), KVSTORE_OK);
    assert_value(b2, "shared", "1", 1);
    assert_int_equal(kvstore_set(b2, "shared", "22", 2), KVSTORE_OK);
    assert_value(c->bucket, "shared", "22", 2);
    conf_set *seen = conf_list_all(b2, NULL);
    assert_int_equal(conf_set_count(seen, "shared"), 1);
    conf_set_free(seen);
    assert_int_equal(kvstore_delete(b2, "shared"), KVSTORE_OK);
    assert_absent(c->bucket, "shared");
}

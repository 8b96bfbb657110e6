/*
 * File backend: the key -> file name encoding. Unit checks of the hidden
 * encoder (canonical names only, both forms, the 200/201-byte boundary)
 * and round trips of hostile keys through the public API.
 *
 * SPDX-License-Identifier: MIT
 */
#include <dirent.h>

#include "util.h"
#include "file.h"

static void expect_name(const char *key, const char *want)
{
    char name[KVF_NAME_BUF], back[KVSTORE_KEY_MAX + 1];
    kvf_name_encode(key, strlen(key), name);
    assert_string_equal(name, want);
    assert_int_equal(kvf_name_decode(name, back), strlen(key));
    assert_string_equal(back, key);
}

static void test_escaped_names(void **state)
{
    (void)state;
    expect_name("abc-XYZ_09", "abc-XYZ_09");
    expect_name("..", "%2E%2E");
    expect_name(".", "%2E");
    expect_name("/", "%2F");
    expect_name("%2F", "%252F");
    expect_name("a/../b", "a%2F%2E%2E%2Fb");
    expect_name(".hidden", "%2Ehidden");
    expect_name("a b", "a%20b");
    expect_name("~", "%7E");
    expect_name("\xc3\xa9", "%C3%A9"); /* é */
}

static void test_decode_rejects_noncanonical(void **state)
{
    (void)state;
    char key[KVSTORE_KEY_MAX + 1];
    const char *bad[] = {
        "",        /* empty key */
        "%2e",     /* lower-case hex is not what the encoder writes */
        "%41",     /* 'A' is never escaped */
        "%00",     /* NUL is no key byte */
        "a%2",     /* truncated escape */
        "a%",      /* truncated escape */
        "%C3",     /* invalid UTF-8 */
        "%ED%A0%80", /* a surrogate */
        "a.b",     /* '.' must be escaped */
        "a b",     /* ' ' must be escaped */
        "~abc",    /* not a hashed name, not escaped */
        ".lock",
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
        if (kvf_name_decode(bad[i], key) != 0)
            fail_msg("'%s' decoded", bad[i]);
    /* 201 safe bytes: a key this long gets a hashed name instead */
    char longname[202];
    memset(longname, 'a', 201);
    longname[201] = '\0';
    assert_int_equal(kvf_name_decode(longname, key), 0);
    longname[200] = '\0';
    assert_int_equal(kvf_name_decode(longname, key), 200);
}

static void test_hashed_boundary(void **state)
{
    (void)state;
    char key[KVSTORE_KEY_MAX + 1], name[KVF_NAME_BUF];
    /* 66 dots = 198 bytes, + "ab" = 200: still escaped */
    memset(key, '.', 66);
    strcpy(key + 66, "ab");
    kvf_name_encode(key, strlen(key), name);
    assert_int_equal(strlen(name), 200);
    assert_false(kvf_name_is_hashed(name));
    /* one more escaped byte: hashed */
    memset(key, '.', 67);
    key[67] = '\0';
    kvf_name_encode(key, 67, name);
    assert_int_equal(strlen(name), KVF_NAME_HASHED_LEN);
    assert_true(kvf_name_is_hashed(name));
    assert_true(kvf_name_matches(name, key, 67));
    assert_false(kvf_name_matches(name, key, 66));
    /* the hash is SHA-256 (FIPS 180-4 test vector "abc") */
    uint8_t d[32];
    kvf_sha256("abc", 3, d);
    assert_int_equal(d[0], 0xba);
    assert_int_equal(d[31], 0xad);
    kvf_sha256("", 0, d);
    assert_int_equal(d[0], 0xe3);
    assert_int_equal(d[31], 0x55);
}

/* 1024-byte keys made of 256 four-byte characters, differing only at the
 * end, and other hostile keys: all stored, listed and read back exactly,
 * and no file name is unsafe. */
static void test_round_trip(void **state)
{
    tmp_store *t = *state;
    kvstore_bucket *b = t->b;
    static char long1[1025], long2[1025], long3[1025];
    for (int i = 0; i < 256; i++) {
        memcpy(long1 + 4 * i, "\xf0\x9f\x98\x80", 4); /* U+1F600 */
        memcpy(long2 + 4 * i, "\xf0\x9f\x98\x80", 4);
    }
    memcpy(long2 + 1020, "\xf0\x9f\x98\x81", 4);
    memset(long3, '/', 1024);
    const char *keys[] = {"..", ".", "/", "a/../b", ".hidden", "%2F",
                          "%", "%%", " ", "a b", "*", ">", "?", "[", ":",
                          "\\", "~", ".tmp.0011223344556677", ".lock",
                          "\xe6\x97\xa5\xe6\x9c\xac", "ключ", "CamelCase",
                          "camelcase", long1, long2, long3};
    size_t n = sizeof keys / sizeof *keys;
    for (size_t i = 0; i < n; i++) {
        char v[16];
        snprintf(v, sizeof v, "v%zu", i);
        set_str(b, keys[i], v);
    }
    for (size_t i = 0; i < n; i++) {
        char v[16];
        snprintf(v, sizeof v, "v%zu", i);
        expect_str(b, keys[i], v);
    }

    /* listing returns exactly the keys that were set */
    kvstore_keys *page = NULL;
    assert_int_equal(kvstore_list_keys(b, NULL, NULL, 0, &page), KVSTORE_OK);
    assert_int_equal(page->count, n);
    assert_null(page->cursor);
    for (size_t i = 0; i < n; i++) {
        bool seen = false;
        for (size_t j = 0; j < page->count; j++)
            seen |= strcmp(page->keys[j], keys[i]) == 0;
        if (!seen)
            fail_msg("key %zu not listed", i);
    }
    for (size_t j = 1; j < page->count; j++)
        assert_true(strcmp(page->keys[j - 1], page->keys[j]) < 0);
    kvstore_keys_free(page);

    /* on disk: one file per key plus the lock file, every name safe */
    char path[4200];
    snprintf(path, sizeof path, "%s/enc", t->dir);
    DIR *d = opendir(path);
    assert_non_null(d);
    size_t files = 0;
    struct dirent *de;
    while ((de = readdir(d)) != NULL) {
        if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
            continue;
        if (!strcmp(de->d_name, ".lock"))
            continue;
        files++;
        assert_true(de->d_name[0] != '.');
        assert_null(strchr(de->d_name, '/'));
        assert_true(strlen(de->d_name) <= 200);
    }
    closedir(d);
    assert_int_equal(files, n);

    for (size_t i = 0; i < n; i++)
        assert_int_equal(kvstore_delete(b, keys[i]), KVSTORE_OK);
    expect_listed(b, NULL, "");
}

/* A long key's file renamed to another long key's name must not make
 * that key appear with the wrong value. */
static void test_hashed_record_checks_key(void **state)
{
    tmp_store *t = *state;
    char from[4300], to[4300];
    char k1[301], k2[301], n1[KVF_NAME_BUF], n2[KVF_NAME_BUF];
    memset(k1, '.', 300);
    k1[300] = '\0';
    memcpy(k2, k1, sizeof k2);
    k2[299] = '!';
    kvstore_bucket *b = t->b;
    set_str(b, k1, "one");
    kvf_name_encode(k1, 300, n1);
    kvf_name_encode(k2, 300, n2);
    snprintf(from, sizeof from, "%s/h/%s", t->dir, n1);
    snprintf(to, sizeof to, "%s/h/%s", t->dir, n2);
    assert_int_equal(rename(from, to), 0);
    void *v = NULL;
    size_t len;
    assert_int_equal(kvstore_get(b, k2, &v, &len), KVSTORE_EIO);
    assert_null(v);
    expect_listed(b, NULL, "");
}

/* Appends the UTF-8 encoding of code point `cp` to `s`; returns bytes. */
static size_t put_utf8(char *s, unsigned cp)
{
    if (cp < 0x80) {
        s[0] = (char)cp;
        return 1;
    }
    if (cp < 0x800) {
        s[0] = (char)(0xC0 | cp >> 6);
        s[1] = (char)(0x80 | (cp & 0x3F));
        return 2;
    }
    if (cp < 0x10000) {
        s[0] = (char)(0xE0 | cp >> 12);
        s[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
        s[2] = (char)(0x80 | (cp & 0x3F));
        return 3;
    }
    s[0] = (char)(0xF0 | cp >> 18);
    s[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
    s[2] = (char)(0x80 | ((cp >> 6) & 0x3F));
    s[3] = (char)(0x80 | (cp & 0x3F));
    return 4;
}

static unsigned random_cp(unsigned *seed)
{
    static const char ascii[] = "aZ09_-./%~ *?[:\\>";
    switch (rand_r(seed) % 4) {
    case 0:
    case 1:
        return (unsigned char)ascii[rand_r(seed) % (sizeof ascii - 1)];
    case 2:
        return 1 + rand_r(seed) % 0x7F; /* any ASCII but NUL */
    default: {
        unsigned cp = 0x80 + rand_r(seed) % (0x10FFFF - 0x80);
        return cp >= 0xD800 && cp <= 0xDFFF ? 0xE9 : cp;
    }
    }
}

static int cmp_names(const void *a, const void *b)
{
    return strcmp(a, b);
}

/* Random valid keys: every escaped name decodes back to its key, every
 * hashed name is recognised and matches only its key, and no two
 * distinct keys share a name. */
static void test_random_round_trip_and_injective(void **state)
{
    (void)state;
    enum { N = 20000 };
    static char names[N][KVF_NAME_BUF];
    static char keys[N][KVSTORE_KEY_MAX + 1];
    unsigned seed = 20261125;
    for (int i = 0; i < N; i++) {
        size_t len = 0, want = 1 + rand_r(&seed) % (i % 10 == 0 ? 1020 : 40);
        while (len < want) {
            char u[4];
            size_t n = put_utf8(u, random_cp(&seed));
            if (len + n > KVSTORE_KEY_MAX)
                break;
            memcpy(keys[i] + len, u, n);
            len += n;
        }
        keys[i][len] = '\0';
        char *k = keys[i], back[KVSTORE_KEY_MAX + 1];
        kvf_name_encode(k, len, names[i]);
        assert_true(strlen(names[i]) <= KVF_NAME_DIRECT_MAX);
        assert_true(names[i][0] != '.');
        assert_null(strchr(names[i], '/'));
        if (kvf_name_is_hashed(names[i])) {
            assert_int_equal(kvf_name_decode(names[i], back), 0);
            assert_true(kvf_name_matches(names[i], k, len));
        } else {
            assert_int_equal(kvf_name_decode(names[i], back), len);
            assert_memory_equal(back, k, len + 1);
        }
    }
    /* distinct keys, distinct names */
    qsort(keys, N, sizeof keys[0], cmp_names);
    size_t distinct = 0;
    for (int i = 0; i < N; i++)
        if (i == 0 || strcmp(keys[i], keys[i - 1]) != 0)
            kvf_name_encode(keys[i], strlen(keys[i]), names[distinct++]);
    qsort(names, distinct, sizeof names[0], cmp_names);
    for (size_t i = 1; i < distinct; i++)
        assert_true(strcmp(names[i], names[i - 1]) != 0);
}

/* Random names (as found on disk): whatever decodes is canonical, i.e.
 * re-encoding the key gives the very same name, so no other name can be
 * read as the same key. */
static void test_random_names_decode_canonically(void **state)
{
    (void)state;
    static const char alphabet[] = "%0123456789ABCDEFabcdef.-_~Zz/";
    unsigned seed = 7;
    int decoded = 0;
    for (int i = 0; i < 200000; i++) {
        char name[64], key[KVSTORE_KEY_MAX + 1], again[KVF_NAME_BUF];
        size_t len = 1 + rand_r(&seed) % 12;
        for (size_t j = 0; j < len; j++)
            name[j] = alphabet[rand_r(&seed) % (sizeof alphabet - 1)];
        name[len] = '\0';
        size_t klen = kvf_name_decode(name, key);
        if (klen == 0)
            continue;
        decoded++;
        kvf_name_encode(key, klen, again);
        assert_string_equal(again, name);
    }
    assert_true(decoded > 1000); /* the property was exercised */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_escaped_names),
        cmocka_unit_test(test_decode_rejects_noncanonical),
        cmocka_unit_test(test_hashed_boundary),
        STORE_TEST(test_round_trip, "file://{dir}?sync=false", "enc"),
        STORE_TEST(test_hashed_record_checks_key, "file://{dir}?sync=false",
                   "h"),
        cmocka_unit_test(test_random_round_trip_and_injective),
        cmocka_unit_test(test_random_names_decode_canonically),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

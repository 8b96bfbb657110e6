/*
 * Conformance: opening stores and buckets, URIs, bucket names, isolation
 * and NULL arguments (API.md 3).
 *
 * SPDX-License-Identifier: MIT
 */
#include "harness.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SENTINEL ((void *)0x1)

/* Opens `uri` expecting `code`; *out must come back NULL. */
void test_open_bad_uris(void **state)
{
    (void)state;
    open_fails(NULL, KVSTORE_EINVAL);
    open_fails("", KVSTORE_EINVAL);
    open_fails("no-scheme-at-all", KVSTORE_EINVAL);
    open_fails("/tmp/absolute/path", KVSTORE_EINVAL);
    open_fails(":empty-scheme", KVSTORE_EINVAL);
    open_fails("://host", KVSTORE_EINVAL);
    open_fails("1digit:", KVSTORE_EINVAL);
    open_fails("sp ace:", KVSTORE_EINVAL);
    /* A scheme is never a path: it must not reach the module loader as
     * one. */
    open_fails("../../tmp/evil:", KVSTORE_EINVAL);
    open_fails("a/b:", KVSTORE_EINVAL);
    assert_fails(kvstore_open(NULL, "memory:"), KVSTORE_EINVAL);
    assert_fails(kvstore_open(NULL, conf_uri), KVSTORE_EINVAL);
}

void test_open_unknown_scheme(void **state)
{
    (void)state;
    open_fails("nosuchscheme:", KVSTORE_ENOSTORE);
    open_fails("nosuchscheme://host/x", KVSTORE_ENOSTORE);
    open_fails("no-such.scheme+x:rel", KVSTORE_ENOSTORE);
}

void test_open_unknown_parameter(void **state)
{
    (void)state;
    conf_open_fails_with("bogus_param=1", KVSTORE_EINVAL);
    /* The message names the parameter the user got wrong. */
    assert_non_null(strstr(kvstore_errmsg(), "bogus_param"));
    conf_open_fails_with("bogus_flag", KVSTORE_EINVAL);
    open_fails("memory:?bogus=1", KVSTORE_EINVAL);
}

void test_open_duplicate_parameter(void **state)
{
    (void)state;
    conf_open_fails_with("create=true&create=true", KVSTORE_EINVAL);
    conf_open_fails_with("create=true&create=false", KVSTORE_EINVAL);
}

void test_open_bad_create_value(void **state)
{
    (void)state;
    conf_open_fails_with("create=maybe", KVSTORE_EINVAL);
    /* create=true is accepted by every backend. */
    char *uri = conf_uri_with("create=true");
    kvstore_store *s = NULL;
    assert_int_equal(kvstore_open(&s, uri), KVSTORE_OK);
    kvstore_close(s);
    free(uri);
}

/* Fails the test if the current error message reveals the secret, raw or
 * percent-encoded. */
static void assert_no_secret(const char *uri)
{
    const char *m = kvstore_errmsg();
    assert_non_null(m);
    if (strstr(m, "s3cr3tpw") || strstr(m, "s3cr3t%70w") ||
        strstr(m, "s3cr3t"))
        fail_msg("errmsg for %s leaks the password: %s", uri, m);
}

/* Opens `uri`; whatever the outcome, no message may reveal the secret.
 * With `must_fail`, the open must fail with EINVAL. */
static void try_secret_uri(const char *uri, bool must_fail)
{
    kvstore_store *s = NULL;
    int rc = kvstore_open(&s, uri);
    if (rc == KVSTORE_OK) {
        if (must_fail) {
            kvstore_close(s);
            fail_msg("kvstore_open(%s) succeeded", uri);
        }
        /* A store that accepted the credentials may still fail later. */
        kvstore_bucket *b = NULL;
        char name[KVSTORE_BUCKET_NAME_MAX + 1];
        conf_unique_name(name, sizeof name);
        if (kvstore_bucket_open(&b, s, name) != KVSTORE_OK)
            assert_no_secret(uri);
        kvstore_bucket_close(b);
        kvstore_close(s);
        return;
    }
    if (must_fail)
        assert_int_equal(rc, KVSTORE_EINVAL);
    assert_no_secret(uri);
}

/* Builds "<scheme>://<userinfo>@<host of conf_uri><rest>" when conf_uri
 * has an authority, else "<scheme>://<userinfo>@localhost/x". */
static char *uri_with_userinfo(const char *userinfo, const char *extra)
{
    const char *colon = strchr(conf_uri, ':');
    assert_non_null(colon);
    size_t slen = (size_t)(colon - conf_uri);
    const char *rest = "localhost/x";
    if (strncmp(colon, "://", 3) == 0) {
        rest = colon + 3;
        const char *end = rest + strcspn(rest, "/?");
        const char *at = NULL;
        for (const char *p = rest; p < end; p++)
            if (*p == '@')
                at = p;
        if (at != NULL)
            rest = at + 1;
    }
    size_t cap = slen + strlen(userinfo) + strlen(rest) + strlen(extra) + 16;
    char *u = malloc(cap);
    assert_non_null(u);
    snprintf(u, cap, "%.*s://%s@%s%s%s", (int)slen, conf_uri, userinfo, rest,
             extra[0] && strchr(rest, '?') ? "&" : (extra[0] ? "?" : ""),
             extra);
    return u;
}

void test_errmsg_hides_password(void **state)
{
    (void)state;
    static const char *const userinfos[] = {
        "kvuser:s3cr3tpw", "kvuser:s3cr3t%70w", ":s3cr3tpw",
    };
    for (size_t i = 0; i < sizeof userinfos / sizeof userinfos[0]; i++) {
        char *u = uri_with_userinfo(userinfos[i], "");
        try_secret_uri(u, false);
        free(u);
        u = uri_with_userinfo(userinfos[i], "bogus=1");
        try_secret_uri(u, true);
        free(u);
    }
    /* A NATS token is a secret too. */
    if (strncmp(conf_uri, "nats:", 5) == 0) {
        char *u = uri_with_userinfo("s3cr3tpw", "bogus=1");
        try_secret_uri(u, true);
        free(u);
    }
    try_secret_uri("memory://kvuser:s3cr3tpw@host?bogus=1", true);
    try_secret_uri("memory://kvuser:s3cr3tpw@host/x?create=true&create=true",
                   true);
    try_secret_uri("nosuchscheme://kvuser:s3cr3tpw@host/x", false);
    try_secret_uri("memory:?bogus=1", true);
}

static void bucket_fails(kvstore_store *s, const char *name)
{
    kvstore_bucket *b = NULL;
    int rc = kvstore_bucket_open(&b, s, name);
    if (rc != KVSTORE_EINVAL) {
        if (rc == KVSTORE_OK)
            kvstore_bucket_close(b);
        fail_msg("bucket_open(\"%s\") = %d, expected EINVAL", name, rc);
    }
    assert_fails(rc, KVSTORE_EINVAL);
}

void test_bucket_names_invalid(void **state)
{
    conf_ctx *c = *state;
    char long_name[KVSTORE_BUCKET_NAME_MAX + 2];
    memset(long_name, 'a', sizeof long_name - 1);
    long_name[sizeof long_name - 1] = '\0';
    assert_int_equal(strlen(long_name), 65);
    static const char *const bad[] = {
        "", "a/b", "/", "a.b", ".", "..", "a:b", ":", "a*", "*", "a b",
        ("b\xc3\xbc" "cket"), "a?b", "a[b]", "a%2Fb", "a\\b", "a\nb", "a\tb",
        "a+b", "a@b", "../outside", ".hidden",
    };
    bucket_fails(c->store, long_name);
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        bucket_fails(c->store, bad[i]);
}

void test_bucket_name_64_bytes(void **state)
{
    conf_ctx *c = *state;
    char name[KVSTORE_BUCKET_NAME_MAX + 1];
    conf_unique_name(name, sizeof name);
    size_t n = strlen(name);
    memset(name + n, 'x', KVSTORE_BUCKET_NAME_MAX - n);
    name[KVSTORE_BUCKET_NAME_MAX] = '\0';
    kvstore_bucket *b = open_bucket(c->store, name);
    assert_int_equal(kvstore_set(b, "k", "v", 1), KVSTORE_OK);
    assert_value(b, "k", "v", 1);
    /* Every allowed character class, at full length. */
    kvstore_bucket *b2 = NULL;
    memcpy(name + n, "-_AZaz09", 8);
    assert_int_equal(kvstore_bucket_open(&b2, c->store, name), KVSTORE_OK);
    assert_absent(b2, "k");
    wipe_bucket(b);
    kvstore_bucket_close(b2);
    kvstore_bucket_close(b);
}

void test_bucket_create_false_missing(void **state)
{
    (void)state;
    char *uri = conf_uri_with("create=false");
    kvstore_store *s = NULL;
    int rc = kvstore_open(&s, uri);
    free(uri);
    if (rc != KVSTORE_OK)
        fail_msg("open with create=false = %d: %s", rc, kvstore_errmsg());
    char name[KVSTORE_BUCKET_NAME_MAX + 1];
    conf_unique_name(name, sizeof name);
    kvstore_bucket *b = SENTINEL;
    rc = kvstore_bucket_open(&b, s, name);
    if (rc == KVSTORE_OK)
        kvstore_bucket_close(b);
    assert_fails(rc, KVSTORE_ENOSTORE);
    /* The failed open did not create it either. */
    rc = kvstore_bucket_open(&b, s, name);
    if (rc == KVSTORE_OK)
        kvstore_bucket_close(b);
    assert_int_equal(rc, KVSTORE_ENOSTORE);
    kvstore_close(s);
}

void test_bucket_create_false_existing(void **state)
{
    conf_ctx *c = *state;
    if (conf_private)
        skip();
    assert_int_equal(kvstore_set(c->bucket, "k", "v", 1), KVSTORE_OK);
    char *uri = conf_uri_with("create=false");
    kvstore_store *s = NULL;
    assert_int_equal(kvstore_open(&s, uri), KVSTORE_OK);
    free(uri);
    kvstore_bucket *b = NULL;
    int rc = kvstore_bucket_open(&b, s, c->name);
    if (rc != KVSTORE_OK)
        fail_msg("create=false on an existing bucket = %d: %s", rc,
                 kvstore_errmsg());
    assert_value(b, "k", "v", 1);
    kvstore_bucket_close(b);
    kvstore_close(s);
}

void test_bucket_reopen_keeps_data(void **state)
{
    conf_ctx *c = *state;
    assert_int_equal(kvstore_set(c->bucket, "persist", "data", 4),
                     KVSTORE_OK);
    kvstore_bucket_close(c->bucket);
    c->bucket = open_bucket(c->store, c->name);
    assert_value(c->bucket, "persist", "data", 4);
    /* Two handles on one bucket at once see the same keys. */
    kvstore_bucket *b2 = conf_second_bucket(c, c->store);
    assert_value(b2, "persist", "data", 4);
    assert_int_equal(kvstore_delete(b2, "persist"), KVSTORE_OK);
    assert_absent(c->bucket, "persist");
}

/* Keys that try to escape a bucket or match more than themselves. */
static const char *const tricky_keys[] = {
    "k", ":", "*", "?", "[", "]", "[a-z]", "/", "..", ".", "../x", "a/../b",
    "_b/k", "b:k", "_b:k", "*:*", "%2F", "%", "\\", "a/b/", "> ",
    "b/k", "-b/k", /* bucket "a" + key: "a-b" + "/k" for a naive join */
};
#define N_TRICKY (sizeof tricky_keys / sizeof tricky_keys[0])

/* Sets every tricky key (plus ones naming the sibling buckets) in each of
 * `n` buckets with a value naming the bucket, then checks that each bucket
 * sees, lists and deletes only its own. */
static void check_isolation(kvstore_store *s, const char *const *suffixes,
                            size_t n)
{
    char names[4][KVSTORE_BUCKET_NAME_MAX + 1];
    kvstore_bucket *b[4];
    char extra[4][KVSTORE_BUCKET_NAME_MAX * 4 + 16];
    assert_true(n <= 4);
    for (size_t i = 0; i < n; i++) {
        conf_bucket_name(names[i], sizeof names[i], suffixes[i]);
        b[i] = open_bucket(s, names[i]);
        wipe_bucket(b[i]);
        /* A key shaped like a path into the sibling bucket. */
        snprintf(extra[i], sizeof extra[i], "../%s/k", names[i]);
    }
    for (size_t i = 0; i < n; i++) {
        for (size_t k = 0; k < N_TRICKY; k++)
            assert_int_equal(kvstore_set(b[i], tricky_keys[k], names[i],
                                         strlen(names[i])), KVSTORE_OK);
        for (size_t j = 0; j < n; j++)
            assert_int_equal(kvstore_set(b[i], extra[j], names[i],
                                         strlen(names[i])), KVSTORE_OK);
    }
    for (size_t i = 0; i < n; i++) {
        for (size_t k = 0; k < N_TRICKY; k++)
            assert_value(b[i], tricky_keys[k], names[i], strlen(names[i]));
        conf_set *seen = conf_list_all(b[i], NULL);
        assert_int_equal(conf_set_size(seen), N_TRICKY + n);
        for (size_t k = 0; k < N_TRICKY; k++)
            assert_true(conf_set_count(seen, tricky_keys[k]) >= 1);
        conf_set_free(seen);
    }
    /* Deleting everything in the first bucket leaves the others whole. */
    for (size_t k = 0; k < N_TRICKY; k++)
        assert_int_equal(kvstore_delete(b[0], tricky_keys[k]), KVSTORE_OK);
    for (size_t j = 0; j < n; j++)
        assert_int_equal(kvstore_delete(b[0], extra[j]), KVSTORE_OK);
    conf_set *seen = conf_list_all(b[0], NULL);
    assert_int_equal(conf_set_size(seen), 0);
    conf_set_free(seen);
    for (size_t i = 1; i < n; i++) {
        for (size_t k = 0; k < N_TRICKY; k++)
            assert_value(b[i], tricky_keys[k], names[i], strlen(names[i]));
        seen = conf_list_all(b[i], NULL);
        assert_int_equal(conf_set_size(seen), N_TRICKY + n);
        conf_set_free(seen);
    }
    for (size_t i = 0; i < n; i++) {
        wipe_bucket(b[i]);
        kvstore_bucket_close(b[i]);
    }
}

void test_bucket_isolation_keys(void **state)
{
    conf_ctx *c = *state;
    static const char *const s[] = { "iso1", "iso2" };
    check_isolation(c->store, s, 2);
}

void test_bucket_isolation_prefix_names(void **state)
{
    conf_ctx *c = *state;
    /* Names that are prefixes of each other, and one joined by '_' or '-'
     * as a naive "bucket_key" encoding would join them. */
    static const char *const s[] = { "a", "a_b", "ab", "a-b" };
    check_isolation(c->store, s, 4);
}

void test_null_args_store(void **state)
{
    conf_ctx *c = *state;
    kvstore_bucket *b = c->bucket;
    kvstore_bucket *ob = NULL;
    void *v = NULL;
    size_t n = 0;
    bool e = false;
    assert_fails(kvstore_bucket_open(NULL, c->store, "x"), KVSTORE_EINVAL);
    assert_fails(kvstore_bucket_open(&ob, NULL, "x"), KVSTORE_EINVAL);
    assert_fails(kvstore_bucket_open(&ob, c->store, NULL), KVSTORE_EINVAL);
    assert_fails(kvstore_get(NULL, "k", &v, &n), KVSTORE_EINVAL);
    assert_fails(kvstore_get(b, NULL, &v, &n), KVSTORE_EINVAL);
    assert_fails(kvstore_get(b, "k", NULL, &n), KVSTORE_EINVAL);
    assert_fails(kvstore_get(b, "k", &v, NULL), KVSTORE_EINVAL);
    assert_fails(kvstore_set(NULL, "k", "v", 1), KVSTORE_EINVAL);
    assert_fails(kvstore_set(b, NULL, "v", 1), KVSTORE_EINVAL);
    assert_fails(kvstore_delete(NULL, "k"), KVSTORE_EINVAL);
    assert_fails(kvstore_delete(b, NULL), KVSTORE_EINVAL);
    assert_fails(kvstore_exists(NULL, "k", &e), KVSTORE_EINVAL);
    assert_fails(kvstore_exists(b, NULL, &e), KVSTORE_EINVAL);
    assert_fails(kvstore_exists(b, "k", NULL), KVSTORE_EINVAL);
    /* The bucket still works after all that. */
    assert_int_equal(kvstore_set(b, "k", "v", 1), KVSTORE_OK);
    assert_value(b, "k", "v", 1);
}

void test_close_null(void **state)
{
    (void)state;
    kvstore_close(NULL);
    kvstore_bucket_close(NULL);
    kvstore_keys_free(NULL);
    kvstore_cas_free(NULL);
    kvstore_watch_stop(NULL);
    kvstore_free(NULL);
}

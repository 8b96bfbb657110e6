/*
 * nats backend: the key mapping (backends/nats/key.c), compiled into
 * this test. Checks the documented examples, that random keys round-trip,
 * never collide and never put a wildcard or an empty token in a subject,
 * that non-canonical NATS keys are refused, and that the prefix filters
 * cover every key with the prefix.
 *
 * SPDX-License-Identifier: MIT
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "nats.h"

static void check_enc(const char *key, const char *want)
{
    char out[NK_ENC_MAX + 1], back[KVSTORE_KEY_MAX + 1];
    nk_key_encode(key, out);
    assert_string_equal(out, want);
    assert_true(nk_key_decode(out, back));
    assert_string_equal(back, key);
}

static void documented_examples(void **state)
{
    (void)state;
    check_enc("a", "a");
    check_enc("users.42.name", "users.42.name");
    check_enc("x/y_z-1=2", "x/y_z-1=2");
    check_enc("a b", "=a=20b");
    check_enc("a..b", "=a=2E.b");
    check_enc("a.", "=a=2E");
    check_enc(".a", "=.a");
    check_enc(".", "==2E");
    check_enc("=x", "==3Dx");
    check_enc("*", "==2A");
    check_enc(">", "==3E");
    check_enc("a.*", "=a.=2A");
    check_enc("a\\b", "=a=5Cb");
    check_enc("h\xc3\xa9llo", "=h=C3=A9llo");
}

static void non_canonical_refused(void **state)
{
    char out[KVSTORE_KEY_MAX + 1];
    (void)state;
    assert_false(nk_key_decode("=a.b", out));    /* "a.b" is plain */
    assert_false(nk_key_decode("=", out));       /* empty key */
    assert_false(nk_key_decode("=a=2e", out));   /* lower-case hex */
    assert_false(nk_key_decode("=a=2", out));    /* truncated escape */
    assert_false(nk_key_decode("==00", out));    /* NUL */
    assert_false(nk_key_decode("==FF", out));    /* invalid UTF-8 */
    assert_false(nk_key_decode("a\\b", out));    /* foreign: not plain */
    assert_false(nk_key_decode("a..b", out));
    assert_true(nk_key_decode("=a=2E.", out) == false);
}

static const char *const pieces[] = {
    "a", "b", "Z", "0", "_", "-", "/", "=", ".", ".", "..", "*", ">", " ",
    "%", "\\", "\xc3\xa9", "\xe2\x82\xac", "\xf0\x9f\x98\x80", "\t", "\"",
};

static void random_key(char *k, size_t max)
{
    size_t n = 0, want = 1 + (size_t)rand() % 12;
    for (size_t i = 0; i < want; i++) {
        const char *p = pieces[(size_t)rand() %
                               (sizeof pieces / sizeof *pieces)];
        size_t l = strlen(p);
        if (n + l >= max)
            break;
        memcpy(k + n, p, l);
        n += l;
    }
    if (n == 0)
        k[n++] = 'k';
    k[n] = '\0';
}

static bool subject_safe(const char *s)
{
    size_t n = strlen(s);
    if (n == 0 || s[0] == '.' || s[n - 1] == '.' || strstr(s, ".."))
        return false;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
              (c >= '0' && c <= '9') || strchr("_-/=.", c)))
            return false;
    }
    return true;
}

/* NATS subject matching for a filter whose only wildcard is a final ">". */
static bool matches(const char *filter, const char *subj)
{
    size_t fl = strlen(filter);
    if (strcmp(filter, ">") == 0)
        return true;
    if (fl >= 2 && strcmp(filter + fl - 2, ".>") == 0)
        return strncmp(subj, filter, fl - 1) == 0 && subj[fl - 1] != '\0';
    return strcmp(filter, subj) == 0;
}

static int cmpstr(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static void random_round_trip(void **state)
{
    enum { N = 20000 };
    char **enc = calloc(N, sizeof *enc);
    char **keys = calloc(N, sizeof *keys);
    (void)state;
    srand(42);
    assert_non_null(enc);
    assert_non_null(keys);
    for (int i = 0; i < N; i++) {
        char k[200], e[NK_ENC_MAX + 1], back[KVSTORE_KEY_MAX + 1];
        random_key(k, sizeof k);
        nk_key_encode(k, e);
        assert_true(subject_safe(e));
        assert_null(strchr(e, '*'));
        assert_null(strchr(e, '>'));
        assert_true(nk_key_decode(e, back));
        assert_string_equal(back, k);
        keys[i] = strdup(k);
        /* key NUL encoding: sorting pairs finds collisions */
        size_t kl = strlen(k), el = strlen(e);
        enc[i] = malloc(el + kl + 2);
        memcpy(enc[i], e, el);
        enc[i][el] = '\x01';
        memcpy(enc[i] + el + 1, k, kl + 1);
    }
    qsort(enc, N, sizeof *enc, cmpstr);
    for (int i = 1; i < N; i++) {
        const char *a = enc[i - 1], *b = enc[i];
        size_t al = strcspn(a, "\x01"), bl = strcspn(b, "\x01");
        /* same NATS key must mean same contract key */
        if (al == bl && memcmp(a, b, al) == 0)
            assert_string_equal(a + al + 1, b + bl + 1);
    }
    for (int i = 0; i < N; i++) {
        free(enc[i]);
        free(keys[i]);
    }
    free(enc);
    free(keys);
}

static void longest_key_fits(void **state)
{
    char k[KVSTORE_KEY_MAX + 1], e[NK_ENC_MAX + 1], back[KVSTORE_KEY_MAX + 1];
    (void)state;
    memset(k, '*', KVSTORE_KEY_MAX);
    k[KVSTORE_KEY_MAX] = '\0';
    assert_int_equal(nk_key_encode(k, e), NK_ENC_MAX);
    assert_true(nk_key_decode(e, back));
    assert_string_equal(back, k);
}

static void filters_cover_prefixes(void **state)
{
    char f[2][NK_ENC_MAX + 3];
    (void)state;
    assert_int_equal(nk_prefix_filters("", f), 1);
    assert_string_equal(f[0], ">");
    assert_int_equal(nk_prefix_filters("a.b.", f), 2);
    assert_string_equal(f[0], "a.b.>");
    assert_string_equal(f[1], "=a.>");
    assert_int_equal(nk_prefix_filters("users.1", f), 2);
    assert_string_equal(f[0], "users.>");
    assert_int_equal(nk_prefix_filters("a b", f), 1);   /* no token known */
    assert_string_equal(f[0], ">");

    srand(7);
    for (int i = 0; i < 20000; i++) {
        char k[200], e[NK_ENC_MAX + 1];
        random_key(k, sizeof k);
        nk_key_encode(k, e);
        size_t cut = (size_t)rand() % (strlen(k) + 1);
        char p[200];
        memcpy(p, k, cut);
        p[cut] = '\0';
        int n = nk_prefix_filters(p, f);
        bool hit = false;
        for (int j = 0; j < n; j++) {
            assert_null(strchr(f[j], '*'));
            assert_true(strchr(f[j], '>') == f[j] + strlen(f[j]) - 1);
            hit |= matches(f[j], e);
        }
        assert_true(hit);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(documented_examples),
        cmocka_unit_test(non_canonical_refused),
        cmocka_unit_test(random_round_trip),
        cmocka_unit_test(longest_key_fits),
        cmocka_unit_test(filters_cover_prefixes),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

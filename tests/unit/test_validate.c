/*
 * Unit tests: UTF-8 validation, key and bucket-name checks, and the
 * core's hidden validators (linked from the internal archive).
 *
 * SPDX-License-Identifier: MIT
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "internal.h"

/* An independent reference decoder (RFC 3629 table 3.7), to compare the
 * library against exhaustively. */
static bool ref_utf8_valid(const unsigned char *s, size_t len)
{
    size_t i = 0;
    while (i < len) {
        unsigned char c = s[i];
        size_t need;
        unsigned char lo = 0x80, hi = 0xbf;
        if (c < 0x80) { i++; continue; }
        else if (c >= 0xc2 && c <= 0xdf) need = 1;
        else if (c == 0xe0) { need = 2; lo = 0xa0; }
        else if (c >= 0xe1 && c <= 0xec) need = 2;
        else if (c == 0xed) { need = 2; hi = 0x9f; }
        else if (c >= 0xee && c <= 0xef) need = 2;
        else if (c == 0xf0) { need = 3; lo = 0x90; }
        else if (c >= 0xf1 && c <= 0xf3) need = 3;
        else if (c == 0xf4) { need = 3; hi = 0x8f; }
        else return false;
        if (i + need >= len)
            return false;
        if (s[i + 1] < lo || s[i + 1] > hi)
            return false;
        for (size_t k = 2; k <= need; k++)
            if (s[i + k] < 0x80 || s[i + k] > 0xbf)
                return false;
        i += need + 1;
    }
    return true;
}

static void test_utf8_table(void **state)
{
    (void)state;
    static const struct { const char *s; size_t len; bool ok; } t[] = {
        { "", 0, true },
        { "a", 1, true },
        { "\x7f", 1, true },
        { "a\0b", 3, true },               /* NUL counts as valid here */
        { "\xc2\x80", 2, true },           /* U+0080 */
        { "\xdf\xbf", 2, true },           /* U+07FF */
        { "\xe0\xa0\x80", 3, true },       /* U+0800 */
        { "\xed\x9f\xbf", 3, true },       /* U+D7FF */
        { "\xee\x80\x80", 3, true },       /* U+E000 */
        { "\xef\xbb\xbf", 3, true },       /* BOM */
        { "\xef\xbf\xbf", 3, true },       /* U+FFFF */
        { "\xf0\x90\x80\x80", 4, true },   /* U+10000 */
        { "\xf4\x8f\xbf\xbf", 4, true },   /* U+10FFFF */
        { "\x80", 1, false },              /* lone continuation */
        { "\xbf", 1, false },
        { "\xc0\x80", 2, false },          /* overlong NUL */
        { "\xc0\xaf", 2, false },          /* overlong '/' */
        { "\xc1\xbf", 2, false },
        { "\xe0\x80\x80", 3, false },      /* overlong 3-byte */
        { "\xe0\x9f\xbf", 3, false },
        { "\xf0\x80\x80\x80", 4, false },  /* overlong 4-byte */
        { "\xf0\x8f\xbf\xbf", 4, false },
        { "\xed\xa0\x80", 3, false },      /* surrogates */
        { "\xed\xaf\xbf", 3, false },
        { "\xed\xb0\x80", 3, false },
        { "\xed\xbf\xbf", 3, false },
        { "\xf4\x90\x80\x80", 4, false },  /* above U+10FFFF */
        { "\xf5\x80\x80\x80", 4, false },
        { "\xf8\x88\x80\x80\x80", 5, false },
        { "\xfc\x84\x80\x80\x80\x80", 6, false },
        { "\xfe", 1, false },
        { "\xff", 1, false },
        { "\xc2", 1, false },              /* truncated */
        { "\xe2\x82", 2, false },
        { "\xf0\x9f\x98", 3, false },
        { "a\xc3", 2, false },
        { "\xc2\x41", 2, false },          /* bad continuation */
        { "\xe2\x28\xa1", 3, false },
        { "\xc3\xa9", 1, false },          /* the length is honoured */
        { "abc\xff", 3, true },
    };
    for (size_t i = 0; i < sizeof t / sizeof t[0]; i++)
        if (kvstore_utf8_valid(t[i].s, t[i].len) != t[i].ok)
            fail_msg("utf8 table entry %zu: expected %s", i,
                     t[i].ok ? "valid" : "invalid");
}

static void test_utf8_exhaustive(void **state)
{
    (void)state;
    unsigned char b[4];
    /* Every 1- and 2-byte string, every 3-byte string. */
    for (unsigned x = 0; x < 256; x++) {
        b[0] = (unsigned char)x;
        assert_int_equal(kvstore_utf8_valid((char *)b, 1),
                         ref_utf8_valid(b, 1));
        for (unsigned y = 0; y < 256; y++) {
            b[1] = (unsigned char)y;
            if (kvstore_utf8_valid((char *)b, 2) != ref_utf8_valid(b, 2))
                fail_msg("differs on %02x %02x", x, y);
            for (unsigned z = 0; z < 256; z++) {
                b[2] = (unsigned char)z;
                if (kvstore_utf8_valid((char *)b, 3) != ref_utf8_valid(b, 3))
                    fail_msg("differs on %02x %02x %02x", x, y, z);
            }
        }
    }
    /* 4-byte strings from lead bytes F0..F7 over every second byte and
     * the boundary values of the last two. */
    static const unsigned char edge[] = { 0x00, 0x7f, 0x80, 0x8f, 0x90,
                                          0xbf, 0xc0, 0xff };
    for (unsigned x = 0xf0; x < 0xf8; x++)
        for (unsigned y = 0; y < 256; y++)
            for (size_t p = 0; p < sizeof edge; p++)
                for (size_t q = 0; q < sizeof edge; q++) {
                    b[0] = (unsigned char)x;
                    b[1] = (unsigned char)y;
                    b[2] = edge[p];
                    b[3] = edge[q];
                    if (kvstore_utf8_valid((char *)b, 4) !=
                        ref_utf8_valid(b, 4))
                        fail_msg("differs on %02x %02x %02x %02x", x, y,
                                 edge[p], edge[q]);
                }
}

/* Strings of 0 to 40 bytes, mostly ASCII with a few other bytes (lead,
 * continuation, invalid) anywhere, above all in the last 8 bytes, which
 * the ASCII fast path reads as one overlapping word. */
static void test_utf8_random_tails(void **state)
{
    (void)state;
    static const unsigned char odd[] = { 0x80, 0xbf, 0xc2, 0xdf, 0xe0,
                                         0xed, 0xef, 0xf0, 0xf4, 0xf5,
                                         0xff, 0xa0, 0x9f, 0xc0 };
    unsigned char b[40];
    unsigned seed = 12345;
    for (int round = 0; round < 200000; round++) {
        size_t len = (size_t)rand_r(&seed) % (sizeof b + 1);
        for (size_t i = 0; i < len; i++)
            b[i] = (unsigned char)('a' + rand_r(&seed) % 26);
        int n = rand_r(&seed) % 4;
        for (int j = 0; j < n && len > 0; j++) {
            size_t at = (size_t)rand_r(&seed) % len;
            if (rand_r(&seed) % 2 && len >= 8)
                at = len - 1 - (size_t)rand_r(&seed) % 8;
            b[at] = odd[(size_t)rand_r(&seed) % sizeof odd];
        }
        if (kvstore_utf8_valid((char *)b, len) != ref_utf8_valid(b, len))
            fail_msg("differs on a %zu-byte string, round %d", len, round);
    }
    /* Valid multi-byte characters straddling the tail word. */
    for (size_t len = 8; len <= 24; len++)
        for (size_t at = 0; at + 3 <= len; at++) {
            memset(b, 'x', len);
            memcpy(b + at, "\xe2\x82\xac", 3);
            assert_true(kvstore_utf8_valid((char *)b, len));
            b[at + 2] = 'x';
            assert_false(kvstore_utf8_valid((char *)b, len));
        }
}

/* `check` accepts a name of `max` bytes of `fill` and refuses one of
 * max + 1 bytes. */
static void check_length_limit(int (*check)(const char *), char fill,
                               size_t max)
{
    char *name = malloc(max + 2);

    assert_non_null(name);
    memset(name, fill, max + 1);
    name[max] = '\0';
    int at_max = check(name);
    name[max] = fill;
    name[max + 1] = '\0';
    int over = check(name);
    free(name);
    if (at_max != KVSTORE_OK || over != KVSTORE_EINVAL)
        fail_msg("%zu bytes: %d, %zu bytes: %d", max, at_max, max + 1, over);
}

static void test_key_check(void **state)
{
    (void)state;
    assert_int_equal(kvstore_key_check(NULL), KVSTORE_EINVAL);
    assert_int_equal(kvstore_key_check(""), KVSTORE_EINVAL);
    assert_true(strlen(kvstore_errmsg()) > 0);
    assert_int_equal(kvstore_key_check("a"), KVSTORE_OK);
    assert_int_equal(kvstore_key_check("../x/*?[:%"), KVSTORE_OK);
    assert_int_equal(kvstore_key_check("\xe2\x82\xac"), KVSTORE_OK);
    assert_int_equal(kvstore_key_check("\xff"), KVSTORE_EINVAL);
    assert_int_equal(kvstore_key_check("a\xed\xa0\x80"), KVSTORE_EINVAL);
    check_length_limit(kvstore_key_check, 'k', KVSTORE_KEY_MAX);
}

static void test_bucket_name_check(void **state)
{
    (void)state;
    assert_int_equal(kvstore_bucket_name_check(NULL), KVSTORE_EINVAL);
    assert_int_equal(kvstore_bucket_name_check(""), KVSTORE_EINVAL);
    /* Every byte as a one-character name. */
    for (int c = 1; c < 256; c++) {
        char s[2] = { (char)c, '\0' };
        bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                  (c >= '0' && c <= '9') || c == '_' || c == '-';
        if ((kvstore_bucket_name_check(s) == KVSTORE_OK) != ok)
            fail_msg("bucket name byte 0x%02x: expected %s", c,
                     ok ? "valid" : "invalid");
        /* And in the middle of a valid name. */
        char m[4] = { 'a', (char)c, 'b', '\0' };
        if ((kvstore_bucket_name_check(m) == KVSTORE_OK) != ok)
            fail_msg("bucket name a<0x%02x>b: expected %s", c,
                     ok ? "valid" : "invalid");
    }
    check_length_limit(kvstore_bucket_name_check, 'b',
                       KVSTORE_BUCKET_NAME_MAX);
}

static void test_parse_int64(void **state)
{
    (void)state;
    static const struct { const char *s; bool ok; int64_t v; } t[] = {
        { "0", true, 0 }, { "42", true, 42 }, { "-7", true, -7 },
        { "9223372036854775807", true, INT64_MAX },
        { "-9223372036854775808", true, INT64_MIN },
        { "9223372036854775808", false, 0 },
        { "-9223372036854775809", false, 0 },
        { "99999999999999999999", false, 0 },
        { "", false, 0 }, { "-", false, 0 }, { "+1", false, 0 },
        { " 1", false, 0 }, { "1 ", false, 0 }, { "1x", false, 0 },
        { "0x10", false, 0 }, { "1.0", false, 0 }, { "--1", false, 0 },
        { "1e3", false, 0 }, { "007", false, 0 }, { "00", false, 0 },
        { "-0", false, 0 }, { "-01", false, 0 }, { "10", true, 10 },
        { "-10", true, -10 },
    };
    for (size_t i = 0; i < sizeof t / sizeof t[0]; i++) {
        int64_t v = 12345;
        int rc = kvstore_counter_parse(t[i].s, strlen(t[i].s), &v);
        if ((rc == KVSTORE_OK) != t[i].ok)
            fail_msg("parse_int64(\"%s\") = %d", t[i].s, rc);
        if (t[i].ok)
            assert_int_equal(v, t[i].v);
    }
    /* Only `len` bytes are read, and a NUL inside is not a digit. */
    int64_t v = 0;
    assert_int_equal(kvstore_counter_parse("123456", 2, &v), KVSTORE_OK);
    assert_int_equal(v, 12);
    assert_int_not_equal(kvstore_counter_parse("1\0002", 3, &v), KVSTORE_OK);
}

/* The same rule as kvstore_bucket_name_check, on a length: every byte in
 * a name, both length limits, a NUL inside; and a refusal leaves the
 * thread's message alone. */
static void test_bucket_name_valid(void **state)
{
    (void)state;
    char name[KVSTORE_BUCKET_NAME_MAX + 2];

    for (int c = 0; c < 256; c++) {
        char m[4] = { 'a', (char)c, 'b', '\0' };
        bool ok = c != 0 && kvstore_bucket_name_check(m) == KVSTORE_OK;
        if (kvstore_bucket_name_valid(m, 3) != ok ||
            kvstore_bucket_name_valid(m + 1, 1) != ok)
            fail_msg("bucket name byte 0x%02x: expected %s", c,
                     ok ? "valid" : "invalid");
    }
    memset(name, 'b', sizeof name);
    assert_false(kvstore_bucket_name_valid(name, 0));
    assert_true(kvstore_bucket_name_valid(name, KVSTORE_BUCKET_NAME_MAX));
    assert_false(kvstore_bucket_name_valid(name, KVSTORE_BUCKET_NAME_MAX + 1));
    assert_true(kvstore_bucket_name_valid("ab:", 2));
    assert_false(kvstore_bucket_name_valid("ab:", 3));
    assert_int_equal(kvstore_set_error(KVSTORE_EIO, "earlier failure"),
                     KVSTORE_EIO);
    assert_false(kvstore_bucket_name_valid("no/name", 7));
    assert_string_equal(kvstore_errmsg(), "earlier failure");
}

static void test_value_cursor_prefix_checks(void **state)
{
    (void)state;
    assert_int_equal(kvs_value_check(NULL, 0), KVSTORE_OK);
    assert_int_equal(kvs_value_check(NULL, 1), KVSTORE_EINVAL);
    assert_int_equal(kvs_value_check("", 0), KVSTORE_OK);

    assert_int_equal(kvs_cursor_check("abc-_.~XYZ019"), KVSTORE_OK);
    assert_int_equal(kvs_cursor_check("a\x01"), KVSTORE_EINVAL);
    assert_int_equal(kvs_cursor_check("a\x7f"), KVSTORE_EINVAL);
    assert_int_equal(kvs_cursor_check("\xc3\xa9"), KVSTORE_EINVAL);
    check_length_limit(kvs_cursor_check, 'c', KVSTORE_CURSOR_MAX);

    assert_int_equal(kvs_prefix_check(""), KVSTORE_OK);
    assert_int_equal(kvs_prefix_check("a/*"), KVSTORE_OK);
    assert_int_equal(kvs_prefix_check("\xe2\x82"), KVSTORE_EINVAL);

    assert_true(kvs_scheme_valid("redis+unix", 10));
    assert_true(kvs_scheme_valid("a.b-c", 5));
    assert_false(kvs_scheme_valid("", 0));
    assert_false(kvs_scheme_valid("1a", 2));
    assert_false(kvs_scheme_valid("a/b", 3));
    assert_false(kvs_scheme_valid("a_b", 3));
    assert_false(kvs_scheme_valid("abcdefghijklmnopqrstuvwxyzabcdefg", 33));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_utf8_table),
        cmocka_unit_test(test_utf8_exhaustive),
        cmocka_unit_test(test_utf8_random_tails),
        cmocka_unit_test(test_key_check),
        cmocka_unit_test(test_bucket_name_check),
        cmocka_unit_test(test_bucket_name_valid),
        cmocka_unit_test(test_parse_int64),
        cmocka_unit_test(test_value_cursor_prefix_checks),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

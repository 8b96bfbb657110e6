/*
 * Conformance: batch operations (API.md 8).
 *
 * SPDX-License-Identifier: MIT
 */
#include "harness.h"
#include "fx_memory.h"

#include <string.h>

void test_batch_roundtrip(void **state)
{
    conf_ctx *c = *state;
    const char *keys[] = { "b1", "b2", "b/3", "empty" };
    const void *vals[] = { "one", "\0two", "three", NULL };
    const size_t lens[] = { 3, 4, 5, 0 };
    assert_int_equal(kvstore_set_many(c->bucket, keys, vals, lens, 4),
                     KVSTORE_OK);
    for (size_t i = 0; i < 4; i++)
        assert_value(c->bucket, keys[i], i == 3 ? "" : vals[i], lens[i]);

    const char *q[] = { "b1", "missing", "b/3", "empty", "also-missing" };
    void *out[5];
    size_t outl[5];
    memset(out, 0x55, sizeof out);
    memset(outl, 0x55, sizeof outl);
    assert_int_equal(kvstore_get_many(c->bucket, q, 5, out, outl), KVSTORE_OK);
    /* "empty" is present with 0 bytes; the missing ones are NULL. */
    expect_many(out, outl,
                (const char *const[]){ "one", NULL, "three", "", NULL }, 5);

    const char *del[] = { "b1", "missing", "b/3" };
    assert_int_equal(kvstore_delete_many(c->bucket, del, 3), KVSTORE_OK);
    assert_absent(c->bucket, "b1");
    assert_absent(c->bucket, "b/3");
    assert_value(c->bucket, "b2", "\0two", 4);
    assert_value(c->bucket, "empty", "", 0);
}

void test_batch_invalid_key_set(void **state)
{
    conf_ctx *c = *state;
    const char *keys[] = { "first", "\xff", "last" };
    const void *vals[] = { "1", "2", "3" };
    const size_t lens[] = { 1, 1, 1 };
    assert_fails(kvstore_set_many(c->bucket, keys, vals, lens, 3),
                 KVSTORE_EINVAL);
    /* Validated before anything is written. */
    assert_absent(c->bucket, "first");
    assert_absent(c->bucket, "last");
    keys[1] = "";
    assert_fails(kvstore_set_many(c->bucket, keys, vals, lens, 3),
                 KVSTORE_EINVAL);
    assert_absent(c->bucket, "first");
    keys[1] = NULL;
    assert_fails(kvstore_set_many(c->bucket, keys, vals, lens, 3),
                 KVSTORE_EINVAL);
    assert_absent(c->bucket, "first");
    /* A NULL value with a length is invalid too. */
    keys[1] = "middle";
    const void *badv[] = { "1", NULL, "3" };
    assert_fails(kvstore_set_many(c->bucket, keys, badv, lens, 3),
                 KVSTORE_EINVAL);
    assert_absent(c->bucket, "first");
    assert_absent(c->bucket, "middle");
}

void test_batch_invalid_key_get(void **state)
{
    conf_ctx *c = *state;
    assert_int_equal(kvstore_set(c->bucket, "present", "v", 1), KVSTORE_OK);
    const char *keys[] = { "present", "\xc0\xaf" };
    void *out[2] = { (void *)1, (void *)1 };
    size_t outl[2];
    assert_fails(kvstore_get_many(c->bucket, keys, 2, out, outl),
                 KVSTORE_EINVAL);
    /* On failure nothing is left for the caller to free. */
    assert_null(out[0]);
    assert_null(out[1]);
}

void test_batch_invalid_key_delete(void **state)
{
    conf_ctx *c = *state;
    assert_int_equal(kvstore_set(c->bucket, "keep", "v", 1), KVSTORE_OK);
    const char *keys[] = { "keep", "\xed\xa0\x80" };
    assert_fails(kvstore_delete_many(c->bucket, keys, 2), KVSTORE_EINVAL);
    assert_value(c->bucket, "keep", "v", 1);
}

void test_batch_zero(void **state)
{
    conf_ctx *c = *state;
    const char *keys[] = { "k" };
    const void *vals[] = { "v" };
    const size_t lens[] = { 1 };
    void *out[1] = { NULL };
    size_t outl[1];
    assert_int_equal(kvstore_get_many(c->bucket, keys, 0, out, outl),
                     KVSTORE_OK);
    assert_int_equal(kvstore_set_many(c->bucket, keys, vals, lens, 0),
                     KVSTORE_OK);
    assert_int_equal(kvstore_delete_many(c->bucket, keys, 0), KVSTORE_OK);
    assert_absent(c->bucket, "k");
}

void test_batch_null_args(void **state)
{
    conf_ctx *c = *state;
    const char *keys[] = { "k" };
    const void *vals[] = { "v" };
    const size_t lens[] = { 1 };
    void *out[1];
    size_t outl[1];
    assert_fails(kvstore_get_many(NULL, keys, 1, out, outl), KVSTORE_EINVAL);
    assert_fails(kvstore_get_many(c->bucket, NULL, 1, out, outl),
                 KVSTORE_EINVAL);
    assert_fails(kvstore_get_many(c->bucket, keys, 1, NULL, outl),
                 KVSTORE_EINVAL);
    assert_fails(kvstore_get_many(c->bucket, keys, 1, out, NULL),
                 KVSTORE_EINVAL);
    assert_fails(kvstore_set_many(NULL, keys, vals, lens, 1), KVSTORE_EINVAL);
    assert_fails(kvstore_set_many(c->bucket, NULL, vals, lens, 1),
                 KVSTORE_EINVAL);
    assert_fails(kvstore_set_many(c->bucket, keys, NULL, lens, 1),
                 KVSTORE_EINVAL);
    assert_fails(kvstore_set_many(c->bucket, keys, vals, NULL, 1),
                 KVSTORE_EINVAL);
    assert_fails(kvstore_delete_many(NULL, keys, 1), KVSTORE_EINVAL);
    assert_fails(kvstore_delete_many(c->bucket, NULL, 1), KVSTORE_EINVAL);
    assert_absent(c->bucket, "k");
}

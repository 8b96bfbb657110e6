/*
 * Conformance: kvstore_bucket_open_existing, on every backend.
 *
 * SPDX-License-Identifier: MIT
 */
#include "harness.h"

#define SENTINEL ((kvstore_bucket *)1)

void test_open_existing_missing(void **state)
{
    conf_ctx *ctx = *state;
    char name[KVSTORE_BUCKET_NAME_MAX + 1];
    kvstore_bucket *b = SENTINEL;

    conf_unique_name(name, sizeof name);
    assert_fails(kvstore_bucket_open_existing(&b, ctx->store, name),
                 KVSTORE_ENOSTORE);
    assert_null(b);
    /* It was not created: a second look still misses. */
    b = SENTINEL;
    assert_int_equal(kvstore_bucket_open_existing(&b, ctx->store, name),
                     KVSTORE_ENOSTORE);
    assert_null(b);
}

void test_open_existing_present(void **state)
{
    conf_ctx *ctx = *state;
    kvstore_bucket *b = NULL;

    assert_int_equal(kvstore_set(ctx->bucket, "k", "there", 5), KVSTORE_OK);
    int rc = kvstore_bucket_open_existing(&b, ctx->store, ctx->name);
    if (rc != KVSTORE_OK)
        fail_msg("open_existing of an open bucket = %d: %s", rc,
                 kvstore_errmsg());
    assert_value(b, "k", "there", 5);
    kvstore_bucket_close(b);
    if (!conf_disposable)
        (void)kvstore_delete(ctx->bucket, "k");
}

void test_open_existing_bad_args(void **state)
{
    conf_ctx *ctx = *state;
    kvstore_bucket *b = SENTINEL;

    assert_fails(kvstore_bucket_open_existing(NULL, ctx->store, "b"),
                 KVSTORE_EINVAL);
    assert_fails(kvstore_bucket_open_existing(&b, NULL, "b"), KVSTORE_EINVAL);
    assert_null(b);
    b = SENTINEL;
    assert_fails(kvstore_bucket_open_existing(&b, ctx->store, "a/b"),
                 KVSTORE_EINVAL);
    assert_null(b);
    assert_fails(kvstore_bucket_open_existing(&b, ctx->store, NULL),
                 KVSTORE_EINVAL);
}

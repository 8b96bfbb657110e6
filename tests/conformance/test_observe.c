/*
 * Conformance: observers (kvstore_observe), on every backend.
 *
 * SPDX-License-Identifier: MIT
 */
#include "harness.h"
#include "fx_memory.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_SEEN 64

typedef struct seen {
    pthread_mutex_t lock;
    size_t n;
    kvstore_observation obs[MAX_SEEN];
    char bucket[MAX_SEEN][KVSTORE_BUCKET_NAME_MAX + 1];
} seen;

static void record(void *payload, const kvstore_observation *o)
{
    seen *s = payload;

    pthread_mutex_lock(&s->lock);
    if (s->n < MAX_SEEN) {
        s->obs[s->n] = *o;
        /* The name is lent for the call only. */
        snprintf(s->bucket[s->n], sizeof s->bucket[0], "%s",
                 o->bucket ? o->bucket : "");
        s->n++;
    }
    pthread_mutex_unlock(&s->lock);
}

static const kvstore_observer recorder = {
    .version = KVSTORE_OBSERVER_VERSION,
    .on_operation = record,
};

/* Checks the last observation and forgets everything seen so far. */
static void expect_last(seen *s, const conf_ctx *ctx, kvstore_op op,
                        size_t keys, size_t in, size_t out, int result)
{
    pthread_mutex_lock(&s->lock);
    if (s->n != 1)
        fail_msg("%s: %zu observations, expected 1", kvstore_op_name(op),
                 s->n);
    const kvstore_observation *o = &s->obs[0];
    assert_int_equal(o->version, KVSTORE_OBSERVATION_VERSION);
    if (o->op != op)
        fail_msg("observed %s, expected %s", kvstore_op_name(o->op),
                 kvstore_op_name(op));
    assert_string_equal(s->bucket[0], ctx->name);
    assert_int_equal(o->keys, keys);
    assert_int_equal(o->bytes_in, in);
    assert_int_equal(o->bytes_out, out);
    assert_int_equal(o->result, result);
    /* Measured on the monotonic clock, and the call did not take a minute. */
    assert_true(o->duration_ns < 60ULL * 1000000000ULL);
    s->n = 0;
    pthread_mutex_unlock(&s->lock);
}

void test_observe_reports_operations(void **state)
{
    conf_ctx *ctx = *state;
    seen s = { .lock = PTHREAD_MUTEX_INITIALIZER };
    void *v = NULL;
    size_t n = 0;
    bool ex;
    int64_t counter;
    kvstore_keys *page = NULL;

    assert_int_equal(kvstore_observe(ctx->store, &recorder, &s), KVSTORE_OK);

    assert_int_equal(kvstore_set(ctx->bucket, "k", "hello", 5), KVSTORE_OK);
    expect_last(&s, ctx, KVSTORE_OP_SET, 1, 5, 0, KVSTORE_OK);
    assert_int_equal(kvstore_get(ctx->bucket, "k", &v, &n), KVSTORE_OK);
    kvstore_free(v);
    expect_last(&s, ctx, KVSTORE_OP_GET, 1, 0, 5, KVSTORE_OK);
    assert_int_equal(kvstore_get(ctx->bucket, "missing", &v, &n),
                     KVSTORE_NOTFOUND);
    expect_last(&s, ctx, KVSTORE_OP_GET, 1, 0, 0, KVSTORE_NOTFOUND);
    assert_int_equal(kvstore_exists(ctx->bucket, "k", &ex), KVSTORE_OK);
    expect_last(&s, ctx, KVSTORE_OP_EXISTS, 1, 0, 0, KVSTORE_OK);
    /* A refused key is reported with its error. */
    assert_int_equal(kvstore_get(ctx->bucket, "", &v, &n), KVSTORE_EINVAL);
    expect_last(&s, ctx, KVSTORE_OP_GET, 1, 0, 0, KVSTORE_EINVAL);

    assert_int_equal(kvstore_list_keys(ctx->bucket, NULL, NULL, 0, &page),
                     KVSTORE_OK);
    size_t listed = page->count;
    kvstore_keys_free(page);
    expect_last(&s, ctx, KVSTORE_OP_LIST_KEYS, listed, 0, 0, KVSTORE_OK);
    assert_int_equal(listed, 1);

    int rc = kvstore_increment(ctx->bucket, "n", 41, &counter);
    expect_last(&s, ctx, KVSTORE_OP_INCREMENT, 1, 0, 0, rc);

    const char *keys[] = { "a", "bb" };
    const void *vals[] = { "1", "22" };
    size_t lens[] = { 1, 2 };
    void *got[2];
    size_t got_lens[2];
    assert_int_equal(kvstore_set_many(ctx->bucket, keys, vals, lens, 2),
                     KVSTORE_OK);
    expect_last(&s, ctx, KVSTORE_OP_SET_MANY, 2, 3, 0, KVSTORE_OK);
    assert_int_equal(kvstore_get_many(ctx->bucket, keys, 2, got, got_lens),
                     KVSTORE_OK);
    kvstore_free(got[0]);
    kvstore_free(got[1]);
    expect_last(&s, ctx, KVSTORE_OP_GET_MANY, 2, 0, 3, KVSTORE_OK);
    assert_int_equal(kvstore_delete_many(ctx->bucket, keys, 2), KVSTORE_OK);
    expect_last(&s, ctx, KVSTORE_OP_DELETE_MANY, 2, 0, 0, KVSTORE_OK);

    kvstore_cas *cas = NULL;
    rc = kvstore_cas_open(&cas, ctx->bucket, "k");
    expect_last(&s, ctx, KVSTORE_OP_CAS_OPEN, 1, 0,
                rc == KVSTORE_OK ? 5 : 0, rc);
    if (rc == KVSTORE_OK) {
        assert_int_equal(kvstore_cas_swap(cas, "abc", 3), KVSTORE_OK);
        expect_last(&s, ctx, KVSTORE_OP_CAS_SWAP, 1, 3, 0, KVSTORE_OK);
        kvstore_cas_free(cas);
    }

    assert_int_equal(kvstore_delete(ctx->bucket, "k"), KVSTORE_OK);
    expect_last(&s, ctx, KVSTORE_OP_DELETE, 1, 0, 0, KVSTORE_OK);
    (void)kvstore_delete(ctx->bucket, "n");
    s.n = 0;
    assert_int_equal(kvstore_observe(ctx->store, NULL, NULL), KVSTORE_OK);
}

static void count(void *payload, const kvstore_observation *o)
{
    (void)o;
    atomic_fetch_add((atomic_size_t *)payload, 1);
}

void test_observe_replace_and_stop(void **state)
{
    conf_ctx *ctx = *state;
    atomic_size_t first = 0, second = 0;
    kvstore_observer obs = { .version = KVSTORE_OBSERVER_VERSION,
                             .on_operation = count };

    assert_int_equal(kvstore_observe(ctx->store, &obs, &first), KVSTORE_OK);
    assert_int_equal(kvstore_set(ctx->bucket, "k", "v", 1), KVSTORE_OK);
    /* The registration is a copy: changing ours changes nothing. */
    obs.on_operation = NULL;
    assert_int_equal(kvstore_set(ctx->bucket, "k", "v", 1), KVSTORE_OK);
    assert_int_equal(atomic_load(&first), 2);

    obs.on_operation = count;
    assert_int_equal(kvstore_observe(ctx->store, &obs, &second), KVSTORE_OK);
    assert_int_equal(kvstore_delete(ctx->bucket, "k"), KVSTORE_OK);
    assert_int_equal(atomic_load(&first), 2);
    assert_int_equal(atomic_load(&second), 1);

    assert_int_equal(kvstore_observe(ctx->store, NULL, NULL), KVSTORE_OK);
    assert_int_equal(kvstore_delete(ctx->bucket, "k"), KVSTORE_OK);
    assert_int_equal(atomic_load(&second), 1);
}

typedef struct writer {
    kvstore_bucket *bucket;
    int id;
} writer;

#define WRITERS 4
#define WRITES 100

static void *write_some(void *arg)
{
    writer *w = arg;
    char key[32];

    for (int i = 0; i < WRITES; i++) {
        snprintf(key, sizeof key, "w%d-%d", w->id, i % 10);
        if (kvstore_set(w->bucket, key, "x", 1) != KVSTORE_OK)
            return (void *)1;
    }
    return NULL;
}

void test_observe_threads(void **state)
{
    conf_ctx *ctx = *state;
    atomic_size_t calls = 0;
    kvstore_observer obs = { .version = KVSTORE_OBSERVER_VERSION,
                             .on_operation = count };
    writer w[WRITERS];

    assert_int_equal(kvstore_observe(ctx->store, &obs, &calls), KVSTORE_OK);
    for (int i = 0; i < WRITERS; i++)
        w[i] = (writer){ .bucket = ctx->bucket, .id = i };
    threads_run(WRITERS, write_some, w, sizeof w[0]);
    assert_int_equal(atomic_load(&calls), WRITERS * WRITES);
    assert_int_equal(kvstore_observe(ctx->store, NULL, NULL), KVSTORE_OK);
    if (!conf_disposable)
        wipe_bucket(ctx->bucket);
}

void test_observe_bad_args(void **state)
{
    conf_ctx *ctx = *state;
    kvstore_observer obs = { .version = KVSTORE_OBSERVER_VERSION,
                             .on_operation = count };
    atomic_size_t calls = 0;

    assert_fails(kvstore_observe(NULL, &obs, &calls), KVSTORE_EINVAL);
    obs.version = 0;
    assert_fails(kvstore_observe(ctx->store, &obs, &calls), KVSTORE_EINVAL);
    obs.version = KVSTORE_OBSERVER_VERSION + 1;
    assert_fails(kvstore_observe(ctx->store, &obs, &calls), KVSTORE_EINVAL);
    obs.version = KVSTORE_OBSERVER_VERSION;
    obs.on_operation = NULL;
    assert_fails(kvstore_observe(ctx->store, &obs, &calls), KVSTORE_EINVAL);
    /* None of the refused ones took effect. */
    assert_int_equal(kvstore_set(ctx->bucket, "k", "v", 1), KVSTORE_OK);
    assert_int_equal(atomic_load(&calls), 0);

    assert_string_equal(kvstore_op_name(KVSTORE_OP_GET), "get");
    assert_string_equal(kvstore_op_name(KVSTORE_OP_SET_MANY), "set_many");
    assert_string_equal(kvstore_op_name(KVSTORE_OP_BUCKET_INFO),
                        "bucket_info");
    assert_string_equal(kvstore_op_name((kvstore_op)0), "unknown");
    assert_string_equal(kvstore_op_name((kvstore_op)KVSTORE_OP_COUNT),
                        "unknown");
    for (int op = 1; op < KVSTORE_OP_COUNT; op++)
        assert_string_not_equal(kvstore_op_name((kvstore_op)op), "unknown");
    if (!conf_disposable)
        (void)kvstore_delete(ctx->bucket, "k");
}

/*
 * memory backend: many threads on one bucket handle (run under TSan too).
 * Asserts results that any lost update or torn read would break.
 *
 * SPDX-License-Identifier: MIT
 */
#include "fx_memory.h"

#include <stdatomic.h>

#define THREADS 8
#define INCRS 2000
#define CAS_WINS 300

/* Every thread gets the test's bucket as its argument. */
static void *incr_loop(void *arg)
{
    kvstore_bucket *bucket = *(kvstore_bucket **)arg;

    for (int i = 0; i < INCRS; i++)
        if (kvstore_increment(bucket, "counter", 1, NULL) != KVSTORE_OK)
            return (void *)1;
    return NULL;
}

/* Increments by CAS: read, add one, swap, retry on conflict. */
static void *cas_loop(void *arg)
{
    kvstore_bucket *bucket = *(kvstore_bucket **)arg;

    for (int wins = 0; wins < CAS_WINS;) {
        kvstore_cas *cas = NULL;
        const void *v;
        size_t len;
        char buf[32];
        long n = 0;
        int rc;

        if (kvstore_cas_open(&cas, bucket, "cas-counter") != KVSTORE_OK)
            return (void *)1;
        if (kvstore_cas_current(cas, &v, &len) == KVSTORE_OK) {
            snprintf(buf, sizeof(buf), "%.*s", (int)len, (const char *)v);
            n = strtol(buf, NULL, 10);
        }
        snprintf(buf, sizeof(buf), "%ld", n + 1);
        rc = kvstore_cas_swap(cas, buf, strlen(buf));
        kvstore_cas_free(cas);
        if (rc == KVSTORE_OK)
            wins++;
        else if (rc != KVSTORE_ECONFLICT)
            return (void *)1;
    }
    return NULL;
}

/* THREADS threads of `fn` on the test's bucket. */
static void run(void **state, void *(*fn)(void *))
{
    tmp_store *t = *state;
    kvstore_bucket *arg[THREADS];

    for (int i = 0; i < THREADS; i++)
        arg[i] = t->b;
    threads_run(THREADS, fn, arg, sizeof arg[0]);
}

static void concurrent_increments(void **state)
{
    tmp_store *t = *state;

    run(state, incr_loop);
    expect_str(t->b, "counter", "16000");
}

static void concurrent_cas(void **state)
{
    tmp_store *t = *state;
    char want[32];

    run(state, cas_loop);
    snprintf(want, sizeof(want), "%d", THREADS * CAS_WINS);
    expect_str(t->b, "cas-counter", want);
}

/* Each thread rewrites its own keys with values that embed the key and a
 * round number while reading everyone's keys: a read never sees a value
 * that belongs to another key or is torn. Listing runs alongside. */
static _Atomic int next_id;

static void *mixed_loop(void *arg)
{
    kvstore_bucket *bucket = *(kvstore_bucket **)arg;
    int id = atomic_fetch_add(&next_id, 1);
    char key[32], val[64];

    for (int round = 0; round < 300; round++) {
        for (int k = 0; k < 8; k++) {
            void *v = NULL;
            size_t len = 0;
            int other = (id + k) % THREADS, rc;

            snprintf(key, sizeof(key), "t%d-%d", id, k);
            snprintf(val, sizeof(val), "%s=%d", key, round);
            if (kvstore_set(bucket, key, val, strlen(val)) != KVSTORE_OK)
                return (void *)1;
            snprintf(key, sizeof(key), "t%d-%d", other, k);
            rc = kvstore_get(bucket, key, &v, &len);
            if (rc == KVSTORE_OK) {
                bool good = len > strlen(key) &&
                            memcmp(v, key, strlen(key)) == 0 &&
                            ((char *)v)[strlen(key)] == '=';
                kvstore_free(v);
                if (!good)
                    return (void *)1;
            } else if (rc != KVSTORE_NOTFOUND) {
                return (void *)1;
            }
        }
        if (round % 50 == 0) {
            kvstore_keys *page = NULL;
            char *cursor = NULL;

            do {
                if (kvstore_list_keys(bucket, "t", cursor, 5, &page) !=
                    KVSTORE_OK)
                    return (void *)1;
                free(cursor);
                cursor = page->cursor ? strdup(page->cursor) : NULL;
                kvstore_keys_free(page);
            } while (cursor);
        }
        if (round % 7 == 0) {
            snprintf(key, sizeof(key), "t%d-%d", id, round % 8);
            if (kvstore_delete(bucket, key) != KVSTORE_OK)
                return (void *)1;
        }
    }
    return NULL;
}

static void concurrent_mixed(void **state)
{
    run(state, mixed_loop);
}

/* Many threads opening and closing one named store and its bucket. */
static void *open_close_loop(void *arg)
{
    (void)arg;
    for (int i = 0; i < 200; i++) {
        kvstore_store *s = NULL;
        kvstore_bucket *b = NULL;

        if (kvstore_open(&s, "memory:churn") != KVSTORE_OK)
            return (void *)1;
        if (kvstore_bucket_open(&b, s, "bk") != KVSTORE_OK)
            return (void *)1;
        if (kvstore_set(b, "k", "v", 1) != KVSTORE_OK)
            return (void *)1;
        kvstore_bucket_close(b);
        kvstore_close(s);
    }
    return NULL;
}

static void concurrent_open_close(void **state)
{
    run(state, open_close_loop);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        MEMORY_TEST(concurrent_increments),
        MEMORY_TEST(concurrent_cas),
        MEMORY_TEST(concurrent_mixed),
        STORE_TEST(concurrent_open_close, "memory:", NULL),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}

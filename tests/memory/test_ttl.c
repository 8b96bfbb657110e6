/*
 * memory backend: per-key expiry. An expired key is absent for every read
 * (get, get_many, exists, list, cas_open, ttl) whether or not it was
 * reaped; writes after the expiry reap and rewrite it correctly.
 *
 * No timing is asserted: a key set with a TTL of at most 20 ms is checked
 * only after sleeping 50 ms, and a key with a one-hour TTL only for being
 * present.
 *
 * SPDX-License-Identifier: MIT
 */
#include "fx_memory.h"

#include <time.h>

#define HOUR_MS 3600000ULL

/* Past every short TTL used here (at most 20 ms). */
static void sleep_past_short_ttl(void)
{
    struct timespec ts = { 0, 50 * 1000 * 1000 };
    nanosleep(&ts, NULL);
}

static void set_ttl_str(kvstore_bucket *b, const char *key, const char *v,
                        uint64_t ttl_ms)
{
    assert_int_equal(kvstore_set_ttl(b, key, v, strlen(v), ttl_ms),
                     KVSTORE_OK);
}

static int64_t ttl_of(kvstore_bucket *b, const char *key)
{
    int64_t left = -2;
    assert_int_equal(kvstore_ttl(b, key, &left), KVSTORE_OK);
    return left;
}

static void caps_say_ttl(void **state)
{
    tmp_store *t = *state;
    assert_true(kvstore_caps(t->s) & KVSTORE_CAP_TTL);
    assert_false(kvstore_caps(t->s) & KVSTORE_CAP_TTL_BUCKET_ONLY);
    assert_false(kvstore_caps(t->s) & KVSTORE_CAP_LIST_REPEATS);
}

static void live_key_reports_ttl(void **state)
{
    tmp_store *t = *state;
    kvstore_bucket *b = t->b;
    int64_t left;

    set_ttl_str(b, "k", "v", HOUR_MS);
    expect_str(b, "k", "v");
    left = ttl_of(b, "k");
    assert_true(left > 0 && left <= (int64_t)HOUR_MS);
    /* A plain set clears the expiry; set_ttl with 0 too. */
    set_str(b, "k", "w");
    assert_int_equal(ttl_of(b, "k"), -1);
    set_ttl_str(b, "k", "x", HOUR_MS);
    set_ttl_str(b, "k", "y", 0);
    assert_int_equal(ttl_of(b, "k"), -1);
    expect_str(b, "k", "y");
    assert_int_equal(kvstore_ttl(b, "missing", &left), KVSTORE_NOTFOUND);
    /* A huge TTL saturates instead of wrapping into the past. */
    set_ttl_str(b, "far", "v", UINT64_MAX);
    assert_true(ttl_of(b, "far") > (int64_t)HOUR_MS);
    expect_str(b, "far", "v");
}

static void expired_key_absent_everywhere(void **state)
{
    tmp_store *t = *state;
    kvstore_bucket *b = t->b;
    const char *keys[] = { "dead", "alive" };
    void *values[2] = { NULL, NULL };
    size_t lens[2] = { 0, 0 };
    kvstore_keys *page = NULL;
    kvstore_cas *cas = NULL;
    const void *cv;
    size_t clen;
    bool ex = true;
    int64_t left;

    set_ttl_str(b, "dead", "v", 1);
    set_ttl_str(b, "alive", "v", HOUR_MS);
    sleep_past_short_ttl();
    /* No write since: the entry is still in the table, unreaped. */
    expect_str(b, "dead", NULL);
    assert_int_equal(kvstore_exists(b, "dead", &ex), KVSTORE_OK);
    assert_false(ex);
    assert_int_equal(kvstore_ttl(b, "dead", &left), KVSTORE_NOTFOUND);
    assert_int_equal(kvstore_get_many(b, keys, 2, values, lens), KVSTORE_OK);
    assert_null(values[0]);
    assert_non_null(values[1]);
    kvstore_free(values[1]);
    assert_int_equal(kvstore_list_keys(b, NULL, NULL, 0, &page), KVSTORE_OK);
    assert_int_equal(page->count, 1);
    assert_string_equal(page->keys[0], "alive");
    kvstore_keys_free(page);
    assert_int_equal(kvstore_cas_open(&cas, b, "dead"), KVSTORE_OK);
    assert_int_equal(kvstore_cas_current(cas, &cv, &clen), KVSTORE_NOTFOUND);
    /* Absent at the snapshot: the swap creates it, without expiry. */
    assert_int_equal(kvstore_cas_swap(cas, "new", 3), KVSTORE_OK);
    kvstore_cas_free(cas);
    expect_str(b, "dead", "new");
    assert_int_equal(ttl_of(b, "dead"), -1);
}

static void increment_and_cas_on_expiry(void **state)
{
    tmp_store *t = *state;
    kvstore_bucket *b = t->b;
    kvstore_cas *cas = NULL;
    int64_t v = 0;

    /* An expired counter counts from zero. */
    set_ttl_str(b, "c", "41", 1);
    sleep_past_short_ttl();
    assert_int_equal(kvstore_increment(b, "c", 5, &v), KVSTORE_OK);
    assert_int_equal(v, 5);
    assert_int_equal(ttl_of(b, "c"), -1);
    /* A live counter keeps its expiry across increments. */
    set_ttl_str(b, "d", "1", HOUR_MS);
    assert_int_equal(kvstore_increment(b, "d", 1, &v), KVSTORE_OK);
    assert_int_equal(v, 2);
    assert_true(ttl_of(b, "d") > 0);
    /* A snapshot of a live key that expires before the swap conflicts.
     * The key lives 20 ms; should a slow run (valgrind, a loaded machine)
     * open the snapshot after that, the key is absent at both ends and
     * the swap must succeed instead: either way the outcome is exact. */
    set_ttl_str(b, "e", "v", 20);
    assert_int_equal(kvstore_cas_open(&cas, b, "e"), KVSTORE_OK);
    const void *cv;
    size_t clen;
    bool was_live = kvstore_cas_current(cas, &cv, &clen) == KVSTORE_OK;
    sleep_past_short_ttl();
    assert_int_equal(kvstore_cas_swap(cas, "w", 1),
                     was_live ? KVSTORE_ECONFLICT : KVSTORE_OK);
    kvstore_cas_free(cas);
    expect_str(b, "e", was_live ? NULL : "w");
    /* A delete of an expired key is a no-op that succeeds. */
    assert_int_equal(kvstore_delete(b, "e"), KVSTORE_OK);
}

/* Many expired keys, then many writes: the reaper unlinks expired entries
 * as writes go on; reads, counts and lists stay right throughout, and
 * ASan/valgrind see every reaped entry freed exactly once. */
static void reaper_under_writes(void **state)
{
    tmp_store *t = *state;
    kvstore_bucket *b = t->b;
    kvstore_bucket_stat info = { .version = KVSTORE_BUCKET_STAT_VERSION };
    char key[32];
    size_t total = 0;

    for (int i = 0; i < 2000; i++) {
        snprintf(key, sizeof(key), "t%04d", i);
        set_ttl_str(b, key, "v", 1);
    }
    for (int i = 0; i < 100; i++) {
        snprintf(key, sizeof(key), "p%04d", i);
        set_str(b, key, "v");
    }
    sleep_past_short_ttl();
    assert_int_equal(kvstore_bucket_info(t->s, "reap", &info), KVSTORE_OK);
    assert_int_equal(info.keys, 100);
    for (int round = 0; round < 20; round++) {
        for (int i = 0; i < 100; i++) {
            snprintf(key, sizeof(key), "p%04d", i);
            set_str(b, key, round % 2 ? "odd" : "even");
        }
        /* Some expired keys come back to life through a write. */
        snprintf(key, sizeof(key), "t%04d", round);
        set_str(b, key, "back");
    }
    assert_int_equal(kvstore_bucket_info(t->s, "reap", &info), KVSTORE_OK);
    assert_int_equal(info.keys, 120);
    walk_all(b, NULL, NULL, 33, walk_count, &total);
    assert_int_equal(total, 120);
    expect_str(b, "t0005", "back");
    expect_str(b, "t0500", NULL);
}

typedef struct {
    kvstore_bucket *b;
    int id;
} ttl_worker;

/* Writers of short-lived keys (reaped as they go) and of permanent ones,
 * beside a lister: run under TSan by scripts/test.sh's sanitizer builds
 * and checked for exact outcomes here. A worker returns non-NULL on a
 * failed call or a listing out of order (threads_join fails the test). */
static void *ttl_writer(void *p)
{
    ttl_worker *w = p;
    char key[32];

    for (int i = 0; i < 3000; i++) {
        snprintf(key, sizeof(key), "tmp-%d-%d", w->id, i % 97);
        if (kvstore_set_ttl(w->b, key, "v", 1, 1 + i % 3) != KVSTORE_OK)
            return (void *)1;
        snprintf(key, sizeof(key), "keep-%d-%d", w->id, i % 50);
        if (kvstore_set(w->b, key, "v", 1) != KVSTORE_OK)
            return (void *)1;
    }
    return NULL;
}

static void *ttl_lister(void *p)
{
    ttl_worker *w = p;

    for (int i = 0; i < 200; i++) {
        kvstore_keys *page = NULL;
        bool ordered = true;

        if (kvstore_list_keys(w->b, NULL, NULL, 0, &page) != KVSTORE_OK)
            return (void *)1;
        for (size_t k = 1; k < page->count; k++)
            ordered &= strcmp(page->keys[k - 1], page->keys[k]) < 0;
        kvstore_keys_free(page);
        if (!ordered)
            return (void *)1;
    }
    return NULL;
}

static void threads_with_expiry(void **state)
{
    tmp_store *t = *state;
    kvstore_bucket *b = t->b;
    ttl_worker w[3] = { { b, 0 }, { b, 1 }, { b, 2 } };
    pthread_t th[3];
    kvstore_keys *page = NULL;
    size_t keep = 0;

    threads_start(th, 2, ttl_writer, w, sizeof w[0]);
    threads_start(th + 2, 1, ttl_lister, &w[2], sizeof w[0]);
    threads_join(th, 3);
    sleep_past_short_ttl();
    assert_int_equal(kvstore_list_keys(b, NULL, NULL, 0, &page), KVSTORE_OK);
    for (size_t k = 0; k < page->count; k++) {
        assert_memory_equal(page->keys[k], "keep-", 5);
        keep++;
    }
    assert_int_equal(keep, 100);
    kvstore_keys_free(page);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        STORE_TEST(caps_say_ttl, "memory:", NULL),
        MEMORY_TEST(live_key_reports_ttl),
        MEMORY_TEST(expired_key_absent_everywhere),
        MEMORY_TEST(increment_and_cas_on_expiry),
        STORE_TEST(reaper_under_writes, "memory:", "reap"),
        MEMORY_TEST(threads_with_expiry),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

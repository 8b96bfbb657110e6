/*
 * memory backend: bucket management (list, remove, info) and the store's
 * one walk cache shared by its buckets.
 *
 * SPDX-License-Identifier: MIT
 */
#include "fx_memory.h"

static void list_all_buckets(void **state)
{
    tmp_store *t = *state;
    kvstore_bucket *b[25];
    char name[16], *cursor = NULL, prev[KVSTORE_BUCKET_NAME_MAX + 1] = "";
    int seen[25] = { 0 }, total = 0;

    /* Opened in an order unlike their names' order. */
    for (int i = 0; i < 25; i++) {
        snprintf(name, sizeof(name), "bkt-%02d", (i * 7) % 25);
        b[i] = open_bucket(t->s, name);
    }
    do {
        kvstore_keys *page = NULL;
        assert_int_equal(kvstore_bucket_list(t->s, cursor, 7, &page),
                         KVSTORE_OK);
        free(cursor);
        assert_true(page->count <= 7);
        for (size_t i = 0; i < page->count; i++) {
            int idx = -1;
            assert_int_equal(sscanf(page->keys[i], "bkt-%d", &idx), 1);
            assert_true(idx >= 0 && idx < 25);
            assert_int_equal(seen[idx]++, 0);
            assert_true(strcmp(prev, page->keys[i]) < 0);
            snprintf(prev, sizeof(prev), "%s", page->keys[i]);
            total++;
        }
        cursor = page->cursor ? strdup(page->cursor) : NULL;
        kvstore_keys_free(page);
    } while (cursor);
    assert_int_equal(total, 25);
    /* A key cursor is not a bucket-list cursor. */
    set_str(b[0], "k1", "v");
    set_str(b[0], "k2", "v");
    kvstore_keys *page = NULL;
    assert_int_equal(kvstore_list_keys(b[0], NULL, NULL, 1, &page),
                     KVSTORE_OK);
    assert_non_null(page->cursor);
    bucket_list_refused(t->s, page->cursor, "a key");
    kvstore_keys_free(page);
    for (int i = 0; i < 25; i++)
        kvstore_bucket_close(b[i]);
}

static void remove_bucket(void **state)
{
    tmp_store *t = *state;
    kvstore_bucket *old = open_bucket(t->s, "doomed");
    kvstore_bucket *keep = open_bucket(t->s, "keep");
    kvstore_bucket_stat info = { .version = KVSTORE_BUCKET_STAT_VERSION };
    kvstore_keys *page = NULL;
    char *cursor;

    for (int i = 0; i < 10; i++) {
        char k[8];
        snprintf(k, sizeof(k), "k%d", i);
        set_str(old, k, "v");
    }
    set_str(keep, "k0", "kept");
    /* A walk in progress on the bucket being removed. */
    assert_int_equal(kvstore_list_keys(old, NULL, NULL, 3, &page),
                     KVSTORE_OK);
    cursor = strdup(page->cursor);
    kvstore_keys_free(page);

    assert_int_equal(kvstore_bucket_remove(t->s, "doomed"), KVSTORE_OK);
    assert_int_equal(kvstore_bucket_remove(t->s, "doomed"), KVSTORE_ENOSTORE);
    assert_int_equal(kvstore_bucket_info(t->s, "doomed", &info),
                     KVSTORE_ENOSTORE);
    /* The open handle sees it empty, the walk included. */
    expect_str(old, "k0", NULL);
    expect_page(old, NULL, cursor, 0, 0, NULL);
    expect_str(keep, "k0", "kept");

    /* A new bucket of the same name is a different, empty bucket: writes
     * through the stale handle do not reach it, and the stale walk's
     * cursor lists only the new bucket's keys. */
    kvstore_bucket *fresh = open_bucket(t->s, "doomed");
    set_str(old, "stale", "v");
    set_str(fresh, "k5", "new");
    expect_str(fresh, "stale", NULL);
    expect_str(fresh, "k0", NULL);
    expect_page(fresh, NULL, cursor, 0, 1, "k5");
    free(cursor);
    assert_int_equal(kvstore_bucket_info(t->s, "doomed", &info), KVSTORE_OK);
    assert_int_equal(info.keys, 1);

    /* Closing the removed bucket's handle frees it (ASan/valgrind). */
    kvstore_bucket_close(old);
    kvstore_bucket_close(fresh);
    kvstore_bucket_close(keep);
}

/* A removed bucket with a watch and no handle lives until the watch
 * stops. */
static void on_event(void *payload, kvstore_event type, const char *key,
                     const void *value, size_t len)
{
    (void)payload; (void)type; (void)key; (void)value; (void)len;
}

static void remove_with_watch_and_store_closed(void **state)
{
    kvstore_store *s = open_uri("memory:");
    kvstore_bucket *b = open_bucket(s, "w");
    kvstore_watch *w = NULL;

    (void)state;
    assert_int_equal(kvstore_watch_start(&w, b, "", on_event, NULL),
                     KVSTORE_OK);
    set_str(b, "k", "v");
    assert_int_equal(kvstore_bucket_remove(s, "w"), KVSTORE_OK);
    kvstore_close(s);          /* deferred: the bucket is open */
    set_str(b, "k2", "v");     /* into the detached bucket */
    kvstore_bucket_close(b);
    kvstore_watch_stop(w);
}

static void info_counts_keys(void **state)
{
    tmp_store *t = *state;
    kvstore_bucket *b = t->b;
    kvstore_bucket_stat info = { .version = KVSTORE_BUCKET_STAT_VERSION };
    char k[16];

    assert_int_equal(kvstore_bucket_info(t->s, "count", &info), KVSTORE_OK);
    assert_int_equal(info.keys, 0);
    assert_int_equal(info.max_value, 64u * 1024 * 1024);
    assert_int_equal(info.ttl_ms, 0);
    for (int i = 0; i < 500; i++) {
        snprintf(k, sizeof(k), "k%d", i);
        set_str(b, k, "v");
    }
    for (int i = 0; i < 100; i++) {
        snprintf(k, sizeof(k), "k%d", i);
        assert_int_equal(kvstore_delete(b, k), KVSTORE_OK);
    }
    set_str(b, "k200", "overwrite");
    assert_int_equal(kvstore_bucket_info(t->s, "count", &info), KVSTORE_OK);
    assert_int_equal(info.keys, 400);
    assert_int_equal(kvstore_bucket_info(t->s, "nope", &info),
                     KVSTORE_ENOSTORE);
}

/* Buckets of one store share a walk cache: walks of different buckets
 * interleaved never mix keys, and more walks than the cache holds still
 * complete (an evicted walk resumes after its last key). */
static void interleaved_walks(void **state)
{
    enum { NB = 20, NK = 60 };
    tmp_store *t = *state;
    kvstore_bucket *b[NB];
    char *cursor[NB];
    int count[NB] = { 0 };
    bool active = true;

    for (int i = 0; i < NB; i++) {
        char name[16];
        snprintf(name, sizeof(name), "w%d", i);
        b[i] = open_bucket(t->s, name);
        for (int j = 0; j < NK; j++) {
            char k[24];
            snprintf(k, sizeof(k), "b%02d-k%03d", i, j);
            set_str(b[i], k, "v");
        }
        cursor[i] = NULL;
    }
    for (bool first = true; active; first = false) {
        active = false;
        for (int i = 0; i < NB; i++) {
            kvstore_keys *page = NULL;
            char want[8];
            if (!first && !cursor[i])
                continue;
            assert_int_equal(kvstore_list_keys(b[i], NULL, cursor[i], 7,
                                               &page), KVSTORE_OK);
            free(cursor[i]);
            snprintf(want, sizeof(want), "b%02d-", i);
            for (size_t k = 0; k < page->count; k++)
                assert_memory_equal(page->keys[k], want, 4);
            count[i] += (int)page->count;
            cursor[i] = page->cursor ? strdup(page->cursor) : NULL;
            active |= cursor[i] != NULL;
            kvstore_keys_free(page);
        }
    }
    for (int i = 0; i < NB; i++) {
        assert_int_equal(count[i], NK);
        kvstore_bucket_close(b[i]);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        STORE_TEST(list_all_buckets, "memory:", NULL),
        STORE_TEST(remove_bucket, "memory:", NULL),
        cmocka_unit_test(remove_with_watch_and_store_closed),
        STORE_TEST(info_counts_keys, "memory:", "count"),
        STORE_TEST(interleaved_walks, "memory:", NULL),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

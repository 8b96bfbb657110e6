/*
 * Conformance: what the core promises since 1.1 on every backend (API.md
 * 11): a bucket keeps its store alive, a cursor is bound to its backend,
 * store and bucket, bucket management and per-key expiry either work as
 * <kvstore/buckets.h> and <kvstore/store.h> say or are KVSTORE_ENOTSUP
 * consistently with kvstore_caps(). A backend without a slot runs the
 * ENOTSUP half; the other half lights up when it gains the slot.
 *
 * SPDX-License-Identifier: MIT
 */
#include "watch_rec.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* ---- a bucket keeps its store alive ---------------------------------- */

/* Everything a bucket does, on a bucket whose store handle was closed. */
static void use_orphan_bucket(conf_ctx *c, kvstore_bucket *b)
{
    int64_t n = 0;
    kvstore_keys *page = NULL;

    assert_int_equal(kvstore_set(b, "alive", "yes", 3), KVSTORE_OK);
    assert_value(b, "alive", "yes", 3);
    assert_int_equal(kvstore_increment(b, "count", 2, &n), KVSTORE_OK);
    assert_int_equal(n, 2);
    assert_int_equal(kvstore_list_keys(b, "al", NULL, 0, &page), KVSTORE_OK);
    assert_int_equal(page->count, 1);
    assert_string_equal(page->keys[0], "alive");
    kvstore_keys_free(page);

    int rc;
    recorder *r = rec_watch(c, b, "w", NULL, &rc);
    if (r != NULL) {
        assert_int_equal(kvstore_set(b, "w1", "x", 1), KVSTORE_OK);
        long got = rec_wait(r, "w1", KVSTORE_EVENT_SET);
        rec_stop(r);
        assert_true(got >= 0);
    } else {
        assert_fails(rc, KVSTORE_ENOTSUP);
    }
    if (!conf_disposable)
        wipe_bucket(b);
}

void test_bucket_outlives_store(void **state)
{
    conf_ctx *c = *state;
    kvstore_close(c->store);
    c->store = NULL;
    use_orphan_bucket(c, c->bucket);
    kvstore_bucket_close(c->bucket);
    c->bucket = NULL;
}

/* Two buckets: the store goes when the last of them is closed, whichever
 * order they close in. */
void test_buckets_outlive_store(void **state)
{
    conf_ctx *c = *state;
    kvstore_bucket *second = conf_bucket_new(c->store, NULL);
    kvstore_close(c->store);
    c->store = NULL;
    kvstore_bucket_close(c->bucket);
    c->bucket = NULL;
    use_orphan_bucket(c, second);
    kvstore_bucket_close(second);
}

/* ---- cursors are bound to their backend and store -------------------- */

/* Opens bucket `name` of --other store `uri`, fills it like `mine`. */
static kvstore_bucket *other_bucket(const char *uri, const char *name,
                                    kvstore_store **store)
{
    int rc = kvstore_open(store, uri);
    if (rc != KVSTORE_OK)
        fail_msg("kvstore_open(%s) = %d: %s", uri, rc, kvstore_errmsg());
    kvstore_bucket *b = open_bucket(*store, name);
    conf_fill(b, "o", 10);
    return b;
}

void test_cursor_other_store(void **state)
{
    conf_ctx *c = *state;
    if (conf_n_other == 0)
        skip(); /* no --other store given */
    conf_fill(c->bucket, "o", 10);
    for (size_t i = 0; i < conf_n_other; i++) {
        kvstore_store *os = NULL;
        kvstore_bucket *ob = other_bucket(conf_other_uris[i], c->name, &os);
        conf_cursors_not_shared(c->bucket, ob, "another store's");
        conf_drop_bucket(ob);
        kvstore_close(os);
    }
}

/* ---- bucket management ----------------------------------------------- */

/* Walks kvstore_bucket_list with `limit`; returns the names in a set, or
 * NULL when the backend cannot list buckets (ENOTSUP, checked). */
static conf_set *walk_buckets(kvstore_store *s, size_t limit)
{
    conf_set *seen = conf_set_new();
    char *cur = NULL;
    size_t pages = 0;
    do {
        kvstore_keys *page = NULL;
        int rc = kvstore_bucket_list(s, cur, limit, &page);
        free(cur);
        cur = NULL;
        if (rc == KVSTORE_ENOTSUP && pages == 0) {
            assert_fails(rc, KVSTORE_ENOTSUP);
            assert_null(page);
            conf_set_free(seen);
            return NULL;
        }
        if (rc != KVSTORE_OK)
            fail_msg("bucket_list(page %zu) = %d: %s", pages, rc,
                     kvstore_errmsg());
        assert_true(limit == 0 || page->count <= limit);
        for (size_t i = 0; i < page->count; i++)
            conf_set_add(seen, page->keys[i]);
        cur = page->cursor ? strdup(page->cursor) : NULL;
        kvstore_keys_free(page);
        if (++pages > 100000)
            fail_msg("bucket list walk did not end");
    } while (cur != NULL);
    return seen;
}

/* Opens a new bucket of `s` (conf_bucket_new: its name into `name` unless
 * NULL) and writes one key so that it exists on every backend; returns
 * the open handle. */
static kvstore_bucket *made_bucket(kvstore_store *s, char *name)
{
    kvstore_bucket *b = conf_bucket_new(s, name);
    assert_int_equal(kvstore_set(b, "k", "v", 1), KVSTORE_OK);
    return b;
}

void test_bucket_list_names(void **state)
{
    conf_ctx *c = *state;
    char a[KVSTORE_BUCKET_NAME_MAX + 1], b[KVSTORE_BUCKET_NAME_MAX + 1];
    kvstore_bucket *ba = made_bucket(c->store, a), *bb = made_bucket(c->store, b);
    conf_set *one = walk_buckets(c->store, 1);
    if (one != NULL) {
        assert_int_equal(conf_set_count(one, a), 1);
        assert_int_equal(conf_set_count(one, b), 1);
        conf_set *all = walk_buckets(c->store, 0);
        assert_non_null(all);
        assert_int_equal(conf_set_count(all, a), 1);
        assert_int_equal(conf_set_size(all), conf_set_size(one));
        conf_set_free(all);
        conf_set_free(one);
    }
    conf_drop_bucket(ba);
    conf_drop_bucket(bb);
}

/* A bucket-list cursor is not a key cursor, and the other way round; and
 * one of another store is refused. */
void test_bucket_list_cursor_bound(void **state)
{
    conf_ctx *c = *state;
    kvstore_bucket *ba = made_bucket(c->store, NULL);
    kvstore_keys *page = NULL;
    int rc = kvstore_bucket_list(c->store, NULL, 1, &page);
    if (rc == KVSTORE_ENOTSUP) {
        assert_fails(rc, KVSTORE_ENOTSUP);
        assert_fails(kvstore_bucket_list(c->store, "c2garbage", 1, &page),
                     KVSTORE_ENOTSUP);
    } else {
        assert_int_equal(rc, KVSTORE_OK);
        /* Two buckets at least (this one and the fixture's): page 1 of 1
         * has a cursor. */
        assert_non_null(page->cursor);
        char *bcur = strdup(page->cursor);
        kvstore_keys_free(page);
        cursor_refused(c->bucket, NULL, bcur, "a bucket-list");
        conf_fill(c->bucket, "o", 4);
        char *kcur = conf_first_cursor(c->bucket, NULL, 1);
        page = (kvstore_keys *)1;
        assert_fails(kvstore_bucket_list(c->store, kcur, 1, &page),
                     KVSTORE_EINVAL);
        assert_null(page);
        assert_fails(kvstore_bucket_list(c->store, "c2garbage", 1, &page),
                     KVSTORE_EINVAL);
        for (size_t i = 0; i < conf_n_other; i++) {
            kvstore_store *os = NULL;
            if (kvstore_open(&os, conf_other_uris[i]) != KVSTORE_OK)
                fail_msg("open %s: %s", conf_other_uris[i], kvstore_errmsg());
            rc = kvstore_bucket_list(os, bcur, 1, &page);
            if (rc != KVSTORE_ENOTSUP)
                assert_fails(rc, KVSTORE_EINVAL);
            assert_null(page);
            kvstore_close(os);
        }
        free(kcur);
        free(bcur);
    }
    conf_drop_bucket(ba);
}

static int info_of(kvstore_store *s, const char *name, kvstore_bucket_stat *st)
{
    memset(st, 0x5a, sizeof *st);
    st->version = KVSTORE_BUCKET_STAT_VERSION;
    return kvstore_bucket_info(s, name, st);
}

void test_bucket_info_counts(void **state)
{
    conf_ctx *c = *state;
    kvstore_bucket_stat st;
    char missing[KVSTORE_BUCKET_NAME_MAX + 1];
    conf_fill(c->bucket, "i", 3);
    int rc = info_of(c->store, c->name, &st);
    if (rc == KVSTORE_ENOTSUP) {
        assert_fails(rc, KVSTORE_ENOTSUP);
        return;
    }
    assert_int_equal(rc, KVSTORE_OK);
    assert_int_equal(st.version, KVSTORE_BUCKET_STAT_VERSION);
    assert_true(st.keys == -1 || st.keys == 3);
    /* The fields were filled, not left as the 0x5a pattern. */
    assert_true(st.max_value != 0x5a5a5a5a5a5a5a5aULL);
    assert_true(st.ttl_ms != 0x5a5a5a5a5a5a5a5aULL);
    conf_unique_name(missing, sizeof missing);
    assert_fails(info_of(c->store, missing, &st), KVSTORE_ENOSTORE);
}

void test_bucket_remove(void **state)
{
    conf_ctx *c = *state;
    char name[KVSTORE_BUCKET_NAME_MAX + 1], sibling[KVSTORE_BUCKET_NAME_MAX + 1];
    kvstore_bucket_stat st;
    kvstore_bucket *b = made_bucket(c->store, name);
    /* A name that the removed one is a prefix of must keep its keys. */
    size_t n = strlen(name);
    assert_true(n + 1 < sizeof sibling);
    memcpy(sibling, name, n);
    memcpy(sibling + n, "x", 2);
    kvstore_bucket *sib = open_bucket(c->store, sibling);
    assert_int_equal(kvstore_set(sib, "k", "v", 1), KVSTORE_OK);
    conf_fill(b, "r", 5);
    int rc = kvstore_bucket_remove(c->store, name);
    if (rc == KVSTORE_ENOTSUP) {
        assert_fails(rc, KVSTORE_ENOTSUP);
        assert_value(b, "k", "v", 1); /* nothing was removed */
    } else {
        assert_int_equal(rc, KVSTORE_OK);
        void *v = (void *)1;
        size_t len = 1;
        rc = kvstore_get(b, "r0", &v, &len);
        assert_true(rc == KVSTORE_NOTFOUND || rc == KVSTORE_ENOSTORE);
        assert_null(v);
        assert_value(sib, "k", "v", 1);
        rc = info_of(c->store, name, &st);
        if (rc != KVSTORE_ENOTSUP)
            assert_fails(rc, KVSTORE_ENOSTORE);
        conf_set *names = walk_buckets(c->store, 0);
        if (names != NULL) {
            assert_int_equal(conf_set_count(names, name), 0);
            assert_int_equal(conf_set_count(names, sibling), 1);
            conf_set_free(names);
        }
        assert_fails(kvstore_bucket_remove(c->store, name), KVSTORE_ENOSTORE);
    }
    conf_drop_bucket(b);
    conf_drop_bucket(sib);
}

/* ---- per-key expiry -------------------------------------------------- */

static bool has_ttl(const conf_ctx *c)
{
    return (kvstore_caps(c->store) & KVSTORE_CAP_TTL) != 0;
}

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static void sleep_until(double t_ms)
{
    double left = t_ms - now_ms();
    if (left > 0) {
        struct timespec ts = { (time_t)(left / 1e3),
                               (long)((left - (time_t)(left / 1e3) * 1e3) * 1e6) };
        nanosleep(&ts, NULL);
    }
}

/* Without KVSTORE_CAP_TTL, a non-zero TTL is ENOTSUP and writes nothing;
 * ttl is ENOTSUP too unless the backend expires whole buckets. A TTL of 0
 * is a plain set everywhere. */
void test_ttl_matches_caps(void **state)
{
    conf_ctx *c = *state;
    unsigned caps = kvstore_caps(c->store);
    int64_t left = 7;
    assert_int_equal(kvstore_set_ttl(c->bucket, "zero", "z", 1, 0), KVSTORE_OK);
    assert_value(c->bucket, "zero", "z", 1);
    int rc = kvstore_set_ttl(c->bucket, "k", "v", 1, 60000);
    if (caps & KVSTORE_CAP_TTL) {
        assert_int_equal(rc, KVSTORE_OK);
        assert_value(c->bucket, "k", "v", 1);
        assert_int_equal(kvstore_ttl(c->bucket, "zero", &left), KVSTORE_OK);
        assert_int_equal(left, -1);
        return;
    }
    assert_fails(rc, KVSTORE_ENOTSUP);
    assert_absent(c->bucket, "k");
    rc = kvstore_ttl(c->bucket, "zero", &left);
    if (caps & KVSTORE_CAP_TTL_BUCKET_ONLY)
        assert_true(rc == KVSTORE_OK || rc == KVSTORE_ENOTSUP);
    else
        assert_fails(rc, KVSTORE_ENOTSUP);
    if (rc != KVSTORE_OK)
        assert_int_equal(left, -1);
}

void test_ttl_expiry_hides_key(void **state)
{
    conf_ctx *c = *state;
    if (!has_ttl(c))
        skip();
    assert_int_equal(kvstore_set(c->bucket, "e-plain", "p", 1), KVSTORE_OK);
    double t0 = now_ms();
    assert_int_equal(kvstore_set_ttl(c->bucket, "e-short", "s", 1, 200),
                     KVSTORE_OK);
    assert_int_equal(kvstore_set_ttl(c->bucket, "e-count", "41", 2, 200),
                     KVSTORE_OK);
    /* Readable before it expires; checked only when this thread was not
     * descheduled past the expiry (a loaded machine), never timed. */
    void *v = NULL;
    size_t len = 0;
    int rc = kvstore_get(c->bucket, "e-short", &v, &len);
    if (now_ms() - t0 < 150) {
        assert_int_equal(rc, KVSTORE_OK);
        assert_int_equal(len, 1);
    }
    kvstore_free(v);
    sleep_until(t0 + 400);

    assert_absent(c->bucket, "e-short");
    const char *keys[] = { "e-short", "e-plain" };
    void *vals[2] = { NULL, NULL };
    size_t lens[2] = { 9, 9 };
    assert_int_equal(kvstore_get_many(c->bucket, keys, 2, vals, lens),
                     KVSTORE_OK);
    assert_null(vals[0]);
    assert_int_equal(lens[0], 0);
    assert_non_null(vals[1]);
    kvstore_free(vals[1]);
    conf_set *all = conf_list_all(c->bucket, "e-");
    assert_int_equal(conf_set_count(all, "e-short"), 0);
    assert_int_equal(conf_set_count(all, "e-plain"), 1);
    conf_set_free(all);
    kvstore_cas *cas = NULL;
    rc = kvstore_cas_open(&cas, c->bucket, "e-short");
    if (rc == KVSTORE_OK) {
        const void *cv = (void *)1;
        assert_int_equal(kvstore_cas_current(cas, &cv, &len), KVSTORE_NOTFOUND);
        assert_null(cv);
        kvstore_cas_free(cas);
    } else {
        assert_fails(rc, KVSTORE_ENOTSUP);
    }
    int64_t left = 7;
    /* NOTFOUND is not an error: no message is promised (assert_fails
     * passed only on a message left by an earlier test). */
    assert_int_equal(kvstore_ttl(c->bucket, "e-short", &left), KVSTORE_NOTFOUND);
    assert_int_equal(left, -1);

    /* Missing for the atomics too: an expired counter counts from 0, and
     * a CAS that saw the key absent creates it, without the old expiry. */
    int64_t r = 0;
    rc = kvstore_increment(c->bucket, "e-count", 1, &r);
    if (rc != KVSTORE_ENOTSUP) {
        assert_int_equal(rc, KVSTORE_OK);
        assert_int_equal(r, 1);
        assert_int_equal(kvstore_ttl(c->bucket, "e-count", &left),
                         KVSTORE_OK);
        assert_int_equal(left, -1);
    }
    rc = kvstore_cas_open(&cas, c->bucket, "e-short");
    if (rc == KVSTORE_OK) {
        assert_int_equal(kvstore_cas_swap(cas, "new", 3), KVSTORE_OK);
        kvstore_cas_free(cas);
        assert_value(c->bucket, "e-short", "new", 3);
        assert_int_equal(kvstore_ttl(c->bucket, "e-short", &left),
                         KVSTORE_OK);
        assert_int_equal(left, -1);
    }
}

void test_ttl_reports_and_set_clears(void **state)
{
    conf_ctx *c = *state;
    int64_t left = 0;
    if (!has_ttl(c))
        skip();
    assert_int_equal(kvstore_set(c->bucket, "plain", "p", 1), KVSTORE_OK);
    assert_int_equal(kvstore_ttl(c->bucket, "plain", &left), KVSTORE_OK);
    assert_int_equal(left, -1);
    left = 7;
    assert_int_equal(kvstore_ttl(c->bucket, "missing", &left), KVSTORE_NOTFOUND);
    assert_int_equal(left, -1);

    assert_int_equal(kvstore_set_ttl(c->bucket, "long", "l", 1, 60000),
                     KVSTORE_OK);
    assert_int_equal(kvstore_ttl(c->bucket, "long", &left), KVSTORE_OK);
    assert_true(left > 0 && left <= 60000);
    /* A plain set replaces the value and clears the expiry. */
    assert_int_equal(kvstore_set(c->bucket, "long", "L", 1), KVSTORE_OK);
    assert_int_equal(kvstore_ttl(c->bucket, "long", &left), KVSTORE_OK);
    assert_int_equal(left, -1);
    assert_value(c->bucket, "long", "L", 1);

    /* set_ttl over a plain key gives it an expiry; 0 is a plain set. */
    assert_int_equal(kvstore_set_ttl(c->bucket, "plain", "q", 1, 60000),
                     KVSTORE_OK);
    assert_int_equal(kvstore_ttl(c->bucket, "plain", &left), KVSTORE_OK);
    assert_true(left > 0 && left <= 60000);
    assert_int_equal(kvstore_set_ttl(c->bucket, "plain", "r", 1, 0),
                     KVSTORE_OK);
    assert_int_equal(kvstore_ttl(c->bucket, "plain", &left), KVSTORE_OK);
    assert_int_equal(left, -1);
    assert_value(c->bucket, "plain", "r", 1);
}

/* ---- NULL and bad arguments to the 1.1 API ---------------------------- */

void test_core11_bad_args(void **state)
{
    conf_ctx *c = *state;
    kvstore_keys *page = (kvstore_keys *)1;
    kvstore_bucket_stat st = { .version = KVSTORE_BUCKET_STAT_VERSION };
    int64_t left = 7;
    static const char *const bad_names[] = { "", "a/b", "../x", "a b",
                                             "\xc3\xa9" };
    char long_name[KVSTORE_BUCKET_NAME_MAX + 2];
    memset(long_name, 'n', sizeof long_name - 1);
    long_name[sizeof long_name - 1] = '\0';

    assert_int_equal(kvstore_caps(NULL), 0);
    assert_fails(kvstore_set_ttl(NULL, "k", "v", 1, 1000), KVSTORE_EINVAL);
    assert_fails(kvstore_set_ttl(NULL, "k", "v", 1, 0), KVSTORE_EINVAL);
    assert_fails(kvstore_set_ttl(c->bucket, NULL, "v", 1, 1000),
                 KVSTORE_EINVAL);
    assert_fails(kvstore_set_ttl(c->bucket, "", "v", 1, 1000), KVSTORE_EINVAL);
    assert_fails(kvstore_set_ttl(c->bucket, "k", NULL, 1, 1000),
                 KVSTORE_EINVAL);
    assert_fails(kvstore_set_ttl(c->bucket, "\xff", "v", 1, 1000),
                 KVSTORE_EINVAL);
    assert_absent(c->bucket, "k");
    assert_fails(kvstore_ttl(NULL, "k", &left), KVSTORE_EINVAL);
    assert_int_equal(left, -1);
    assert_fails(kvstore_ttl(c->bucket, "k", NULL), KVSTORE_EINVAL);
    left = 7;
    assert_fails(kvstore_ttl(c->bucket, NULL, &left), KVSTORE_EINVAL);
    assert_int_equal(left, -1);

    assert_fails(kvstore_bucket_list(NULL, NULL, 0, &page), KVSTORE_EINVAL);
    assert_null(page);
    assert_fails(kvstore_bucket_list(c->store, NULL, 0, NULL), KVSTORE_EINVAL);
    assert_fails(kvstore_bucket_remove(NULL, c->name), KVSTORE_EINVAL);
    assert_fails(kvstore_bucket_remove(c->store, NULL), KVSTORE_EINVAL);
    assert_fails(kvstore_bucket_info(NULL, c->name, &st), KVSTORE_EINVAL);
    assert_fails(kvstore_bucket_info(c->store, c->name, NULL), KVSTORE_EINVAL);
    assert_fails(kvstore_bucket_info(c->store, NULL, &st), KVSTORE_EINVAL);
    for (size_t i = 0; i < sizeof bad_names / sizeof *bad_names; i++) {
        assert_fails(kvstore_bucket_remove(c->store, bad_names[i]),
                     KVSTORE_EINVAL);
        assert_fails(kvstore_bucket_info(c->store, bad_names[i], &st),
                     KVSTORE_EINVAL);
    }
    assert_fails(kvstore_bucket_remove(c->store, long_name), KVSTORE_EINVAL);
    assert_fails(kvstore_bucket_info(c->store, long_name, &st), KVSTORE_EINVAL);
    st.version = 0;
    assert_fails(kvstore_bucket_info(c->store, c->name, &st), KVSTORE_EINVAL);
    st.version = KVSTORE_BUCKET_STAT_VERSION + 1;
    assert_fails(kvstore_bucket_info(c->store, c->name, &st), KVSTORE_EINVAL);
    /* The fixture's bucket survived all of that. */
    assert_int_equal(kvstore_set(c->bucket, "still", "here", 4), KVSTORE_OK);
    assert_value(c->bucket, "still", "here", 4);
}

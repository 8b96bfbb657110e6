/*
 * Concurrency: threads sharing one store handle and one bucket handle.
 *
 *   concurrency URI [--iterations N] [--private]
 *
 * Each test asserts an exact outcome that a race would break (a counter
 * total, the set of keys a thread owns, a complete listing of keys nobody
 * touches), so it fails without TSan too; under TSan (suite
 * 'concurrency' in CI) it also surfaces data races in the core and the
 * backend. "{tmpdir}" in URI is replaced as in the conformance suite;
 * --private (implied for "memory:") says separate opens of URI do not
 * share data.
 *
 * SPDX-License-Identifier: MIT
 */
#include <inttypes.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <kvstore/kvstore.h>

#include "fx_conformance.h"
#include "uri_arg.h"

#define THREADS 4

static const char *uri;
static int iterations = 2000;
/* Two kvstore_open() calls with `uri` reach different data. */
static bool private_uri;
static char run_id[16];

typedef struct ctx {
    kvstore_store *store;
    kvstore_bucket *bucket;
    char name[KVSTORE_BUCKET_NAME_MAX + 1];
} ctx;

typedef struct worker {
    ctx *c;
    int id;
    char why[160];   /* what went wrong; empty if every check passed */
    int64_t *results;
} worker;

/* All workers of a run start together, so that they really overlap
 * instead of finishing one by one as they are created. */
static pthread_barrier_t start_line;

static void wait_start(void)
{
    pthread_barrier_wait(&start_line);
}

/* Threads must not call cmocka asserts: they record a failure instead. */
#define CHECK(w, cond, ...) do { \
        if (!(cond)) { \
            snprintf((w)->why, sizeof (w)->why, __VA_ARGS__); \
            return NULL; \
        } \
    } while (0)

static int setup(void **state)
{
    static unsigned counter;
    ctx *c = calloc(1, sizeof *c);
    if (c == NULL)
        return -1;
    if (kvstore_open(&c->store, uri) != KVSTORE_OK) {
        fprintf(stderr, "open(%s): %s\n", uri, kvstore_errmsg());
        free(c);
        return -1;
    }
    snprintf(c->name, sizeof c->name, "%s_k%u", run_id, ++counter);
    if (kvstore_bucket_open(&c->bucket, c->store, c->name) != KVSTORE_OK) {
        fprintf(stderr, "bucket_open: %s\n", kvstore_errmsg());
        kvstore_close(c->store);
        free(c);
        return -1;
    }
    *state = c;
    return 0;
}

static int teardown(void **state)
{
    ctx *c = *state;
    if (!private_uri)
        wipe_bucket(c->bucket);
    kvstore_bucket_close(c->bucket);
    kvstore_close(c->store);
    free(c);
    return 0;
}

/* Runs `fn` on THREADS workers and fails the test if any reported. */
static void run(ctx *c, void *(*fn)(void *), worker *w)
{
    pthread_t t[THREADS];
    pthread_barrier_init(&start_line, NULL, THREADS);
    for (int i = 0; i < THREADS; i++) {
        w[i].c = c;
        w[i].id = i;
        w[i].why[0] = '\0';
        assert_int_equal(pthread_create(&t[i], NULL, fn, &w[i]), 0);
    }
    for (int i = 0; i < THREADS; i++)
        pthread_join(t[i], NULL);
    pthread_barrier_destroy(&start_line);
    for (int i = 0; i < THREADS; i++)
        if (w[i].why[0] != '\0')
            fail_msg("thread %d: %s", i, w[i].why);
}

/* run() with workers of its own, for tests that need nothing back from
 * them but that each finished its checks. */
static void run_all(ctx *c, void *(*fn)(void *))
{
    worker w[THREADS];
    memset(w, 0, sizeof w);
    run(c, fn, w);
}

/* Whether `key` holds exactly the `len` bytes `want`, or is absent when
 * `want` is NULL. No cmocka call: worker threads use it. */
static bool holds(kvstore_bucket *b, const char *key, const void *want,
                  size_t len)
{
    void *v = NULL;
    size_t n = 0;
    int rc = kvstore_get(b, key, &v, &n);
    bool same = want != NULL ? rc == KVSTORE_OK && n == len &&
                                   memcmp(v, want, n) == 0
                             : rc == KVSTORE_NOTFOUND && v == NULL;
    kvstore_free(v);
    return same;
}

static int64_t read_counter(kvstore_bucket *b, const char *key)
{
    void *v = NULL;
    size_t n = 0;
    assert_int_equal(kvstore_get(b, key, &v, &n), KVSTORE_OK);
    char text[32];
    assert_true(n < sizeof text);
    memcpy(text, v, n);
    text[n] = '\0';
    kvstore_free(v);
    char *end;
    long long x = strtoll(text, &end, 10);
    assert_true(*end == '\0' && n > 0);
    return x;
}

/* ---- 4 threads x N increments of one key end at exactly 4N ---- */

static void *increment_worker(void *p)
{
    worker *w = p;
    wait_start();
    for (int i = 0; i < iterations; i++) {
        int64_t r = 0;
        int rc = kvstore_increment(w->c->bucket, "ctr", 1, &r);
        CHECK(w, rc == KVSTORE_OK, "increment = %d: %s", rc,
              kvstore_errmsg());
        w->results[i] = r;
    }
    return NULL;
}

static void test_increments_exact(void **state)
{
    ctx *c = *state;
    int rc = kvstore_increment(c->bucket, "probe", 0, NULL);
    if (rc == KVSTORE_ENOTSUP)
        skip();
    worker w[THREADS];
    memset(w, 0, sizeof w);
    for (int i = 0; i < THREADS; i++) {
        w[i].results = calloc((size_t)iterations, sizeof(int64_t));
        assert_non_null(w[i].results);
    }
    run(c, increment_worker, w);
    const int total = THREADS * iterations;
    assert_int_equal(read_counter(c->bucket, "ctr"), total);
    /* Atomic means every intermediate value was handed out exactly once. */
    unsigned char *seen = calloc((size_t)total + 1, 1);
    assert_non_null(seen);
    for (int i = 0; i < THREADS; i++) {
        for (int k = 0; k < iterations; k++) {
            int64_t r = w[i].results[k];
            if (r < 1 || r > total || seen[r])
                fail_msg("increment result %" PRId64 " out of range or "
                         "repeated", r);
            seen[r] = 1;
        }
        free(w[i].results);
    }
    free(seen);
}

/* ---- the same across store handles: each thread opens its own ---- */

static void *own_store_increment_worker(void *p)
{
    worker *w = p;
    kvstore_store *s = NULL;
    kvstore_bucket *b = NULL;
    int rc = kvstore_open(&s, uri);
    if (rc == KVSTORE_OK)
        rc = kvstore_bucket_open(&b, s, w->c->name);
    /* Everyone reaches the start line, even after a failed open. */
    wait_start();
    int n = iterations / 2 > 0 ? iterations / 2 : 1;
    for (int i = 0; i < n && rc == KVSTORE_OK; i++)
        rc = kvstore_increment(b, "ctr", 1, NULL);
    kvstore_bucket_close(b);
    kvstore_close(s);
    CHECK(w, rc == KVSTORE_OK, "open or increment = %d", rc);
    return NULL;
}

static void test_increments_separate_stores(void **state)
{
    ctx *c = *state;
    /* Separate kvstore_open() calls share data only on shared stores. */
    if (private_uri)
        skip();
    if (kvstore_increment(c->bucket, "probe", 0, NULL) == KVSTORE_ENOTSUP)
        skip();
    run_all(c, own_store_increment_worker);
    int n = iterations / 2 > 0 ? iterations / 2 : 1;
    assert_int_equal(read_counter(c->bucket, "ctr"), THREADS * n);
}

/* ---- CAS retry loops lose no update ---- */

static void *cas_worker(void *p)
{
    worker *w = p;
    wait_start();
    int rounds = iterations / 2 > 0 ? iterations / 2 : 1;
    for (int i = 0; i < rounds; i++) {
        for (int attempt = 0;; attempt++) {
            CHECK(w, attempt < 1000000, "CAS never won");
            kvstore_cas *cas = NULL;
            int rc = kvstore_cas_open(&cas, w->c->bucket, "cas");
            CHECK(w, rc == KVSTORE_OK, "cas_open = %d", rc);
            const void *v = NULL;
            size_t n = 0;
            long long cur = 0;
            rc = kvstore_cas_current(cas, &v, &n);
            if (rc == KVSTORE_OK) {
                char text[32];
                if (n >= sizeof text) {
                    kvstore_cas_free(cas);
                    CHECK(w, 0, "counter value of %zu bytes", n);
                }
                memcpy(text, v, n);
                text[n] = '\0';
                cur = strtoll(text, NULL, 10);
            } else if (rc != KVSTORE_NOTFOUND) {
                kvstore_cas_free(cas);
                CHECK(w, 0, "cas_current = %d", rc);
            }
            char next[32];
            int len = snprintf(next, sizeof next, "%lld", cur + 1);
            /* Widen the window between snapshot and swap, as a preempted
             * client would: a CAS that ignores versions loses updates. */
            sched_yield();
            rc = kvstore_cas_swap(cas, next, (size_t)len);
            kvstore_cas_free(cas);
            if (rc == KVSTORE_OK)
                break;
            CHECK(w, rc == KVSTORE_ECONFLICT, "cas_swap = %d: %s", rc,
                  kvstore_errmsg());
        }
    }
    return NULL;
}

static void test_cas_no_lost_update(void **state)
{
    ctx *c = *state;
    kvstore_cas *probe = NULL;
    int rc = kvstore_cas_open(&probe, c->bucket, "probe");
    if (rc == KVSTORE_ENOTSUP)
        skip();
    assert_int_equal(rc, KVSTORE_OK);
    kvstore_cas_free(probe);
    run_all(c, cas_worker);
    int rounds = iterations / 2 > 0 ? iterations / 2 : 1;
    assert_int_equal(read_counter(c->bucket, "cas"), THREADS * rounds);
}

/* ---- mixed operations on owned keys plus one shared key ---- */

#define OWN_KEYS 40
#define SHARED_LEN 256

/* A value that proves it is whole: writer id, round and a checksum. */
static size_t make_shared(char *buf, int id, int round)
{
    memset(buf, 'a' + id, SHARED_LEN);
    int n = snprintf(buf, SHARED_LEN, "w%d r%d ", id, round);
    buf[n] = ' ';
    unsigned sum = 0;
    for (size_t i = 0; i < SHARED_LEN - 4; i++)
        sum = sum * 31 + (unsigned char)buf[i];
    memcpy(buf + SHARED_LEN - 4, &sum, 4);
    return SHARED_LEN;
}

static bool shared_whole(const unsigned char *v, size_t n)
{
    if (n != SHARED_LEN)
        return false;
    unsigned sum = 0, got;
    for (size_t i = 0; i < SHARED_LEN - 4; i++)
        sum = sum * 31 + v[i];
    memcpy(&got, v + SHARED_LEN - 4, 4);
    return sum == got;
}

/* A listing of one worker's keys: the keys "<prefix>k<i>" with live[i]. */
typedef struct own_walk {
    const char *prefix;
    const bool *live;
    int listed; /* -1 once a key was not one of them */
} own_walk;

static bool own_page(void *arg, const kvstore_keys *page)
{
    own_walk *o = arg;
    size_t n = strlen(o->prefix);
    for (size_t i = 0; i < page->count; i++) {
        int k = atoi(page->keys[i] + n + 1);
        if (strncmp(page->keys[i], o->prefix, n) != 0 || k < 0 ||
            k >= OWN_KEYS || !o->live[k]) {
            o->listed = -1;
            return false;
        }
        o->listed++;
    }
    return true;
}

static void *mixed_worker(void *p)
{
    worker *w = p;
    wait_start();
    kvstore_bucket *b = w->c->bucket;
    char keys[OWN_KEYS][32];
    const char *kp[OWN_KEYS];
    char vals[OWN_KEYS][48];
    const void *vp[OWN_KEYS];
    size_t lens[OWN_KEYS];
    bool live[OWN_KEYS] = { false };
    char prefix[16];
    snprintf(prefix, sizeof prefix, "t%d/", w->id);
    int rounds = iterations / 20 > 2 ? iterations / 20 : 2;

    for (int r = 0; r < rounds; r++) {
        /* Single sets of every owned key, then a batch overwrite of half. */
        for (int i = 0; i < OWN_KEYS; i++) {
            snprintf(keys[i], sizeof keys[i], "%sk%02d", prefix, i);
            kp[i] = keys[i];
            lens[i] = (size_t)snprintf(vals[i], sizeof vals[i],
                                       "t%d k%d r%d", w->id, i, r);
            vp[i] = vals[i];
            int rc = kvstore_set(b, keys[i], vals[i], lens[i]);
            CHECK(w, rc == KVSTORE_OK, "set = %d: %s", rc, kvstore_errmsg());
            live[i] = true;
        }
        for (int i = 0; i < OWN_KEYS / 2; i++)
            lens[i] = (size_t)snprintf(vals[i], sizeof vals[i],
                                       "batch t%d k%d r%d", w->id, i, r);
        int rc = kvstore_set_many(b, kp, vp, lens, OWN_KEYS / 2);
        CHECK(w, rc == KVSTORE_OK, "set_many = %d", rc);

        /* Delete every third key, singly or in a batch. */
        const char *del[OWN_KEYS];
        size_t nd = 0;
        for (int i = 0; i < OWN_KEYS; i += 3) {
            if (i % 2)
                del[nd++] = keys[i];
            else
                CHECK(w, kvstore_delete(b, keys[i]) == KVSTORE_OK, "delete");
            live[i] = false;
        }
        CHECK(w, kvstore_delete_many(b, del, nd) == KVSTORE_OK,
              "delete_many");

        /* Read back: nobody else writes these keys. */
        void *got[OWN_KEYS];
        size_t gl[OWN_KEYS];
        rc = kvstore_get_many(b, kp, OWN_KEYS, got, gl);
        CHECK(w, rc == KVSTORE_OK, "get_many = %d", rc);
        bool good = true;
        for (int i = 0; i < OWN_KEYS; i++) {
            if (live[i])
                good &= got[i] != NULL && gl[i] == lens[i] &&
                        memcmp(got[i], vals[i], lens[i]) == 0;
            else
                good &= got[i] == NULL;
            kvstore_free(got[i]);
        }
        CHECK(w, good, "get_many returned another value in round %d", r);
        for (int i = 0; i < OWN_KEYS; i += 7) {
            bool e = !live[i];
            CHECK(w, kvstore_exists(b, keys[i], &e) == KVSTORE_OK &&
                  e == live[i], "exists(%.32s)", keys[i]);
            CHECK(w, holds(b, keys[i], live[i] ? vals[i] : NULL, lens[i]),
                  "get(%.32s) gave another value", keys[i]);
        }

        /* Listing my prefix gives exactly my live keys. */
        int expected = 0;
        for (int i = 0; i < OWN_KEYS; i++)
            expected += live[i];
        own_walk ow = { prefix, live, 0 };
        rc = walk_pages(b, prefix, 7, own_page, &ow);
        CHECK(w, ow.listed >= 0, "listed a key that is not mine or not live");
        CHECK(w, rc == KVSTORE_OK, "list = %d: %s", rc,
              rc == -1 ? "never ended" : kvstore_errmsg());
        CHECK(w, ow.listed >= expected, "listed %d of %d live keys",
              ow.listed, expected);

        /* The shared key: whatever we read is one whole write. */
        char sv[SHARED_LEN];
        size_t sl = make_shared(sv, w->id, r);
        CHECK(w, kvstore_set(b, "shared", sv, sl) == KVSTORE_OK, "set shared");
        void *v = NULL;
        size_t n = 0;
        rc = kvstore_get(b, "shared", &v, &n);
        bool whole = rc == KVSTORE_OK && shared_whole(v, n);
        kvstore_free(v);
        CHECK(w, whole, "shared value torn or missing (%d)", rc);
        int64_t dummy;
        rc = kvstore_increment(b, "mixed-ctr", 1, &dummy);
        CHECK(w, rc == KVSTORE_OK || rc == KVSTORE_ENOTSUP, "increment");
    }
    return NULL;
}

static void test_mixed_operations(void **state)
{
    ctx *c = *state;
    run_all(c, mixed_worker);
    int rounds = iterations / 20 > 2 ? iterations / 20 : 2;
    if (kvstore_increment(c->bucket, "mixed-ctr", 0, NULL) == KVSTORE_OK)
        assert_int_equal(read_counter(c->bucket, "mixed-ctr"),
                         THREADS * rounds);
}

/* ---- listings of untouched keys stay complete under churn ---- */

#define STABLE_KEYS 300
static atomic_int churn_stop;

/* Marks the keys "stable/<k>" of a page in the STABLE_KEYS bytes at
 * `arg`. */
static bool mark_stable(void *arg, const kvstore_keys *page)
{
    unsigned char *seen = arg;
    for (size_t i = 0; i < page->count; i++)
        if (strncmp(page->keys[i], "stable/", 7) == 0) {
            int k = atoi(page->keys[i] + 7);
            if (k >= 0 && k < STABLE_KEYS)
                seen[k] = 1;
        }
    return true;
}

static void *churn_or_list_worker(void *p)
{
    worker *w = p;
    wait_start();
    kvstore_bucket *b = w->c->bucket;
    if (w->id % 2 == 0) {
        /* Writers add and remove keys around the stable ones. */
        char key[48];
        for (int i = 0; !atomic_load(&churn_stop); i++) {
            snprintf(key, sizeof key, "churn/%d/%d", w->id, i % 200);
            int rc = i % 3 == 2 ? kvstore_delete(b, key)
                                : kvstore_set(b, key, "x", 1);
            CHECK(w, rc == KVSTORE_OK, "churn write = %d", rc);
        }
        return NULL;
    }
    /* Listers walk everything, pages of 17, and must see every stable key
     * each time. */
    int walks = iterations / 100 > 3 ? iterations / 100 : 3;
    unsigned char *seen = malloc(STABLE_KEYS);
    CHECK(w, seen != NULL, "malloc");
    for (int round = 0; round < walks; round++) {
        memset(seen, 0, STABLE_KEYS);
        int rc = walk_pages(b, NULL, 17, mark_stable, seen);
        if (rc != KVSTORE_OK) {
            free(seen);
            CHECK(w, 0, "list = %d: %s", rc,
                  rc == -1 ? "never ended" : kvstore_errmsg());
        }
        for (int k = 0; k < STABLE_KEYS; k++)
            if (!seen[k]) {
                free(seen);
                CHECK(w, 0, "walk %d missed stable/%d", round, k);
            }
    }
    free(seen);
    /* The last lister to finish stops the writers. */
    static atomic_int listers_done;
    if (atomic_fetch_add(&listers_done, 1) % (THREADS / 2) ==
        THREADS / 2 - 1)
        atomic_store(&churn_stop, 1);
    return NULL;
}

static void test_list_under_churn(void **state)
{
    ctx *c = *state;
    char key[32];
    for (int k = 0; k < STABLE_KEYS; k++) {
        snprintf(key, sizeof key, "stable/%d", k);
        assert_int_equal(kvstore_set(c->bucket, key, "s", 1), KVSTORE_OK);
    }
    atomic_store(&churn_stop, 0);
    worker w[THREADS];
    memset(w, 0, sizeof w);
    pthread_t t[THREADS];
    pthread_barrier_init(&start_line, NULL, THREADS);
    for (int i = 0; i < THREADS; i++) {
        w[i].c = c;
        w[i].id = i;
        assert_int_equal(pthread_create(&t[i], NULL, churn_or_list_worker,
                                        &w[i]), 0);
    }
    for (int i = 0; i < THREADS; i++) {
        /* A lister failed early: stop the writers anyway. */
        if (i % 2 == 1)
            pthread_join(t[i], NULL);
    }
    atomic_store(&churn_stop, 1);
    for (int i = 0; i < THREADS; i += 2)
        pthread_join(t[i], NULL);
    pthread_barrier_destroy(&start_line);
    for (int i = 0; i < THREADS; i++)
        if (w[i].why[0] != '\0')
            fail_msg("thread %d: %s", i, w[i].why);
}

/* ---- bucket handles opened and closed while others work ---- */

static void *handles_worker(void *p)
{
    worker *w = p;
    wait_start();
    int rounds = iterations / 10 > 5 ? iterations / 10 : 5;
    char key[32];
    for (int r = 0; r < rounds; r++) {
        kvstore_bucket *b = NULL;
        int rc = kvstore_bucket_open(&b, w->c->store, w->c->name);
        CHECK(w, rc == KVSTORE_OK, "bucket_open = %d", rc);
        snprintf(key, sizeof key, "h%d/%d", w->id, r);
        rc = kvstore_set(b, key, key, strlen(key));
        /* Visible through the shared handle at once. */
        bool seen = rc == KVSTORE_OK &&
                    holds(w->c->bucket, key, key, strlen(key));
        kvstore_bucket_close(b);
        CHECK(w, seen, "write through a fresh handle (set = %d) not seen",
              rc);
    }
    return NULL;
}

static void test_bucket_handles(void **state)
{
    ctx *c = *state;
    run_all(c, handles_worker);
    int rounds = iterations / 10 > 5 ? iterations / 10 : 5;
    size_t total = 0;
    walk_all(c->bucket, "h", NULL, 0, walk_count, &total);
    assert_true(total >= (size_t)(THREADS * rounds));
}

/* ---- every write by every thread is watched exactly once ---- */

#define WATCH_KEYS 100

typedef struct watch_count {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    unsigned char seen[THREADS][WATCH_KEYS];
    int total, dup, foreign;
} watch_count;

static void on_watch(void *payload, kvstore_event ev, const char *key,
                     const void *value, size_t len)
{
    watch_count *wc = payload;
    int t = -1, k = -1;
    (void)value; (void)len;
    pthread_mutex_lock(&wc->mu);
    if (ev != KVSTORE_EVENT_SET || sscanf(key, "w/%d/%d", &t, &k) != 2 ||
        t < 0 || t >= THREADS || k < 0 || k >= WATCH_KEYS)
        wc->foreign++;
    else if (wc->seen[t][k]++)
        wc->dup++;
    wc->total++;
    pthread_cond_broadcast(&wc->cv);
    pthread_mutex_unlock(&wc->mu);
}

static void *watch_writer(void *p)
{
    worker *w = p;
    wait_start();
    char key[32];
    for (int k = 0; k < WATCH_KEYS; k++) {
        snprintf(key, sizeof key, "w/%d/%d", w->id, k);
        CHECK(w, kvstore_set(w->c->bucket, key, "v", 1) == KVSTORE_OK,
              "set");
        /* Noise outside the prefix. */
        CHECK(w, kvstore_set(w->c->bucket, "x/noise", "n", 1) == KVSTORE_OK,
              "set noise");
    }
    return NULL;
}

static void test_watch_under_writers(void **state)
{
    ctx *c = *state;
    watch_count *wc = calloc(1, sizeof *wc);
    assert_non_null(wc);
    pthread_mutex_init(&wc->mu, NULL);
    pthread_cond_init(&wc->cv, NULL);
    kvstore_watch *watch = NULL;
    int rc = kvstore_watch_start(&watch, c->bucket, "w/", on_watch, wc);
    if (rc == KVSTORE_ENOTSUP) {
        pthread_cond_destroy(&wc->cv);
        pthread_mutex_destroy(&wc->mu);
        free(wc);
        skip();
    }
    assert_int_equal(rc, KVSTORE_OK);
    run_all(c, watch_writer);
    struct timespec deadline;
    clock_gettime(CLOCK_REALTIME, &deadline);
    deadline.tv_sec += 10;
    pthread_mutex_lock(&wc->mu);
    while (wc->total < THREADS * WATCH_KEYS)
        if (pthread_cond_timedwait(&wc->cv, &wc->mu, &deadline) != 0)
            break;
    pthread_mutex_unlock(&wc->mu);
    kvstore_watch_stop(watch);
    int total = wc->total, dup = wc->dup, foreign = wc->foreign;
    pthread_cond_destroy(&wc->cv);
    pthread_mutex_destroy(&wc->mu);
    free(wc);
    assert_int_equal(foreign, 0);
    assert_int_equal(dup, 0);
    assert_int_equal(total, THREADS * WATCH_KEYS);
}

/* Watches started and stopped while writers run: no callback may touch a
 * stopped watch's payload (ASan/TSan see it if one does). */
static atomic_int cycle_stop;

static void *cycle_writer(void *p)
{
    worker *w = p;
    for (int i = 0; !atomic_load(&cycle_stop); i++)
        CHECK(w, kvstore_set(w->c->bucket, "cyc", "v", 1) == KVSTORE_OK,
              "set");
    return NULL;
}

static void on_cycle(void *payload, kvstore_event ev, const char *key,
                     const void *value, size_t len)
{
    (void)ev; (void)key; (void)value; (void)len;
    atomic_int *alive = payload;
    if (atomic_load(alive) != 1)
        abort(); /* called after watch_stop returned */
}

static void test_watch_start_stop_cycles(void **state)
{
    ctx *c = *state;
    kvstore_watch *probe = NULL;
    atomic_int alive0 = 1;
    int rc = kvstore_watch_start(&probe, c->bucket, "", on_cycle, &alive0);
    if (rc == KVSTORE_ENOTSUP)
        skip();
    assert_int_equal(rc, KVSTORE_OK);
    kvstore_watch_stop(probe);
    atomic_store(&alive0, 0);

    atomic_store(&cycle_stop, 0);
    worker w[2];
    pthread_t t[2];
    for (int i = 0; i < 2; i++) {
        memset(&w[i], 0, sizeof w[i]);
        w[i].c = c;
        w[i].id = i;
        assert_int_equal(pthread_create(&t[i], NULL, cycle_writer, &w[i]), 0);
    }
    int cycles = iterations / 20 > 5 ? iterations / 20 : 5;
    for (int i = 0; i < cycles; i++) {
        atomic_int *alive = malloc(sizeof *alive);
        assert_non_null(alive);
        atomic_store(alive, 1);
        kvstore_watch *watch = NULL;
        assert_int_equal(kvstore_watch_start(&watch, c->bucket, "", on_cycle,
                                             alive), KVSTORE_OK);
        usleep(1000);
        kvstore_watch_stop(watch);
        atomic_store(alive, 0);
        free(alive); /* a late callback would now be a use after free */
    }
    atomic_store(&cycle_stop, 1);
    for (int i = 0; i < 2; i++) {
        pthread_join(t[i], NULL);
        if (w[i].why[0] != '\0')
            fail_msg("writer %d: %s", i, w[i].why);
    }
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: %s URI [--iterations N] [--private]\n",
                argv[0]);
        return 2;
    }
    uri = test_uri_expand(argv[1]);
    private_uri = test_uri_is_private_memory(uri);
    for (int i = 2; i < argc; i++) {
        if (strcmp(argv[i], "--iterations") == 0 && i + 1 < argc) {
            iterations = atoi(argv[++i]);
        } else if (strcmp(argv[i], "--private") == 0) {
            private_uri = true;
        } else {
            fprintf(stderr, "%s: unknown option %s\n", argv[0], argv[i]);
            return 2;
        }
    }
    if (iterations < 1)
        iterations = 1;
    snprintf(run_id, sizeof run_id, "k%08lx",
             ((unsigned long)time(NULL) ^ ((unsigned long)getpid() << 12)) &
                 0xffffffffUL);
    fprintf(stderr, "# concurrency: %s, %d iterations\n", uri, iterations);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_increments_exact, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_increments_separate_stores,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_cas_no_lost_update, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_mixed_operations, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_list_under_churn, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_bucket_handles, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_watch_under_writers, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_watch_start_stop_cycles, setup,
                                        teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

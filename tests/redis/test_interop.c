/*
 * Redis backend tests beyond the conformance suite: the documented layout
 * (redis-cli reads and writes the same data), glob isolation, strict
 * cursors, large listings, limits, CAS and watch against other clients.
 * One private redis-server for the whole group.
 *
 * SPDX-License-Identifier: MIT
 */
#include <errno.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <cmocka.h>

#include <kvstore/kvstore.h>

#include "events.h"
#include "fx_servers.h"
#include "group.h"
#include "net.h"

static rs_server srv;
/* The store of most tests (SERVER_TEST): database 0 over TCP. */
#define TCP_URI "redis://127.0.0.1:{port}?timeout_ms=5000"

static int by_bytes(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Lists every key of `b` with `prefix` into a sorted, '\n'-joined
 * string, checking each page against `limit` (walk_all). */
static char *list_all(kvstore_bucket *b, const char *prefix, size_t limit)
{
    key_list l = { NULL, 0 };
    char *acc = calloc(1, 1);
    size_t acc_len = 0;

    walk_all(b, prefix, NULL, limit, walk_collect, &l);
    /* Sort and deduplicate (Redis SCAN may repeat a key). */
    if (l.n > 0)
        qsort(l.keys, l.n, sizeof *l.keys, by_bytes);
    for (size_t i = 0; i < l.n; i++) {
        if (i > 0 && strcmp(l.keys[i], l.keys[i - 1]) == 0)
            continue;
        size_t len = strlen(l.keys[i]);
        acc = realloc(acc, acc_len + len + 2);
        if (acc_len)
            acc[acc_len++] = '\n';
        memcpy(acc + acc_len, l.keys[i], len + 1);
        acc_len += len;
    }
    key_list_free(&l);
    return acc;
}

static void assert_listing(kvstore_bucket *b, const char *prefix,
                           const char *want)
{
    char *got = list_all(b, prefix, 3);
    if (strcmp(got, want) != 0)
        fail_msg("prefix \"%s\": got [%s], want [%s]", prefix, got, want);
    free(got);
}

/* ---- layout: redis-cli reads and writes B:K ---- */

static void test_cli_reads_our_writes(void **state)
{
    kvstore_bucket *b = ((server_store *)*state)->b;
    char out[256];
    int64_t n = 0;

    set_str(b, "k:1", "hello world");
    RS_CLI(&srv, out, "GET", "interop:k:1");
    assert_string_equal(out, "hello world");
    set_str(b, "\xd0\xba\xd0\xbb *?[", "unicode");
    RS_CLI(&srv, out, "GET", "interop:\xd0\xba\xd0\xbb *?[");
    assert_string_equal(out, "unicode");
    assert_ok(kvstore_increment(b, "n", 5, &n));
    assert_ok(kvstore_increment(b, "n", 5, &n));
    assert_int_equal(n, 10);
    RS_CLI(&srv, out, "GET", "interop:n");
    assert_string_equal(out, "10");
}

static void test_we_read_cli_writes(void **state)
{
    kvstore_bucket *b = ((server_store *)*state)->b;
    char out[64];
    void *v = NULL;
    size_t len = 0;

    RS_CLI(&srv, out, "SET", "interop:from-cli", "v1");
    expect_str(b, "from-cli", "v1");
    assert_listing(b, "from-", "from-cli");
    RS_CLI(&srv, out, "DEL", "interop:from-cli");
    assert_int_equal(kvstore_get(b, "from-cli", &v, &len), KVSTORE_NOTFOUND);
}

static void test_marker_key(void **state)
{
    kvstore_bucket *b = ((server_store *)*state)->b;
    char out[64];
    kvstore_keys *page = NULL;

    /* Opening creates "B:", which is never listed as a key. */
    RS_CLI(&srv, out, "EXISTS", "marked:");
    assert_string_equal(out, "1");
    assert_ok(kvstore_list_keys(b, NULL, NULL, 0, &page));
    assert_int_equal(page->count, 0);
    assert_null(page->cursor);
    kvstore_keys_free(page);
}

/* ---- glob metacharacters never cross buckets or prefixes ---- */

static void test_glob_isolation(void **state)
{
    kvstore_store *st = ((server_store *)*state)->s;
    static const char *const nasty[] = { "*", "?", "[", "[a]", ":", "a*b",
                                         "\\", "x:y", "*:*", "]", "^" };
    kvstore_bucket *g1 = open_bucket(st, "g1"), *g2 = open_bucket(st, "g2"),
                   *g = open_bucket(st, "g");
    static const char *const probes[] = { "", "*", "?", "[", ":", "\\", "]",
                                          "x", "a*", "[a" };
    /* A prefix of g1 and the keys it lists, '\n'-joined. */
    static const struct { const char *prefix, *want; } in_g1[] = {
        { "*", "*\n*:*" }, { "[", "[\n[a]" }, { "?", "?" }, { "\\", "\\" },
        { ":", ":" }, { "]", "]" }, { "^", "^" }, { "a*", "a*b" },
        { "x:", "x:y" }, { "[a", "[a]" },
    };
    char out[64];

    for (size_t i = 0; i < sizeof nasty / sizeof *nasty; i++)
        set_str(g1, nasty[i], "v");
    set_str(g2, "plain", "v");
    /* Keys other clients wrote that look like globs or are not UTF-8. */
    RS_CLI(&srv, out, "SET", "g2*:evil", "x");
    RS_CLI(&srv, out, "SET", "g2:\xff\xfe", "x");
    RS_CLI(&srv, out, "SET", "g?:evil", "x");

    for (size_t i = 0; i < sizeof probes / sizeof *probes; i++) {
        assert_listing(g2, probes[i], probes[i][0] == '\0' ? "plain" : "");
        assert_listing(g, probes[i], "");
    }
    for (size_t i = 0; i < sizeof in_g1 / sizeof *in_g1; i++)
        assert_listing(g1, in_g1[i].prefix, in_g1[i].want);
    kvstore_bucket_close(g);
    kvstore_bucket_close(g2);
    kvstore_bucket_close(g1);
}

/* ---- listing ---- */

static void test_list_100k(void **state)
{
    enum { N = 100000, CHUNK = 1000 };
    kvstore_bucket *b = ((server_store *)*state)->b;
    static char names[CHUNK][16];
    const char *keys[CHUNK];
    const void *vals[CHUNK];
    size_t lens[CHUNK], pages;
    key_marks m = { "key-", calloc(N, 1), N, 0 };

    for (int i = 0; i < N; i += CHUNK) {
        for (int j = 0; j < CHUNK; j++) {
            snprintf(names[j], sizeof names[j], "key-%06d", i + j);
            keys[j] = names[j];
            vals[j] = names[j];
            lens[j] = 10;
        }
        assert_ok(kvstore_set_many(b, keys, vals, lens, CHUNK));
    }
    pages = walk_all(b, "", NULL, 1000, walk_mark, &m);
    for (int i = 0; i < N; i++)
        if (!m.seen[i])
            fail_msg("key-%06d missing from the listing", i);
    assert_int_equal(m.distinct, N);
    print_message("100k keys listed in %zu pages\n", pages);
    free(m.seen);
}

/* Long keys with tiny pages: SCAN batches that overflow the page must be
 * split, through the cursor ("S") or, when the rest cannot fit in a
 * cursor, by re-scanning ("R"). Nothing may go missing either way. */
static void test_list_long_keys_small_pages(void **state)
{
    enum { N = 300 };
    kvstore_bucket *b = ((server_store *)*state)->b;
    char key[1001];
    static const size_t limits[] = { 1, 2, 3, 17 };

    for (int i = 0; i < N; i++) {
        memset(key, 'x', 1000);
        snprintf(key, 6, "%05d", i);
        key[5] = 'x';
        key[1000] = '\0';
        set_str(b, key, "v");
    }
    for (size_t l = 0; l < sizeof limits / sizeof *limits; l++) {
        char *all = list_all(b, "", limits[l]);
        size_t lines = 1;
        for (char *p = all; *p; p++)
            lines += *p == '\n';
        assert_int_equal(lines, N);
        free(all);
    }
}

/* A cursor of bucket `bucket` of db 0 around a forged state (net.h: the
 * envelope the core gives version 2 tables), so that the backend's own
 * state parser can be fed it. The identity is the URI without
 * parameters. */
static char *envelope(const char *bucket, const char *state, size_t len)
{
    char id[64];

    snprintf(id, sizeof id, "redis://127.0.0.1:%d", srv.port);
    net_bind("redis", id);
    return net_wrap(bucket, state, len);
}

static void test_cursor_states_strict(void **state)
{
    kvstore_bucket *b = ((server_store *)*state)->b;
    static const struct { const char *s; size_t len; } bad[] = {
        { "C0", 2 }, { "C", 1 }, { "Cx", 2 }, { "C01", 3 }, { "C-1", 3 },
        { "C18446744073709551616", 21 }, { "S5", 2 }, { "S5\xff", 3 },
        { "S5\xff" "a\xff", 5 }, { "S5\xff\xfe", 4 }, { "Sx\xff" "a", 4 },
        { "S5\xff\xff" "a", 5 }, { "S5\xff\xc3\x28", 5 },
        { "R1 0 2\xffk", 8 }, { "R1 1 2\xff", 7 }, { "R1 1\xffk", 6 },
        { "R1 99999 2\xffk", 12 }, { "R1 1 2\xffk\xffj", 10 },
        { "Z1", 2 }, { "", 0 },
    };
    kvstore_keys *page = NULL;

    set_str(b, "a", "1");
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        char *c = envelope("curs", bad[i].s, bad[i].len);
        page = (kvstore_keys *)1;
        if (kvstore_list_keys(b, "", c, 10, &page) != KVSTORE_EINVAL)
            fail_msg("forged state #%zu accepted", i);
        assert_null(page);
        free(c);
    }
    /* Well-formed states are fine, even ones we never produced, but the
     * keys they say are owed are listed only if the bucket holds them. */
    {
        char *c = envelope("curs", "S0\xffzz\xff" "a", 7);
        assert_ok(kvstore_list_keys(b, "", c, 10, &page));
        assert_int_equal(page->count, 1);
        assert_string_equal(page->keys[0], "a");
        assert_null(page->cursor);
        kvstore_keys_free(page);
        free(c);
        c = envelope("curs", "C123456789", 10);
        assert_ok(kvstore_list_keys(b, "", c, 10, &page));
        kvstore_keys_free(page);
        free(c);
    }
}

/* ---- atomics ---- */

/* Increments Redis' INCRBY refuses: not a number, or past either end of
 * int64. The value stays as it was, for us and for redis-cli. */
static void test_increment_invalid_unchanged(void **state)
{
    static const struct {
        const char *key, *value;
        int64_t delta;
    } refused[] = {
        { "text", "abc", 1 },
        { "max", "9223372036854775807", 1 },
        { "min", "-9223372036854775808", -1 },
    };
    kvstore_bucket *b = ((server_store *)*state)->b;
    char out[64], full[32];
    int64_t r = 0;

    for (size_t i = 0; i < sizeof refused / sizeof *refused; i++) {
        set_str(b, refused[i].key, refused[i].value);
        if (kvstore_increment(b, refused[i].key, refused[i].delta, &r) !=
            KVSTORE_EINVAL)
            fail_msg("increment of %s by %lld was not EINVAL",
                     refused[i].value, (long long)refused[i].delta);
        expect_str(b, refused[i].key, refused[i].value);
        snprintf(full, sizeof full, "incr:%s", refused[i].key);
        RS_CLI(&srv, out, "GET", full);
        assert_string_equal(out, refused[i].value);
    }
    assert_ok(kvstore_increment(b, "fresh", -7, &r));
    assert_int_equal(r, -7);
    assert_ok(kvstore_increment(b, "fresh", 0, NULL));
    expect_str(b, "fresh", "-7");
}

static void test_cas_detects_other_client(void **state)
{
    kvstore_bucket *b = ((server_store *)*state)->b;
    kvstore_cas *c = NULL;
    char out[64];

    set_str(b, "k", "v0");
    assert_ok(kvstore_cas_open(&c, b, "k"));
    /* Same bytes from another client is still a write. */
    RS_CLI(&srv, out, "SET", "cas:k", "v0");
    assert_int_equal(kvstore_cas_swap(c, "mine", 4), KVSTORE_ECONFLICT);
    kvstore_cas_free(c);
    expect_str(b, "k", "v0");

    assert_ok(kvstore_cas_open(&c, b, "k"));
    assert_ok(kvstore_cas_swap(c, "mine", 4));
    kvstore_cas_free(c);
    RS_CLI(&srv, out, "GET", "cas:k");
    assert_string_equal(out, "mine");

    /* A snapshot freed without a swap leaves no WATCH behind: the next
     * snapshot on the same connection is unaffected by writes to k. */
    assert_ok(kvstore_cas_open(&c, b, "k"));
    kvstore_cas_free(c);
    set_str(b, "k", "changed");
    assert_ok(kvstore_cas_open(&c, b, "other"));
    assert_ok(kvstore_cas_swap(c, "x", 1));
    kvstore_cas_free(c);
}

static void test_cas_snapshots_do_not_starve_pool(void **state)
{
    kvstore_bucket *b = ((server_store *)*state)->b;
    enum { N = 12 };  /* more than the pool (4) */
    kvstore_cas *c[N];
    char key[16];

    for (int i = 0; i < N; i++) {
        snprintf(key, sizeof key, "k%d", i);
        assert_ok(kvstore_cas_open(&c[i], b, key));
    }
    set_str(b, "plain", "still works");
    expect_str(b, "plain", "still works");
    for (int i = 0; i < N; i++) {
        assert_ok(kvstore_cas_swap(c[i], "s", 1));
        kvstore_cas_free(c[i]);
    }
}

/* ---- batches ---- */

static void test_batches_chunked(void **state)
{
    kvstore_bucket *b = ((server_store *)*state)->b;
    enum { N = 1500, BIG = 7 * 1024 * 1024 };
    static char names[N][16];
    const char *keys[N];
    const void *vals[N];
    size_t lens[N];
    void *got[N];
    size_t got_lens[N];
    char *big = malloc(BIG);

    for (int i = 0; i < N; i++) {
        snprintf(names[i], sizeof names[i], "b%d", i);
        keys[i] = names[i];
        vals[i] = names[i];
        lens[i] = strlen(names[i]);
    }
    /* Every other key only: the rest must come back NULL. */
    for (int i = 0; i < N; i += 2)
        set_str(b, keys[i], keys[i]);
    assert_ok(kvstore_get_many(b, keys, N, got, got_lens));
    for (int i = 0; i < N; i++) {
        if (i % 2) {
            assert_null(got[i]);
        } else {
            assert_int_equal(got_lens[i], lens[i]);
            assert_memory_equal(got[i], keys[i], lens[i]);
        }
        kvstore_free(got[i]);
    }
    assert_ok(kvstore_delete_many(b, keys, N));
    assert_ok(kvstore_set_many(b, keys, vals, lens, N));
    assert_ok(kvstore_get_many(b, keys, N, got, got_lens));
    for (int i = 0; i < N; i++) {
        assert_non_null(got[i]);
        kvstore_free(got[i]);
    }
    /* Three 7 MiB values: more than one MSET chunk by bytes. */
    memset(big, 'z', BIG);
    for (int i = 0; i < 3; i++) {
        vals[i] = big;
        lens[i] = BIG;
        big[i] = (char)('a' + i);
    }
    assert_ok(kvstore_set_many(b, keys, vals, lens, 3));
    assert_ok(kvstore_get_many(b, keys, 3, got, got_lens));
    for (int i = 0; i < 3; i++) {
        assert_int_equal(got_lens[i], BIG);
        assert_int_equal(((char *)got[i])[2], 'c');
        kvstore_free(got[i]);
    }
    assert_ok(kvstore_delete_many(b, keys, N));
    free(big);
}

static void test_value_limit(void **state)
{
    kvstore_bucket *b = ((server_store *)*state)->b;
    const size_t limit = (size_t)512 * 1024 * 1024;
    /* Address space only: never touched, never resident. */
    void *huge = mmap(NULL, limit + 1, PROT_READ,
                      MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    const char *keys[2] = { "small", "huge" };
    const void *vals[2] = { "s", huge };
    size_t lens[2] = { 1, limit + 1 };
    void *v = NULL;
    size_t len = 0;

    assert_true(huge != MAP_FAILED);
    assert_int_equal(kvstore_set(b, "huge", huge, limit + 1),
                     KVSTORE_ETOOBIG);
    assert_non_null(strstr(kvstore_errmsg(), "512 MiB"));
    assert_int_equal(kvstore_set_many(b, keys, vals, lens, 2),
                     KVSTORE_ETOOBIG);
    assert_int_equal(kvstore_get(b, "small", &v, &len), KVSTORE_NOTFOUND);
    munmap(huge, limit + 1);
}

/* ---- stores, databases, URIs ---- */

static void test_create_false(void **state)
{
    kvstore_store *s = ((server_store *)*state)->s;
    kvstore_bucket *b = NULL;
    char out[16];

    /* A bucket another client filled (no marker) exists. */
    RS_CLI(&srv, out, "SET", "unmarked:k", "v");
    assert_ok(kvstore_bucket_open(&b, s, "unmarked"));
    expect_str(b, "k", "v");
    kvstore_bucket_close(b);
    b = NULL;
    assert_int_equal(kvstore_bucket_open(&b, s, "ghost"), KVSTORE_ENOSTORE);
    assert_null(b);
    RS_CLI(&srv, out, "EXISTS", "ghost:");
    assert_string_equal(out, "0");
}

/* Database 3 over TCP and over the socket is one database, not the
 * fixture's database 0 (its bucket "dbt"). */
static void test_db_and_unix(void **state)
{
    kvstore_bucket *b0 = ((server_store *)*state)->b;
    server_store s3 = server_store_open("redis://127.0.0.1:{port}/3", "dbt");
    server_store u3 = server_store_open("redis+unix://{sock}?db=3", "dbt");
    char out[64];

    set_str(s3.b, "k", "three");
    RS_CLI(&srv, out, "-n", "3", "GET", "dbt:k");
    assert_string_equal(out, "three");
    expect_str(u3.b, "k", "three");
    expect_str(b0, "k", NULL);
    server_store_close(&u3);
    server_store_close(&s3);
}

static void test_bad_uris(void **state)
{
    (void)state;
    static const char *const tmpls[] = {
        "redis://127.0.0.1:{port},127.0.0.1:{port}", /* several hosts */
        "redis://127.0.0.1:{port}/abc",
        "redis://127.0.0.1:{port}/01",
        "redis://127.0.0.1:{port}/1/2",
        "redis://127.0.0.1:0",
        "redis://127.0.0.1:99999",
        "redis://127.0.0.1:{port}?db=1",     /* db is for unix only */
        "redis://127.0.0.1:{port}?pool=0",
        "redis://127.0.0.1:{port}?timeout_ms=0",
        "redis://user@127.0.0.1:{port}",     /* user, no password */
        "redis:nohost",
        "redis+unix://host/tmp/x.sock",
        "redis+unix:///tmp/r.sock?db=x",
        "redis://[::1:{port}",
    };
    for (size_t i = 0; i < sizeof tmpls / sizeof *tmpls; i++)
        open_fails(fx_expand(tmpls[i]), KVSTORE_EINVAL);
    /* Nothing listens on port 1: refused at once. */
    open_fails("redis://127.0.0.1:1?timeout_ms=300", KVSTORE_EUNAVAILABLE);
    open_fails("redis+unix:///nonexistent/r.sock", KVSTORE_EUNAVAILABLE);
}

/* ---- watch: other clients, expiry, renames ---- */

static void test_watch_other_clients(void **state)
{
    kvstore_bucket *b = ((server_store *)*state)->b;
    kvstore_watch *w = NULL;
    ev_text l;
    char out[64];

    ev_text_init(&l);
    assert_ok(kvstore_watch_start(&w, b, "", ev_text_event, &l));
    RS_CLI(&srv, out, "SET", "wbx:x", "elsewhere");
    RS_CLI(&srv, out, "SET", "wb:x", "1");
    assert_true(ev_text_wait(&l, "set x=1;", 5));
    RS_CLI(&srv, out, "PEXPIRE", "wb:x", "20");
    assert_true(ev_text_wait(&l, "del x=NULL;", 5));
    RS_CLI(&srv, out, "SET", "wb:y", "moved");
    RS_CLI(&srv, out, "RENAME", "wb:y", "wb:z");
    assert_true(ev_text_wait(&l, "del y=NULL;set z=moved;", 5));
    kvstore_watch_stop(w);
    assert_null(strstr(l.text, "elsewhere"));
    ev_text_destroy(&l);
}

/* The documented watch semantics: one event per write, in order per
 * key, with the value read after the event: each set shows the value of
 * that write or a later one (never an earlier one), or NULL if the key
 * was already deleted; the delete comes last. */
typedef struct ev_seq {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    int kinds[64];
    int vals[64];   /* the write index a set showed; -1 for NULL */
    int n;
} ev_seq;

static void on_seq(void *p, kvstore_event e, const char *key,
                   const void *value, size_t len)
{
    ev_seq *q = p;
    char buf[16] = "";

    (void)key;
    if (value != NULL && len < sizeof buf)
        memcpy(buf, value, len);
    pthread_mutex_lock(&q->mu);
    if (q->n < 64) {
        q->kinds[q->n] = e;
        q->vals[q->n] = value ? atoi(buf) : -1;
        q->n++;
    }
    pthread_cond_broadcast(&q->cv);
    pthread_mutex_unlock(&q->mu);
}

static void test_watch_value_read_after(void **state)
{
    kvstore_bucket *b = ((server_store *)*state)->b;
    enum { N = 20 };
    kvstore_watch *w = NULL;
    ev_seq q = { .n = 0 };
    struct timespec dl;
    char v[16];
    int last = -1;

    pthread_mutex_init(&q.mu, NULL);
    pthread_cond_init(&q.cv, NULL);
    assert_ok(kvstore_watch_start(&w, b, "o", on_seq, &q));
    for (int i = 0; i < N; i++) {
        snprintf(v, sizeof v, "%d", i);
        set_str(b, "o", v);
    }
    assert_ok(kvstore_delete(b, "o"));
    clock_gettime(CLOCK_REALTIME, &dl);
    dl.tv_sec += 5;
    pthread_mutex_lock(&q.mu);
    while (q.n < N + 1 &&
           pthread_cond_timedwait(&q.cv, &q.mu, &dl) != ETIMEDOUT)
        ;
    pthread_mutex_unlock(&q.mu);
    kvstore_watch_stop(w);
    assert_int_equal(q.n, N + 1);
    for (int i = 0; i < N; i++) {
        assert_int_equal(q.kinds[i], KVSTORE_EVENT_SET);
        if (q.vals[i] >= 0) {
            assert_true(q.vals[i] >= i);     /* this write or a later one */
            assert_true(q.vals[i] >= last);  /* never going back */
            last = q.vals[i];
        }
    }
    assert_int_equal(q.kinds[N], KVSTORE_EVENT_DELETE);
    pthread_cond_destroy(&q.cv);
    pthread_mutex_destroy(&q.mu);
}

/* ---- threads sharing one store ---- */

static void *hammer(void *arg)
{
    kvstore_bucket *b = arg;
    char key[16];

    for (int i = 0; i < 300; i++) {
        snprintf(key, sizeof key, "t%d", i % 7);
        if (kvstore_increment(b, "counter", 1, NULL) != KVSTORE_OK ||
            kvstore_set(b, key, key, strlen(key)) != KVSTORE_OK)
            return (void *)1;
    }
    return NULL;
}

static void test_threads_share_store(void **state)
{
    kvstore_bucket *b = ((server_store *)*state)->b;
    pthread_t t[8];
    void *ret;

    assert_ok(kvstore_delete(b, "counter"));
    for (int i = 0; i < 8; i++)
        assert_int_equal(pthread_create(&t[i], NULL, hammer, b), 0);
    for (int i = 0; i < 8; i++) {
        pthread_join(t[i], &ret);
        assert_null(ret);
    }
    expect_str(b, "counter", "2400");
}

int main(void)
{
    /* Configured by its operator for watching (see test_auth.c for the
     * backend's own watch_config). */
    static const char *const args[] = { "--notify-keyspace-events", "Kg$xe",
                                        NULL };
    const struct CMUnitTest tests[] = {
        SERVER_TEST(test_cli_reads_our_writes, TCP_URI, "interop"),
        SERVER_TEST(test_we_read_cli_writes, TCP_URI, "interop"),
        SERVER_TEST(test_marker_key, TCP_URI, "marked"),
        SERVER_TEST(test_glob_isolation, TCP_URI, NULL),
        SERVER_TEST(test_list_100k, "redis://127.0.0.1:{port}/1", "big"),
        SERVER_TEST(test_list_long_keys_small_pages,
                    "redis://127.0.0.1:{port}/2", "long"),
        SERVER_TEST(test_cursor_states_strict, TCP_URI, "curs"),
        SERVER_TEST(test_increment_invalid_unchanged, TCP_URI, "incr"),
        SERVER_TEST(test_cas_detects_other_client, TCP_URI, "cas"),
        SERVER_TEST(test_cas_snapshots_do_not_starve_pool, TCP_URI, "cas2"),
        SERVER_TEST(test_batches_chunked, TCP_URI, "batch"),
        SERVER_TEST(test_value_limit, TCP_URI, "limit"),
        SERVER_TEST(test_create_false,
                    "redis://127.0.0.1:{port}?create=false", NULL),
        SERVER_TEST(test_db_and_unix, TCP_URI, "dbt"),
        cmocka_unit_test(test_bad_uris),
        SERVER_TEST(test_watch_other_clients, TCP_URI, "wb"),
        SERVER_TEST(test_watch_value_read_after, TCP_URI, "wseq"),
        SERVER_TEST(test_threads_share_store, TCP_URI, "threads"),
    };
    return RS_RUN_GROUP(tests, .srv = &srv, .args = args);
}

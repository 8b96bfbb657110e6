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
#include "group.h"
#include "net.h"

static rs_server srv;
static kvstore_store *st;      /* db 0, TCP */
static char tcp_uri[128];

static void cli(char *out, size_t cap, ...)
{
    const char *args[16];
    int n = 0;
    va_list ap;

    va_start(ap, cap);
    while (n < 15 && (args[n] = va_arg(ap, const char *)) != NULL)
        n++;
    va_end(ap);
    args[n] = NULL;
    assert_int_equal(rs_cli(&srv, out, cap, args), 0);
}

/* Lists every key of `b` with `prefix` into a sorted, '\n'-joined
 * string, checking each page against `limit`. */
static char *list_all(kvstore_bucket *b, const char *prefix, size_t limit)
{
    char *cursor = NULL, *acc = calloc(1, 1);
    size_t acc_len = 0;
    char **keys = NULL;
    size_t nkeys = 0;

    do {
        kvstore_keys *page = NULL;
        assert_ok(kvstore_list_keys(b, prefix, cursor, limit, &page));
        assert_true(page->count <= (limit ? limit : KVSTORE_PAGE_MAX));
        free(cursor);
        cursor = page->cursor ? strdup(page->cursor) : NULL;
        keys = realloc(keys, (nkeys + page->count) * sizeof *keys);
        for (size_t i = 0; i < page->count; i++)
            keys[nkeys++] = strdup(page->keys[i]);
        kvstore_keys_free(page);
    } while (cursor != NULL);
    /* Sort and deduplicate (Redis SCAN may repeat a key). */
    for (size_t i = 1; i < nkeys; i++)
        for (size_t j = i; j > 0 && strcmp(keys[j - 1], keys[j]) > 0; j--) {
            char *t = keys[j];
            keys[j] = keys[j - 1];
            keys[j - 1] = t;
        }
    for (size_t i = 0; i < nkeys; i++) {
        if (i > 0 && strcmp(keys[i], keys[i - 1]) == 0)
            continue;
        size_t l = strlen(keys[i]);
        acc = realloc(acc, acc_len + l + 2);
        if (acc_len)
            acc[acc_len++] = '\n';
        memcpy(acc + acc_len, keys[i], l + 1);
        acc_len += l;
    }
    for (size_t i = 0; i < nkeys; i++)
        free(keys[i]);
    free(keys);
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
    (void)state;
    kvstore_bucket *b = open_bucket(st, "interop");
    char out[256];
    int64_t n = 0;

    set_str(b, "k:1", "hello world");
    cli(out, sizeof out, "GET", "interop:k:1", NULL);
    assert_string_equal(out, "hello world");
    set_str(b, "\xd0\xba\xd0\xbb *?[", "unicode");
    cli(out, sizeof out, "GET", "interop:\xd0\xba\xd0\xbb *?[", NULL);
    assert_string_equal(out, "unicode");
    assert_ok(kvstore_increment(b, "n", 5, &n));
    assert_ok(kvstore_increment(b, "n", 5, &n));
    assert_int_equal(n, 10);
    cli(out, sizeof out, "GET", "interop:n", NULL);
    assert_string_equal(out, "10");
    kvstore_bucket_close(b);
}

static void test_we_read_cli_writes(void **state)
{
    (void)state;
    kvstore_bucket *b = open_bucket(st, "interop");
    char out[64];
    void *v = NULL;
    size_t len = 0;

    cli(out, sizeof out, "SET", "interop:from-cli", "v1", NULL);
    expect_str(b, "from-cli", "v1");
    assert_listing(b, "from-", "from-cli");
    cli(out, sizeof out, "DEL", "interop:from-cli", NULL);
    assert_int_equal(kvstore_get(b, "from-cli", &v, &len), KVSTORE_NOTFOUND);
    kvstore_bucket_close(b);
}

static void test_marker_key(void **state)
{
    (void)state;
    kvstore_bucket *b = open_bucket(st, "marked");
    char out[64];
    kvstore_keys *page = NULL;

    /* Opening creates "B:", which is never listed as a key. */
    cli(out, sizeof out, "EXISTS", "marked:", NULL);
    assert_string_equal(out, "1");
    assert_ok(kvstore_list_keys(b, NULL, NULL, 0, &page));
    assert_int_equal(page->count, 0);
    assert_null(page->cursor);
    kvstore_keys_free(page);
    kvstore_bucket_close(b);
}

/* ---- glob metacharacters never cross buckets or prefixes ---- */

static void test_glob_isolation(void **state)
{
    (void)state;
    static const char *const nasty[] = { "*", "?", "[", "[a]", ":", "a*b",
                                         "\\", "x:y", "*:*", "]", "^" };
    kvstore_bucket *g1 = open_bucket(st, "g1"), *g2 = open_bucket(st, "g2"),
                   *g = open_bucket(st, "g");
    static const char *const probes[] = { "", "*", "?", "[", ":", "\\", "]",
                                          "x", "a*", "[a" };
    char out[64];

    for (size_t i = 0; i < sizeof nasty / sizeof *nasty; i++)
        set_str(g1, nasty[i], "v");
    set_str(g2, "plain", "v");
    /* Keys other clients wrote that look like globs or are not UTF-8. */
    cli(out, sizeof out, "SET", "g2*:evil", "x", NULL);
    cli(out, sizeof out, "SET", "g2:\xff\xfe", "x", NULL);
    cli(out, sizeof out, "SET", "g?:evil", "x", NULL);

    for (size_t i = 0; i < sizeof probes / sizeof *probes; i++) {
        assert_listing(g2, probes[i], probes[i][0] == '\0' ? "plain" : "");
        assert_listing(g, probes[i], "");
    }
    assert_listing(g1, "*", "*\n*:*");
    assert_listing(g1, "[", "[\n[a]");
    assert_listing(g1, "?", "?");
    assert_listing(g1, "\\", "\\");
    assert_listing(g1, ":", ":");
    assert_listing(g1, "]", "]");
    assert_listing(g1, "^", "^");
    assert_listing(g1, "a*", "a*b");
    assert_listing(g1, "x:", "x:y");
    assert_listing(g1, "[a", "[a]");
    kvstore_bucket_close(g);
    kvstore_bucket_close(g2);
    kvstore_bucket_close(g1);
}

/* ---- listing ---- */

static void test_list_100k(void **state)
{
    (void)state;
    enum { N = 100000, CHUNK = 1000 };
    kvstore_store *s = open_urif("redis://127.0.0.1:%d/1", srv.port);
    kvstore_bucket *b = open_bucket(s, "big");
    static char names[CHUNK][16];
    const char *keys[CHUNK];
    const void *vals[CHUNK];
    size_t lens[CHUNK], pages = 0, distinct = 0;
    unsigned char *seen = calloc(N, 1);
    char *cursor = NULL;

    for (int i = 0; i < N; i += CHUNK) {
        for (int j = 0; j < CHUNK; j++) {
            snprintf(names[j], sizeof names[j], "key-%06d", i + j);
            keys[j] = names[j];
            vals[j] = names[j];
            lens[j] = 10;
        }
        assert_ok(kvstore_set_many(b, keys, vals, lens, CHUNK));
    }
    do {
        kvstore_keys *page = NULL;
        assert_ok(kvstore_list_keys(b, "", cursor, 1000, &page));
        assert_true(page->count <= 1000);
        for (size_t i = 0; i < page->count; i++) {
            int k = -1;
            assert_int_equal(sscanf(page->keys[i], "key-%d", &k), 1);
            assert_true(k >= 0 && k < N);
            if (!seen[k]++)
                distinct++;
        }
        free(cursor);
        cursor = page->cursor ? strdup(page->cursor) : NULL;
        kvstore_keys_free(page);
        pages++;
    } while (cursor != NULL);
    for (int i = 0; i < N; i++)
        if (!seen[i])
            fail_msg("key-%06d missing from the listing", i);
    assert_int_equal(distinct, N);
    print_message("100k keys listed in %zu pages\n", pages);
    free(seen);
    kvstore_bucket_close(b);
    kvstore_close(s);
}

/* Long keys with tiny pages: SCAN batches that overflow the page must be
 * split, through the cursor ("S") or, when the rest cannot fit in a
 * cursor, by re-scanning ("R"). Nothing may go missing either way. */
static void test_list_long_keys_small_pages(void **state)
{
    (void)state;
    enum { N = 300 };
    kvstore_store *s = open_urif("redis://127.0.0.1:%d/2", srv.port);
    kvstore_bucket *b = open_bucket(s, "long");
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
    kvstore_bucket_close(b);
    kvstore_close(s);
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
    (void)state;
    static const struct { const char *s; size_t len; } bad[] = {
        { "C0", 2 }, { "C", 1 }, { "Cx", 2 }, { "C01", 3 }, { "C-1", 3 },
        { "C18446744073709551616", 21 }, { "S5", 2 }, { "S5\xff", 3 },
        { "S5\xff" "a\xff", 5 }, { "S5\xff\xfe", 4 }, { "Sx\xff" "a", 4 },
        { "S5\xff\xff" "a", 5 }, { "S5\xff\xc3\x28", 5 },
        { "R1 0 2\xffk", 8 }, { "R1 1 2\xff", 7 }, { "R1 1\xffk", 6 },
        { "R1 99999 2\xffk", 12 }, { "R1 1 2\xffk\xffj", 10 },
        { "Z1", 2 }, { "", 0 },
    };
    kvstore_bucket *b = open_bucket(st, "curs");
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
    kvstore_bucket_close(b);
}

/* ---- atomics ---- */

static void test_increment_invalid_unchanged(void **state)
{
    (void)state;
    kvstore_bucket *b = open_bucket(st, "incr");
    char out[64];
    int64_t r = 0;

    set_str(b, "text", "abc");
    assert_int_equal(kvstore_increment(b, "text", 1, &r), KVSTORE_EINVAL);
    cli(out, sizeof out, "GET", "incr:text", NULL);
    assert_string_equal(out, "abc");
    set_str(b, "max", "9223372036854775807");
    assert_int_equal(kvstore_increment(b, "max", 1, &r), KVSTORE_EINVAL);
    expect_str(b, "max", "9223372036854775807");
    set_str(b, "min", "-9223372036854775808");
    assert_int_equal(kvstore_increment(b, "min", -1, NULL), KVSTORE_EINVAL);
    expect_str(b, "min", "-9223372036854775808");
    assert_ok(kvstore_increment(b, "fresh", -7, &r));
    assert_int_equal(r, -7);
    assert_ok(kvstore_increment(b, "fresh", 0, NULL));
    expect_str(b, "fresh", "-7");
    kvstore_bucket_close(b);
}

static void test_cas_detects_other_client(void **state)
{
    (void)state;
    kvstore_bucket *b = open_bucket(st, "cas");
    kvstore_cas *c = NULL;
    char out[64];

    set_str(b, "k", "v0");
    assert_ok(kvstore_cas_open(&c, b, "k"));
    /* Same bytes from another client is still a write. */
    cli(out, sizeof out, "SET", "cas:k", "v0", NULL);
    assert_int_equal(kvstore_cas_swap(c, "mine", 4), KVSTORE_ECONFLICT);
    kvstore_cas_free(c);
    expect_str(b, "k", "v0");

    assert_ok(kvstore_cas_open(&c, b, "k"));
    assert_ok(kvstore_cas_swap(c, "mine", 4));
    kvstore_cas_free(c);
    cli(out, sizeof out, "GET", "cas:k", NULL);
    assert_string_equal(out, "mine");

    /* A snapshot freed without a swap leaves no WATCH behind: the next
     * snapshot on the same connection is unaffected by writes to k. */
    assert_ok(kvstore_cas_open(&c, b, "k"));
    kvstore_cas_free(c);
    set_str(b, "k", "changed");
    assert_ok(kvstore_cas_open(&c, b, "other"));
    assert_ok(kvstore_cas_swap(c, "x", 1));
    kvstore_cas_free(c);
    kvstore_bucket_close(b);
}

static void test_cas_snapshots_do_not_starve_pool(void **state)
{
    (void)state;
    enum { N = 12 };  /* more than the pool (4) */
    kvstore_bucket *b = open_bucket(st, "cas2");
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
    kvstore_bucket_close(b);
}

/* ---- batches ---- */

static void test_batches_chunked(void **state)
{
    (void)state;
    enum { N = 1500, BIG = 7 * 1024 * 1024 };
    kvstore_bucket *b = open_bucket(st, "batch");
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
    kvstore_bucket_close(b);
}

static void test_value_limit(void **state)
{
    (void)state;
    const size_t limit = (size_t)512 * 1024 * 1024;
    kvstore_bucket *b = open_bucket(st, "limit");
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
    kvstore_bucket_close(b);
}

/* ---- stores, databases, URIs ---- */

static void test_create_false(void **state)
{
    (void)state;
    kvstore_store *s = open_urif("redis://127.0.0.1:%d?create=false",
                                srv.port);
    kvstore_bucket *b = NULL;
    char out[16];

    /* A bucket another client filled (no marker) exists. */
    cli(out, sizeof out, "SET", "unmarked:k", "v", NULL);
    assert_ok(kvstore_bucket_open(&b, s, "unmarked"));
    expect_str(b, "k", "v");
    kvstore_bucket_close(b);
    b = NULL;
    assert_int_equal(kvstore_bucket_open(&b, s, "ghost"), KVSTORE_ENOSTORE);
    assert_null(b);
    cli(out, sizeof out, "EXISTS", "ghost:", NULL);
    assert_string_equal(out, "0");
    kvstore_close(s);
}

static void test_db_and_unix(void **state)
{
    (void)state;
    kvstore_store *s3 = open_urif("redis://127.0.0.1:%d/3", srv.port);
    kvstore_store *u3 = open_urif("redis+unix://%s?db=3", srv.sock);
    kvstore_bucket *b3 = open_bucket(s3, "dbt"), *bu = open_bucket(u3, "dbt"),
                   *b0 = open_bucket(st, "dbt");
    char out[64];
    void *v = NULL;
    size_t len = 0;

    set_str(b3, "k", "three");
    cli(out, sizeof out, "-n", "3", "GET", "dbt:k", NULL);
    assert_string_equal(out, "three");
    expect_str(bu, "k", "three");
    assert_int_equal(kvstore_get(b0, "k", &v, &len), KVSTORE_NOTFOUND);
    kvstore_bucket_close(b0);
    kvstore_bucket_close(bu);
    kvstore_bucket_close(b3);
    kvstore_close(u3);
    kvstore_close(s3);
}

/* Copies `tmpl` with every "PORT" replaced by the server's port. */
static void with_port(char *out, size_t cap, const char *tmpl)
{
    char port[16];
    size_t n = 0;

    snprintf(port, sizeof port, "%d", srv.port);
    while (*tmpl && n + 8 < cap) {
        if (strncmp(tmpl, "PORT", 4) == 0) {
            n += (size_t)snprintf(out + n, cap - n, "%s", port);
            tmpl += 4;
        } else {
            out[n++] = *tmpl++;
        }
    }
    out[n] = '\0';
}

static void test_bad_uris(void **state)
{
    (void)state;
    char uri[512];
    static const char *const tmpls[] = {
        "redis://127.0.0.1:PORT,127.0.0.1:PORT",   /* several hosts */
        "redis://127.0.0.1:PORT/abc",
        "redis://127.0.0.1:PORT/01",
        "redis://127.0.0.1:PORT/1/2",
        "redis://127.0.0.1:0",
        "redis://127.0.0.1:99999",
        "redis://127.0.0.1:PORT?db=1",             /* db is for unix only */
        "redis://127.0.0.1:PORT?pool=0",
        "redis://127.0.0.1:PORT?timeout_ms=0",
        "redis://user@127.0.0.1:PORT",             /* user, no password */
        "redis:nohost",
        "redis+unix://host/tmp/x.sock",
        "redis+unix:///tmp/r.sock?db=x",
        "redis://[::1:PORT",
    };
    for (size_t i = 0; i < sizeof tmpls / sizeof *tmpls; i++) {
        kvstore_store *s = (kvstore_store *)1;
        with_port(uri, sizeof uri, tmpls[i]);
        if (kvstore_open(&s, uri) != KVSTORE_EINVAL)
            fail_msg("%s was not EINVAL: %s", uri, kvstore_errmsg());
        assert_null(s);
    }
    {
        kvstore_store *s = NULL;
        /* Nothing listens on port 1: refused at once. */
        assert_int_equal(kvstore_open(&s, "redis://127.0.0.1:1?timeout_ms=300"),
                         KVSTORE_EUNAVAILABLE);
        assert_int_equal(kvstore_open(&s, "redis+unix:///nonexistent/r.sock"),
                         KVSTORE_EUNAVAILABLE);
    }
}

/* ---- watch: other clients, expiry, renames ---- */

static void test_watch_other_clients(void **state)
{
    (void)state;
    kvstore_bucket *b = open_bucket(st, "wb");
    kvstore_watch *w = NULL;
    ev_log l;
    char out[64];

    ev_log_init(&l);
    assert_ok(kvstore_watch_start(&w, b, "", ev_log_event, &l));
    cli(out, sizeof out, "SET", "wbx:x", "elsewhere", NULL);
    cli(out, sizeof out, "SET", "wb:x", "1", NULL);
    assert_true(ev_log_wait(&l, "set x=1;", 5));
    cli(out, sizeof out, "PEXPIRE", "wb:x", "20", NULL);
    assert_true(ev_log_wait(&l, "del x=NULL;", 5));
    cli(out, sizeof out, "SET", "wb:y", "moved", NULL);
    cli(out, sizeof out, "RENAME", "wb:y", "wb:z", NULL);
    assert_true(ev_log_wait(&l, "del y=NULL;set z=moved;", 5));
    kvstore_watch_stop(w);
    assert_null(strstr(l.text, "elsewhere"));
    ev_log_destroy(&l);
    kvstore_bucket_close(b);
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
    (void)state;
    enum { N = 20 };
    kvstore_bucket *b = open_bucket(st, "wseq");
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
    kvstore_bucket_close(b);
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
    (void)state;
    kvstore_bucket *b = open_bucket(st, "threads");
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
    kvstore_bucket_close(b);
}

static int open_shared_store(void)
{
    snprintf(tcp_uri, sizeof tcp_uri, "redis://127.0.0.1:%d?timeout_ms=5000",
             srv.port);
    if (kvstore_open(&st, tcp_uri) != KVSTORE_OK) {
        print_error("kvstore_open(%s): %s\n", tcp_uri, kvstore_errmsg());
        return -1;
    }
    return 0;
}

static void close_shared_store(void)
{
    kvstore_close(st);
}

int main(void)
{
    /* Configured by its operator for watching (see test_auth.c for the
     * backend's own watch_config). */
    static const char *const args[] = { "--notify-keyspace-events", "Kg$xe",
                                        NULL };
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_cli_reads_our_writes),
        cmocka_unit_test(test_we_read_cli_writes),
        cmocka_unit_test(test_marker_key),
        cmocka_unit_test(test_glob_isolation),
        cmocka_unit_test(test_list_100k),
        cmocka_unit_test(test_list_long_keys_small_pages),
        cmocka_unit_test(test_cursor_states_strict),
        cmocka_unit_test(test_increment_invalid_unchanged),
        cmocka_unit_test(test_cas_detects_other_client),
        cmocka_unit_test(test_cas_snapshots_do_not_starve_pool),
        cmocka_unit_test(test_batches_chunked),
        cmocka_unit_test(test_value_limit),
        cmocka_unit_test(test_create_false),
        cmocka_unit_test(test_db_and_unix),
        cmocka_unit_test(test_bad_uris),
        cmocka_unit_test(test_watch_other_clients),
        cmocka_unit_test(test_watch_value_read_after),
        cmocka_unit_test(test_threads_share_store),
    };
    return RS_RUN_GROUP(tests, .srv = &srv,
                        .args = args,
                        .started = open_shared_store,
                        .stopping = close_shared_store);
}

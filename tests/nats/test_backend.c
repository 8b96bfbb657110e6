/*
 * nats backend: behaviour specific to NATS on top of the conformance
 * suite, against real nats-server processes: the documented layout and
 * interop with raw nats.c both ways, foreign keys, wildcard isolation,
 * delete markers and purges, the max_payload limit, URI options, missing
 * servers and refused credentials, paging through the walk cache and its
 * fallback, prefix filters, watch, atomics across connections, batches.
 *
 * SPDX-License-Identifier: MIT
 */
#include <pthread.h>
#include <signal.h>

#include "fx_servers.h"
#include "group.h"
#include "net.h"

/* The group's server, and two more with a user and with a token. */
static nh_server srv, usrv, tsrv;
static char url[64];

static int start_auth_servers(void)
{
    snprintf(url, sizeof url, "%s", fx_expand("{url}"));
    if (nh_single(&usrv, "authorization { users: [ { user: alice, "
                  "password: s3cretpw } ] }") != 0 ||
        nh_single(&tsrv, "authorization { token: t0psecret }") != 0)
        return -1;
    fx_define_int("user_port", usrv.port);
    fx_define_int("token_port", tsrv.port);
    return 0;
}

static void stop_auth_servers(void)
{
    nh_cleanup(&usrv);
    nh_cleanup(&tsrv);
}

static void raw_expect(kvStore *kv, const char *nkey, const char *want)
{
    kvEntry *e = NULL;
    assert_int_equal(kvStore_Get(&e, kv, nkey), NATS_OK);
    assert_int_equal(kvEntry_ValueLen(e), (int)strlen(want));
    assert_memory_equal(kvEntry_Value(e), want, strlen(want));
    kvEntry_Destroy(e);
}

static void layout_and_interop(void **state)
{
    server_store *t = *state;
    kvstore_bucket *b = t->b;
    const char *name = t->name;
    raw_nats r;
    jsStreamInfo *si = NULL;

    KV_OK(kvstore_set(b, "users.1", "v1", 2));
    KV_OK(kvstore_set(b, "a b", "v2", 2));
    KV_OK(kvstore_set(b, "h\xc3\xa9llo", "v3", 2));

    raw_open_kv(&r, url, name);
    kvStore *kv = r.kv;
    /* libkvstore -> raw nats.c, on the documented NATS keys */
    raw_expect(kv, "users.1", "v1");
    raw_expect(kv, "=a=20b", "v2");
    raw_expect(kv, "=h=C3=A9llo", "v3");
    /* raw nats.c -> libkvstore */
    assert_int_equal(kvStore_PutString(NULL, kv, "cfg.x", "r1"), NATS_OK);
    assert_int_equal(kvStore_PutString(NULL, kv, "=a=2A", "r2"), NATS_OK);
    check_value(b, "cfg.x", "r1");
    check_value(b, "a*", "r2");

    /* the stream is what `nats kv add --history 64 --storage file` makes:
     * 64 revisions, so that a watcher lagging behind loses no write */
    char stream[80];
    snprintf(stream, sizeof stream, "KV_%s", name);
    assert_int_equal(js_GetStreamInfo(&si, r.js, stream, NULL, NULL),
                     NATS_OK);
    assert_int_equal(si->Config->MaxMsgsPerSubject, 64);
    assert_int_equal(si->Config->Storage, js_FileStorage);
    assert_int_equal(si->Config->Replicas, 1);
    assert_int_equal(si->Config->SubjectsLen, 1);
    char subj[90];
    snprintf(subj, sizeof subj, "$KV.%s.>", name);
    assert_string_equal(si->Config->Subjects[0], subj);
    jsStreamInfo_Destroy(si);

    raw_close(&r);
}

static void expect_list(kvstore_bucket *b, const char *prefix,
                        const char *const *want, size_t nwant)
{
    key_list l = { NULL, 0 };

    walk_all(b, prefix, NULL, 100, walk_collect, &l);
    if (l.n != nwant)
        for (size_t i = 0; i < l.n; i++)
            print_error("listed [%s]\n", l.keys[i]);
    assert_int_equal(l.n, nwant);
    for (size_t i = 0; i < l.n; i++)     /* sorted byte-wise */
        assert_string_equal(l.keys[i], want[i]);
    key_list_free(&l);
}

static void foreign_keys_ignored(void **state)
{
    server_store *t = *state;
    kvstore_bucket *b = t->b;
    const char *name = t->name;
    raw_nats r;

    raw_open_kv(&r, url, name);
    kvStore *kv = r.kv;
    /* "=a.b" would decode to "a.b", whose NATS key is "a.b": ignored. */
    assert_int_equal(kvStore_PutString(NULL, kv, "=a.b", "x"), NATS_OK);
    assert_int_equal(kvStore_PutString(NULL, kv, "a\\b", "x"), NATS_OK);
    assert_int_equal(kvStore_PutString(NULL, kv, "ok", "x"), NATS_OK);
    expect_str(b, "a.b", NULL);
    const char *want[] = { "ok" };
    expect_list(b, "", want, 1);
    raw_close(&r);
}

static void wildcards_isolated(void **state)
{
    kvstore_bucket *b = ((server_store *)*state)->b;
    bool ex;

    const char *keys[] = { "*", ">", "a.*", "a.>", "a.b", "a..", "." };
    for (size_t i = 0; i < 7; i++)
        KV_OK(kvstore_set(b, keys[i], keys[i], strlen(keys[i])));
    KV_OK(kvstore_delete(b, ">"));
    KV_OK(kvstore_delete(b, "*"));
    KV_OK(kvstore_delete(b, "a.>"));
    for (size_t i = 2; i < 7; i++) {
        if (i == 3)
            continue;
        check_value(b, keys[i], keys[i]);
    }
    KV_OK(kvstore_exists(b, ">", &ex));
    assert_false(ex);
    const char *want[] = { "a.*", "a..", "a.b" };
    expect_list(b, "a.", want, 3);
}

static void deletes_invisible(void **state)
{
    server_store *t = *state;
    kvstore_bucket *b = t->b;
    const char *name = t->name;
    raw_nats r;
    bool ex;

    KV_OK(kvstore_set(b, "gone", "1", 1));
    KV_OK(kvstore_set(b, "purged", "1", 1));
    KV_OK(kvstore_set(b, "kept", "1", 1));
    KV_OK(kvstore_delete(b, "gone"));
    raw_open_kv(&r, url, name);
    kvStore *kv = r.kv;
    assert_int_equal(kvStore_Purge(kv, "purged", NULL), NATS_OK);
    for (int i = 0; i < 2; i++) {
        const char *k = i ? "purged" : "gone";
        expect_str(b, k, NULL);
        KV_OK(kvstore_exists(b, k, &ex));
        assert_false(ex);
    }
    const char *want[] = { "kept" };
    expect_list(b, "", want, 1);
    /* a key comes back after its delete marker */
    KV_OK(kvstore_set(b, "gone", "2", 1));
    check_value(b, "gone", "2");
    raw_close(&r);
}

static void value_limit_is_max_payload(void **state)
{
    kvstore_bucket *b = ((server_store *)*state)->b;
    kvstore_cas *cas;
    size_t max = 1024 * 1024;  /* nats-server default max_payload */
    char *big = calloc(1, max + 1);

    KV_OK(kvstore_set(b, "max", big, max));
    KV_EXPECT(KVSTORE_ETOOBIG, kvstore_set(b, "over", big, max + 1));
    assert_non_null(strstr(kvstore_errmsg(), "1048576"));
    const char *k[] = { "over" };
    const void *vals[] = { big };
    size_t lens[] = { max + 1 };
    KV_EXPECT(KVSTORE_ETOOBIG, kvstore_set_many(b, k, vals, lens, 1));
    KV_OK(kvstore_cas_open(&cas, b, "over"));
    KV_EXPECT(KVSTORE_ETOOBIG, kvstore_cas_swap(cas, big, max + 1));
    kvstore_cas_free(cas);
    void *v;
    size_t len;
    KV_OK(kvstore_get(b, "max", &v, &len));
    assert_int_equal(len, max);
    kvstore_free(v);
    free(big);
}

/* ?ttl=MS gives the buckets this store creates a max age: a key older
 * than that is absent for get, exists and cas_open at once (before the
 * server removes it too), per-key expiry is refused as the caps say, and
 * an existing bucket keeps its own max age. */
static void bucket_ttl(void **state)
{
    server_store *t = *state;
    kvstore_bucket *b = t->b, *pb;
    kvstore_store *plain;
    void *v = NULL;
    size_t n = 0;
    bool ex = true;
    int64_t left = 0;
    kvstore_cas *cas = NULL;

    assert_true(kvstore_caps(t->s) & KVSTORE_CAP_TTL_BUCKET_ONLY);
    assert_false(kvstore_caps(t->s) & KVSTORE_CAP_TTL);
    KV_EXPECT(KVSTORE_ENOTSUP, kvstore_set_ttl(b, "k", "v", 1, 1000));
    assert_non_null(strstr(kvstore_errmsg(), "whole buckets"));
    KV_EXPECT(KVSTORE_ENOTSUP, kvstore_ttl(b, "k", &left));
    KV_OK(kvstore_set(b, "k", "v", 1));
    KV_OK(kvstore_get(b, "k", &v, &n));
    kvstore_free(v);
    /* A store without ttl opening the same bucket sees its max age. */
    plain = fx_open("{url}");
    pb = open_bucket(plain, t->name);
    usleep(800 * 1000);
    KV_EXPECT(KVSTORE_NOTFOUND, kvstore_get(b, "k", &v, &n));
    KV_EXPECT(KVSTORE_NOTFOUND, kvstore_get(pb, "k", &v, &n));
    KV_OK(kvstore_exists(b, "k", &ex));
    assert_false(ex);
    KV_OK(kvstore_cas_open(&cas, b, "k"));
    const void *cur;
    size_t cl;
    KV_EXPECT(KVSTORE_NOTFOUND, kvstore_cas_current(cas, &cur, &cl));
    kvstore_cas_free(cas);
    /* A fresh write lives again for its max age. */
    KV_OK(kvstore_set(b, "k", "w", 1));
    KV_OK(kvstore_get(pb, "k", &v, &n));
    assert_memory_equal(v, "w", 1);
    kvstore_free(v);
    kvstore_bucket_close(pb);
    kvstore_close(plain);

    open_fails(fx_expand("{url}?ttl=-1"), KVSTORE_EINVAL);
    open_fails(fx_expand("{url}?ttl=9223372036854775807"), KVSTORE_EINVAL);
}

static void uri_options(void **state)
{
    static const char *const refused[] = {
        "{url}?bogus=1", "{url}?timeout_ms=0", "{url}?replicas=9",
        "{url}/somepath",
        "{url}?ca=/x.pem",                       /* ca needs nats+tls */
        /* files named by creds= and ca= must be usable */
        "{url}?creds=/no/such/user.creds", "{url}?creds={dir}/junk.creds",
        "nats+tls://127.0.0.1:{port}?ca=/no/such/ca.pem",
        /* history=N: within JetStream KV's 1..64 revisions per key */
        "{url}?history=0", "{url}?history=65",
    };
    char junk[300];
    kvstore_store *s;
    kvstore_bucket *b;
    (void)state;

    snprintf(junk, sizeof junk, "%s/junk.creds", fx_expand("{dir}"));
    write_small(junk, "not a credentials file\n");
    for (size_t i = 0; i < sizeof refused / sizeof *refused; i++)
        open_fails(fx_expand(refused[i]), KVSTORE_EINVAL);
    /* nats+tls against a server without TLS */
    net_open_fails(fx_expand("nats+tls://tlsuser:tl5pw@127.0.0.1:{port}"
                             "?timeout_ms=1000"),
                   KVSTORE_EUNAVAILABLE, "tl5pw", NULL);

    s = fx_open("{url}?create=false");
    KV_EXPECT(KVSTORE_ENOSTORE, kvstore_bucket_open(&b, s, "missing"));
    kvstore_close(s);

    /* replicas=3 on a single server cannot be placed */
    s = fx_open("{url}?replicas=3&timeout_ms=3000");
    KV_EXPECT(KVSTORE_EINVAL, kvstore_bucket_open(&b, s, "r3"));
    kvstore_close(s);

    /* history=N sets the revisions per key of the buckets it creates */
    server_store h = server_store_open("{url}?history=3", "h3");
    for (int i = 0; i < 5; i++)
        KV_OK(kvstore_set(h.b, "k", "v", 1));
    raw_nats r;
    jsStreamInfo *si = NULL;
    raw_open(&r, url);
    assert_int_equal(js_GetStreamInfo(&si, r.js, "KV_h3", NULL, NULL),
                     NATS_OK);
    assert_int_equal(si->Config->MaxMsgsPerSubject, 3);
    assert_int_equal((int)si->State.Msgs, 3);  /* 5 writes, 3 kept */
    jsStreamInfo_Destroy(si);
    raw_close(&r);
    server_store_close(&h);
}

static void no_server_unavailable(void **state)
{
    char u[128];
    (void)state;
    snprintf(u, sizeof u, "nats://bob:hunter2pw@127.0.0.1:%d?timeout_ms=500",
             nh_free_port());
    net_open_fails(u, KVSTORE_EUNAVAILABLE, "hunter2pw", NULL);
    snprintf(u, sizeof u, "nats://sekr1ttoken@127.0.0.1:%d?timeout_ms=500",
             nh_free_port());
    net_open_fails(u, KVSTORE_EUNAVAILABLE, "sekr1ttoken", NULL);
}

static void credentials(void **state)
{
    server_store t;
    (void)state;

    t = server_store_open("nats://alice:s3cretpw@127.0.0.1:{user_port}",
                          "auth");
    KV_OK(kvstore_set(t.b, "k", "v", 1));
    server_store_close(&t);
    net_open_fails(fx_expand("nats://alice:wr0ngpw@127.0.0.1:{user_port}"),
                   KVSTORE_EACCESS, "wr0ngpw", NULL);

    kvstore_close(fx_open("nats://t0psecret@127.0.0.1:{token_port}"));
    net_open_fails(fx_expand("nats://b4dtoken@127.0.0.1:{token_port}"),
                   KVSTORE_EACCESS, "b4dtoken", NULL);
}

static void paging_cache_and_fallback(void **state)
{
    server_store *t = *state;
    kvstore_store *s = t->s;
    kvstore_bucket *b = t->b;
    const char *name = t->name;
    enum { N = 2500 };
    char other[64];
    server_store other_store;
    kvstore_bucket *bo;
    static char kbuf[N][16];
    const char *keys[100];
    const void *vals[100];
    size_t lens[100];

    for (int i = 0; i < N; i += 100) {
        for (int j = 0; j < 100; j++) {
            snprintf(kbuf[i + j], sizeof kbuf[0], "k%05d", i + j);
            keys[j] = kbuf[i + j];
            vals[j] = "v";
            lens[j] = 1;
        }
        KV_OK(kvstore_set_many(b, keys, vals, lens, 100));
    }
    /* pages 1-3 through the cache, the rest through another store that
     * has never seen the walk's token */
    kvstore_keys *pg = NULL;
    char *cur = NULL;
    int seen = 0;
    for (int p = 0; p < 3; p++) {
        KV_OK(kvstore_list_keys(b, "", cur, 100, &pg));
        free(cur);
        for (size_t i = 0; i < pg->count; i++)
            assert_string_equal(pg->keys[i], kbuf[seen++]);
        cur = strdup(pg->cursor);
        kvstore_keys_free(pg);
    }
    other_store = server_store_open("{url}", name);
    key_list rest = { NULL, 0 };
    walk_all(other_store.b, "", cur, 100, walk_collect, &rest);
    free(cur);
    assert_int_equal(rest.n, N - seen);
    for (size_t i = 0; i < rest.n; i++)
        assert_string_equal(rest.keys[i], kbuf[seen++]);
    key_list_free(&rest);
    assert_int_equal(seen, N);

    /* forged cursors */
    KV_EXPECT(KVSTORE_EINVAL, kvstore_list_keys(b, "", "garbage", 10, &pg));
    KV_OK(kvstore_list_keys(b, "", NULL, 10, &pg));
    KV_OK(kvstore_bucket_open(&bo, s, run_bucket(other, sizeof other, "o")));
    KV_EXPECT(KVSTORE_EINVAL, kvstore_list_keys(bo, "", pg->cursor, 10,
                                                &(kvstore_keys *){ NULL }));
    kvstore_keys_free(pg);
    kvstore_bucket_close(bo);
    server_store_close(&other_store);
}

static void prefix_listing(void **state)
{
    kvstore_bucket *b = ((server_store *)*state)->b;

    const char *keys[] = { "user.1.a", "user.1.b", "user.10", "user b",
                           "user", "usera", "x.user.1", "user.1." };
    for (size_t i = 0; i < 8; i++)
        KV_OK(kvstore_set(b, keys[i], "v", 1));
    const char *w1[] = { "user.1.", "user.1.a", "user.1.b", "user.10" };
    expect_list(b, "user.1", w1, 4);
    const char *w2[] = { "user.1.", "user.1.a", "user.1.b" };
    expect_list(b, "user.1.", w2, 3);
    const char *w3[] = { "user b" };
    expect_list(b, "user ", w3, 1);
    const char *w4[] = { "user", "user b", "user.1.", "user.1.a", "user.1.b",
                         "user.10", "usera" };
    expect_list(b, "user", w4, 7);
    expect_list(b, "nothing", NULL, 0);
}

typedef struct {
    pthread_mutex_t mu;
    int n;
    kvstore_event ev[16];
    char key[16][32];
    char val[16][16];
} events;

static void on_event(void *p, kvstore_event ev, const char *key,
                     const void *value, size_t len)
{
    events *e = p;
    pthread_mutex_lock(&e->mu);
    if (e->n < 16) {
        e->ev[e->n] = ev;
        snprintf(e->key[e->n], sizeof e->key[0], "%s", key);
        snprintf(e->val[e->n], sizeof e->val[0], "%.*s", (int)len,
                 value ? (const char *)value : "");
        e->n++;
    }
    pthread_mutex_unlock(&e->mu);
}

static int count_events(events *e)
{
    pthread_mutex_lock(&e->mu);
    int n = e->n;
    pthread_mutex_unlock(&e->mu);
    return n;
}

static void watch_prefix(void **state)
{
    server_store *t = *state;
    kvstore_bucket *b = t->b;
    const char *name = t->name;
    kvstore_watch *w;
    raw_nats r;
    events e = { .mu = PTHREAD_MUTEX_INITIALIZER };

    KV_OK(kvstore_set(b, "w.before", "0", 1));   /* not replayed */
    KV_OK(kvstore_watch_start(&w, b, "w.", on_event, &e));
    raw_open_kv(&r, url, name);
    kvStore *kv = r.kv;
    assert_int_equal(kvStore_PutString(NULL, kv, "w.x", "1"), NATS_OK);
    KV_OK(kvstore_set(b, "w.y z", "2", 1));
    KV_OK(kvstore_set(b, "other", "3", 1));
    KV_OK(kvstore_delete(b, "w.x"));
    for (int i = 0; i < 500 && count_events(&e) < 3; i++)
        sleep_ms(10);
    sleep_ms(100);            /* room for a wrong extra event */
    assert_int_equal(count_events(&e), 3);
    assert_int_equal(e.ev[0], KVSTORE_EVENT_SET);
    assert_string_equal(e.key[0], "w.x");
    assert_string_equal(e.val[0], "1");
    assert_int_equal(e.ev[1], KVSTORE_EVENT_SET);
    assert_string_equal(e.key[1], "w.y z");
    assert_int_equal(e.ev[2], KVSTORE_EVENT_DELETE);
    assert_string_equal(e.key[2], "w.x");
    kvstore_watch_stop(w);
    KV_OK(kvstore_set(b, "w.after", "4", 1));
    sleep_ms(100);
    assert_int_equal(count_events(&e), 3);
    raw_close(&r);
}

typedef struct {
    const char *bucket;
    int n;
} incr_job;

static void *incr_thread(void *arg)
{
    incr_job *j = arg;
    kvstore_store *s;
    kvstore_bucket *b;
    int64_t r;
    /* each thread its own connection: atomic across clients */
    if (kvstore_open(&s, url) != KVSTORE_OK ||
        kvstore_bucket_open(&b, s, j->bucket) != KVSTORE_OK)
        return (void *)1;
    for (int i = 0; i < j->n; i++)
        if (kvstore_increment(b, "ctr", 1, &r) != KVSTORE_OK)
            return (void *)1;
    kvstore_bucket_close(b);
    kvstore_close(s);
    return NULL;
}

static void atomics_across_clients(void **state)
{
    server_store *fx = *state;
    kvstore_bucket *b = fx->b;
    const char *name = fx->name;
    pthread_t t[4];
    void *ret;

    incr_job j = { name, 150 };
    for (int i = 0; i < 4; i++)
        assert_int_equal(pthread_create(&t[i], NULL, incr_thread, &j), 0);
    for (int i = 0; i < 4; i++) {
        pthread_join(t[i], &ret);
        assert_null(ret);
    }
    check_value(b, "ctr", "600");

    /* a CAS snapshot of a deleted key loses to a recreation */
    kvstore_cas *c1, *c2;
    KV_OK(kvstore_set(b, "c", "1", 1));
    KV_OK(kvstore_delete(b, "c"));
    KV_OK(kvstore_cas_open(&c1, b, "c"));
    KV_OK(kvstore_cas_open(&c2, b, "c"));
    KV_OK(kvstore_cas_swap(c1, "A", 1));
    KV_EXPECT(KVSTORE_ECONFLICT, kvstore_cas_swap(c2, "B", 1));
    kvstore_cas_free(c1);
    kvstore_cas_free(c2);
    check_value(b, "c", "A");
}

static void batches(void **state)
{
    kvstore_bucket *b = ((server_store *)*state)->b;
    char kb[300][16];
    const char *keys[300];
    const void *vals[300];
    size_t lens[300];
    void *out[300];
    size_t olens[300];

    for (int i = 0; i < 300; i++) {   /* more than one pipeline window */
        snprintf(kb[i], sizeof kb[i], "b %d", i);
        keys[i] = kb[i];
        vals[i] = kb[i];
        lens[i] = strlen(kb[i]);
    }
    KV_OK(kvstore_set_many(b, keys, vals, lens, 290));
    KV_OK(kvstore_get_many(b, keys, 300, out, olens));
    for (int i = 0; i < 300; i++) {
        if (i >= 290) {
            assert_null(out[i]);
            continue;
        }
        assert_int_equal(olens[i], strlen(kb[i]));
        assert_memory_equal(out[i], kb[i], olens[i]);
        kvstore_free(out[i]);
    }
    KV_OK(kvstore_delete_many(b, keys, 150));
    KV_OK(kvstore_get_many(b, keys, 300, out, olens));
    for (int i = 0; i < 300; i++) {
        if (i < 150 || i >= 290)
            assert_null(out[i]);
        else
            assert_non_null(out[i]);
        kvstore_free(out[i]);
    }
}

/* A bucket without direct get (as this backend creates for replicas > 1)
 * is read through the stream leader's STREAM.MSG.GET: JSON with base64
 * headers and data. Binary values, empty values and delete markers must
 * come back right through get, exists and get_many. */
static void leader_reads(void **state)
{
    char name[64];
    raw_nats r;
    bool ex;
    (void)state;

    run_bucket(name, sizeof name, "leader");
    kv_stream ks;
    kv_stream_init(&ks, name, false);
    raw_open(&r, url);
    assert_int_equal(js_AddStream(NULL, r.js, &ks.config, NULL, NULL), NATS_OK);
    raw_close(&r);

    server_store t = server_store_open("{url}", name);
    kvstore_bucket *b = t.b;
    unsigned char bin[300];
    for (size_t i = 0; i < sizeof bin; i++)
        bin[i] = (unsigned char)(i * 7);
    KV_OK(kvstore_set(b, "bin", bin, sizeof bin));
    KV_OK(kvstore_set(b, "empty", "", 0));
    KV_OK(kvstore_set(b, "gone", "x", 1));
    KV_OK(kvstore_delete(b, "gone"));
    KV_OK(kvstore_exists(b, "gone", &ex));
    assert_false(ex);
    KV_OK(kvstore_exists(b, "empty", &ex));
    assert_true(ex);

    const char *keys[] = { "bin", "empty", "gone", "never" };
    void *vals[4];
    size_t lens[4];
    KV_OK(kvstore_get_many(b, keys, 4, vals, lens));
    assert_int_equal(lens[0], sizeof bin);
    assert_memory_equal(vals[0], bin, sizeof bin);
    assert_non_null(vals[1]);
    assert_int_equal(lens[1], 0);
    assert_null(vals[2]);
    assert_null(vals[3]);
    for (int i = 0; i < 4; i++)
        kvstore_free(vals[i]);
    void *v;
    size_t len;
    KV_OK(kvstore_get(b, "bin", &v, &len));
    assert_int_equal(len, sizeof bin);
    assert_memory_equal(v, bin, len);
    kvstore_free(v);
    server_store_close(&t);
}

/* The longest key, every byte escaped: a 3073-byte NATS key and a subject
 * near the 4096-byte protocol line still work for every operation. */
static void longest_escaped_key(void **state)
{
    kvstore_bucket *b = ((server_store *)*state)->b;
    char key[KVSTORE_KEY_MAX + 1];
    kvstore_watch *w;
    events e = { .mu = PTHREAD_MUTEX_INITIALIZER };
    bool ex;

    memset(key, '*', KVSTORE_KEY_MAX);
    key[KVSTORE_KEY_MAX] = '\0';
    KV_OK(kvstore_watch_start(&w, b, key, on_event, &e));
    KV_OK(kvstore_set(b, key, "v", 1));
    check_value(b, key, "v");
    const char *want[] = { key };
    expect_list(b, key, want, 1);
    const char *keys[] = { key };
    void *v[1];
    size_t l[1];
    KV_OK(kvstore_get_many(b, keys, 1, v, l));
    assert_int_equal(l[0], 1);
    kvstore_free(v[0]);
    KV_OK(kvstore_delete(b, key));
    KV_OK(kvstore_exists(b, key, &ex));
    assert_false(ex);
    for (int i = 0; i < 500 && count_events(&e) < 2; i++)
        sleep_ms(10);
    assert_int_equal(count_events(&e), 2);
    kvstore_watch_stop(w);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        SERVER_TEST(layout_and_interop, "{url}", "layout"),
        SERVER_TEST(foreign_keys_ignored, "{url}", "foreign"),
        SERVER_TEST(wildcards_isolated, "{url}", "wild"),
        SERVER_TEST(deletes_invisible, "{url}", "del"),
        SERVER_TEST(value_limit_is_max_payload, "{url}", "limit"),
        cmocka_unit_test(uri_options),
        SERVER_TEST(bucket_ttl, "{url}?ttl=600", "ttl"),
        cmocka_unit_test(no_server_unavailable),
        cmocka_unit_test(credentials),
        SERVER_TEST(paging_cache_and_fallback, "{url}", "page"),
        SERVER_TEST(prefix_listing, "{url}", "prefix"),
        SERVER_TEST(watch_prefix, "{url}", "watch"),
        SERVER_TEST(atomics_across_clients, "{url}", "atom"),
        SERVER_TEST(batches, "{url}", "batch"),
        cmocka_unit_test(leader_reads),
        SERVER_TEST(longest_escaped_key, "{url}", "long"),
    };
    return NH_RUN_GROUP(tests, .srv = &srv, .started = start_auth_servers,
                        .stopping = stop_auth_servers);
}

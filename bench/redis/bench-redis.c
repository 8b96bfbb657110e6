/*
 * bench-redis: the redis backend against raw hiredis doing the same work,
 * in the same run, on the same server.
 *
 *   bench-redis [redis://host:port | --tls-only]
 *
 * Without a URI it starts a private redis-server (tests/redis/server.c)
 * with TLS on a second port, and also compares single set/get over
 * rediss:// with redis:// on that server (reported, no target: the
 * handshake is paid once per pooled connection, each op pays the
 * encryption); --tls-only runs just that comparison.
 * Each comparison interleaves the two sides in many short slices (kvstore
 * then raw, then raw then kvstore, ...) and sums each side's time, so that
 * background load (a busy CI machine) hits both sides alike. It prints
 * ops/s (or time) per side and the ratio next to the target of issue 3.
 *
 * SPDX-License-Identifier: MIT
 */
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <hiredis/hiredis.h>
#include <kvstore/backend.h>
#include <kvstore/kvstore.h>

#include "server.h"

#define ROUNDS 5
#define SLICES 40
#define SINGLE_OPS 500
#define BATCH 100
#define BATCH_OPS 50
#define LIST_KEYS 100000
#define THREAD_OPS 20000
#define TLS_SLICES 40
#define VALUE "0123456789abcdef"

static char host[128] = "127.0.0.1";
static int port;
static rs_server srv;

static double now_s(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static void die(const char *what)
{
    fprintf(stderr, "bench-redis: %s: %s\n", what, kvstore_errmsg());
    exit(1);
}

static redisContext *raw_connect(int db)
{
    redisContext *c = redisConnect(host, port);
    redisReply *r;

    if (c == NULL || c->err) {
        fprintf(stderr, "bench-redis: cannot connect to %s:%d\n", host,
                port);
        exit(1);
    }
    r = redisCommand(c, "SELECT %d", db);
    freeReplyObject(r);
    return c;
}

static kvstore_store *kv_open(int db, int pool)
{
    char uri[256];
    kvstore_store *s = NULL;

    snprintf(uri, sizeof uri, "redis://%s:%d/%d?pool=%d", host, port, db,
             pool);
    if (kvstore_open(&s, uri) != KVSTORE_OK)
        die("kvstore_open");
    return s;
}

static void report(const char *what, double kv, double raw, double target,
                   const char *unit)
{
    printf("%-28s kvstore %10.0f %s  raw %10.0f %s  ratio %.2f  "
           "(target >= %.2f)\n", what, kv, unit, raw, unit, kv / raw,
           target);
}

/* ---- single get / set ---- */

/* Each slice function runs a fixed amount of work and returns seconds. */
static double kv_single(kvstore_bucket *b, bool set)
{
    char key[32];
    double t0 = now_s();

    for (int i = 0; i < SINGLE_OPS; i++) {
        void *v = NULL;
        size_t len;

        snprintf(key, sizeof key, "k%d", i % SINGLE_OPS);
        if (set ? kvstore_set(b, key, VALUE, 16) != KVSTORE_OK
                : kvstore_get(b, key, &v, &len) != KVSTORE_OK)
            die(set ? "set" : "get");
        kvstore_free(v);
    }
    return now_s() - t0;
}

static double raw_single(redisContext *c, bool set)
{
    char key[48];
    const char *argv[3] = { set ? "SET" : "GET", key, VALUE };
    size_t lens[3] = { 3, 0, 16 };
    double t0 = now_s();

    for (int i = 0; i < SINGLE_OPS; i++) {
        redisReply *r;

        lens[1] = (size_t)snprintf(key, sizeof key, "bench:k%d",
                                   i % SINGLE_OPS);
        r = redisCommandArgv(c, set ? 3 : 2, argv, lens);
        if (r == NULL || r->type == REDIS_REPLY_ERROR)
            exit(1);
        freeReplyObject(r);
    }
    return now_s() - t0;
}

/* ---- single get / set, TLS vs plain on the same server ---- */

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* The median and quartiles of v[0..n) (sorted in place). */
static void quartiles(double *v, int n, double *q1, double *med, double *q3)
{
    qsort(v, (size_t)n, sizeof *v, cmp_double);
    *q1 = v[n / 4];
    *med = n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
    *q3 = v[(3 * n) / 4];
}

static void bench_tls(void)
{
    char uri[512];
    kvstore_store *plain_s, *tls_s = NULL;
    kvstore_bucket *plain, *tls;

    snprintf(uri, sizeof uri, "rediss://127.0.0.1:%d/2?tls_ca=%s/ca.crt",
             srv.tls_port, srv.tls_dir);
    if (kvstore_open(&tls_s, uri) != KVSTORE_OK)
        die("kvstore_open rediss");
    plain_s = kv_open(2, 4);
    if (kvstore_bucket_open(&tls, tls_s, "bench") != KVSTORE_OK ||
        kvstore_bucket_open(&plain, plain_s, "bench") != KVSTORE_OK)
        die("bucket_open");
    (void)kv_single(tls, true);  /* warm up: connect, handshake, fill */
    (void)kv_single(plain, true);
    for (int set = 1; set >= 0; set--) {
        double tls_ops[TLS_SLICES], plain_ops[TLS_SLICES], ratio[TLS_SLICES];
        double t[3], p[3], r[3];

        for (int i = 0; i < TLS_SLICES; i++) {
            double dt, dp;

            if (i % 2) {
                dt = kv_single(tls, set);
                dp = kv_single(plain, set);
            } else {
                dp = kv_single(plain, set);
                dt = kv_single(tls, set);
            }
            tls_ops[i] = SINGLE_OPS / dt;
            plain_ops[i] = SINGLE_OPS / dp;
            ratio[i] = dp / dt;
        }
        quartiles(tls_ops, TLS_SLICES, &t[0], &t[1], &t[2]);
        quartiles(plain_ops, TLS_SLICES, &p[0], &p[1], &p[2]);
        quartiles(ratio, TLS_SLICES, &r[0], &r[1], &r[2]);
        printf("%-28s rediss %8.0f op/s [%.0f-%.0f]  redis %8.0f op/s "
               "[%.0f-%.0f]  ratio median %.2f [%.2f-%.2f] (no target; "
               "%d slices of %d, quartiles)\n",
               set ? "single set, TLS vs plain" : "single get, TLS vs plain",
               t[1], t[0], t[2], p[1], p[0], p[2], r[1], r[0], r[2],
               TLS_SLICES, SINGLE_OPS);
    }
    kvstore_bucket_close(tls);
    kvstore_bucket_close(plain);
    kvstore_close(tls_s);
    kvstore_close(plain_s);
}

/* ---- batches of 100 ---- */

static char bnames[BATCH][16];
static const char *bkeys[BATCH];

static double kv_batch(kvstore_bucket *b, bool set)
{
    const void *vals[BATCH];
    size_t lens[BATCH];
    void *got[BATCH];
    double t0 = now_s();

    for (int i = 0; i < BATCH; i++) {
        vals[i] = VALUE;
        lens[i] = 16;
    }
    for (int i = 0; i < BATCH_OPS; i++) {
        if (set) {
            if (kvstore_set_many(b, bkeys, vals, lens, BATCH) != KVSTORE_OK)
                die("set_many");
        } else {
            if (kvstore_get_many(b, bkeys, BATCH, got, lens) != KVSTORE_OK)
                die("get_many");
            for (int j = 0; j < BATCH; j++)
                kvstore_free(got[j]);
        }
    }
    return now_s() - t0;
}

static double raw_batch(redisContext *c, bool set)
{
    static char names[BATCH][32];
    const char *argv[1 + 2 * BATCH];
    size_t lens[1 + 2 * BATCH];
    int argc = 1;
    double t0;

    argv[0] = set ? "MSET" : "MGET";
    lens[0] = 4;
    for (int i = 0; i < BATCH; i++) {
        lens[argc] = (size_t)snprintf(names[i], sizeof names[i], "bench:%s",
                                      bkeys[i]);
        argv[argc++] = names[i];
        if (set) {
            argv[argc] = VALUE;
            lens[argc++] = 16;
        }
    }
    t0 = now_s();
    for (int i = 0; i < BATCH_OPS; i++) {
        redisReply *r = redisCommandArgv(c, argc, argv, lens);
        if (r == NULL || r->type == REDIS_REPLY_ERROR)
            exit(1);
        freeReplyObject(r);
    }
    return now_s() - t0;
}

/* ---- full listing of 100k keys ---- */

static double kv_list(kvstore_bucket *b, size_t *count)
{
    char *cursor = NULL;
    double t0 = now_s();

    *count = 0;
    do {
        kvstore_keys *page = NULL;
        if (kvstore_list_keys(b, "", cursor, 1000, &page) != KVSTORE_OK)
            die("list_keys");
        *count += page->count;
        free(cursor);
        cursor = page->cursor ? strdup(page->cursor) : NULL;
        kvstore_keys_free(page);
    } while (cursor != NULL);
    return now_s() - t0;
}

static double raw_list(redisContext *c, size_t *count)
{
    char cursor[32] = "0";
    double t0 = now_s();

    *count = 0;
    do {
        redisReply *r = redisCommand(c, "SCAN %s MATCH %s COUNT 1000",
                                     cursor, "list:*");
        if (r == NULL || r->type != REDIS_REPLY_ARRAY)
            exit(1);
        snprintf(cursor, sizeof cursor, "%s", r->element[0]->str);
        /* Do what a caller of SCAN must: copy the keys out. */
        for (size_t i = 0; i < r->element[1]->elements; i++) {
            char *k = strdup(r->element[1]->element[i]->str);
            free(k);
            (*count)++;
        }
        freeReplyObject(r);
    } while (strcmp(cursor, "0") != 0);
    return now_s() - t0;
}

/* ---- threads sharing one store ---- */

typedef struct job {
    kvstore_bucket *b;
    int ops;
} job;

static void *kv_worker(void *arg)
{
    job *j = arg;
    char key[32];

    for (int i = 0; i < j->ops; i++) {
        void *v = NULL;
        size_t len;

        snprintf(key, sizeof key, "k%d", i % SINGLE_OPS);
        if (kvstore_get(j->b, key, &v, &len) != KVSTORE_OK)
            die("get");
        kvstore_free(v);
    }
    return NULL;
}

/* Returns ops/s of `n` threads each doing THREAD_OPS / 4 gets. */
static double kv_threads(kvstore_bucket *b, int n)
{
    pthread_t t[16];
    job j = { b, THREAD_OPS / 4 };
    double t0 = now_s();

    for (int i = 0; i < n; i++)
        pthread_create(&t[i], NULL, kv_worker, &j);
    for (int i = 0; i < n; i++)
        pthread_join(t[i], NULL);
    return (double)(j.ops * n) / (now_s() - t0);
}

int main(int argc, char **argv)
{
    kvstore_store *s0, *s1, *s4;
    kvstore_bucket *b0, *b1, *b4;
    redisContext *raw0, *raw1;
    double kv, raw, kv2, raw2;
    size_t nkv = 0, nraw = 0;
    bool tls_only = argc > 1 && strcmp(argv[1], "--tls-only") == 0;

    if (argc > 1 && !tls_only) {
        if (sscanf(argv[1], "redis://%127[^:/]:%d", host, &port) != 2) {
            fprintf(stderr, "usage: %s [redis://host:port]\n", argv[0]);
            return 2;
        }
    } else {
        int r = rs_start_tls(&srv, NULL, 0);

        /* Without the openssl command: no TLS comparison. */
        if (r == -2 && !tls_only) {
            rs_destroy(&srv);
            r = rs_start(&srv, NULL);
        }
        if (r != 0)
            return 1;
        port = srv.port;
    }
#ifdef BENCH_MODULE
    if (getenv("KVSTORE_BACKEND_PATH") == NULL &&
        kvstore_backend_load(BENCH_MODULE) != KVSTORE_OK)
        die("kvstore_backend_load");
#endif
    printf("bench-redis: redis-server %s:%d, %d interleaved slices per "
           "comparison\n", host, port, SLICES);
    if (srv.tls_port > 0)
        bench_tls();
    if (tls_only) {
        rs_destroy(&srv);
        return 0;
    }
    s0 = kv_open(0, 4);
    if (kvstore_bucket_open(&b0, s0, "bench") != KVSTORE_OK)
        die("bucket_open");
    raw0 = raw_connect(0);
    for (int i = 0; i < BATCH; i++) {
        snprintf(bnames[i], sizeof bnames[i], "b%d", i);
        bkeys[i] = bnames[i];
    }
    (void)kv_single(b0, true);  /* warm up and fill k0..k999 */
    (void)raw_single(raw0, true);

    kv = raw = 0;
    for (int i = 0; i < SLICES; i++) {
        if (i % 2) {
            kv += kv_single(b0, true);
            raw += raw_single(raw0, true);
        } else {
            raw += raw_single(raw0, true);
            kv += kv_single(b0, true);
        }
    }
    report("single set", SLICES * SINGLE_OPS / kv, SLICES * SINGLE_OPS / raw,
           0.95, "op/s");
    kv = raw = 0;
    for (int i = 0; i < SLICES; i++) {
        if (i % 2) {
            kv += kv_single(b0, false);
            raw += raw_single(raw0, false);
        } else {
            raw += raw_single(raw0, false);
            kv += kv_single(b0, false);
        }
    }
    report("single get", SLICES * SINGLE_OPS / kv, SLICES * SINGLE_OPS / raw,
           0.95, "op/s");
    kv = raw = 0;
    for (int i = 0; i < SLICES; i++) {
        if (i % 2) {
            kv += kv_batch(b0, true);
            raw += raw_batch(raw0, true);
        } else {
            raw += raw_batch(raw0, true);
            kv += kv_batch(b0, true);
        }
    }
    report("set_many 100 vs MSET", SLICES * BATCH_OPS / kv,
           SLICES * BATCH_OPS / raw, 0.90, "op/s");
    kv = raw = 0;
    for (int i = 0; i < SLICES; i++) {
        if (i % 2) {
            kv += kv_batch(b0, false);
            raw += raw_batch(raw0, false);
        } else {
            raw += raw_batch(raw0, false);
            kv += kv_batch(b0, false);
        }
    }
    report("get_many 100 vs MGET", SLICES * BATCH_OPS / kv,
           SLICES * BATCH_OPS / raw, 0.90, "op/s");

    /* Listing: 100k keys alone in database 1. */
    s1 = kv_open(1, 4);
    raw1 = raw_connect(1);
    freeReplyObject(redisCommand(raw1, "FLUSHDB"));
    if (kvstore_bucket_open(&b1, s1, "list") != KVSTORE_OK)
        die("bucket_open");
    {
        static char names[1000][16];
        const char *keys[1000];
        const void *vals[1000];
        size_t lens[1000];

        for (int i = 0; i < LIST_KEYS; i += 1000) {
            for (int j = 0; j < 1000; j++) {
                snprintf(names[j], sizeof names[j], "key-%06d", i + j);
                keys[j] = names[j];
                vals[j] = VALUE;
                lens[j] = 16;
            }
            if (kvstore_set_many(b1, keys, vals, lens, 1000) != KVSTORE_OK)
                die("set_many");
        }
    }
    kv2 = raw2 = 0;
    for (int r = 0; r < ROUNDS; r++) {
        if (r % 2) {
            kv2 += kv_list(b1, &nkv);
            raw2 += raw_list(raw1, &nraw);
        } else {
            raw2 += raw_list(raw1, &nraw);
            kv2 += kv_list(b1, &nkv);
        }
    }
    kv2 /= ROUNDS;
    raw2 /= ROUNDS;
    printf("%-28s kvstore %10.1f ms    raw %10.1f ms    time ratio %.2f  "
           "(target <= 1.20; %zu vs %zu keys)\n", "list 100k, pages of 1000",
           kv2 * 1e3, raw2 * 1e3, kv2 / raw2, nkv, nraw);

    /* Threads: one store (pool 4) shared by 4 threads vs 1. */
    s4 = kv_open(0, 4);
    if (kvstore_bucket_open(&b4, s4, "bench") != KVSTORE_OK)
        die("bucket_open");
    kv = raw = 0;
    for (int r = 0; r < 2 * ROUNDS; r++) {
        if (r % 2) {
            kv += kv_threads(b4, 4);
            raw += kv_threads(b4, 1);
        } else {
            raw += kv_threads(b4, 1);
            kv += kv_threads(b4, 4);
        }
    }
    printf("%-28s 4 threads %10.0f op/s  1 thread %10.0f op/s  ratio %.2f  "
           "(target >= 2.50)\n", "threads sharing a store", kv, raw,
           kv / raw);

    kvstore_bucket_close(b4);
    kvstore_close(s4);
    kvstore_bucket_close(b1);
    kvstore_close(s1);
    kvstore_bucket_close(b0);
    kvstore_close(s0);
    redisFree(raw1);
    redisFree(raw0);
    rs_destroy(&srv);
    return 0;
}

/*
 * bench-nats: the nats backend against raw nats.c doing the same work on
 * the same server in the same run, printing ops/s and ratios:
 *   - single put and get of 100-byte values (target >= 0.95x raw),
 *   - a full paged walk of 10,000 keys in pages of 100 against one raw
 *     kvStore_Keys (target: within 1.5x the raw time),
 *   - set_many of 100 keys against 100 sequential raw kvStore_Put
 *     (target >= 5x faster).
 * Usage: bench-nats [nats://HOST:PORT]   (default: starts a nats-server).
 * The module built beside it is loaded unless KVSTORE_BACKEND_PATH is set.
 *
 * SPDX-License-Identifier: MIT
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <kvstore/backend.h>
#include <nats/nats.h>

#include "harness.h"

#define NOPS 4000
#define NWALK 10000
#define ROUNDS 9

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static void die(const char *what, int rc)
{
    fprintf(stderr, "bench-nats: %s failed: %d %s\n", what, rc,
            rc < 0 ? kvstore_errmsg() : "");
    exit(1);
}

#define LIB(call) do { int rc_ = (call); if (rc_ < 0) die(#call, rc_); } while (0)
#define RAW(call) do { natsStatus s_ = (call); if (s_ != NATS_OK) die(#call, (int)s_); } while (0)

static char value[100];
static char keys[NWALK][16];

/* Put and get run in alternating blocks of BLOCK operations, raw then
 * libkvstore, so both see the same machine load; each returns seconds. */
#define BLOCK 200

static double lib_put(kvstore_bucket *b, int from)
{
    double t = now_s();
    for (int i = from; i < from + BLOCK; i++)
        LIB(kvstore_set(b, keys[i], value, sizeof value));
    return now_s() - t;
}

static double raw_put(kvStore *kv, int from)
{
    double t = now_s();
    for (int i = from; i < from + BLOCK; i++)
        RAW(kvStore_Put(NULL, kv, keys[i], value, sizeof value));
    return now_s() - t;
}

static double lib_get(kvstore_bucket *b, int from)
{
    double t = now_s();
    for (int i = from; i < from + BLOCK; i++) {
        void *v;
        size_t len;
        LIB(kvstore_get(b, keys[i], &v, &len));
        kvstore_free(v);
    }
    return now_s() - t;
}

static double raw_get(kvStore *kv, int from)
{
    double t = now_s();
    for (int i = from; i < from + BLOCK; i++) {
        kvEntry *e = NULL;
        RAW(kvStore_Get(&e, kv, keys[i]));
        kvEntry_Destroy(e);
    }
    return now_s() - t;
}

static double lib_walk(kvstore_bucket *b)
{
    double t = now_s();
    char *cur = NULL;
    size_t n = 0;
    do {
        kvstore_keys *pg = NULL;
        LIB(kvstore_list_keys(b, "", cur, 100, &pg));
        free(cur);
        n += pg->count;
        cur = pg->cursor ? strdup(pg->cursor) : NULL;
        kvstore_keys_free(pg);
    } while (cur);
    if (n != NWALK)
        die("walk count", (int)n);
    return now_s() - t;
}

static double raw_walk(kvStore *kv)
{
    kvKeysList l;
    kvWatchOptions o;
    kvWatchOptions_Init(&o);
    o.Timeout = 3600 * 1000;   /* 3.4.1 charges the whole walk to it */
    double t = now_s();
    RAW(kvStore_Keys(&l, kv, &o));
    double d = now_s() - t;
    if (l.Count != NWALK)
        die("raw walk count", l.Count);
    kvKeysList_Destroy(&l);
    return d;
}

static double lib_many(kvstore_bucket *b)
{
    const char *k[100];
    const void *v[100];
    size_t l[100];
    for (int i = 0; i < 100; i++) {
        k[i] = keys[i];
        v[i] = value;
        l[i] = sizeof value;
    }
    double t = now_s();
    for (int r = 0; r < 40; r++)
        LIB(kvstore_set_many(b, k, v, l, 100));
    return (now_s() - t) / 40;
}

static double raw_many(kvStore *kv)
{
    double t = now_s();
    for (int r = 0; r < 40; r++)
        for (int i = 0; i < 100; i++)
            RAW(kvStore_Put(NULL, kv, keys[i], value, sizeof value));
    return (now_s() - t) / 40;
}

static int cmpd(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* Median of n values (sorts them). */
static double median(double *v, int n)
{
    qsort(v, (size_t)n, sizeof *v, cmpd);
    return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

int main(int argc, char **argv)
{
    nh_server srv = { 0 };
    char url[64], bucket[64];
    kvstore_store *s;
    kvstore_bucket *b;
    natsConnection *nc = NULL;
    jsCtx *js = NULL;
    kvStore *kv = NULL;

#ifdef BENCH_MODULE
    if (getenv("KVSTORE_BACKEND_PATH") == NULL &&
        kvstore_backend_load(BENCH_MODULE) != KVSTORE_OK) {
        fprintf(stderr, "bench-nats: %s\n", kvstore_errmsg());
        return 1;
    }
#endif
    if (argc > 1 && strncmp(argv[1], "-", 1) == 0) {
        fprintf(stderr, "usage: bench-nats [nats://HOST:PORT]\n");
        return 2;
    }
    if (argc > 1) {
        snprintf(url, sizeof url, "%s", argv[1]);
    } else {
        if (nh_single(&srv, NULL) != 0) {
            fprintf(stderr, "bench-nats: cannot start nats-server\n");
            nh_cleanup(&srv);
            return 77;
        }
        nh_url(&srv, url, sizeof url);
    }
    memset(value, 'v', sizeof value);
    for (int i = 0; i < NWALK; i++)
        snprintf(keys[i], sizeof keys[i], "key.%05d", i);
    snprintf(bucket, sizeof bucket, "bench_%ld", (long)getpid());

    LIB(kvstore_open(&s, url));
    LIB(kvstore_bucket_open(&b, s, bucket));
    RAW(natsConnection_ConnectTo(&nc, url));
    RAW(natsConnection_JetStream(&js, nc, NULL));
    RAW(js_KeyValue(&kv, js, bucket));

    /* Each round runs raw then libkvstore back to back and yields one
     * ratio; the median of the rounds damps load from other processes. */
    double lp[ROUNDS], rp[ROUNDS], lg[ROUNDS], rg[ROUNDS], lw[ROUNDS],
        rw[ROUNDS], lm[ROUNDS], rm[ROUNDS];
    double qp[ROUNDS], qg[ROUNDS], qw[ROUNDS], qm[ROUNDS];
    for (int r = 0; r < ROUNDS; r++) {
        double tl = 0, tr = 0, gl = 0, gr = 0;
        for (int from = 0; from < NOPS; from += BLOCK) {
            tr += raw_put(kv, from);
            tl += lib_put(b, from);
        }
        for (int from = 0; from < NOPS; from += BLOCK) {
            gr += raw_get(kv, from);
            gl += lib_get(b, from);
        }
        rp[r] = NOPS / tr;
        lp[r] = NOPS / tl;
        qp[r] = lp[r] / rp[r];
        rg[r] = NOPS / gr;
        lg[r] = NOPS / gl;
        qg[r] = lg[r] / rg[r];
    }
    for (int i = 0; i < NWALK; i += 100) {
        const char *k[100];
        const void *v[100];
        size_t l[100];
        for (int j = 0; j < 100; j++) {
            k[j] = keys[i + j];
            v[j] = value;
            l[j] = sizeof value;
        }
        LIB(kvstore_set_many(b, k, v, l, 100));
    }
    for (int r = 0; r < ROUNDS; r++) {
        rw[r] = raw_walk(kv);
        lw[r] = lib_walk(b);
        qw[r] = lw[r] / rw[r];
        rm[r] = raw_many(kv);
        lm[r] = lib_many(b);
        qm[r] = rm[r] / lm[r];
    }

    printf("nats backend vs raw nats.c kvStore_* (%s, median of %d "
           "interleaved rounds)\n", url, ROUNDS);
    printf("  put        %9.0f ops/s  raw %9.0f ops/s  ratio %.2fx "
           "(target >= 0.95x)\n", median(lp, ROUNDS), median(rp, ROUNDS),
           median(qp, ROUNDS));
    printf("  get        %9.0f ops/s  raw %9.0f ops/s  ratio %.2fx "
           "(target >= 0.95x)\n", median(lg, ROUNDS), median(rg, ROUNDS),
           median(qg, ROUNDS));
    printf("  walk 10k   %9.1f ms     raw %9.1f ms     ratio %.2fx "
           "(pages of 100 vs one kvStore_Keys; target <= 1.5x)\n",
           median(lw, ROUNDS) * 1e3, median(rw, ROUNDS) * 1e3,
           median(qw, ROUNDS));
    printf("  set_many   %9.2f ms     raw %9.2f ms     speedup %.1fx "
           "(100 keys vs 100 puts; target >= 5x)\n",
           median(lm, ROUNDS) * 1e3, median(rm, ROUNDS) * 1e3,
           median(qm, ROUNDS));

    kvStore_Destroy(kv);
    jsCtx_Destroy(js);
    natsConnection_Destroy(nc);
    kvstore_bucket_close(b);
    kvstore_close(s);
    nh_cleanup(&srv);
    return 0;
}

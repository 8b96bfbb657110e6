/*
 * bench-nats: the nats backend against raw nats.c doing the same work on
 * the same server in the same run, printing ops/s and ratios:
 *   - single put and get of 100-byte values (target >= 0.95x raw),
 *   - a full paged walk of 10,000 keys in pages of 100 against one raw
 *     kvStore_Keys (target: within 1.5x the raw time),
 *   - set_many of 100 keys against the same 100 puts pipelined raw:
 *     js_PublishAsync of each to its $KV subject, then
 *     js_PublishAsyncComplete (target >= 0.9x the raw speed; the old
 *     baseline, 100 sequential kvStore_Put, swung with the server's
 *     latency and is still printed for reference).
 * Every line gives the median of the rounds' ratios and their spread
 * (min..max): the numbers are only comparable within one run, and a
 * loaded machine widens the spread.
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

/* Acks that came back as errors (js_PublishAsync reports them here). */
static int async_errors;

static void on_async_error(jsCtx *js, jsPubAckErr *pae, void *closure)
{
    (void)js;
    (void)pae;
    (void)closure;
    async_errors++;
}

/* What set_many does, written directly against nats.c: 100 publishes to
 * the keys' subjects without waiting, then every ack. */
static double raw_async_many(jsCtx *ajs, const char *bucket)
{
    char subj[100][96];
    jsPubOptions po;

    for (int i = 0; i < 100; i++)
        snprintf(subj[i], sizeof subj[i], "$KV.%.63s.%.15s", bucket, keys[i]);
    jsPubOptions_Init(&po);
    po.MaxWait = 10000;
    double t = now_s();
    for (int r = 0; r < 40; r++) {
        for (int i = 0; i < 100; i++)
            RAW(js_PublishAsync(ajs, subj[i], value, sizeof value, NULL));
        RAW(js_PublishAsyncComplete(ajs, &po));
    }
    double d = (now_s() - t) / 40;
    if (async_errors != 0)
        die("js_PublishAsync acks", async_errors);
    return d;
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

/* "min..max" of n values. */
static const char *spread(const double *v, int n, char *buf, size_t cap)
{
    double lo = v[0], hi = v[0];

    for (int i = 1; i < n; i++) {
        lo = v[i] < lo ? v[i] : lo;
        hi = v[i] > hi ? v[i] : hi;
    }
    snprintf(buf, cap, "%.2f..%.2f", lo, hi);
    return buf;
}

int main(int argc, char **argv)
{
    nh_server srv = { 0 };
    char url[64], bucket[64];
    kvstore_store *s;
    kvstore_bucket *b;
    natsConnection *nc = NULL;
    jsCtx *js = NULL, *ajs = NULL;
    jsOptions jo;
    kvStore *kv = NULL;
    char sp[4][32];

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
    RAW(jsOptions_Init(&jo));
    jo.PublishAsync.ErrHandler = on_async_error;
    RAW(natsConnection_JetStream(&ajs, nc, &jo));

    /* Each round runs raw then libkvstore back to back and yields one
     * ratio; the median of the rounds damps load from other processes. */
    double lp[ROUNDS], rp[ROUNDS], lg[ROUNDS], rg[ROUNDS], lw[ROUNDS],
        rw[ROUNDS], lm[ROUNDS], rm[ROUNDS], am[ROUNDS];
    double qp[ROUNDS], qg[ROUNDS], qw[ROUNDS], qm[ROUNDS], qa[ROUNDS];
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
        am[r] = raw_async_many(ajs, bucket);
        lm[r] = lib_many(b);
        qm[r] = rm[r] / lm[r];
        qa[r] = am[r] / lm[r];
    }

    printf("nats backend vs raw nats.c (%s, median of %d interleaved "
           "rounds; ratio spread min..max)\n", url, ROUNDS);
    printf("  put        %9.0f ops/s  raw %9.0f ops/s  ratio %.2fx [%s] "
           "(target >= 0.95x)\n", median(lp, ROUNDS), median(rp, ROUNDS),
           median(qp, ROUNDS), spread(qp, ROUNDS, sp[0], sizeof sp[0]));
    printf("  get        %9.0f ops/s  raw %9.0f ops/s  ratio %.2fx [%s] "
           "(target >= 0.95x)\n", median(lg, ROUNDS), median(rg, ROUNDS),
           median(qg, ROUNDS), spread(qg, ROUNDS, sp[1], sizeof sp[1]));
    printf("  walk 10k   %9.1f ms     raw %9.1f ms     ratio %.2fx [%s] "
           "(pages of 100 vs one kvStore_Keys; target <= 1.5x)\n",
           median(lw, ROUNDS) * 1e3, median(rw, ROUNDS) * 1e3,
           median(qw, ROUNDS), spread(qw, ROUNDS, sp[2], sizeof sp[2]));
    printf("  set_many   %9.2f ms     raw %9.2f ms     ratio %.2fx [%s] "
           "(100 keys vs 100 js_PublishAsync + complete; target >= 0.9x)\n",
           median(lm, ROUNDS) * 1e3, median(am, ROUNDS) * 1e3,
           median(qa, ROUNDS), spread(qa, ROUNDS, sp[3], sizeof sp[3]));
    printf("             (for reference: 100 sequential kvStore_Put %.2f ms, "
           "set_many %.1fx faster)\n", median(rm, ROUNDS) * 1e3,
           median(qm, ROUNDS));

    kvStore_Destroy(kv);
    jsCtx_Destroy(ajs);
    jsCtx_Destroy(js);
    natsConnection_Destroy(nc);
    kvstore_bucket_close(b);
    kvstore_close(s);
    nh_cleanup(&srv);
    return 0;
}

/*
 * bench-redis-cluster: redis+cluster against raw hiredis doing the same
 * work on the same private 3-master cluster (tests/redis/cluster.c), in
 * the same run.
 *
 *   bench-redis-cluster
 *
 * Raw hiredis gets the slot map for free: it sends each key straight to
 * the master that owns it (one connection per master). Each comparison
 * interleaves the sides in short slices (kvstore then raw, then raw then
 * kvstore, ...); it prints the median of the per-slice ratios with the
 * lowest and highest, next to the target.
 *
 * The layout comparison: a batch of 100 keys of one bucket is one MGET
 * on one node with a hash-tagged layout ({B}:K), several per-slot MGETs
 * pipelined on every master with the B:K layout the backend keeps.
 *
 * SPDX-License-Identifier: MIT
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <hiredis/hiredis.h>
#include <kvstore/backend.h>
#include <kvstore/kvstore.h>

#include "bench-walk.h"
#include "cluster.h"
#include "redis.h"

#define SLICES 40
#define SINGLE_OPS 500
#define BATCH 100
#define BATCH_OPS 50
#define LIST_KEYS 100000
#define LIST_ROUNDS 11
#define VALUE "0123456789abcdef"

static rs_cluster cl;
static redisContext *raw[RS_CLUSTER_NODES_MAX];
static int raw_n;
static unsigned short owner[RD_SLOTS_N];  /* index into raw */


static void die(const char *what)
{
    fprintf(stderr, "bench-redis-cluster: %s: %s\n", what, kvstore_errmsg());
    exit(1);
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* Median, lowest and highest of n ratios (sorted in place); `sense`
 * NULL: no target. */
static void report(const char *what, double *ratio, int n, const char *sense,
                   double target)
{
    qsort(ratio, (size_t)n, sizeof *ratio, cmp_double);
    printf("%-36s median %.3f  (min %.3f, max %.3f, %d slices)", what,
           ratio[n / 2], ratio[0], ratio[n - 1], n);
    if (sense != NULL)
        printf("  target %s %.2f", sense, target);
    printf("\n");
}

/* Connects to every master and learns the slot map from CLUSTER SLOTS. */
static void raw_setup(void)
{
    redisContext *c = redisConnect("127.0.0.1", cl.node[0].port);
    redisReply *r = redisCommand(c, "CLUSTER SLOTS");

    if (r == NULL || r->type != REDIS_REPLY_ARRAY)
        exit(1);
    for (size_t i = 0; i < r->elements; i++) {
        redisReply *e = r->element[i];
        int port = (int)e->element[2]->element[1]->integer, at = -1;

        for (int j = 0; j < raw_n; j++)
            if (raw[j]->tcp.port == port)
                at = j;
        if (at < 0) {
            raw[raw_n] = redisConnect("127.0.0.1", port);
            if (raw[raw_n] == NULL || raw[raw_n]->err)
                exit(1);
            at = raw_n++;
        }
        for (long long s = e->element[0]->integer;
             s <= e->element[1]->integer; s++)
            owner[s] = (unsigned short)at;
    }
    freeReplyObject(r);
    redisFree(c);
}

static redisContext *raw_for(const char *key, size_t len)
{
    return raw[owner[rd_key_slot(key, len)]];
}

/* ---- single get / set: each call returns seconds for SINGLE_OPS ---- */

static double kv_single(kvstore_bucket *b, bool set)
{
    char key[32];
    double t0 = bench_now_s();

    for (int i = 0; i < SINGLE_OPS; i++) {
        void *v = NULL;
        size_t len;

        snprintf(key, sizeof key, "k%d", i);
        if (set ? kvstore_set(b, key, VALUE, 16) != KVSTORE_OK
                : kvstore_get(b, key, &v, &len) != KVSTORE_OK)
            die(set ? "set" : "get");
        kvstore_free(v);
    }
    return bench_now_s() - t0;
}

static double raw_single(bool set)
{
    char key[48];
    const char *argv[3] = { set ? "SET" : "GET", key, VALUE };
    size_t lens[3] = { 3, 0, 16 };
    double t0 = bench_now_s();

    for (int i = 0; i < SINGLE_OPS; i++) {
        redisReply *r;

        lens[1] = (size_t)snprintf(key, sizeof key, "bench:k%d", i);
        r = redisCommandArgv(raw_for(key, lens[1]), set ? 3 : 2, argv, lens);
        if (r == NULL || r->type == REDIS_REPLY_ERROR)
            exit(1);
        freeReplyObject(r);
    }
    return bench_now_s() - t0;
}

/* ---- get_many 100 (B:K, per slot) vs one MGET of {B}:K keys ---- */

static char bnames[BATCH][16];
static const char *bkeys[BATCH];

static double kv_batch(kvstore_bucket *b)
{
    void *vals[BATCH];
    size_t lens[BATCH];
    double t0 = bench_now_s();

    for (int i = 0; i < BATCH_OPS; i++) {
        if (kvstore_get_many(b, bkeys, BATCH, vals, lens) != KVSTORE_OK)
            die("get_many");
        for (int j = 0; j < BATCH; j++)
            kvstore_free(vals[j]);
    }
    return bench_now_s() - t0;
}

static double raw_tagged_batch(void)
{
    static char names[BATCH][32];
    const char *argv[BATCH + 1] = { "MGET" };
    size_t lens[BATCH + 1] = { 4 };
    redisContext *c;
    double t0;

    for (int i = 0; i < BATCH; i++) {
        lens[i + 1] = (size_t)snprintf(names[i], sizeof names[i],
                                       "{bench}:b%d", i);
        argv[i + 1] = names[i];
    }
    c = raw_for("bench", 5);
    t0 = bench_now_s();
    for (int i = 0; i < BATCH_OPS; i++) {
        redisReply *r = redisCommandArgv(c, BATCH + 1, argv, lens);

        if (r == NULL || r->type != REDIS_REPLY_ARRAY)
            exit(1);
        freeReplyObject(r);
    }
    return bench_now_s() - t0;
}

/* The same B:K keys from raw hiredis: one MGET per slot, every node's
 * commands appended before any reply is read (all nodes in parallel). */
static double raw_split_batch(void)
{
    static char names[BATCH][32];
    static const char *argv[BATCH][BATCH + 1];
    static size_t lens[BATCH][BATCH + 1];
    static int argc[BATCH], node_of[BATCH];
    static int ncmd = -1;
    double t0;

    if (ncmd < 0) {
        unsigned slot_of[BATCH];

        ncmd = 0;
        for (int i = 0; i < BATCH; i++) {
            size_t len = (size_t)snprintf(names[i], sizeof names[i],
                                          "bench:b%d", i);
            int at = -1;

            slot_of[i] = rd_key_slot(names[i], len);
            for (int c = 0; c < ncmd && at < 0; c++)
                if (slot_of[c] == slot_of[i])
                    at = c;
            if (at < 0) {
                at = ncmd++;
                slot_of[at] = slot_of[i];
                argv[at][0] = "MGET";
                lens[at][0] = 4;
                argc[at] = 1;
                node_of[at] = owner[slot_of[i]];
            }
            argv[at][argc[at]] = names[i];
            lens[at][argc[at]++] = len;
        }
    }
    t0 = bench_now_s();
    for (int i = 0; i < BATCH_OPS; i++) {
        for (int c = 0; c < ncmd; c++)
            redisAppendCommandArgv(raw[node_of[c]], argc[c], argv[c],
                                   lens[c]);
        for (int c = 0; c < ncmd; c++) {
            void *r = NULL;

            if (redisGetReply(raw[node_of[c]], &r) != REDIS_OK)
                exit(1);
            freeReplyObject(r);
        }
    }
    return bench_now_s() - t0;
}

/* ---- 100k walk vs SCAN on every master ---- */

static double kv_list(kvstore_bucket *b, size_t *count)
{
    double t0 = bench_now_s();

    *count = bench_kv_walk(b);
    return bench_now_s() - t0;
}

static double raw_list(size_t *count)
{
    double t0 = bench_now_s();

    *count = 0;
    for (int m = 0; m < raw_n; m++)
        *count += bench_raw_scan(raw[m], "list:*");
    return bench_now_s() - t0;
}

/* n slices of kv vs raw, alternating which goes first; ratio kv/raw. */
#define COMPARE(ratio, n, kv_expr, raw_expr)        \
    for (int i_ = 0; i_ < (n); i_++) {              \
        double kv_, raw_;                           \
        if (i_ % 2) {                               \
            kv_ = (kv_expr);                        \
            raw_ = (raw_expr);                      \
        } else {                                    \
            raw_ = (raw_expr);                      \
            kv_ = (kv_expr);                        \
        }                                           \
        (ratio)[i_] = kv_ / raw_;                   \
    }

int main(void)
{
    char uri[256];
    kvstore_store *s;
    kvstore_bucket *b, *bl;
    double ratio[SLICES], speed[SLICES];
    size_t nkv = 0, nraw = 0;

    if (rs_cluster_start(&cl, 3, NULL) != 0)
        return 1;
#ifdef BENCH_MODULE
    if (getenv("KVSTORE_BACKEND_PATH") == NULL &&
        kvstore_backend_load(BENCH_MODULE) != KVSTORE_OK)
        die("kvstore_backend_load");
#endif
    raw_setup();
    printf("bench-redis-cluster: 3 masters + 3 replicas, %s; %d "
           "interleaved slices per comparison\n", cl.seeds, SLICES);
    snprintf(uri, sizeof uri, "redis+cluster://%s?pool=4", cl.seeds);
    if (kvstore_open(&s, uri) != KVSTORE_OK)
        die("kvstore_open");
    if (kvstore_bucket_open(&b, s, "bench") != KVSTORE_OK)
        die("bucket_open");
    (void)kv_single(b, true);  /* warm up: connections, k0..k499 */
    (void)raw_single(true);

    /* Speeds: kvstore ops/s over raw ops/s = raw time / kvstore time. */
    COMPARE(ratio, SLICES, kv_single(b, true), raw_single(true));
    for (int i = 0; i < SLICES; i++)
        speed[i] = 1 / ratio[i];
    report("single set (speed ratio)", speed, SLICES, ">=", 0.95);
    COMPARE(ratio, SLICES, kv_single(b, false), raw_single(false));
    for (int i = 0; i < SLICES; i++)
        speed[i] = 1 / ratio[i];
    report("single get (speed ratio)", speed, SLICES, ">=", 0.95);

    for (int i = 0; i < BATCH; i++) {
        snprintf(bnames[i], sizeof bnames[i], "b%d", i);
        bkeys[i] = bnames[i];
    }
    COMPARE(ratio, SLICES, kv_batch(b), raw_tagged_batch());
    for (int i = 0; i < SLICES; i++)
        speed[i] = 1 / ratio[i];
    report("get_many 100: B:K vs MGET {B}:K", speed, SLICES, NULL, 0);
    COMPARE(ratio, SLICES, kv_batch(b), raw_split_batch());
    for (int i = 0; i < SLICES; i++)
        speed[i] = 1 / ratio[i];
    report("get_many 100 vs raw per-slot MGETs", speed, SLICES, NULL, 0);

    if (kvstore_bucket_open(&bl, s, "list") != KVSTORE_OK)
        die("bucket_open");
    bench_fill_walk(bl, LIST_KEYS, VALUE);
    {
        double t0 = bench_now_s(), t1;

        (void)kv_list(bl, &nkv);
        t1 = bench_now_s();
        (void)raw_list(&nraw);
        printf("list 100k, one walk each: kvstore %.1f ms, raw %.1f ms\n",
               (t1 - t0) * 1e3, (bench_now_s() - t1) * 1e3);
    }
    COMPARE(ratio, LIST_ROUNDS, kv_list(bl, &nkv), raw_list(&nraw));
    if (nkv < LIST_KEYS || nraw < LIST_KEYS) {
        fprintf(stderr, "bench-redis-cluster: listed %zu / %zu of %d\n", nkv,
                nraw, LIST_KEYS);
        return 1;
    }
    report("list 100k (time ratio)", ratio, LIST_ROUNDS, "<=", 1.3);

    kvstore_bucket_close(bl);
    kvstore_bucket_close(b);
    kvstore_close(s);
    for (int i = 0; i < raw_n; i++)
        redisFree(raw[i]);
    rs_cluster_destroy(&cl);
    return 0;
}

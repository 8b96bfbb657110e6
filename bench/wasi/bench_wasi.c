/*
 * 100,000 gets on memory: by a Wasm guest through libkvstore-wasi (wasm2c
 * binding, examples/wasm-host) against a C loop of kvstore_get on the
 * same keys. Prints each side's median and spread over ROUNDS rounds
 * (alternating) and the ratio C time / guest time: 1.0 means the guest
 * is as fast as the C loop. Not a test: figures only (docs/benchmarks.md).
 *
 * SPDX-License-Identifier: MIT
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "runner.h"

#define GETS 100000
#define ROUNDS 9

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

static int cmp(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static char keys[1000][8];

/* The keys are made beforehand: the loop times kvstore_get only (the
 * guest makes each key with a few arithmetic instructions). */
static double c_loop(kvstore_store *s)
{
    kvstore_bucket *b;
    if (kvstore_bucket_open(&b, s, "bench") != KVSTORE_OK)
        exit(1);
    double t0 = now();
    for (int i = 0; i < GETS; i++) {
        void *v;
        size_t len;
        if (kvstore_get(b, keys[i % 1000], &v, &len) != KVSTORE_OK)
            exit(1);
        kvstore_free(v);
    }
    double t = now() - t0;
    kvstore_bucket_close(b);
    return t;
}

static double guest(kvstore_store *s, const wh_guest *g, FILE *null)
{
    wh_options o = {.store = s, .out = null};
    double t0 = now();
    if (wh_run(g, &o) != 0) {
        fprintf(stderr, "bench guest failed\n");
        exit(1);
    }
    return now() - t0;
}

int main(void)
{
    kvstore_store *s;
    kvstore_bucket *b;
    double tc[ROUNDS], tw[ROUNDS];
    if (kvstore_open(&s, "memory:") != KVSTORE_OK ||
        kvstore_bucket_open(&b, s, "bench") != KVSTORE_OK)
        return 1;
    for (int i = 0; i < 1000; i++) {
        snprintf(keys[i], sizeof(keys[i]), "k%04d", i);
        kvstore_set(b, keys[i], "sixteen-byte-val", 16);
    }
    kvstore_bucket_close(b);
    FILE *null = fopen("/dev/null", "w");
    wh_runtime_init();
    const wh_guest *g = wh_guest_find("bench");
    if (!g || !null)
        return 1;
    guest(s, g, null); /* warm up both */
    c_loop(s);
    for (int r = 0; r < ROUNDS; r++) {
        tw[r] = guest(s, g, null);
        tc[r] = c_loop(s);
    }
    qsort(tc, ROUNDS, sizeof(double), cmp);
    qsort(tw, ROUNDS, sizeof(double), cmp);
    printf("%d gets on memory:, %d rounds (median [min..max])\n", GETS, ROUNDS);
    printf("  C loop of kvstore_get:          %7.2f ms [%.2f..%.2f]\n",
           tc[ROUNDS / 2] * 1e3, tc[0] * 1e3, tc[ROUNDS - 1] * 1e3);
    printf("  wasm2c guest via libkvstore-wasi: %5.2f ms [%.2f..%.2f]\n",
           tw[ROUNDS / 2] * 1e3, tw[0] * 1e3, tw[ROUNDS - 1] * 1e3);
    printf("  guest speed / C speed: %.2fx\n", tc[ROUNDS / 2] / tw[ROUNDS / 2]);
    wh_runtime_free();
    fclose(null);
    kvstore_close(s);
    return 0;
}

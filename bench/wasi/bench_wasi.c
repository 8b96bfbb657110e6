/*
 * 100,000 gets on memory: by a Wasm guest through libkvstore-wasi (wasm2c
 * binding, examples/wasm-host) against a C loop of kvstore_get on the
 * same keys. Prints each side's median and spread over the rounds
 * (alternating; 9, or the first argument, up to MAX_ROUNDS), the ratio
 * of the medians C time / guest time (1.0: the guest is as fast as the C
 * loop), and the median and spread of the ratio within each round, which
 * a shared machine's load drifting between rounds disturbs less. Not a
 * test: figures only (docs/benchmarks.md).
 *
 * SPDX-License-Identifier: MIT
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "runner.h"

#define GETS 100000
#define MAX_ROUNDS 101

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

int main(int argc, char **argv)
{
    kvstore_store *s;
    kvstore_bucket *b;
    double tc[MAX_ROUNDS], tw[MAX_ROUNDS], ratio[MAX_ROUNDS];
    int rounds = argc > 1 ? atoi(argv[1]) : 9;
    if (rounds < 1 || rounds > MAX_ROUNDS) {
        fprintf(stderr, "usage: bench-wasi [ROUNDS (1..%d)]\n", MAX_ROUNDS);
        return 2;
    }
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
    for (int r = 0; r < rounds; r++) {
        tw[r] = guest(s, g, null);
        tc[r] = c_loop(s);
        ratio[r] = tc[r] / tw[r];
    }
    qsort(tc, rounds, sizeof(double), cmp);
    qsort(tw, rounds, sizeof(double), cmp);
    qsort(ratio, rounds, sizeof(double), cmp);
    int m = rounds / 2, last = rounds - 1;
    printf("%d gets on memory:, %d rounds (median [min..max])\n", GETS, rounds);
    printf("  C loop of kvstore_get:          %7.2f ms [%.2f..%.2f]\n",
           tc[m] * 1e3, tc[0] * 1e3, tc[last] * 1e3);
    printf("  wasm2c guest via libkvstore-wasi: %5.2f ms [%.2f..%.2f]\n",
           tw[m] * 1e3, tw[0] * 1e3, tw[last] * 1e3);
    printf("  guest speed / C speed: %.2fx (ratio of medians); "
           "per round %.2fx [%.2f..%.2f]\n",
           tc[m] / tw[m], ratio[m], ratio[0], ratio[last]);
    wh_runtime_free();
    fclose(null);
    kvstore_close(s);
    return 0;
}

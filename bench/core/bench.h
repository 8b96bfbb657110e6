/*
 * bench-core - shared declarations of the core benchmark.
 *
 * The benchmark runs one workload through libkvstore (public API only) and
 * through the raw code a program would write without it, in the same run,
 * and prints ops/s for both and the ratio libkvstore/raw.
 *
 * SPDX-License-Identifier: MIT
 */
#ifndef BENCH_CORE_H
#define BENCH_CORE_H

#include <stdbool.h>
#include <stddef.h>

#include <kvstore/kvstore.h>

/* Run configuration, filled from the command line (main.c). */
typedef struct bench_cfg {
    size_t keys;        /* keys of the get/set/delete workload */
    size_t list_keys;   /* keys of the full-listing workload */
    size_t sorted_keys; /* keys of the listing against a sorted baseline */
    unsigned rounds;    /* interleaved rounds of that listing (median) */
    size_t value_size;  /* bytes per value */
    unsigned repeats;   /* each measurement keeps the best of this many */
    bool run_memory;
    bool run_file;
    const char *workdir; /* created by main, removed at exit */
    char load_start[16]; /* 1-minute load average when the run began */
} bench_cfg;

/* One line of the result table. `lib_ops`/`base_ops` are ops/s (keys/s for
 * listings); `target` is the minimum lib/base ratio wanted (0: none). */
typedef struct bench_row {
    char name[48];
    char baseline[56];
    double lib_ops;
    double base_ops;
    double target;
} bench_row;

/* A measured action: `prepare` (untimed, may be NULL) then `run` (timed). */
typedef struct bench_action {
    void (*prepare)(void *ctx);
    void (*run)(void *ctx);
    void *ctx;
} bench_action;

/* util.c */
_Noreturn void bench_die(const char *fmt, ...) KVSTORE_PRINTF(1, 2);
/* Dies with kvstore_errmsg() if `rc` is not KVSTORE_OK. */
void bench_check(int rc, const char *what);
double bench_now(void);
/* Allocation that ends the run on failure (a benchmark has no use for a
 * recovery path). */
void *bench_xmalloc(size_t n);
void *bench_xrealloc(void *p, size_t n);
char *bench_xstrdup(const char *s);
/* Times `lib` and `base` alternately `repeats` times and stores the best
 * (shortest) time of each, in seconds. */
void bench_pair(unsigned repeats, const bench_action *lib,
                const bench_action *base, double *lib_s, double *base_s);
/* Same for a single action. */
double bench_best(unsigned repeats, const bench_action *a);
/* Runs `rounds` rounds of fn(arg, i) on `n` threads (i = 0..n-1), all
 * released together; returns the shortest round's wall time, in seconds. */
double bench_threads(unsigned n, unsigned rounds,
                     void (*fn)(void *arg, unsigned i), void *arg);
/* Key i of the workload: prefix followed by i on 8 digits. Returns an
 * array of `n` strings owned by the caller (bench_free_strings). */
char **bench_make_keys(size_t n, const char *prefix);
void bench_free_strings(char **v, size_t n);
/* Removes the tree at `path` (no symlinks followed); errors are ignored. */
void bench_rmtree(const char *path);
/* Name of the filesystem type holding `path` ("ext4", "tmpfs", ...). */
const char *bench_fs_name(const char *path);

/* The results table (report.c): rates in ops/s (keys/s for listings). */
void bench_add_row(const char *name, const char *baseline, double lib_ops,
                   double base_ops, double target);
/* ops / seconds, 0 for a zero time. */
double bench_rate(size_t ops, double seconds);
void bench_print_table(const bench_cfg *cfg);
/* The 1-minute load average as text ("?" if unknown). */
void bench_load_average(char *buf, size_t cap);

/* Suites (suite_memory.c, suite_file.c). */
void bench_suite_memory(const bench_cfg *cfg);
void bench_suite_file(const bench_cfg *cfg);

#endif /* BENCH_CORE_H */

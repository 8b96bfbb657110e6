/*
 * bench-core - timing, threads, keys and scratch-directory helpers.
 *
 * SPDX-License-Identifier: MIT
 */
#include "bench.h"

#include <errno.h>
#include <ftw.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/vfs.h>
#include <time.h>
#include <unistd.h>

void bench_die(const char *fmt, ...)
{
    va_list ap;
    fputs("bench-core: ", stderr);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    exit(1); /* atexit in main.c removes the scratch directory */
}

void bench_check(int rc, const char *what)
{
    if (rc != KVSTORE_OK)
        bench_die("%s: %s (%s)", what, kvstore_strerror(rc), kvstore_errmsg());
}

double bench_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

void *bench_xmalloc(size_t n)
{
    void *p = malloc(n ? n : 1);
    if (!p)
        bench_die("out of memory");
    return p;
}

void *bench_xrealloc(void *p, size_t n)
{
    void *q = realloc(p, n ? n : 1);
    if (!q)
        bench_die("out of memory");
    return q;
}

char *bench_xstrdup(const char *s)
{
    char *p = strdup(s);
    if (!p)
        bench_die("out of memory");
    return p;
}

double bench_rate(size_t ops, double seconds)
{
    return seconds > 0 ? (double)ops / seconds : 0;
}

static double time_once(const bench_action *a)
{
    if (a->prepare)
        a->prepare(a->ctx);
    double t0 = bench_now();
    a->run(a->ctx);
    return bench_now() - t0;
}

void bench_pair(unsigned repeats, const bench_action *lib,
                const bench_action *base, double *lib_s, double *base_s)
{
    /* Alternating the two spreads slow phases of the machine (page-cache
     * writeback, a noisy neighbour) over both sides instead of one. */
    *lib_s = *base_s = 0;
    for (unsigned r = 0; r < repeats; r++) {
        double a = time_once(lib);
        double b = time_once(base);
        if (r == 0 || a < *lib_s)
            *lib_s = a;
        if (r == 0 || b < *base_s)
            *base_s = b;
    }
}

double bench_best(unsigned repeats, const bench_action *a)
{
    double best = 0;
    for (unsigned r = 0; r < repeats; r++) {
        double t = time_once(a);
        if (r == 0 || t < best)
            best = t;
    }
    return best;
}

typedef struct thread_arg {
    pthread_barrier_t *start, *stop;
    void (*fn)(void *arg, unsigned i);
    void *arg;
    unsigned index, rounds;
    double t0, t1;   /* this round's start and end, read after `stop` */
} thread_arg;

static void *thread_main(void *p)
{
    thread_arg *t = p;
    for (unsigned r = 0; r < t->rounds; r++) {
        pthread_barrier_wait(t->start);
        t->t0 = bench_now();
        t->fn(t->arg, t->index);
        t->t1 = bench_now();
        pthread_barrier_wait(t->stop);
    }
    return NULL;
}

double bench_threads(unsigned n, unsigned rounds,
                     void (*fn)(void *arg, unsigned i), void *arg)
{
    pthread_barrier_t start, stop;
    pthread_t tid[16];
    thread_arg ta[16];
    double best = 0;

    if (n == 0 || n > 16 || rounds == 0)
        bench_die("bench_threads: %u threads, %u rounds", n, rounds);
    /* The threads live for all rounds, so a round times only the work, not
     * thread creation. The workers read the clock themselves: a round
     * spans from the first start to the last end. (Timing from the main
     * thread undercounts when it is scheduled late after the barrier.)
     * Short rounds, many of them, let the best one fall where no other
     * process held a CPU. */
    pthread_barrier_init(&start, NULL, n + 1);
    pthread_barrier_init(&stop, NULL, n + 1);
    for (unsigned i = 0; i < n; i++) {
        ta[i] = (thread_arg){ .start = &start, .stop = &stop, .fn = fn,
                              .arg = arg, .index = i, .rounds = rounds };
        int rc = pthread_create(&tid[i], NULL, thread_main, &ta[i]);
        if (rc != 0)
            bench_die("pthread_create: %s", strerror(rc));
    }
    for (unsigned r = 0; r < rounds; r++) {
        pthread_barrier_wait(&start);
        pthread_barrier_wait(&stop);
        double t0 = ta[0].t0, t1 = ta[0].t1;
        for (unsigned i = 1; i < n; i++) {
            if (ta[i].t0 < t0)
                t0 = ta[i].t0;
            if (ta[i].t1 > t1)
                t1 = ta[i].t1;
        }
        if (r == 0 || t1 - t0 < best)
            best = t1 - t0;
    }
    for (unsigned i = 0; i < n; i++)
        pthread_join(tid[i], NULL);
    pthread_barrier_destroy(&stop);
    pthread_barrier_destroy(&start);
    return best;
}

char **bench_make_keys(size_t n, const char *prefix)
{
    char **v = bench_xmalloc(n * sizeof *v);
    char buf[64];
    for (size_t i = 0; i < n; i++) {
        snprintf(buf, sizeof buf, "%s%08zu", prefix, i);
        v[i] = bench_xstrdup(buf);
    }
    return v;
}

void bench_free_strings(char **v, size_t n)
{
    if (!v)
        return;
    for (size_t i = 0; i < n; i++)
        free(v[i]);
    free(v);
}

static int rm_entry(const char *path, const struct stat *st, int type,
                    struct FTW *ftw)
{
    (void)st;
    (void)ftw;
    if (type == FTW_DP)
        rmdir(path);
    else
        unlink(path);
    return 0;
}

void bench_rmtree(const char *path)
{
    /* FTW_PHYS: never follow a symlink out of the scratch tree. */
    nftw(path, rm_entry, 32, FTW_DEPTH | FTW_PHYS);
}

const char *bench_fs_name(const char *path)
{
    struct statfs sf;
    if (statfs(path, &sf) != 0)
        return "unknown";
    switch ((unsigned long)sf.f_type) {
    case 0xEF53UL: return "ext2/3/4";
    case 0x01021994UL: return "tmpfs";
    case 0x58465342UL: return "xfs";
    case 0x9123683EUL: return "btrfs";
    case 0x794C7630UL: return "overlayfs";
    case 0x2FC12FC1UL: return "zfs";
    case 0x6969UL: return "nfs";
    default: return "other";
    }
}

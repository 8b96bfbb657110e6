/*
 * kvstore CLI - bench: set/get/list/delete throughput and latency on the
 * chosen store.
 *
 * Keys are "kvstore-bench/PID/NNNNNNNN" in the chosen bucket so a run never
 * touches existing keys; they are deleted at the end (that pass is timed
 * too), and also when SIGINT, SIGTERM or SIGHUP stops the run. Every call
 * is timed on CLOCK_MONOTONIC; a list "op" is one page. With -c N, N
 * threads share one store and bucket, each working on its own slice of the
 * keys, and every phase starts for all of them at once.
 *
 * SPDX-License-Identifier: MIT
 */
#include "cli.h"
#include "progress.h"

#include <inttypes.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

enum { B_N = OPT_NGLOBAL, B_SIZE, B_CLIENTS, B_CSV };
static const cli_opt bench_opts[] = {
    {"n", 'n', true},
    {"value-size", 0, true},
    {"clients", 'c', true},
    {"csv", 0, false},
};

#define BENCH_MAX_CLIENTS 64

/* The signal that stopped the run, 0 while none has. */
static volatile sig_atomic_t stop_signal;

static void on_stop_signal(int sig)
{
    stop_signal = sig;
}

#define BENCH_MAX_N 10000000u
#define BENCH_MAX_VALUE (64u * 1024 * 1024)

typedef struct sample_set {
    uint64_t *ns; /* one latency per op, owned */
    size_t n;
    uint64_t total_ns; /* wall time of the whole phase */
    uint64_t items;    /* keys handled (== n except for list) */
} sample_set;

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return (x > y) - (x < y);
}

/* Nearest-rank percentile of sorted samples, `pm` in per mille. */
static double pct_us(const sample_set *s, unsigned pm)
{
    if (s->n == 0)
        return 0;
    size_t rank = (s->n * pm + 999) / 1000;
    return (double)s->ns[rank ? rank - 1 : 0] / 1000.0;
}

enum format { FMT_TABLE, FMT_CSV, FMT_JSON };

static void report(enum format fmt, const char *name, int clients,
                   sample_set *s)
{
    qsort(s->ns, s->n, sizeof(uint64_t), cmp_u64);
    double secs = (double)s->total_ns / 1e9;
    double rate = secs > 0 ? (double)s->items / secs : 0.0;
    if (fmt == FMT_JSON)
        printf("{\"op\":\"%s\",\"clients\":%d,\"keys\":%" PRIu64
               ",\"keys_per_s\":%.0f,\"p50_us\":%.1f,\"p99_us\":%.1f,"
               "\"p999_us\":%.1f}\n", name, clients, s->items, rate,
               pct_us(s, 500), pct_us(s, 990), pct_us(s, 999));
    else if (fmt == FMT_CSV)
        printf("%s,%d,%" PRIu64 ",%.0f,%.1f,%.1f,%.1f\n", name, clients,
               s->items, rate, pct_us(s, 500), pct_us(s, 990),
               pct_us(s, 999));
    else
        printf("%-6s %10" PRIu64 " %12.0f %10.1f %10.1f %10.1f\n", name,
               s->items, rate, pct_us(s, 500), pct_us(s, 990),
               pct_us(s, 999));
}

static void key_name(char *buf, size_t cap, long pid, size_t i)
{
    snprintf(buf, cap, "kvstore-bench/%ld/%08zu", pid, i);
}

typedef struct bench {
    const cli_ctx *ctx;
    kvstore_bucket *b;
    size_t n;
    const void *value;
    size_t value_len;
    char prefix[64];
    long pid;
    /* What the set phase wrote, for the cleanup after a stop: client i
     * set the keys [set_lo[i], set_lo[i] + set_n[i]). */
    size_t set_lo[BENCH_MAX_CLIENTS], set_n[BENCH_MAX_CLIENTS];
    int set_clients;
} bench;

/* A return of a phase when a signal stopped it (not an exit code). */
#define STOPPED (-2)

/* The keys [lo, hi) of one client; samples go to s->ns[s->n++]. */
static int phase_set(bench *B, size_t lo, size_t hi, sample_set *s)
{
    char key[96];
    for (size_t i = lo; i < hi; i++) {
        if (stop_signal)
            return STOPPED;
        key_name(key, sizeof(key), B->pid, i);
        uint64_t t = progress_now_ns();
        if (kvstore_set(B->b, key, B->value, B->value_len) != KVSTORE_OK)
            return cli_lib_error(B->ctx, "set failed");
        s->ns[s->n++] = progress_now_ns() - t;
    }
    return -1;
}

static int phase_get(bench *B, size_t lo, size_t hi, sample_set *s)
{
    char key[96];
    for (size_t i = lo; i < hi; i++) {
        void *v;
        size_t len;
        if (stop_signal)
            return STOPPED;
        key_name(key, sizeof(key), B->pid, i);
        uint64_t t = progress_now_ns();
        int st = kvstore_get(B->b, key, &v, &len);
        s->ns[s->n++] = progress_now_ns() - t;
        if (st != KVSTORE_OK)
            return st == KVSTORE_NOTFOUND
                       ? cli_error(B->ctx, EXIT_BACKEND,
                                   "get: a key just set is missing")
                       : cli_lib_error(B->ctx, "get failed");
        kvstore_free(v);
    }
    return -1;
}

static int phase_del(bench *B, size_t lo, size_t hi, sample_set *s)
{
    char key[96];
    for (size_t i = lo; i < hi; i++) {
        if (stop_signal)
            return STOPPED;
        key_name(key, sizeof(key), B->pid, i);
        uint64_t t = progress_now_ns();
        if (kvstore_delete(B->b, key) != KVSTORE_OK)
            return cli_lib_error(B->ctx, "delete failed");
        s->ns[s->n++] = progress_now_ns() - t;
    }
    return -1;
}

/* The list phase is one walk, on one client. */
static int phase_list(bench *B, sample_set *s)
{
    char *cursor = NULL;
    uint64_t t0 = progress_now_ns();
    s->items = 0;
    do {
        kvstore_keys *page;
        if (stop_signal) {
            free(cursor);
            return STOPPED;
        }
        uint64_t t = progress_now_ns();
        int st = kvstore_list_keys(B->b, B->prefix, cursor, 0, &page);
        uint64_t dt = progress_now_ns() - t;
        free(cursor);
        cursor = NULL;
        if (st != KVSTORE_OK)
            return cli_lib_error(B->ctx, "list failed");
        if (s->n < B->n) /* pages <= keys, except for empty pages */
            s->ns[s->n++] = dt;
        s->items += page->count;
        cursor = page->cursor ? strdup(page->cursor) : NULL;
        bool oom = page->cursor && !cursor;
        kvstore_keys_free(page);
        if (oom)
            return cli_error(B->ctx, EXIT_BACKEND, "out of memory");
    } while (cursor);
    s->total_ns = progress_now_ns() - t0;
    if (s->items < B->n)
        return cli_error(B->ctx, EXIT_BACKEND,
                         "list returned %" PRIu64 " of %zu keys", s->items,
                         B->n);
    return -1;
}

typedef int (*phase_fn)(bench *, size_t, size_t, sample_set *);

typedef struct client {
    bench *B;
    phase_fn fn;
    size_t lo, hi;
    sample_set part; /* ns points into the phase's array at [lo, hi) */
    pthread_barrier_t *start;
    uint64_t t0, t1; /* when this client started and ended its slice */
    int rc;
} client;

static void *client_run(void *arg)
{
    client *c = arg;
    pthread_barrier_wait(c->start);
    c->t0 = progress_now_ns();
    c->rc = c->fn(c->B, c->lo, c->hi, &c->part);
    c->t1 = progress_now_ns();
    return NULL;
}

/* Runs `fn` on `nc` clients at once, each on its slice of the keys; the
 * phase's samples end up in s->ns[0..n). */
static int run_phase(bench *B, phase_fn fn, int nc, sample_set *s)
{
    client cl[BENCH_MAX_CLIENTS];
    pthread_t th[BENCH_MAX_CLIENTS];
    pthread_barrier_t start;
    int rc = -1, started = 0;

    pthread_barrier_init(&start, NULL, (unsigned)nc + 1);
    for (int i = 0; i < nc; i++) {
        cl[i] = (client){.B = B, .fn = fn, .start = &start, .rc = -1,
                         .lo = B->n * (size_t)i / (size_t)nc,
                         .hi = B->n * (size_t)(i + 1) / (size_t)nc};
        cl[i].part.ns = s->ns + cl[i].lo;
        if (pthread_create(&th[i], NULL, client_run, &cl[i]) != 0)
            break;
        started++;
    }
    if (started < nc) {
        /* Release the ones that started with a stop, then report. */
        stop_signal = SIGTERM;
        pthread_barrier_destroy(&start);
        pthread_barrier_init(&start, NULL, 1);
        for (int i = 0; i < started; i++)
            cl[i].start = &start;
    }
    pthread_barrier_wait(&start);
    for (int i = 0; i < started; i++)
        pthread_join(th[i], NULL);
    pthread_barrier_destroy(&start);
    /* The phase's wall time: from the first client's start to the last
     * one's end, as each saw them. */
    uint64_t first = UINT64_MAX, last = 0;
    for (int i = 0; i < started; i++) {
        if (cl[i].t0 < first)
            first = cl[i].t0;
        if (cl[i].t1 > last)
            last = cl[i].t1;
    }
    s->total_ns = started > 0 && last > first ? last - first : 0;
    if (started < nc)
        return cli_error(B->ctx, EXIT_BACKEND, "cannot start %d clients",
                         nc);
    if (fn == phase_set) {
        B->set_clients = nc;
        for (int i = 0; i < nc; i++) {
            B->set_lo[i] = cl[i].lo;
            B->set_n[i] = cl[i].part.n + (cl[i].rc == -1 || cl[i].rc ==
                                          STOPPED ? 0 : 1);
        }
    }
    /* Compact the samples of every slice to the front. */
    s->n = 0;
    for (int i = 0; i < nc; i++) {
        memmove(s->ns + s->n, cl[i].part.ns, cl[i].part.n * sizeof *s->ns);
        s->n += cl[i].part.n;
        if (rc == -1 && cl[i].rc != -1)
            rc = cl[i].rc;
    }
    s->items = s->n;
    return rc;
}

static int run_bench(bench *B, int nc, enum format fmt)
{
    static const char *const names[] = {"set", "get", "list", "delete"};
    sample_set s[4] = {{0}};
    int rc = -1;

    for (int i = 0; i < 4; i++)
        if (!(s[i].ns = calloc(B->n, sizeof(uint64_t))))
            rc = cli_error(B->ctx, EXIT_BACKEND, "out of memory");
    if (rc == -1)
        rc = run_phase(B, phase_set, nc, &s[0]);
    if (rc == -1)
        rc = run_phase(B, phase_get, nc, &s[1]);
    if (rc == -1)
        rc = phase_list(B, &s[2]);
    if (rc == -1)
        rc = run_phase(B, phase_del, nc, &s[3]);
    if (rc == -1) {
        if (fmt == FMT_TABLE)
            printf("%-6s %10s %12s %10s %10s %10s\n", "op", "keys",
                   "keys/s", "p50_us", "p99_us", "p999_us");
        else if (fmt == FMT_CSV)
            puts("op,clients,keys,keys_per_s,p50_us,p99_us,p999_us");
        for (int i = 0; i < 4; i++)
            report(fmt, names[i], i == 2 ? 1 : nc, &s[i]);
        if (fmt == FMT_TABLE)
            printf("(%d client%s; list: one walk, latency per page of up "
                   "to %d keys)\n", nc, nc == 1 ? "" : "s",
                   KVSTORE_PAGE_MAX);
        rc = cli_finish_stdout(B->ctx, EXIT_OK);
    } else {
        /* Leave no bench keys behind after a failure or a signal in the
         * middle: every key the set phase may have written (a failed set
         * may have been applied, so it counts too). */
        char key[96];
        for (int c = 0; c < B->set_clients; c++)
            for (size_t i = 0; i < B->set_n[c]; i++) {
                key_name(key, sizeof(key), B->pid, B->set_lo[c] + i);
                kvstore_delete(B->b, key);
            }
        if (rc == STOPPED)
            rc = cli_error(B->ctx, 128 + stop_signal,
                           "stopped by signal %d; its keys are deleted",
                           (int)stop_signal);
    }
    for (int i = 0; i < 4; i++)
        free(s[i].ns);
    return rc;
}

static int cmd_bench(cli_ctx *ctx, int argc, char **argv)
{
    static const int stop_signals[] = {SIGINT, SIGTERM, SIGHUP};
    struct sigaction sa, old[3];
    cli_args a;
    kvstore_store *s;
    kvstore_bucket *b;
    uint64_t n = 1000, size = 100, clients = 1;
    int rc = cli_command_args(ctx, argc, argv, bench_opts, 4, 0, 0, &a);
    if (rc >= 0)
        return rc;
    if ((a.val[B_N] &&
         !cli_parse_size(ctx, "--n", a.val[B_N], 1, BENCH_MAX_N, &n)) ||
        (a.val[B_SIZE] && !cli_parse_size(ctx, "--value-size",
                                          a.val[B_SIZE], 0, BENCH_MAX_VALUE,
                                          &size)) ||
        (a.val[B_CLIENTS] &&
         !cli_parse_size(ctx, "--clients", a.val[B_CLIENTS], 1,
                         BENCH_MAX_CLIENTS, &clients))) {
        cli_args_free(&a);
        return EXIT_USAGE;
    }
    enum format fmt = a.val[B_CSV] ? FMT_CSV : ctx->json ? FMT_JSON
                                                         : FMT_TABLE;
    cli_args_free(&a);

    bench B = {.ctx = ctx, .n = (size_t)n, .value_len = (size_t)size,
               .pid = (long)getpid()};
    snprintf(B.prefix, sizeof(B.prefix), "kvstore-bench/%ld/", B.pid);
    char *value = malloc(size ? size : 1);
    if (!value)
        return cli_error(ctx, EXIT_BACKEND, "out of memory");
    for (size_t i = 0; i < size; i++)
        value[i] = (char)('a' + i % 26);
    B.value = value;

    /* A stop signal ends the run between two calls, and the keys are
     * deleted, as the help promises. */
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_stop_signal;
    sa.sa_flags = SA_RESTART;
    sigemptyset(&sa.sa_mask);
    stop_signal = 0;
    for (int i = 0; i < 3; i++)
        sigaction(stop_signals[i], &sa, &old[i]);
    rc = cli_open(ctx, &s, &b);
    if (rc < 0) {
        B.b = b;
        rc = run_bench(&B, (int)clients, fmt);
        cli_close(s, b);
    }
    for (int i = 0; i < 3; i++)
        sigaction(stop_signals[i], &old[i], NULL);
    free(value);
    return rc;
}

const cli_command cli_cmd_bench = {
    "bench", cmd_bench, "measure set/get/list/delete on the store",
    "Usage: kvstore bench [--n N] [--value-size B] [--clients C] [--csv]\n"
    "\n"
    "Sets N keys (default 1000) of B bytes (default 100) in the bucket,\n"
    "gets them, lists them in pages, deletes them, and prints for each op\n"
    "the keys per second and the p50, p99 and p999 latency in microseconds\n"
    "of one call (for list, of one page). C clients (threads sharing the\n"
    "store) run each phase at once, each on its own N/C keys; the listing\n"
    "is one walk. Keys are named kvstore-bench/PID/NNNNNNNN and are all\n"
    "deleted at the end, and also when SIGINT, SIGTERM or SIGHUP stops the\n"
    "run. --json prints one object per op: {\"op\",\"clients\",\"keys\",\n"
    "\"keys_per_s\",\"p50_us\",\"p99_us\",\"p999_us\"}.\n"
    "\n"
    "  -n, --n N            number of keys, 1 to 10000000\n"
    "      --value-size B   value size in bytes, 0 to 67108864\n"
    "  -c, --clients C      concurrent clients, 1 to 64 (default 1)\n"
    "      --csv            CSV with a header line instead of a table\n"
    "\n"
    "Exit: 0 done, 2 usage error, 3 library error, 128+SIG when stopped\n"
    "by signal SIG (the keys are deleted first).\n"
    GLOBAL_HELP,
};

/*
 * kvstore CLI - bench: set/get/list/delete throughput and latency on the
 * chosen store.
 *
 * Keys are "kvstore-bench/PID/NNNNNNNN" in the chosen bucket so a run never
 * touches existing keys; they are deleted at the end (that pass is timed
 * too). Every call is timed on CLOCK_MONOTONIC; a list "op" is one page.
 *
 * SPDX-License-Identifier: MIT
 */
#include "cli.h"
#include "progress.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

enum { B_N = OPT_NGLOBAL, B_SIZE };
static const cli_opt bench_opts[] = {
    {"n", 'n', true},
    {"value-size", 0, true},
};

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

/* Nearest-rank percentile of sorted samples. */
static double pct_us(const sample_set *s, unsigned pct)
{
    if (s->n == 0)
        return 0;
    size_t rank = (s->n * pct + 99) / 100;
    return (double)s->ns[rank ? rank - 1 : 0] / 1000.0;
}

static void report(const char *name, sample_set *s)
{
    qsort(s->ns, s->n, sizeof(uint64_t), cmp_u64);
    double secs = (double)s->total_ns / 1e9;
    printf("%-6s %10" PRIu64 " %12.0f %10.1f %10.1f\n", name, s->items,
           secs > 0 ? (double)s->items / secs : 0.0, pct_us(s, 50),
           pct_us(s, 99));
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
} bench;

static int phase_set(bench *B, sample_set *s)
{
    char key[96];
    uint64_t t0 = progress_now_ns();
    for (size_t i = 0; i < B->n; i++) {
        key_name(key, sizeof(key), B->pid, i);
        uint64_t t = progress_now_ns();
        if (kvstore_set(B->b, key, B->value, B->value_len) != KVSTORE_OK)
            return cli_lib_error(B->ctx, "set failed");
        s->ns[s->n++] = progress_now_ns() - t;
    }
    s->total_ns = progress_now_ns() - t0;
    s->items = B->n;
    return -1;
}

static int phase_get(bench *B, sample_set *s)
{
    char key[96];
    uint64_t t0 = progress_now_ns();
    for (size_t i = 0; i < B->n; i++) {
        void *v;
        size_t len;
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
    s->total_ns = progress_now_ns() - t0;
    s->items = B->n;
    return -1;
}

static int phase_list(bench *B, sample_set *s)
{
    char *cursor = NULL;
    uint64_t t0 = progress_now_ns();
    s->items = 0;
    do {
        kvstore_keys *page;
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

static int phase_del(bench *B, sample_set *s)
{
    char key[96];
    uint64_t t0 = progress_now_ns();
    for (size_t i = 0; i < B->n; i++) {
        key_name(key, sizeof(key), B->pid, i);
        uint64_t t = progress_now_ns();
        if (kvstore_delete(B->b, key) != KVSTORE_OK)
            return cli_lib_error(B->ctx, "delete failed");
        s->ns[s->n++] = progress_now_ns() - t;
    }
    s->total_ns = progress_now_ns() - t0;
    s->items = B->n;
    return -1;
}

static int run_bench(bench *B)
{
    static const char *const names[] = {"set", "get", "list", "delete"};
    int (*const phases[])(bench *, sample_set *) = {phase_set, phase_get,
                                                    phase_list, phase_del};
    sample_set s[4] = {{0}};
    int rc = -1;

    for (int i = 0; i < 4; i++)
        if (!(s[i].ns = calloc(B->n, sizeof(uint64_t))))
            rc = cli_error(B->ctx, EXIT_BACKEND, "out of memory");
    for (int i = 0; i < 4 && rc < 0; i++)
        rc = phases[i](B, &s[i]);
    if (rc < 0) {
        printf("%-6s %10s %12s %10s %10s\n", "op", "keys", "keys/s",
               "p50_us", "p99_us");
        for (int i = 0; i < 4; i++)
            report(names[i], &s[i]);
        printf("(list: latency per page of up to %d keys)\n",
               KVSTORE_PAGE_MAX);
        rc = cli_finish_stdout(B->ctx, EXIT_OK);
    } else {
        /* Leave no bench keys behind after a failure in the middle. */
        char key[96];
        for (size_t i = 0; i < B->n; i++) {
            key_name(key, sizeof(key), B->pid, i);
            kvstore_delete(B->b, key);
        }
    }
    for (int i = 0; i < 4; i++)
        free(s[i].ns);
    return rc;
}

static int cmd_bench(cli_ctx *ctx, int argc, char **argv)
{
    cli_args a;
    kvstore_store *s;
    kvstore_bucket *b;
    uint64_t n = 1000, size = 100;
    int rc = cli_command_args(ctx, argc, argv, bench_opts, 2, 0, 0, &a);
    if (rc >= 0)
        return rc;
    if ((a.val[B_N] &&
         !cli_parse_size(ctx, "--n", a.val[B_N], 1, BENCH_MAX_N, &n)) ||
        (a.val[B_SIZE] && !cli_parse_size(ctx, "--value-size",
                                          a.val[B_SIZE], 0, BENCH_MAX_VALUE,
                                          &size))) {
        cli_args_free(&a);
        return EXIT_USAGE;
    }
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

    rc = cli_open(ctx, &s, &b);
    if (rc < 0) {
        B.b = b;
        rc = run_bench(&B);
        cli_close(s, b);
    }
    free(value);
    return rc;
}

const cli_command cli_cmd_bench = {
    "bench", cmd_bench, "measure set/get/list/delete on the store",
    "Usage: kvstore bench [--n N] [--value-size B]\n"
    "\n"
    "Sets N keys (default 1000) of B bytes (default 100) in the bucket,\n"
    "gets them, lists them in pages, deletes them, and prints for each op\n"
    "the keys per second and the median (p50) and 99th percentile latency\n"
    "in microseconds of one call (for list, of one page). Keys are named\n"
    "kvstore-bench/PID/NNNNNNNN and are all deleted at the end.\n"
    "\n"
    "  -n, --n N            number of keys, 1 to 10000000\n"
    "      --value-size B   value size in bytes, 0 to 67108864\n"
    "\n"
    "Exit: 0 done, 2 usage error, 3 library error.\n"
    GLOBAL_HELP,
};

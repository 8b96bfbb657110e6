/*
 * kvstore CLI - --stats: an observer on the store (kvstore_observe) that
 * counts calls and errors per operation and keeps every duration, so that
 * the summary at exit gives exact percentiles.
 *
 * SPDX-License-Identifier: MIT
 */
#include "cli.h"

#include <inttypes.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

typedef struct op_stats {
    uint64_t calls, errors;
    uint64_t *ns; /* every duration; grown by doubling */
    size_t n, cap;
} op_stats;

struct cli_stats {
    pthread_mutex_t lock;
    op_stats op[KVSTORE_OP_COUNT];
    bool oom; /* a duration could not be kept: percentiles are partial */
};

static void on_operation(void *payload, const kvstore_observation *o)
{
    struct cli_stats *st = payload;

    if ((int)o->op <= 0 || (int)o->op >= KVSTORE_OP_COUNT)
        return;
    pthread_mutex_lock(&st->lock);
    op_stats *s = &st->op[o->op];
    s->calls++;
    if (o->result < 0)
        s->errors++;
    if (s->n == s->cap) {
        size_t cap = s->cap ? s->cap * 2 : 256;
        uint64_t *ns = realloc(s->ns, cap * sizeof *ns);
        if (ns == NULL) {
            st->oom = true;
            pthread_mutex_unlock(&st->lock);
            return;
        }
        s->ns = ns;
        s->cap = cap;
    }
    s->ns[s->n++] = o->duration_ns;
    pthread_mutex_unlock(&st->lock);
}

void cli_stats_attach(cli_ctx *ctx, kvstore_store *store)
{
    static const kvstore_observer obs = {
        .version = KVSTORE_OBSERVER_VERSION,
        .on_operation = on_operation,
    };

    if (!ctx->stats)
        return;
    if (ctx->stats_state == NULL) {
        ctx->stats_state = calloc(1, sizeof *ctx->stats_state);
        if (ctx->stats_state == NULL) {
            cli_error(ctx, 0, "--stats: out of memory; no statistics");
            return;
        }
        pthread_mutex_init(&ctx->stats_state->lock, NULL);
    }
    if (kvstore_observe(store, &obs, ctx->stats_state) != KVSTORE_OK)
        cli_error(ctx, 0, "--stats: %s", kvstore_errmsg());
}

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

/* The nearest-rank percentile of sorted durations, in microseconds. */
static double pct_us(const op_stats *s, double p)
{
    size_t rank;

    if (s->n == 0)
        return 0;
    rank = (size_t)(p / 100.0 * (double)s->n + 0.999999);
    if (rank < 1)
        rank = 1;
    if (rank > s->n)
        rank = s->n;
    return (double)s->ns[rank - 1] / 1000.0;
}

void cli_stats_print(const cli_ctx *ctx)
{
    struct cli_stats *st = ctx->stats_state;
    bool first = true;

    if (!ctx->stats)
        return;
    if (ctx->json)
        fputs("{\"stats\":[", stderr);
    else
        fprintf(stderr, "%-14s %10s %8s %12s %12s\n", "operation", "calls",
                "errors", "p50_us", "p99_us");
    for (int op = 1; st != NULL && op < KVSTORE_OP_COUNT; op++) {
        op_stats *s = &st->op[op];
        if (s->calls == 0)
            continue;
        qsort(s->ns, s->n, sizeof *s->ns, cmp_u64);
        if (ctx->json)
            fprintf(stderr, "%s{\"op\":\"%s\",\"calls\":%" PRIu64
                    ",\"errors\":%" PRIu64 ",\"p50_us\":%.3f,\"p99_us\":%.3f}",
                    first ? "" : ",", kvstore_op_name((kvstore_op)op),
                    s->calls, s->errors, pct_us(s, 50), pct_us(s, 99));
        else
            fprintf(stderr, "%-14s %10" PRIu64 " %8" PRIu64 " %12.3f %12.3f\n",
                    kvstore_op_name((kvstore_op)op), s->calls, s->errors,
                    pct_us(s, 50), pct_us(s, 99));
        first = false;
    }
    if (ctx->json)
        fputs("]}\n", stderr);
    if (st != NULL && st->oom)
        fputs("kvstore: --stats: out of memory; percentiles are partial\n",
              stderr);
}

void cli_stats_free(cli_ctx *ctx)
{
    struct cli_stats *st = ctx->stats_state;

    if (st == NULL)
        return;
    for (int op = 0; op < KVSTORE_OP_COUNT; op++)
        free(st->op[op].ns);
    pthread_mutex_destroy(&st->lock);
    free(st);
    ctx->stats_state = NULL;
}

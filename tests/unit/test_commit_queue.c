/*
 * kvstore_commit_queue (<kvstore/backend.h>): the group commit behind the
 * sqlite and lmdb backends. Under many threads every op is committed
 * exactly once, in its writer's order, before its submit returns, and one
 * batch at a time; each writer gets its own op's status, and every op of
 * a batch whose commit failed gets the failure; kvstore_commit_queue_run
 * raises the op's own message; and a lone writer never waits
 * to gather others (the queue's own count of gathering waits, not a
 * clock). In the concurrency suite too, which scripts/test.sh runs under
 * TSan.
 *
 * SPDX-License-Identifier: MIT
 */
#include <kvstore/backend.h>

#include "fx_memory.h"

#include <stdatomic.h>
#include <time.h>

#define WRITERS 96
#define PER_WRITER 60
#define TOTAL (WRITERS * PER_WRITER)
#define LONE_OPS 100

typedef struct op {
    int writer, seq;
    int want;                  /* the status the commit gives it */
    bool poison;               /* fails its whole batch */
    atomic_int commits;        /* how many batches held it */
    size_t batch;              /* the batch that held it (1, 2, ..) */
    const char *say;           /* the message the commit gives it */
    char msg[64];              /* kvstore_commit_queue_run's buffer */
} op;

/* The commit callback's state: touched by one leader at a time, which
 * `inside` checks; read by the test once every writer is joined. */
typedef struct sink {
    atomic_int inside;
    bool overlapped;
    bool out_of_order;
    int last_seq[WRITERS];
    size_t batches, ops, max_batch;
    bool failed[2 * TOTAL];    /* by batch number; lone_writer_never_gathers
                                * runs TOTAL + 2 * LONE_OPS ops */
    /* Each commit lasts this long, like an fsync: a leader that gathers
     * (wrongly) after it waits up to 2 ms, long enough to be counted. */
    unsigned delay_us;
} sink;

static int commit(void *ctx, void *const *ops, int *status, size_t n)
{
    sink *s = ctx;
    if (atomic_fetch_add(&s->inside, 1) != 0)
        s->overlapped = true;
    bool poison = false;
    s->batches++;
    s->ops += n;
    if (n > s->max_batch)
        s->max_batch = n;
    for (size_t i = 0; i < n; i++) {
        op *o = ops[i];
        if (o->seq != s->last_seq[o->writer] + 1)
            s->out_of_order = true;
        s->last_seq[o->writer] = o->seq;
        o->batch = s->batches;
        status[i] = o->want;
        if (o->say != NULL)
            snprintf(o->msg, sizeof o->msg, "%s", o->say);
        poison = poison || o->poison;
        atomic_fetch_add(&o->commits, 1);
    }
    s->failed[s->batches] = poison;
    if (s->delay_us != 0)
        nanosleep(&(struct timespec){ 0, s->delay_us * 1000L }, NULL);
    atomic_fetch_sub(&s->inside, 1);
    return poison ? KVSTORE_EIO : KVSTORE_OK;
}

typedef struct writer {
    kvstore_commit_queue *q;
    sink *s;
    int id;
    int count;
    bool statuses;             /* give ops statuses and poison some */
} writer;

/* The status writer `id` wants for its op `seq`, and whether that op
 * fails its batch: a spread of each, different for each writer. */
static int want_of(int id, int seq)
{
    static const int codes[] = { KVSTORE_OK, KVSTORE_ECONFLICT,
                                 KVSTORE_EINVAL, KVSTORE_OK };
    return codes[(id + seq) % 4];
}

static bool poison_of(int id, int seq)
{
    return (id * 7 + seq) % 23 == 0;
}

static void *write_ops(void *arg)
{
    writer *w = arg;
    for (int seq = 0; seq < w->count; seq++) {
        op o = { .writer = w->id, .seq = seq };
        if (w->statuses) {
            o.want = want_of(w->id, seq);
            o.poison = poison_of(w->id, seq);
        }
        int rc = kvstore_commit_queue_submit(w->q, &o);
        /* Committed once, by the time submit returns. */
        if (atomic_load(&o.commits) != 1)
            return "an op was not committed exactly once before submit";
        int want = w->s->failed[o.batch] ? KVSTORE_EIO : o.want;
        if (rc != want)
            return "a writer got another op's status";
    }
    return NULL;
}

static sink *sink_new(void)
{
    sink *s = calloc(1, sizeof *s);
    assert_non_null(s);
    for (int i = 0; i < WRITERS; i++)
        s->last_seq[i] = -1;
    return s;
}

static kvstore_commit_queue *queue_new(sink *s)
{
    kvstore_commit_queue *q = NULL;
    assert_int_equal(kvstore_commit_queue_new(&q, commit, s), KVSTORE_OK);
    assert_non_null(q);
    return q;
}

static void run_writers(kvstore_commit_queue *q, sink *s, bool statuses)
{
    writer w[WRITERS];
    for (int i = 0; i < WRITERS; i++)
        w[i] = (writer){ q, s, i, PER_WRITER, statuses };
    pthread_t th[WRITERS];
    threads_start(th, WRITERS, write_ops, w, sizeof w[0]);
    threads_join(th, WRITERS);
}

static void exactly_once_in_order(void **state)
{
    (void)state;
    sink *s = sink_new();
    kvstore_commit_queue *q = queue_new(s);

    run_writers(q, s, false);

    uint64_t batches = 0;
    kvstore_commit_queue_stats(q, &batches, NULL);
    assert_false(s->overlapped);
    assert_false(s->out_of_order);
    assert_int_equal(s->ops, TOTAL);
    assert_int_equal(batches, s->batches);
    for (int i = 0; i < WRITERS; i++)
        assert_int_equal(s->last_seq[i], PER_WRITER - 1);
    kvstore_commit_queue_free(q);
    free(s);
}

/* Statuses come back to their own writers, and a failed batch fails
 * every op in it, whatever status the callback gave each. */
static void per_op_status_and_failed_batches(void **state)
{
    (void)state;
    sink *s = sink_new();
    kvstore_commit_queue *q = queue_new(s);

    run_writers(q, s, true);

    assert_false(s->overlapped);
    assert_int_equal(s->ops, TOTAL);
    kvstore_commit_queue_free(q);
    free(s);
}

/* One writer, step by step: a failed commit, then the queue goes on. */
static void failed_commit_then_more(void **state)
{
    (void)state;
    sink *s = sink_new();
    kvstore_commit_queue *q = queue_new(s);

    op bad = { .seq = 0, .want = KVSTORE_OK, .poison = true };
    assert_int_equal(kvstore_commit_queue_submit(q, &bad), KVSTORE_EIO);
    op lost = { .seq = 1, .want = KVSTORE_ECONFLICT, .poison = true };
    assert_int_equal(kvstore_commit_queue_submit(q, &lost), KVSTORE_EIO);
    op good = { .seq = 2, .want = KVSTORE_OK };
    assert_int_equal(kvstore_commit_queue_submit(q, &good), KVSTORE_OK);
    op own = { .seq = 3, .want = KVSTORE_ECONFLICT };
    assert_int_equal(kvstore_commit_queue_submit(q, &own),
                     KVSTORE_ECONFLICT);
    assert_int_equal(s->batches, 4);
    kvstore_commit_queue_free(q);
    free(s);
}

/* A lone writer leads every batch with its own op and never waits for
 * writers that are not there, also right after writers that were. */
static void lone_writer_never_gathers(void **state)
{
    (void)state;
    sink *s = sink_new();
    kvstore_commit_queue *q = queue_new(s);
    writer w = { q, s, 0, LONE_OPS, false };

    s->delay_us = 4000;
    assert_null(write_ops(&w));
    uint64_t batches = 0, gathers = 1;
    kvstore_commit_queue_stats(q, &batches, &gathers);
    assert_int_equal(batches, LONE_OPS);
    assert_int_equal(gathers, 0);
    assert_int_equal(s->max_batch, 1);

    /* After many writers, the one left may wait once for those that
     * left, then never again. */
    for (int i = 0; i < WRITERS; i++)
        s->last_seq[i] = -1;
    s->delay_us = 0;
    run_writers(q, s, false);
    s->delay_us = 4000;
    uint64_t before = 0;
    kvstore_commit_queue_stats(q, &batches, &before);
    s->last_seq[0] = -1;
    assert_null(write_ops(&w));
    kvstore_commit_queue_stats(q, NULL, &gathers);
    assert_true(gathers - before <= 1);
    kvstore_commit_queue_free(q);
    free(s);
}

/* kvstore_commit_queue_run empties the op's message buffer, and raises
 * what the commit wrote there as the writer's error, or the status's own
 * text when it wrote nothing; a success raises nothing. */
static void run_raises_the_ops_message(void **state)
{
    (void)state;
    sink *s = sink_new();
    kvstore_commit_queue *q = queue_new(s);

    op said = { .want = KVSTORE_ECONFLICT, .say = "lost to another writer" };
    strcpy(said.msg, "stale");
    assert_int_equal(kvstore_commit_queue_run(q, &said, said.msg),
                     KVSTORE_ECONFLICT);
    assert_string_equal(kvstore_errmsg(), "lost to another writer");

    op silent = { .seq = 1, .want = KVSTORE_EINVAL };
    strcpy(silent.msg, "stale");
    assert_int_equal(kvstore_commit_queue_run(q, &silent, silent.msg),
                     KVSTORE_EINVAL);
    assert_string_equal(silent.msg, "");
    assert_string_equal(kvstore_errmsg(), kvstore_strerror(KVSTORE_EINVAL));

    kvstore_set_error(KVSTORE_EIO, "before");
    op fine = { .seq = 2, .want = KVSTORE_OK };
    strcpy(fine.msg, "stale");
    assert_int_equal(kvstore_commit_queue_run(q, &fine, fine.msg),
                     KVSTORE_OK);
    assert_string_equal(fine.msg, "");
    assert_string_equal(kvstore_errmsg(), "before");
    kvstore_commit_queue_free(q);
    free(s);
}

static void free_null(void **state)
{
    (void)state;
    kvstore_commit_queue_free(NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(exactly_once_in_order),
        cmocka_unit_test(per_op_status_and_failed_batches),
        cmocka_unit_test(failed_commit_then_more),
        cmocka_unit_test(lone_writer_never_gathers),
        cmocka_unit_test(run_raises_the_ops_message),
        cmocka_unit_test(free_null),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

/*
 * Group commit (kvstore_commit_queue, see <kvstore/backend.h>): the queue,
 * the leader hand-off and the gathering that the sqlite and lmdb backends
 * share; the backend keeps what a batch is and how it is committed.
 *
 * Ownership: a writer's place in the queue (`waiter`) lives in its own
 * submit frame; the leader borrows it until it marks it done, and reads
 * its `next` before that, since the writer may return at once. The queue
 * owns the arrays it lends to the commit callback, used by the leader
 * only.
 *
 * SPDX-License-Identifier: MIT
 */
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <time.h>

#include "internal.h"

/* The longest a leader gathers, whatever the last commit took. */
#define GATHER_MAX_NS 2000000
/* The batch arrays start this big and double when a batch needs more. */
#define FIRST_CAP 64

typedef struct waiter {
    struct waiter *next;
    void *op;
    int status;
    bool done;
} waiter;

struct kvstore_commit_queue {
    kvstore_commit_fn commit;
    void *ctx;

    pthread_mutex_t mu;        /* guards everything up to the arrays */
    pthread_cond_t cv;         /* a batch ended (CLOCK_MONOTONIC) */
    waiter *head, **tail;
    size_t queued;             /* waiters in the queue */
    bool leading;
    bool gathering;            /* a writer waits to gather the next batch */
    size_t gather_target;      /* ops the next batch gathers up to */
    int64_t last_end_ns;       /* when it ended (CLOCK_MONOTONIC) */
    int64_t last_commit_ns;    /* how long it took */
    uint64_t batches, gathers;

    /* Leader only. */
    void **ops;
    int *status;
    size_t cap;
};

static int64_t mono_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static void queue_destroy(kvstore_commit_queue *q)
{
    pthread_cond_destroy(&q->cv);
    pthread_mutex_destroy(&q->mu);
    free(q->ops);
    free(q->status);
    free(q);
}

int kvstore_commit_queue_new(kvstore_commit_queue **out,
                             kvstore_commit_fn commit, void *ctx)
{
    *out = NULL;
    kvstore_commit_queue *q = calloc(1, sizeof *q);
    if (q == NULL)
        return kvstore_set_error(KVSTORE_ENOMEM, "commit: out of memory");
    q->commit = commit;
    q->ctx = ctx;
    q->tail = &q->head;
    pthread_mutex_init(&q->mu, NULL);
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&q->cv, &ca);
    pthread_condattr_destroy(&ca);
    q->ops = malloc(FIRST_CAP * sizeof *q->ops);
    q->status = malloc(FIRST_CAP * sizeof *q->status);
    if (q->ops == NULL || q->status == NULL) {
        queue_destroy(q);
        return kvstore_set_error(KVSTORE_ENOMEM, "commit: out of memory");
    }
    q->cap = FIRST_CAP;
    *out = q;
    return KVSTORE_OK;
}

void kvstore_commit_queue_free(kvstore_commit_queue *q)
{
    if (q != NULL)
        queue_destroy(q);
}

void kvstore_commit_queue_stats(kvstore_commit_queue *q, uint64_t *batches,
                                uint64_t *gathers)
{
    pthread_mutex_lock(&q->mu);
    if (batches != NULL)
        *batches = q->batches;
    if (gathers != NULL)
        *gathers = q->gathers;
    pthread_mutex_unlock(&q->mu);
}

/* Asked under mu by a writer that finds no commit running.
 *
 * If the first such writer took the queue at once, writers just released
 * by the last commit would miss it and form a batch of their own behind
 * it: two alternating batches of about half the writers each, paying
 * about twice the commits they need. So while fewer ops than
 * gather_target are queued, right after the last commit ended, writers
 * wait for the others (*deadline: half the last commit's time after it
 * ended, at most GATHER_MAX_NS), and the one whose arrival fills the
 * batch leads it. Writers that do not come back cost the others that
 * wait once, after which gather_target has shrunk to what came. A lone
 * writer's target is 1, so it never waits. */
static bool should_gather(kvstore_commit_queue *q, struct timespec *deadline)
{
    if (q->queued >= q->gather_target)
        return false;
    int64_t wait = q->last_commit_ns / 2;
    if (wait > GATHER_MAX_NS)
        wait = GATHER_MAX_NS;
    int64_t end = q->last_end_ns + wait;
    if (mono_ns() >= end)
        return false;
    deadline->tv_sec = (time_t)(end / 1000000000);
    deadline->tv_nsec = (long)(end % 1000000000);
    return true;
}

/* Grows the batch arrays towards `n`; on failure the leader commits what
 * fits and the rest waits for the next batch. Under mu. */
static size_t batch_room(kvstore_commit_queue *q, size_t n)
{
    size_t cap = q->cap;
    while (cap < n && cap <= SIZE_MAX / 2 / sizeof(void *))
        cap *= 2;
    if (cap == q->cap)
        return cap < n ? cap : n;
    void **ops = realloc(q->ops, cap * sizeof *ops);
    if (ops != NULL)
        q->ops = ops;
    int *status = ops != NULL ? realloc(q->status, cap * sizeof *status)
                              : NULL;
    if (status != NULL) {
        q->status = status;
        q->cap = cap;
    }
    return q->cap < n ? q->cap : n;
}

/* Leads one batch: takes up to what the arrays hold from the head of the
 * queue, commits it without mu and releases its writers. Under mu. */
static void lead(kvstore_commit_queue *q)
{
    q->leading = true;
    q->gathering = false;
    size_t n = batch_room(q, q->queued);
    waiter *batch = q->head;
    waiter *w = batch;
    for (size_t i = 0; i < n; i++, w = w->next) {
        q->ops[i] = w->op;
        q->status[i] = KVSTORE_OK;
    }
    q->head = w;
    if (w == NULL)
        q->tail = &q->head;
    q->queued -= n;
    pthread_mutex_unlock(&q->mu);

    int64_t start = mono_ns();
    int rc = q->commit(q->ctx, q->ops, q->status, n);
    int64_t end = mono_ns();

    pthread_mutex_lock(&q->mu);
    q->batches++;
    /* The writers of this batch come back, and those that queued while it
     * committed are still there: the next batch waits for both. Counting
     * only this batch's, a writer that once missed a batch kept missing
     * it: four looping writers settled into batches of three with the
     * fourth always behind (bench-sqlite, docs/benchmarks.md). */
    q->gather_target = n + q->queued;
    q->last_end_ns = end;
    q->last_commit_ns = end - start;
    w = batch;
    for (size_t i = 0; i < n; i++) {
        waiter *next = w->next; /* w is gone once its writer sees done */
        w->status = rc != KVSTORE_OK ? rc : q->status[i];
        w->done = true;
        w = next;
    }
    q->leading = false;
    pthread_cond_broadcast(&q->cv);
}

int kvstore_commit_queue_submit(kvstore_commit_queue *q, void *op)
{
    waiter self = { .op = op };
    struct timespec deadline;
    pthread_mutex_lock(&q->mu);
    /* The waiter lives on this stack: lead() unlinks it into a batch
     * before it can be marked done, so the queue never holds it once this
     * returns. */
    *q->tail = &self;
    // cppcheck-suppress autoVariables
    q->tail = &self.next;
    q->queued++;
    while (!self.done) {
        if (q->leading) {
            pthread_cond_wait(&q->cv, &q->mu);
        } else if (should_gather(q, &deadline)) {
            /* Waiting for the writers the last batch released. The one
             * whose arrival fills the batch leads it at once, since it is
             * running already: waking a sleeping leader instead cost a
             * wake-up per batch, which on a fast disk is a fair part of
             * a commit. A writer still waiting at the deadline leads. */
            if (!q->gathering) {
                q->gathering = true;
                q->gathers++;
            }
            pthread_cond_timedwait(&q->cv, &q->mu, &deadline);
        } else {
            lead(q);
        }
    }
    pthread_mutex_unlock(&q->mu);
    return self.status;
}

int kvstore_commit_queue_run(kvstore_commit_queue *q, void *op, char *msg)
{
    msg[0] = '\0';
    int rc = kvstore_commit_queue_submit(q, op);
    /* The message was written on the leader's thread; errors are per
     * thread, so it is raised here, on the writer's. */
    if (rc < 0)
        return kvstore_set_error(rc, "%s",
                                 msg[0] != '\0' ? msg : kvstore_strerror(rc));
    return rc;
}

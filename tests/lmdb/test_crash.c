/*
 * LMDB crash safety: a child runs two writer threads (so group commit
 * batches them) that set checksummed values, each value carrying its
 * sequence number, and bump a counter, all with durable writes; after
 * each acknowledged write the child reports (key, seq) on a pipe. It is
 * killed with SIGKILL at 30 random moments. After each kill every
 * acknowledged write must be there (the key holds that sequence number or
 * a later one), every value must verify, the counter must be at least the
 * acknowledged count, and the store must open again with no stale lock.
 *
 * SPDX-License-Identifier: MIT
 */
#include <inttypes.h>
#include <pthread.h>

#include "crash.h"
#include "util.h"

#define KILLS 30
#define NKEYS 8 /* per thread */
#define THREADS 2

typedef struct ack {
    uint32_t key;  /* thread * NKEYS + k, or UINT32_MAX for the counter */
    uint32_t pad;
    uint64_t seq;  /* value sequence, or the counter's new value */
} ack;

static char long_key[700];

static void key_of(uint32_t i, char *buf, size_t cap)
{
    if (i % NKEYS == 0) /* a long key: the hashed stored form */
        snprintf(buf, cap, "%.600s%u", long_key, i);
    else
        snprintf(buf, cap, "k%02u", i);
}

typedef struct wjob {
    kvstore_bucket *b;
    int fd;
    uint32_t id;
    unsigned seed;
} wjob;

static pthread_mutex_t pipe_mu = PTHREAD_MUTEX_INITIALIZER;

static void report(int fd, uint32_t key, uint64_t seq)
{
    ack a = { key, 0, seq };
    pthread_mutex_lock(&pipe_mu);
    if (write(fd, &a, sizeof a) != (ssize_t)sizeof a)
        _exit(4);
    pthread_mutex_unlock(&pipe_mu);
}

static void *writer_thread(void *arg)
{
    wjob *j = arg;
    static __thread unsigned char buf[70000];
    char key[800];
    for (uint64_t seq = 1;; seq++) {
        uint32_t k = j->id * NKEYS + (uint32_t)(rand_r(&j->seed) % NKEYS);
        size_t len = rand_r(&j->seed) % 60000;
        size_t n = sealed_make(buf, seq, rand_r(&j->seed), len);
        key_of(k, key, sizeof key);
        if (kvstore_set(j->b, key, buf, n) != KVSTORE_OK)
            _exit(2);
        report(j->fd, k, seq);
        int64_t c;
        if (kvstore_increment(j->b, "n", 1, &c) != KVSTORE_OK)
            _exit(3);
        report(j->fd, UINT32_MAX, (uint64_t)c);
    }
    return NULL;
}

static void writer(const char *dir, int fd, unsigned seed)
{
    kvstore_store *s = NULL;
    kvstore_bucket *b = NULL;
    char uri[4200];
    snprintf(uri, sizeof uri, "lmdb://%s", dir); /* durable writes */
    if (kvstore_open(&s, uri) != KVSTORE_OK ||
        kvstore_bucket_open(&b, s, "crash") != KVSTORE_OK)
        _exit(1);
    static wjob jobs[THREADS];
    pthread_t t[THREADS];
    for (uint32_t i = 0; i < THREADS; i++) {
        jobs[i] = (wjob){ b, fd, i, seed + i * 7919u };
        pthread_create(&t[i], NULL, writer_thread, &jobs[i]);
    }
    for (;;)
        pause();
}

/* Highest acknowledged seq per key of this round; the counter's highest
 * acknowledged value over all rounds. */
static uint64_t acked[THREADS * NKEYS];
static uint64_t acked_counter;

/* Opens the store afresh (no stale lock may stop it) and closes it
 * again, so that the next round's writer is the only one using it. */
static void verify(tmp_store *t)
{
    tmp_store_reopen(t, "lmdb://{dir}", "crash");
    kvstore_bucket *b = t->b;
    char key[800];
    for (uint32_t k = 0; k < THREADS * NKEYS; k++) {
        key_of(k, key, sizeof key);
        void *v = NULL;
        size_t len = 0;
        int rc = kvstore_get(b, key, &v, &len);
        if (acked[k] == 0) {
            kvstore_free(v);
            continue; /* never acknowledged this round: anything goes */
        }
        if (rc != KVSTORE_OK)
            fail_msg("acknowledged key %u lost (rc %d)", k, rc);
        uint64_t seq = 0;
        if (!sealed_ok(v, len, &seq))
            fail_msg("key %u: torn value of %zu bytes", k, len);
        /* seqs restart each round; a later round's value may have been
         * written before the kill without being acknowledged */
        if (seq < acked[k])
            fail_msg("key %u holds seq %" PRIu64 ", but %" PRIu64
                     " was acknowledged", k, seq, acked[k]);
        kvstore_free(v);
    }
    int64_t n = 0;
    assert_int_equal(kvstore_increment(b, "n", 0, &n), KVSTORE_OK);
    if ((uint64_t)n < acked_counter)
        fail_msg("counter %" PRId64 " below acknowledged %" PRIu64, n,
                 acked_counter);
    acked_counter = (uint64_t)n;
    /* Every listed key is one we wrote. */
    assert_true(listed_count(b, NULL) <= THREADS * NKEYS + 1);
    tmp_store_shut(t);
}

static void test_kill_at_random_moments(void **state)
{
    tmp_store *t = *state;
    memset(long_key, 'L', sizeof long_key - 1);
    unsigned seed = crash_seed();
    size_t total_acks = 0;

    for (int round = 0; round < KILLS; round++) {
        int fd;
        pid_t pid = crash_spawn(writer, t->dir,
                                seed + (unsigned)round * 104729u, &fd);
        /* Wait for the first acknowledgement, then kill at random. */
        ack a;
        memset(acked, 0, sizeof acked);
        assert_int_equal(read(fd, &a, sizeof a), (ssize_t)sizeof a);
        crash_kill(pid, &seed, 50000);
        /* Everything acknowledged before death, first one included. */
        do {
            total_acks++;
            if (a.key == UINT32_MAX) {
                if (a.seq > acked_counter)
                    acked_counter = a.seq;
            } else {
                assert_true(a.key < THREADS * NKEYS);
                if (a.seq > acked[a.key])
                    acked[a.key] = a.seq;
            }
        } while (read(fd, &a, sizeof a) == (ssize_t)sizeof a);
        close(fd);
        verify(t);
    }
    print_message("%zu acknowledged writes checked over %d kills\n",
                  total_acks, KILLS);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        TMP_STORE_TEST(test_kill_at_random_moments),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

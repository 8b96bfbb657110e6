/*
 * Group commit. Another process holds LMDB's write lock (a raw write
 * transaction) while THREADS threads of this process each call a durable
 * kvstore_set: no set may return while the lock is held (a set returns
 * only after the commit that covers it), and once the lock is released
 * the sets must take fewer commits than there are sets (they were
 * batched). Commits are counted by LMDB's last transaction id, read by
 * the helper process before and after.
 *
 * SPDX-License-Identifier: MIT
 */
#include <inttypes.h>
#include <lmdb.h>
#include <pthread.h>
#include <stdatomic.h>
#include <sys/wait.h>
#include <time.h>

#include "util.h"

#define THREADS 8

static atomic_int calling, returned;

typedef struct job {
    kvstore_bucket *b;
    int id;
    int rc;
} job;

static void *setter(void *arg)
{
    job *j = arg;
    char key[16];
    snprintf(key, sizeof key, "t%d", j->id);
    atomic_fetch_add(&calling, 1);
    j->rc = kvstore_set(j->b, key, "v", 1);
    atomic_fetch_add(&returned, 1);
    return NULL;
}

static void must_write(int fd, const void *p, size_t n)
{
    if (write(fd, p, n) != (ssize_t)n)
        _exit(9);
}

static void must_read(int fd, void *p, size_t n)
{
    if (read(fd, p, n) != (ssize_t)n)
        _exit(9);
}

/* The helper: holds the write lock until told, then reports the last
 * committed transaction id when asked. Talks over two pipes. */
static void holder(const char *dir, int in, int out)
{
    MDB_env *env;
    MDB_txn *txn;
    char c;
    if (mdb_env_create(&env) != 0 || mdb_env_set_maxdbs(env, 2) != 0 ||
        mdb_env_open(env, dir, MDB_NOTLS, 0600) != 0 ||
        mdb_txn_begin(env, NULL, 0, &txn) != 0)
        _exit(2);
    uint64_t before = (uint64_t)mdb_txn_id(txn) - 1;
    must_write(out, &before, sizeof before);
    must_read(in, &c, 1); /* release */
    mdb_txn_abort(txn);
    must_read(in, &c, 1); /* report */
    MDB_envinfo info;
    mdb_env_info(env, &info);
    uint64_t after = (uint64_t)info.me_last_txnid;
    must_write(out, &after, sizeof after);
    mdb_env_close(env);
    _exit(0);
}

static void test_concurrent_sets_share_commits(void **state)
{
    tmp_store *fx = *state; /* durable */
    /* The bucket exists before the lock is taken (creating it writes).
     * Closed again before fork(), so the helper inherits none of it. */
    set_str(fx->b, "warm", "up");
    tmp_store_shut(fx);

    int to[2], from[2];
    assert_int_equal(pipe(to), 0);
    assert_int_equal(pipe(from), 0);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        close(to[1]);
        close(from[0]);
        holder(fx->dir, to[0], from[1]);
    }
    close(to[0]);
    close(from[1]);
    uint64_t before = 0, after = 0;
    assert_int_equal(read(from[0], &before, sizeof before),
                     (ssize_t)sizeof before);
    tmp_store_reopen(fx, "lmdb://{dir}", "group");
    kvstore_bucket *b = fx->b;

    pthread_t t[THREADS];
    job j[THREADS];
    for (int i = 0; i < THREADS; i++) {
        j[i] = (job){ b, i, -100 };
        assert_int_equal(pthread_create(&t[i], NULL, setter, &j[i]), 0);
    }
    while (atomic_load(&calling) < THREADS) {
        struct timespec ts = {0, 1000000};
        nanosleep(&ts, NULL);
    }
    /* Give the callers time to queue behind the held lock; how many made
     * it only changes how few commits there are, not the checks below. */
    struct timespec ts = {0, 200000000};
    nanosleep(&ts, NULL);
    assert_int_equal(atomic_load(&returned), 0);

    assert_int_equal(write(to[1], "r", 1), 1);
    for (int i = 0; i < THREADS; i++) {
        pthread_join(t[i], NULL);
        assert_int_equal(j[i].rc, KVSTORE_OK);
    }
    assert_int_equal(write(to[1], "q", 1), 1);
    assert_int_equal(read(from[0], &after, sizeof after),
                     (ssize_t)sizeof after);
    int status;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    close(to[1]);
    close(from[0]);

    uint64_t commits = after - before;
    print_message("%d sets took %" PRIu64 " commits\n", THREADS, commits);
    assert_true(commits >= 1);
    assert_true(commits < THREADS);
    for (int i = 0; i < THREADS; i++) {
        char key[16];
        snprintf(key, sizeof key, "t%d", i);
        expect_str(b, key, "v");
    }
}

/* Many threads, many durable sets, a few of them to one key: everything
 * lands, and the last value of the shared key is one a thread wrote. */
typedef struct many {
    kvstore_bucket *b;
    int id, n, failures;
} many;

static void *many_setter(void *arg)
{
    many *m = arg;
    char key[32], val[32];
    for (int i = 0; i < m->n; i++) {
        snprintf(key, sizeof key, "m%d-%d", m->id, i);
        snprintf(val, sizeof val, "%d:%d", m->id, i);
        if (kvstore_set(m->b, key, val, strlen(val)) != KVSTORE_OK ||
            kvstore_set(m->b, "shared", val, strlen(val)) != KVSTORE_OK)
            m->failures++;
    }
    return NULL;
}

static void test_many_writers_all_land(void **state)
{
    tmp_store *t = *state;
    many m[THREADS];
    for (int i = 0; i < THREADS; i++)
        m[i] = (many){ t->b, i, 50, 0 };
    threads_run(THREADS, many_setter, m, sizeof *m);
    for (int i = 0; i < THREADS; i++)
        assert_int_equal(m[i].failures, 0);
    /* Reopened: everything is on disk. */
    tmp_store_reopen(t, "lmdb://{dir}", "many");
    kvstore_bucket *b = t->b;
    for (int i = 0; i < THREADS; i++)
        for (int k = 0; k < 50; k++) {
            char key[32], val[32];
            snprintf(key, sizeof key, "m%d-%d", i, k);
            snprintf(val, sizeof val, "%d:%d", i, k);
            expect_str(b, key, val);
        }
    void *v = NULL;
    size_t len = 0;
    assert_int_equal(kvstore_get(b, "shared", &v, &len), KVSTORE_OK);
    assert_true(len > 3 && memcmp((char *)v + len - 3, ":49", 3) == 0);
    kvstore_free(v);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        STORE_TEST(test_concurrent_sets_share_commits, "lmdb://{dir}",
                   "group"),
        STORE_TEST(test_many_writers_all_land, "lmdb://{dir}", "many"),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

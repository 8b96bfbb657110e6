/*
 * sqlite backend across processes: increments of two processes (two
 * threads each, so group commit and the file lock both take part) end
 * exact; compare-and-swap sees A-B-A and delete-then-recreate made by
 * another process, and CAS loops of two processes lose no update.
 *
 * SPDX-License-Identifier: MIT
 */
#include <inttypes.h>
#include <pthread.h>
#include <sys/wait.h>

#include "util.h"

#define PROCS 2
#define THREADS 2
#define PER_PROCESS 5000

typedef struct job {
    kvstore_bucket *b;
    int n;
    int failures;
} job;

static void *incr_thread(void *arg)
{
    job *j = arg;
    int64_t last = INT64_MIN;
    for (int i = 0; i < j->n; i++) {
        int64_t r;
        if (kvstore_increment(j->b, "counter", 1, &r) != KVSTORE_OK ||
            r <= last)
            j->failures++;
        last = r;
    }
    return NULL;
}

/* In a child: its own store on the file, THREADS threads sharing
 * `per_process` increments; exits 0 only if every call succeeded. */
static void child_increments(const char *dir, const char *opts,
                             int per_process)
{
    char uri[4400];
    kvstore_store *s = NULL;
    kvstore_bucket *b = NULL;
    db_uri(uri, sizeof uri, dir, opts);
    if (kvstore_open(&s, uri) != KVSTORE_OK ||
        kvstore_bucket_open(&b, s, "shared") != KVSTORE_OK)
        _exit(2);
    pthread_t t[THREADS];
    job j[THREADS];
    for (int i = 0; i < THREADS; i++) {
        j[i] = (job){ b, per_process / THREADS, 0 };
        pthread_create(&t[i], NULL, incr_thread, &j[i]);
    }
    int failures = 0;
    for (int i = 0; i < THREADS; i++) {
        pthread_join(t[i], NULL);
        failures += j[i].failures;
    }
    kvstore_bucket_close(b);
    kvstore_close(s);
    _exit(failures == 0 ? 0 : 1);
}

static void wait_children(pid_t *pid, int n)
{
    for (int c = 0; c < n; c++) {
        int status;
        assert_int_equal(waitpid(pid[c], &status, 0), pid[c]);
        assert_true(WIFEXITED(status));
        assert_int_equal(WEXITSTATUS(status), 0);
    }
}

static void run_increments(const char *opts, int per_process)
{
    char *dir = tmp_new();
    /* The parent creates the file first, so the children race only on
     * their writes, and keeps nothing open while they run. */
    kvstore_store *s = open_store(dir, opts);
    kvstore_bucket *b = open_bucket(s, "shared");
    kvstore_bucket_close(b);
    kvstore_close(s);

    pid_t pid[PROCS];
    for (int c = 0; c < PROCS; c++) {
        pid[c] = fork();
        assert_true(pid[c] >= 0);
        if (pid[c] == 0)
            child_increments(dir, opts, per_process);
    }
    wait_children(pid, PROCS);

    s = open_store(dir, opts);
    b = open_bucket(s, "shared");
    char want[24];
    snprintf(want, sizeof want, "%d", PROCS * per_process);
    expect_str(b, "counter", want);
    kvstore_bucket_close(b);
    kvstore_close(s);
    tmp_free(dir);
}

/* Durable: every increment is one commit (or shares one) with an fsync. */
static void test_two_processes_5000_each(void **state)
{
    (void)state;
    run_increments(NULL, PER_PROCESS);
}

/* Without fsync the lock hand-over between processes is much faster,
 * which is where a lost update would show. */
static void test_two_processes_nosync(void **state)
{
    (void)state;
    run_increments("?sync=false", PER_PROCESS);
}

/* A child that opens its own store and runs `steps` ("s:VALUE" sets,
 * "d" deletes) on key "k" of bucket "b". */
static void child_writes(const char *dir, const char *const *steps,
                         size_t n)
{
    char uri[4400];
    kvstore_store *s = NULL;
    kvstore_bucket *b = NULL;
    db_uri(uri, sizeof uri, dir, NULL);
    if (kvstore_open(&s, uri) != KVSTORE_OK ||
        kvstore_bucket_open(&b, s, "b") != KVSTORE_OK)
        _exit(2);
    for (size_t i = 0; i < n; i++) {
        int rc = steps[i][0] == 'd'
                     ? kvstore_delete(b, "k")
                     : kvstore_set(b, "k", steps[i] + 2, strlen(steps[i] + 2));
        if (rc != KVSTORE_OK)
            _exit(3);
    }
    kvstore_bucket_close(b);
    kvstore_close(s);
    _exit(0);
}

static void run_child_writes(const char *dir, const char *const *steps,
                             size_t n)
{
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0)
        child_writes(dir, steps, n);
    wait_children(&pid, 1);
}

/* Opens a CAS on "k" (which holds "A"), lets another process run
 * `steps`, and returns what the swap says. */
static int cas_across(kvstore_bucket *b, const char *dir,
                      const char *const *steps, size_t n)
{
    set_str(b, "k", "A");
    kvstore_cas *cas = NULL;
    assert_int_equal(kvstore_cas_open(&cas, b, "k"), KVSTORE_OK);
    const void *v;
    size_t len;
    assert_int_equal(kvstore_cas_current(cas, &v, &len), KVSTORE_OK);
    assert_int_equal(len, 1);
    assert_memory_equal(v, "A", 1);
    run_child_writes(dir, steps, n);
    int rc = kvstore_cas_swap(cas, "C", 1);
    kvstore_cas_free(cas);
    return rc;
}

static void test_cas_aba_across_processes(void **state)
{
    (void)state;
    char *dir = tmp_new();
    kvstore_store *s = open_store(dir, NULL);
    kvstore_bucket *b = open_bucket(s, "b");

    /* Control: nothing changes, the swap wins. */
    assert_int_equal(cas_across(b, dir, NULL, 0), KVSTORE_OK);
    expect_str(b, "k", "C");

    /* A -> B -> A in another process: same value, different write. */
    static const char *const aba[] = { "s:B", "s:A" };
    assert_int_equal(cas_across(b, dir, aba, 2), KVSTORE_ECONFLICT);
    expect_str(b, "k", "A");

    /* The same value written again. */
    static const char *const same[] = { "s:A" };
    assert_int_equal(cas_across(b, dir, same, 1), KVSTORE_ECONFLICT);
    expect_str(b, "k", "A");

    /* Deleted and created again with the same value. */
    static const char *const recreate[] = { "d", "s:A" };
    assert_int_equal(cas_across(b, dir, recreate, 2), KVSTORE_ECONFLICT);
    expect_str(b, "k", "A");

    kvstore_bucket_close(b);
    kvstore_close(s);
    tmp_free(dir);
}

/* A CAS increment loop: read, add one, swap, retry on conflict. */
static void child_cas_loop(const char *dir, int n)
{
    char uri[4400];
    kvstore_store *s = NULL;
    kvstore_bucket *b = NULL;
    db_uri(uri, sizeof uri, dir, "?sync=false");
    if (kvstore_open(&s, uri) != KVSTORE_OK ||
        kvstore_bucket_open(&b, s, "b") != KVSTORE_OK)
        _exit(2);
    for (int i = 0; i < n;) {
        kvstore_cas *cas = NULL;
        if (kvstore_cas_open(&cas, b, "n") != KVSTORE_OK)
            _exit(3);
        const void *v;
        size_t len;
        long cur = 0;
        if (kvstore_cas_current(cas, &v, &len) == KVSTORE_OK) {
            char text[32];
            if (len >= sizeof text)
                _exit(4);
            memcpy(text, v, len);
            text[len] = '\0';
            cur = strtol(text, NULL, 10);
        }
        char next[32];
        int m = snprintf(next, sizeof next, "%ld", cur + 1);
        int rc = kvstore_cas_swap(cas, next, (size_t)m);
        kvstore_cas_free(cas);
        if (rc == KVSTORE_OK)
            i++;
        else if (rc != KVSTORE_ECONFLICT)
            _exit(5);
    }
    kvstore_bucket_close(b);
    kvstore_close(s);
    _exit(0);
}

static void test_cas_loops_lose_nothing(void **state)
{
    (void)state;
    char *dir = tmp_new();
    kvstore_store *s = open_store(dir, NULL);
    kvstore_bucket *b = open_bucket(s, "b");
    pid_t pid[PROCS];
    for (int c = 0; c < PROCS; c++) {
        pid[c] = fork();
        assert_true(pid[c] >= 0);
        if (pid[c] == 0)
            child_cas_loop(dir, 500);
    }
    wait_children(pid, PROCS);
    char want[24];
    snprintf(want, sizeof want, "%d", PROCS * 500);
    expect_str(b, "n", want);
    kvstore_bucket_close(b);
    kvstore_close(s);
    tmp_free(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_two_processes_5000_each),
        cmocka_unit_test(test_two_processes_nosync),
        cmocka_unit_test(test_cas_aba_across_processes),
        cmocka_unit_test(test_cas_loops_lose_nothing),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

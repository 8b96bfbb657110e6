/*
 * File backend: increment and compare-and-swap are atomic across threads
 * and across processes sharing the directory, and increment is strict
 * about what it accepts.
 *
 * SPDX-License-Identifier: MIT
 */
#include <inttypes.h>
#include <pthread.h>
#include <sys/wait.h>

#include "util.h"

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
        last = r; /* one thread sees its own results strictly rise */
    }
    return NULL;
}

/* In a child: opens its own store and runs `threads` threads of
 * `per_thread` increments; exits 0 only if every call succeeded. */
static void child_increments(const char *dir, const char *opts, int threads,
                             int per_thread)
{
    kvstore_store *s = NULL;
    kvstore_bucket *b = NULL;
    char uri[4200];
    snprintf(uri, sizeof uri, "file://%s%s", dir, opts);
    if (kvstore_open(&s, uri) != KVSTORE_OK ||
        kvstore_bucket_open(&b, s, "shared") != KVSTORE_OK)
        _exit(2);
    pthread_t t[8];
    job j[8];
    for (int i = 0; i < threads; i++) {
        j[i] = (job){b, per_thread, 0};
        pthread_create(&t[i], NULL, incr_thread, &j[i]);
    }
    int failures = 0;
    for (int i = 0; i < threads; i++) {
        pthread_join(t[i], NULL);
        failures += j[i].failures;
    }
    kvstore_bucket_close(b);
    kvstore_close(s);
    _exit(failures == 0 ? 0 : 1);
}

static void run_two_children(const char *dir, const char *opts, int threads,
                             int per_thread)
{
    pid_t pid[2];
    for (int c = 0; c < 2; c++) {
        pid[c] = fork();
        assert_true(pid[c] >= 0);
        if (pid[c] == 0)
            child_increments(dir, opts, threads, per_thread);
    }
    for (int c = 0; c < 2; c++) {
        int status;
        assert_int_equal(waitpid(pid[c], &status, 0), pid[c]);
        assert_true(WIFEXITED(status));
        assert_int_equal(WEXITSTATUS(status), 0);
    }
}

static void test_two_processes_5000_each(void **state)
{
    (void)state;
    char *dir = tmp_new();
    /* Atomicity does not depend on fsync; ?sync=false keeps this fast.
     * Two threads per process: threads and processes contend at once. */
    run_two_children(dir, "?sync=false", 2, 2500);
    kvstore_store *s = open_store(dir, NULL);
    kvstore_bucket *b = open_bucket(s, "shared");
    expect_str(b, "counter", "10000");
    kvstore_bucket_close(b);
    kvstore_close(s);
    tmp_free(dir);
}

static void test_two_processes_durable(void **state)
{
    (void)state;
    char *dir = tmp_new();
    run_two_children(dir, "", 1, 150);
    kvstore_store *s = open_store(dir, NULL);
    kvstore_bucket *b = open_bucket(s, "shared");
    expect_str(b, "counter", "300");
    kvstore_bucket_close(b);
    kvstore_close(s);
    tmp_free(dir);
}

/* An increment written by hand over compare-and-swap, retried on
 * conflict: only correct if cas_swap really detects concurrent writes. */
static void cas_add_one(kvstore_bucket *b, int *conflicts)
{
    for (;;) {
        kvstore_cas *cas = NULL;
        const void *v;
        size_t len;
        if (kvstore_cas_open(&cas, b, "cas") != KVSTORE_OK)
            _exit(3);
        int64_t cur = 0;
        int rc = kvstore_cas_current(cas, &v, &len);
        if (rc == KVSTORE_OK) {
            char buf[32] = {0};
            memcpy(buf, v, len < 31 ? len : 31);
            cur = strtoll(buf, NULL, 10);
        }
        char out[32];
        int n = snprintf(out, sizeof out, "%" PRId64, cur + 1);
        rc = kvstore_cas_swap(cas, out, (size_t)n);
        kvstore_cas_free(cas);
        if (rc == KVSTORE_OK)
            return;
        if (rc != KVSTORE_ECONFLICT)
            _exit(4);
        (*conflicts)++;
    }
}

static void test_two_processes_cas(void **state)
{
    (void)state;
    char *dir = tmp_new();
    int fds[2];
    assert_int_equal(pipe(fds), 0);
    pid_t pid[2];
    for (int c = 0; c < 2; c++) {
        pid[c] = fork();
        assert_true(pid[c] >= 0);
        if (pid[c] == 0) {
            kvstore_store *s = open_store(dir, "?sync=false");
            kvstore_bucket *b = open_bucket(s, "shared");
            free(dir); /* the parent's copy; keeps valgrind's leak check of
                          the child quiet */
            int conflicts = 0;
            for (int i = 0; i < 1000; i++)
                cas_add_one(b, &conflicts);
            if (write(fds[1], &conflicts, sizeof conflicts) < 0)
                _exit(5);
            kvstore_bucket_close(b);
            kvstore_close(s);
            _exit(0);
        }
    }
    int total_conflicts = 0;
    for (int c = 0; c < 2; c++) {
        int status, n = 0;
        assert_int_equal(waitpid(pid[c], &status, 0), pid[c]);
        assert_true(WIFEXITED(status));
        assert_int_equal(WEXITSTATUS(status), 0);
        assert_int_equal(read(fds[0], &n, sizeof n), sizeof n);
        total_conflicts += n;
    }
    close(fds[0]);
    close(fds[1]);
    kvstore_store *s = open_store(dir, NULL);
    kvstore_bucket *b = open_bucket(s, "shared");
    expect_str(b, "cas", "2000");
    print_message("cas conflicts seen: %d\n", total_conflicts);
    kvstore_bucket_close(b);
    kvstore_close(s);
    tmp_free(dir);
}

static void expect_incr_einval(kvstore_bucket *b, const char *stored,
                               int64_t delta)
{
    set_str(b, "x", stored);
    int64_t r = 12345;
    int rc = kvstore_increment(b, "x", delta, &r);
    if (rc != KVSTORE_EINVAL)
        fail_msg("'%s' + %" PRId64 ": rc %d", stored, delta, rc);
    expect_str(b, "x", stored); /* unchanged */
}

static void test_increment_strict(void **state)
{
    (void)state;
    char *dir = tmp_new();
    kvstore_store *s = open_store(dir, "?sync=false");
    kvstore_bucket *b = open_bucket(s, "i");
    int64_t r = 0;
    assert_int_equal(kvstore_increment(b, "new", -7, &r), KVSTORE_OK);
    assert_int_equal(r, -7);
    expect_str(b, "new", "-7");
    assert_int_equal(kvstore_increment(b, "new", 10, NULL), KVSTORE_OK);
    expect_str(b, "new", "3");

    const char *bad[] = {"abc", "12a", " 1", "1 ", "+1", "", "-",
                         "0x10", "1.5", "99999999999999999999",
                         "9223372036854775808", "-9223372036854775809"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
        expect_incr_einval(b, bad[i], 1);
    expect_incr_einval(b, "9223372036854775807", 1);
    expect_incr_einval(b, "-9223372036854775808", -1);
    expect_incr_einval(b, "1", INT64_MAX);

    set_str(b, "x", "9223372036854775806");
    assert_int_equal(kvstore_increment(b, "x", 1, &r), KVSTORE_OK);
    assert_int_equal(r, INT64_MAX);
    set_str(b, "x", "-9223372036854775807");
    assert_int_equal(kvstore_increment(b, "x", -1, &r), KVSTORE_OK);
    assert_int_equal(r, INT64_MIN);
    expect_str(b, "x", "-9223372036854775808");
    kvstore_bucket_close(b);
    kvstore_close(s);
    tmp_free(dir);
}

static void test_cas_semantics(void **state)
{
    (void)state;
    char *dir = tmp_new();
    kvstore_store *s = open_store(dir, "?sync=false");
    kvstore_bucket *b = open_bucket(s, "c");
    kvstore_store *s2 = open_store(dir, "?sync=false");
    kvstore_bucket *b2 = open_bucket(s2, "c");
    kvstore_cas *cas = NULL;
    const void *v;
    size_t len;

    /* absent snapshot, then another handle creates the key */
    assert_int_equal(kvstore_cas_open(&cas, b, "k"), KVSTORE_OK);
    assert_int_equal(kvstore_cas_current(cas, &v, &len), KVSTORE_NOTFOUND);
    set_str(b2, "k", "A");
    assert_int_equal(kvstore_cas_swap(cas, "B", 1), KVSTORE_ECONFLICT);
    kvstore_cas_free(cas);
    expect_str(b, "k", "A");

    /* ABA: delete and re-set the same bytes still counts as a change */
    assert_int_equal(kvstore_cas_open(&cas, b, "k"), KVSTORE_OK);
    assert_int_equal(kvstore_cas_current(cas, &v, &len), KVSTORE_OK);
    assert_int_equal(len, 1);
    assert_memory_equal(v, "A", 1);
    assert_int_equal(kvstore_delete(b2, "k"), KVSTORE_OK);
    set_str(b2, "k", "A");
    assert_int_equal(kvstore_cas_swap(cas, "C", 1), KVSTORE_ECONFLICT);
    kvstore_cas_free(cas);

    /* unchanged: the swap lands */
    assert_int_equal(kvstore_cas_open(&cas, b, "k"), KVSTORE_OK);
    assert_int_equal(kvstore_cas_swap(cas, "D", 1), KVSTORE_OK);
    kvstore_cas_free(cas);
    expect_str(b2, "k", "D");

    /* absent and still absent: the swap creates the key */
    assert_int_equal(kvstore_cas_open(&cas, b, "fresh"), KVSTORE_OK);
    assert_int_equal(kvstore_cas_swap(cas, "", 0), KVSTORE_OK);
    kvstore_cas_free(cas);
    expect_str(b2, "fresh", "");

    /* a snapshot taken, then the key deleted: conflict, nothing written */
    assert_int_equal(kvstore_cas_open(&cas, b, "fresh"), KVSTORE_OK);
    assert_int_equal(kvstore_delete(b2, "fresh"), KVSTORE_OK);
    assert_int_equal(kvstore_cas_swap(cas, "E", 1), KVSTORE_ECONFLICT);
    kvstore_cas_free(cas);
    bool ex = true;
    assert_int_equal(kvstore_exists(b, "fresh", &ex), KVSTORE_OK);
    assert_false(ex);

    kvstore_bucket_close(b2);
    kvstore_close(s2);
    kvstore_bucket_close(b);
    kvstore_close(s);
    tmp_free(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_two_processes_5000_each),
        cmocka_unit_test(test_two_processes_durable),
        cmocka_unit_test(test_two_processes_cas),
        cmocka_unit_test(test_increment_strict),
        cmocka_unit_test(test_cas_semantics),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

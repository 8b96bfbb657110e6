/*
 * LMDB backend across processes: increments from two processes (two
 * threads each) end exact, a CAS-built increment loop ends exact, and CAS
 * detects ABA (A -> B -> A, and delete -> re-create with the same bytes)
 * made by another process between snapshot and swap.
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
    bool cas;
    int failures;
} job;

/* An increment written by hand over compare-and-swap, retried on
 * conflict: only exact if cas_swap detects every concurrent write. */
static int cas_add_one(kvstore_bucket *b)
{
    for (;;) {
        kvstore_cas *cas = NULL;
        const void *v;
        size_t len;
        if (kvstore_cas_open(&cas, b, "cas") != KVSTORE_OK)
            return -1;
        int64_t cur = 0;
        if (kvstore_cas_current(cas, &v, &len) == KVSTORE_OK) {
            char text[32];
            if (len >= sizeof text) {
                kvstore_cas_free(cas);
                return -1;
            }
            memcpy(text, v, len);
            text[len] = '\0';
            cur = strtoll(text, NULL, 10);
        }
        char next[32];
        int n = snprintf(next, sizeof next, "%" PRId64, cur + 1);
        int rc = kvstore_cas_swap(cas, next, (size_t)n);
        kvstore_cas_free(cas);
        if (rc == KVSTORE_OK)
            return 0;
        if (rc != KVSTORE_ECONFLICT)
            return -1;
    }
}

static void *worker(void *arg)
{
    job *j = arg;
    int64_t last = INT64_MIN;
    for (int i = 0; i < j->n; i++) {
        if (j->cas) {
            if (cas_add_one(j->b) != 0)
                j->failures++;
            continue;
        }
        int64_t r;
        if (kvstore_increment(j->b, "counter", 1, &r) != KVSTORE_OK ||
            r <= last)
            j->failures++;
        last = r; /* one thread sees its own results strictly rise */
    }
    return NULL;
}

/* In a child: its own store, `threads` threads of `per_thread` ops; exits
 * 0 only if every call succeeded. */
static void child(const char *dir, const char *opts, int threads,
                  int per_thread, bool cas)
{
    kvstore_store *s = NULL;
    kvstore_bucket *b = NULL;
    char uri[4200];
    snprintf(uri, sizeof uri, "lmdb://%s%s", dir, opts);
    if (kvstore_open(&s, uri) != KVSTORE_OK ||
        kvstore_bucket_open(&b, s, "shared") != KVSTORE_OK)
        _exit(2);
    pthread_t t[8];
    job j[8];
    for (int i = 0; i < threads; i++) {
        j[i] = (job){b, per_thread, cas, 0};
        pthread_create(&t[i], NULL, worker, &j[i]);
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

static void run_two(const char *dir, const char *opts, int threads,
                    int per_thread, bool cas)
{
    pid_t pid[2];
    for (int c = 0; c < 2; c++) {
        pid[c] = fork();
        assert_true(pid[c] >= 0);
        if (pid[c] == 0)
            child(dir, opts, threads, per_thread, cas);
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
    /* Atomicity does not depend on syncing; ?sync=false keeps this fast.
     * Two threads per process: group commit and processes at once. */
    run_two(dir, "?sync=false", 2, 2500, false);
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
    run_two(dir, "", 2, 100, false);
    kvstore_store *s = open_store(dir, NULL);
    kvstore_bucket *b = open_bucket(s, "shared");
    expect_str(b, "counter", "400");
    kvstore_bucket_close(b);
    kvstore_close(s);
    tmp_free(dir);
}

static void test_cas_loop_two_processes(void **state)
{
    (void)state;
    char *dir = tmp_new();
    run_two(dir, "?sync=false", 2, 500, true);
    kvstore_store *s = open_store(dir, NULL);
    kvstore_bucket *b = open_bucket(s, "shared");
    expect_str(b, "cas", "2000");
    kvstore_bucket_close(b);
    kvstore_close(s);
    tmp_free(dir);
}

/* The child writes `steps` (set "X" or delete "-") to key "k" and exits. */
static void other_process_writes(const char *dir, const char *const *steps)
{
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        kvstore_store *s = NULL;
        kvstore_bucket *b = NULL;
        char uri[4200];
        snprintf(uri, sizeof uri, "lmdb://%s", dir);
        if (kvstore_open(&s, uri) != KVSTORE_OK ||
            kvstore_bucket_open(&b, s, "aba") != KVSTORE_OK)
            _exit(2);
        for (; *steps != NULL; steps++) {
            int rc = strcmp(*steps, "-") == 0
                         ? kvstore_delete(b, "k")
                         : kvstore_set(b, "k", *steps, strlen(*steps));
            if (rc != KVSTORE_OK)
                _exit(3);
        }
        kvstore_bucket_close(b);
        kvstore_close(s);
        _exit(0);
    }
    int status;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFEXITED(status));
    assert_int_equal(WEXITSTATUS(status), 0);
}

static void aba_case(const char *const *steps, bool start_absent)
{
    char *dir = tmp_new();
    kvstore_store *s = open_store(dir, NULL);
    kvstore_bucket *b = open_bucket(s, "aba");
    if (!start_absent)
        set_str(b, "k", "A");
    kvstore_cas *cas = NULL;
    assert_int_equal(kvstore_cas_open(&cas, b, "k"), KVSTORE_OK);
    other_process_writes(dir, steps);
    /* The bytes are back to what the snapshot saw: only a version check
     * can tell that the key was written meanwhile. */
    assert_int_equal(kvstore_cas_swap(cas, "mine", 4), KVSTORE_ECONFLICT);
    kvstore_cas_free(cas);
    expect_str(b, "k", "A"); /* the other process's write stands */
    /* Without interference the same swap succeeds. */
    assert_int_equal(kvstore_cas_open(&cas, b, "k"), KVSTORE_OK);
    assert_int_equal(kvstore_cas_swap(cas, "mine", 4), KVSTORE_OK);
    kvstore_cas_free(cas);
    expect_str(b, "k", "mine");
    kvstore_bucket_close(b);
    kvstore_close(s);
    tmp_free(dir);
}

static void test_cas_aba_set_back(void **state)
{
    (void)state;
    static const char *const steps[] = { "B", "A", NULL };
    aba_case(steps, false);
}

static void test_cas_aba_delete_recreate(void **state)
{
    (void)state;
    static const char *const steps[] = { "-", "A", NULL };
    aba_case(steps, false);
}

static void test_cas_aba_same_value(void **state)
{
    (void)state;
    static const char *const steps[] = { "A", NULL };
    aba_case(steps, false);
}

static void test_cas_absent_then_created(void **state)
{
    (void)state;
    static const char *const steps[] = { "A", NULL };
    aba_case(steps, true);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_two_processes_5000_each),
        cmocka_unit_test(test_two_processes_durable),
        cmocka_unit_test(test_cas_loop_two_processes),
        cmocka_unit_test(test_cas_aba_set_back),
        cmocka_unit_test(test_cas_aba_delete_recreate),
        cmocka_unit_test(test_cas_aba_same_value),
        cmocka_unit_test(test_cas_absent_then_created),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

/*
 * LMDB backend across processes: increments from two processes (two
 * threads each) end exact, a CAS-built increment loop ends exact, and CAS
 * detects ABA (A -> B -> A, and delete -> re-create with the same bytes)
 * made by another process between snapshot and swap.
 *
 * SPDX-License-Identifier: MIT
 */
#include "procs.h"
#include "util.h"

/* "lmdb://<dir><opts>" for the children of procs.h. */
static void count_in(const char *opts, int per_thread, bool cas)
{
    char *dir = tmp_new();
    char uri[4200];

    snprintf(uri, sizeof uri, "lmdb://%s%s", dir, opts);
    procs_count_exact(&(procs_count){ .uri = uri, .procs = 2, .threads = 2,
                                      .per_thread = per_thread, .cas = cas });
    tmp_free(dir);
}

static void test_two_processes_5000_each(void **state)
{
    (void)state;
    /* Atomicity does not depend on syncing; ?sync=false keeps this fast.
     * Two threads per process: group commit and processes at once. */
    count_in("?sync=false", 2500, false);
}

static void test_two_processes_durable(void **state)
{
    (void)state;
    count_in("", 100, false);
}

static void test_cas_loop_two_processes(void **state)
{
    (void)state;
    count_in("?sync=false", 500, true);
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
    char uri[4200];
    snprintf(uri, sizeof uri, "lmdb://%s", dir);
    procs_write_steps(uri, "aba", "k", steps);
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

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

static void aba_case(const char *const *steps, bool start_absent)
{
    tmp_store fx = tmp_store_open("lmdb://{dir}", "aba");
    kvstore_bucket *b = fx.b;
    if (!start_absent)
        set_str(b, "k", "A");
    char uri[4200];
    snprintf(uri, sizeof uri, "lmdb://%s", fx.dir);
    /* The bytes are back to what the snapshot saw: only a version check
     * can tell that the key was written meanwhile. */
    assert_int_equal(cas_across_processes(b, "k", start_absent ? NULL : "A",
                                          uri, "aba", steps, "mine"),
                     KVSTORE_ECONFLICT);
    expect_str(b, "k", "A"); /* the other process's write stands */
    /* Without interference the same swap succeeds. */
    assert_int_equal(cas_across_processes(b, "k", "A", uri, "aba", NULL,
                                          "mine"), KVSTORE_OK);
    expect_str(b, "k", "mine");
    tmp_store_close(&fx);
}

/* Another process's writes between a CAS snapshot and its swap. */
typedef struct aba {
    const char *steps[3]; /* NULL-terminated (procs_write_steps) */
    bool start_absent;    /* no key at the snapshot */
} aba;

static void test_aba(void **state)
{
    const aba *a = *state;
    aba_case(a->steps, a->start_absent);
}

#define ABA_TEST(test_name, absent, ...) \
    { .name = #test_name, .test_func = test_aba, \
      .initial_state = &(aba){ { __VA_ARGS__, NULL }, absent } }

int main(void)
{
    const struct CMUnitTest tests[] = {
        /* Atomicity does not depend on syncing; ?sync=false keeps this
         * fast. Two threads per process: group commit and processes at
         * once. */
        PROCS_COUNT(test_two_processes_5000_each,
                    .uri = "lmdb://{dir}?sync=false",
                    .procs = 2, .threads = 2, .per_thread = 2500),
        PROCS_COUNT(test_two_processes_durable,
                    .uri = "lmdb://{dir}",
                    .procs = 2, .threads = 2, .per_thread = 100),
        PROCS_COUNT(test_cas_loop_two_processes,
                    .uri = "lmdb://{dir}?sync=false",
                    .procs = 2, .threads = 2, .per_thread = 500,
                    .cas = true),
        ABA_TEST(test_cas_aba_set_back, false, "B", "A"),
        ABA_TEST(test_cas_aba_delete_recreate, false, "-", "A"),
        ABA_TEST(test_cas_aba_same_value, false, "A"),
        ABA_TEST(test_cas_absent_then_created, true, "A"),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

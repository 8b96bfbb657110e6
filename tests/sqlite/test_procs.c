/*
 * sqlite backend across processes: increments of two processes (two
 * threads each, so group commit and the file lock both take part) end
 * exact; compare-and-swap sees A-B-A and delete-then-recreate made by
 * another process, and CAS loops of two processes lose no update.
 *
 * SPDX-License-Identifier: MIT
 */
#include "procs.h"
#include "util.h"

/* Opens a CAS on "k" (which holds "A"), lets another process run
 * `steps`, and returns what the swap says. */
static int cas_across(kvstore_bucket *b, const char *dir,
                      const char *const *steps)
{
    set_str(b, "k", "A");
    kvstore_cas *cas = NULL;
    assert_int_equal(kvstore_cas_open(&cas, b, "k"), KVSTORE_OK);
    const void *v;
    size_t len;
    assert_int_equal(kvstore_cas_current(cas, &v, &len), KVSTORE_OK);
    assert_int_equal(len, 1);
    assert_memory_equal(v, "A", 1);
    char uri[4400];
    db_uri(uri, sizeof uri, dir, NULL);
    procs_write_steps(uri, "b", "k", steps);
    int rc = kvstore_cas_swap(cas, "C", 1);
    kvstore_cas_free(cas);
    return rc;
}

static void test_cas_aba_across_processes(void **state)
{
    (void)state;
    tmp_store fx = tmp_store_open("sqlite://{dir}/kv.db", "b");
    kvstore_bucket *b = fx.b;

    /* Control: nothing changes, the swap wins. */
    assert_int_equal(cas_across(b, fx.dir, NULL), KVSTORE_OK);
    expect_str(b, "k", "C");

    /* A -> B -> A in another process: same value, different write. */
    static const char *const aba[] = { "B", "A", NULL };
    assert_int_equal(cas_across(b, fx.dir, aba), KVSTORE_ECONFLICT);
    expect_str(b, "k", "A");

    /* The same value written again. */
    static const char *const same[] = { "A", NULL };
    assert_int_equal(cas_across(b, fx.dir, same), KVSTORE_ECONFLICT);
    expect_str(b, "k", "A");

    /* Deleted and created again with the same value. */
    static const char *const recreate[] = { "-", "A", NULL };
    assert_int_equal(cas_across(b, fx.dir, recreate), KVSTORE_ECONFLICT);
    expect_str(b, "k", "A");

    tmp_store_close(&fx);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        /* Two processes of two threads on one database file, created by
         * the parent first so the children race only on their writes.
         * Durable: every increment is one commit (or shares one) with an
         * fsync. */
        PROCS_COUNT(test_two_processes_5000_each,
                    .uri = "sqlite://{dir}/kv.db",
                    .procs = 2, .threads = 2, .per_thread = 2500,
                    .create_first = true),
        /* Without fsync the lock hand-over between processes is much
         * faster, which is where a lost update would show. */
        PROCS_COUNT(test_two_processes_nosync,
                    .uri = "sqlite://{dir}/kv.db?sync=false",
                    .procs = 2, .threads = 2, .per_thread = 2500,
                    .create_first = true),
        cmocka_unit_test(test_cas_aba_across_processes),
        /* CAS increment loops: read, add one, swap, retry on conflict. */
        PROCS_COUNT(test_cas_loops_lose_nothing,
                    .uri = "sqlite://{dir}/kv.db?sync=false",
                    .procs = 2, .threads = 2, .per_thread = 250, .cas = true,
                    .create_first = true),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

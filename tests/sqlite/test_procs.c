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

/* A CAS on "k" (which holds "A") while another process writes `steps`
 * between snapshot and swap. */
typedef struct cas_case {
    const char *what;
    const char *steps[3]; /* NULL-terminated (procs_write_steps) */
    int rc;               /* what the swap of "C" says */
    const char *after;    /* what "k" holds then */
} cas_case;

static const cas_case cas_cases[] = {
    {"control: nothing changes, the swap wins", {NULL}, KVSTORE_OK, "C"},
    {"A -> B -> A: same value, different write", {"B", "A"},
     KVSTORE_ECONFLICT, "A"},
    {"the same value written again", {"A"}, KVSTORE_ECONFLICT, "A"},
    {"deleted and created again with the same value", {"-", "A"},
     KVSTORE_ECONFLICT, "A"},
};

static void test_cas_aba_across_processes(void **state)
{
    tmp_store *t = *state;
    char uri[4400];
    db_uri(uri, sizeof uri, t->dir, NULL);
    for (size_t i = 0; i < sizeof cas_cases / sizeof *cas_cases; i++) {
        const cas_case *c = &cas_cases[i];
        set_str(t->b, "k", "A");
        int rc = cas_across_processes(t->b, "k", "A", uri, "b", c->steps,
                                      "C");
        if (rc != c->rc)
            fail_msg("%s: swap = %d, expected %d", c->what, rc, c->rc);
        expect_str(t->b, "k", c->after);
    }
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
        STORE_TEST(test_cas_aba_across_processes, "sqlite://{dir}/kv.db",
                   "b"),
        /* CAS increment loops: read, add one, swap, retry on conflict. */
        PROCS_COUNT(test_cas_loops_lose_nothing,
                    .uri = "sqlite://{dir}/kv.db?sync=false",
                    .procs = 2, .threads = 2, .per_thread = 250, .cas = true,
                    .create_first = true),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

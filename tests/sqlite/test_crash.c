/*
 * sqlite backend crash safety: a child runs four writer threads (so that
 * group commit batches them) doing durable sets of checksummed values,
 * each followed by a report of the acknowledged sequence number on a
 * pipe, and is killed with SIGKILL at 30 random moments. After each kill:
 * the database passes PRAGMA integrity_check, every value is complete and
 * its checksum verifies, every acknowledged set is there (a thread's
 * stored sequence number is at least the last one it reported), and the
 * counter each thread bumps still parses.
 *
 * SPDX-License-Identifier: MIT
 */
#include <inttypes.h>
#include <pthread.h>

#include "crash.h"
#include "util.h"

#define KILLS 30
#define THREADS 4

typedef struct writer_arg {
    kvstore_bucket *b;
    int id;
    int report_fd;
    unsigned seed;
    uint64_t base;          /* sequence numbers of this child start here */
} writer_arg;

static void *writer_thread(void *p)
{
    writer_arg *a = p;
    unsigned char *buf = malloc(70000);
    char key[16], line[64];
    snprintf(key, sizeof key, "t%d", a->id);
    if (buf == NULL)
        _exit(1);
    for (uint64_t seq = a->base + 1;; seq++) {
        size_t len = 1 + rand_r(&a->seed) % 65536;
        size_t n = sealed_make(buf, seq, rand_r(&a->seed), len);
        if (kvstore_set(a->b, key, buf, n) != KVSTORE_OK)
            _exit(2);
        if (kvstore_increment(a->b, "n", 1, NULL) != KVSTORE_OK)
            _exit(3);
        /* Acknowledged: the set has returned. One short write() on a
         * pipe is atomic, so lines of the threads never mix. */
        int m = snprintf(line, sizeof line, "%d %" PRIu64 "\n", a->id, seq);
        if (write(a->report_fd, line, (size_t)m) != m)
            _exit(4);
    }
    return NULL;
}

/* The sequence numbers of a round's child start after this (round << 32,
 * set by the parent before the fork): they grow across rounds, so a value
 * left from an earlier round cannot pass for a lost acknowledged one. */
static uint64_t round_base;

static void writer(const char *dir, int report_fd, unsigned seed)
{
    kvstore_store *s = open_store(dir, NULL); /* durable writes */
    kvstore_bucket *b = open_bucket(s, "crash");
    static writer_arg args[THREADS];
    pthread_t t[THREADS];
    for (int i = 0; i < THREADS; i++) {
        args[i] = (writer_arg){ b, i, report_fd, seed + (unsigned)i,
                                round_base };
        pthread_create(&t[i], NULL, writer_thread, &args[i]);
    }
    for (;;)
        pause();
}

static void integrity_check(const char *dir)
{
    sqlite3 *db = raw_db(dir, SQLITE_OPEN_READWRITE);
    expect_sql(db, "PRAGMA integrity_check", "ok");
    sqlite3_close(db);
}

/* Checks the file, then opens the store afresh and closes it again, so
 * that the next round's writer is the only one using it. */
static void verify(tmp_store *t, const uint64_t *acked)
{
    integrity_check(t->dir);
    tmp_store_reopen(t, "sqlite://{dir}/kv.db", "crash");
    kvstore_bucket *b = t->b;
    for (int i = 0; i < THREADS; i++) {
        char key[16];
        snprintf(key, sizeof key, "t%d", i);
        void *v = NULL;
        size_t len = 0;
        int rc = kvstore_get(b, key, &v, &len);
        if (acked[i] == 0 && rc == KVSTORE_NOTFOUND)
            continue;
        assert_int_equal(rc, KVSTORE_OK);
        uint64_t seq = 0;
        if (!sealed_ok(v, len, &seq))
            fail_msg("%s: torn value of %zu bytes", key, len);
        if (seq < acked[i])
            fail_msg("%s: acknowledged set %" PRIu64 " lost (stored %"
                     PRIu64 ")", key, acked[i], seq);
        kvstore_free(v);
    }
    int64_t n = 0;
    int rc = kvstore_increment(b, "n", 0, &n);
    assert_int_equal(rc, KVSTORE_OK);
    tmp_store_shut(t);
}

/* Reads one report of the child (false at its end); keeps each thread's
 * highest. */
static bool read_report(FILE *reports, uint64_t *acked)
{
    int id;
    uint64_t seq;
    if (fscanf(reports, "%d %" SCNu64, &id, &seq) != 2)
        return false;
    if (id >= 0 && id < THREADS && seq > acked[id])
        acked[id] = seq;
    return true;
}

static void test_kill_at_random_moments(void **state)
{
    tmp_store *t = *state;
    unsigned seed = crash_seed();
    uint64_t acked[THREADS] = { 0 };
    uint64_t total = 0;
    for (int round = 0; round < KILLS; round++) {
        int fd;
        round_base = (uint64_t)round << 32;
        pid_t pid = crash_spawn(writer, t->dir,
                                seed + (unsigned)round * 7919u, &fd);
        FILE *reports = fdopen(fd, "r");
        assert_non_null(reports);
        /* Kill at random once the first set is acknowledged (the
         * writers run), then read every report sent before death. */
        uint64_t round_acked[THREADS] = { 0 };
        assert_true(read_report(reports, round_acked));
        crash_kill(pid, &seed, 60000);
        while (read_report(reports, round_acked))
            ;
        fclose(reports);
        for (int i = 0; i < THREADS; i++) {
            if (round_acked[i] > acked[i]) {
                total += round_acked[i] - round_base;
                acked[i] = round_acked[i];
            }
        }
        verify(t, acked);
    }
    print_message("%" PRIu64 " acknowledged sets over %d kills\n", total,
                  KILLS);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        TMP_STORE_TEST(test_kill_at_random_moments),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

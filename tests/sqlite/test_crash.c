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

static void writer(const char *dir, int ready_fd, int report_fd,
                   unsigned seed, uint64_t base)
{
    kvstore_store *s = open_store(dir, NULL); /* durable writes */
    kvstore_bucket *b = open_bucket(s, "crash");
    static writer_arg args[THREADS];
    pthread_t t[THREADS];
    for (int i = 0; i < THREADS; i++) {
        args[i] = (writer_arg){ b, i, report_fd, seed + (unsigned)i, base };
        pthread_create(&t[i], NULL, writer_thread, &args[i]);
    }
    if (write(ready_fd, "r", 1) != 1)
        _exit(1);
    for (;;)
        pause();
}

static void integrity_check(const char *dir)
{
    sqlite3 *db = raw_db(dir, SQLITE_OPEN_READWRITE);
    expect_sql(db, "PRAGMA integrity_check", "ok");
    sqlite3_close(db);
}

static void verify(const char *dir, const uint64_t *acked)
{
    integrity_check(dir);
    kvstore_store *s = open_store(dir, NULL);
    kvstore_bucket *b = open_bucket(s, "crash");
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
    kvstore_bucket_close(b);
    kvstore_close(s);
}

/* Reads the child's reports to EOF; keeps each thread's highest. */
static void read_reports(int fd, uint64_t *acked)
{
    FILE *f = fdopen(fd, "r");
    assert_non_null(f);
    int id;
    uint64_t seq;
    while (fscanf(f, "%d %" SCNu64, &id, &seq) == 2)
        if (id >= 0 && id < THREADS && seq > acked[id])
            acked[id] = seq;
    fclose(f);
}

static void test_kill_at_random_moments(void **state)
{
    (void)state;
    char *dir = tmp_new();
    unsigned seed = crash_seed();
    uint64_t acked[THREADS] = { 0 };
    uint64_t total = 0;
    for (int round = 0; round < KILLS; round++) {
        int ready[2], report[2];
        assert_int_equal(pipe(ready), 0);
        assert_int_equal(pipe(report), 0);
        pid_t pid = fork();
        assert_true(pid >= 0);
        if (pid == 0) {
            close(ready[0]);
            close(report[0]);
            writer(dir, ready[1], report[1], seed + (unsigned)round * 7919u,
                   (uint64_t)round << 32);
        }
        close(ready[1]);
        close(report[1]);
        char c;
        assert_int_equal(read(ready[0], &c, 1), 1);
        close(ready[0]);
        crash_kill(pid, &seed, 60000);
        /* Sequence numbers grow across rounds (each child starts at
         * round << 32), so a value left from an earlier round cannot
         * pass for a lost acknowledged one. */
        uint64_t round_acked[THREADS] = { 0 };
        read_reports(report[0], round_acked);
        for (int i = 0; i < THREADS; i++) {
            if (round_acked[i] > acked[i]) {
                total += round_acked[i] - ((uint64_t)round << 32);
                acked[i] = round_acked[i];
            }
        }
        verify(dir, acked);
    }
    print_message("%" PRIu64 " acknowledged sets over %d kills\n", total,
                  KILLS);
    tmp_free(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_kill_at_random_moments),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

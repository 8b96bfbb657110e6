/*
 * Reaping (reap_ms, backends/lmdb/reap.c): expired records are deleted
 * from the file, not only hidden. Records are counted with raw liblmdb
 * (mdb_stat of the main database, in a child process). The count is
 * every entry: one per bucket in the registry plus one per record (a
 * long key is one entry too).
 *
 * SPDX-License-Identifier: MIT
 */
#include <lmdb.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>

#include "util.h"

enum { PLAIN = 20, LIVE = 20, GONE = 40, OTHER_GONE = 5 };

/* Entries in the main database of the environment in `dir`, counted in
 * a child process: this one may hold the environment open (and must, to
 * keep its reaping position), and LMDB allows one environment of a
 * directory per process. */
static size_t raw_entries(const char *dir)
{
    int fd[2];
    assert_int_equal(pipe(fd), 0);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        MDB_env *env = NULL;
        MDB_txn *txn = NULL;
        MDB_dbi dbi;
        MDB_stat st;
        close(fd[0]);
        if (mdb_env_create(&env) != 0 ||
            mdb_env_open(env, dir, MDB_RDONLY, 0600) != 0 ||
            mdb_txn_begin(env, NULL, MDB_RDONLY, &txn) != 0 ||
            mdb_dbi_open(txn, NULL, 0, &dbi) != 0 ||
            mdb_stat(txn, dbi, &st) != 0)
            _exit(2);
        uint64_t n = st.ms_entries;
        _exit(write(fd[1], &n, sizeof n) == (ssize_t)sizeof n ? 0 : 3);
    }
    close(fd[1]);
    uint64_t n = 0;
    ssize_t got = read(fd[0], &n, sizeof n);
    close(fd[0]);
    int status = 0;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    assert_int_equal(got, sizeof n);
    return (size_t)n;
}

/* Long enough for the long stored form in any bucket (lmdb.h). */
static char *long_key(char fill)
{
    static char k[2][1001];
    char *p = k[fill == 'g'];
    memset(p, fill, 1000);
    p[1000] = '\0';
    return p;
}

static void sleep_ms(long ms)
{
    struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };
    while (nanosleep(&ts, &ts) != 0)
        ;
}

static void set_ttl_str(kvstore_bucket *b, const char *key, const char *v,
                        uint64_t ttl_ms)
{
    assert_ok(kvstore_set_ttl(b, key, v, strlen(v), ttl_ms));
}

/* The keys of bucket t->b that fill() writes: `count` keys
 * "<prefix>NN" with their own name as value, expiring in ttl_ms (0:
 * never). */
static const struct group {
    const char *prefix;
    int count;
    uint64_t ttl_ms;
    bool survives;
} groups[] = {
    { "plain", PLAIN, 0, true },
    { "gone", GONE, 1, false },
    { "live", LIVE, 3600000, true },
};

/* Fills bucket t->b with `groups` and one long key that expires in 1 ms
 * and one in an hour, and bucket "other" with OTHER_GONE keys that
 * expire in 1 ms and "keep". Then waits until the short ones have
 * expired. */
static void fill(tmp_store *t)
{
    char key[32];
    for (size_t g = 0; g < sizeof groups / sizeof *groups; g++)
        for (int i = 0; i < groups[g].count; i++) {
            snprintf(key, sizeof key, "%s%02d", groups[g].prefix, i);
            if (groups[g].ttl_ms == 0)
                set_str(t->b, key, key);
            else
                set_ttl_str(t->b, key, key, groups[g].ttl_ms);
        }
    set_ttl_str(t->b, long_key('g'), "long gone", 1);
    set_ttl_str(t->b, long_key('l'), "long live", 3600000);
    kvstore_bucket *o = open_bucket(t->s, "other");
    for (int i = 0; i < OTHER_GONE; i++) {
        snprintf(key, sizeof key, "x%d", i);
        set_ttl_str(o, key, key, 1);
    }
    set_str(o, "keep", "kept");
    kvstore_bucket_close(o);
    /* Expiry is 1 ms of wall-clock time after each set. */
    sleep_ms(20);
}

/* Every key that must survive reads back; the expired ones are absent. */
static void expect_survivors(tmp_store *t)
{
    char key[32];
    for (size_t g = 0; g < sizeof groups / sizeof *groups; g++)
        for (int i = 0; i < groups[g].count; i++) {
            snprintf(key, sizeof key, "%s%02d", groups[g].prefix, i);
            expect_str(t->b, key, groups[g].survives ? key : NULL);
        }
    expect_str(t->b, long_key('l'), "long live");
    expect_str(t->b, long_key('g'), NULL);
    kvstore_bucket *o = open_bucket(t->s, "other");
    expect_str(o, "keep", "kept");
    expect_str(o, "x0", NULL);
    kvstore_bucket_close(o);
}

/* Registry entries of "r" and "other", the records that do not expire
 * or have not yet, and "trigger". */
#define SURVIVORS (2 + PLAIN + LIVE + 1 + 1 + 1)
#define EXPIRED (GONE + 1 + OTHER_GONE)

static void test_reaped(void **state)
{
    tmp_store *t = *state;
    fill(t);
    /* Its commit is followed by a pass: over 1 ms since the last one. */
    set_str(t->b, "trigger", "t");
    tmp_store_shut(t);
    assert_int_equal(raw_entries(t->dir), SURVIVORS);

    tmp_store_reopen(t, "lmdb://{dir}?reap_ms=1&sync=false", "r");
    expect_survivors(t);
    /* A reaped long key's stored key is free again for it. */
    set_str(t->b, long_key('g'), "again");
    expect_str(t->b, long_key('g'), "again");
}

/* reap_ms=0: expired records stay in the file (absent for reads). */
static void test_never(void **state)
{
    tmp_store *t = *state;
    fill(t);
    for (int i = 0; i < 3; i++) {
        sleep_ms(5);
        set_str(t->b, "trigger", "t");
    }
    tmp_store_shut(t);
    assert_int_equal(raw_entries(t->dir), SURVIVORS + EXPIRED);
    tmp_store_reopen(t, "lmdb://{dir}?reap_ms=0&sync=false", "r");
    expect_survivors(t);
}

/* The environment is shared per directory, and its first handle's
 * reap_ms holds: a later handle asking for reaping does not get it. */
static void test_first_handle_wins(void **state)
{
    tmp_store *t = *state;
    fill(t);
    kvstore_store *s2 = open_in(t, "lmdb://{dir}?reap_ms=1&sync=false");
    kvstore_bucket *b2 = open_bucket(s2, "r");
    set_str(b2, "trigger", "t");
    kvstore_bucket_close(b2);
    kvstore_close(s2);
    tmp_store_shut(t);
    assert_int_equal(raw_entries(t->dir), SURVIVORS + EXPIRED);
}

enum { WIDE = 12000, TAIL = 100, HEAD = 10 };

/* In another process (whose writes start no pass here): HEAD keys of
 * bucket "r" that sort before every other, expiring in 1 ms. */
static void write_head_elsewhere(const char *dir)
{
    char uri[4300];
    snprintf(uri, sizeof uri, "lmdb://%s?reap_ms=0&sync=false", dir);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        kvstore_store *s = NULL;
        kvstore_bucket *b = NULL;
        if (kvstore_open(&s, uri) != KVSTORE_OK ||
            kvstore_bucket_open(&b, s, "r") != KVSTORE_OK)
            _exit(2);
        for (int i = 0; i < HEAD; i++) {
            char key[8];
            snprintf(key, sizeof key, "0%02d", i);
            if (kvstore_set_ttl(b, key, "h", 1, 1) != KVSTORE_OK)
                _exit(3);
        }
        kvstore_bucket_close(b);
        kvstore_close(s);
        _exit(0);
    }
    int status = 0;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
}

/* A pass walks a slice (10000 entries) and the next one resumes where it
 * stopped, wrapping to the top. WIDE live keys "a.." fill the first
 * slice, so the first pass cannot reach TAIL expired keys "z.." after
 * them; the second must (a pass that always starts at the top never
 * would), and must also wrap round to HEAD keys that expired at the top
 * after the first pass (a pass that stops at the bottom would not). */
static void test_slices_resume(void **state)
{
    tmp_store *t = *state;
    static char keys[1000][8];
    const char *kp[1000];
    const void *vp[1000];
    size_t lens[1000];
    for (int c = 0; c < WIDE / 1000; c++) {
        for (int i = 0; i < 1000; i++) {
            snprintf(keys[i], sizeof keys[i], "a%05d", c * 1000 + i);
            kp[i] = keys[i];
            vp[i] = "v";
            lens[i] = 1;
        }
        assert_ok(kvstore_set_many(t->b, kp, vp, lens, 1000));
    }
    for (int i = 0; i < TAIL; i++) {
        char key[8];
        snprintf(key, sizeof key, "z%03d", i);
        set_ttl_str(t->b, key, "z", 1);
    }
    /* The fill was made with reap_ms=0; from here every write of this
     * process is followed by a pass once 1 ms has gone by. Opening an
     * existing bucket writes nothing. */
    tmp_store_reopen(t, "lmdb://{dir}?reap_ms=1&sync=false", "r");
    sleep_ms(20);
    set_str(t->b, "m", "1");
    /* The registry entry, the wide keys, "m", and the tail still there. */
    assert_int_equal(raw_entries(t->dir), 1 + WIDE + 1 + TAIL);

    /* The store stays open: the position lives in its environment. */
    write_head_elsewhere(t->dir);
    assert_int_equal(raw_entries(t->dir), 1 + WIDE + 1 + TAIL + HEAD);
    sleep_ms(20);
    set_str(t->b, "m", "2");
    assert_int_equal(raw_entries(t->dir), 1 + WIDE + 1);
}

enum { WRITERS = 4, ROUNDS = 150 };

typedef struct writer_job {
    kvstore_bucket *b;
    int id;
    int failures;
} writer_job;

static atomic_bool writers_done;

/* Each round: a key that expires at once, one that stays, and a read of
 * the one that stays. Every write may lead a batch and run a pass. */
static void *writer(void *arg)
{
    writer_job *j = arg;
    for (int i = 0; i < ROUNDS; i++) {
        char key[32], val[32];
        snprintf(key, sizeof key, "t%d-gone%03d", j->id, i);
        if (kvstore_set_ttl(j->b, key, "g", 1, 1) != KVSTORE_OK)
            j->failures++;
        snprintf(key, sizeof key, "t%d-keep%03d", j->id, i);
        snprintf(val, sizeof val, "v%d.%d", j->id, i);
        if (kvstore_set(j->b, key, val, strlen(val)) != KVSTORE_OK)
            j->failures++;
        void *v = NULL;
        size_t len = 0;
        if (kvstore_get(j->b, key, &v, &len) != KVSTORE_OK ||
            len != strlen(val) || memcmp(v, val, len) != 0)
            j->failures++;
        kvstore_free(v);
    }
    return NULL;
}

/* Lists the bucket while the writers run: passes delete under readers. */
static void *lister(void *arg)
{
    kvstore_bucket *b = arg;
    long failures = 0;
    do {
        kvstore_keys *page = NULL;
        if (kvstore_list_keys(b, NULL, NULL, 100, &page) != KVSTORE_OK)
            failures++;
        kvstore_keys_free(page);
        /* Valgrind runs one thread at a time: a lister that never
         * yields can starve the writers it waits for. */
        sched_yield();
    } while (!atomic_load(&writers_done));
    return (void *)failures;
}

/* Writers in threads, with reaping on, so that leaders change and passes
 * run between batches while others read (what TSan is run on). */
static void test_concurrent_writers(void **state)
{
    tmp_store *t = *state;
    pthread_t th[WRITERS], lt;
    writer_job jobs[WRITERS];
    atomic_store(&writers_done, false);
    assert_int_equal(pthread_create(&lt, NULL, lister, t->b), 0);
    for (int i = 0; i < WRITERS; i++) {
        jobs[i] = (writer_job){ t->b, i, 0 };
        assert_int_equal(pthread_create(&th[i], NULL, writer, &jobs[i]), 0);
    }
    for (int i = 0; i < WRITERS; i++) {
        assert_int_equal(pthread_join(th[i], NULL), 0);
        assert_int_equal(jobs[i].failures, 0);
    }
    atomic_store(&writers_done, true);
    void *lf = NULL;
    assert_int_equal(pthread_join(lt, &lf), 0);
    assert_null(lf);

    sleep_ms(20);
    set_str(t->b, "trigger", "t");
    /* The registry entry, the kept keys and "trigger". */
    assert_int_equal(raw_entries(t->dir), 1 + WRITERS * ROUNDS + 1);
    char key[32], val[32];
    for (int j = 0; j < WRITERS; j++)
        for (int i = 0; i < ROUNDS; i++) {
            snprintf(key, sizeof key, "t%d-keep%03d", j, i);
            snprintf(val, sizeof val, "v%d.%d", j, i);
            expect_str(t->b, key, val);
        }
}

static void test_bad_values(void **state)
{
    tmp_store *t = *state;
    const char *bad[] = { "-1", "x", "1x", "31536000001", "" };
    char uri[4300];
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        snprintf(uri, sizeof uri, "lmdb://%s?reap_ms=%s", t->dir, bad[i]);
        open_fails(uri, KVSTORE_EINVAL);
    }
    /* The bounds themselves are accepted. */
    tmp_store_reopen(t, "lmdb://{dir}?reap_ms=31536000000", NULL);
    tmp_store_reopen(t, "lmdb://{dir}?reap_ms=0", NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        STORE_TEST(test_reaped, "lmdb://{dir}?reap_ms=1&sync=false", "r"),
        STORE_TEST(test_never, "lmdb://{dir}?reap_ms=0&sync=false", "r"),
        STORE_TEST(test_first_handle_wins,
                   "lmdb://{dir}?reap_ms=0&sync=false", "r"),
        STORE_TEST(test_slices_resume, "lmdb://{dir}?reap_ms=0&sync=false",
                   "r"),
        STORE_TEST(test_concurrent_writers,
                   "lmdb://{dir}?reap_ms=1&sync=false", "r"),
        TMP_STORE_TEST(test_bad_values),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

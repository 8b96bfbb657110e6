/*
 * sqlite backend specifics: URIs, value limits, per-key expiry, bucket
 * management, isolation of buckets whose names are prefixes of each
 * other, gets alternating between buckets on one reader connection (which
 * keeps the last bucket bound), and the Spin table layout (a Spin database opens with kvstore,
 * and a Spin-style write is seen by compare-and-swap).
 *
 * SPDX-License-Identifier: MIT
 */
#include <sys/stat.h>
#include <time.h>

#include "util.h"

#define VALUE_MAX (16u * 1024u * 1024u)

static void sleep_ms(long ms)
{
    struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };
    nanosleep(&ts, NULL);
}

static void test_uris(void **state)
{
    tmp_store *t = *state;
    const char *dir = t->dir;
    char uri[4400];
    kvstore_store *s = NULL;
    open_fails("sqlite:", KVSTORE_EINVAL);
    open_fails("sqlite://host/x.db", KVSTORE_EINVAL);
    snprintf(uri, sizeof uri, "sqlite://u:secret@/%s/kv.db", dir);
    open_fails(uri, KVSTORE_EINVAL);
    assert_null(strstr(kvstore_errmsg(), "secret"));
    db_uri(uri, sizeof uri, dir, "?sync=maybe");
    open_fails(uri, KVSTORE_EINVAL);
    db_uri(uri, sizeof uri, dir, "?timeout_ms=0");
    open_fails(uri, KVSTORE_EINVAL);
    /* create=false: a missing file is no store, and nothing is made. */
    db_uri(uri, sizeof uri, dir, "?create=false");
    open_fails(uri, KVSTORE_ENOSTORE);
    char path[4200];
    snprintf(path, sizeof path, "%s/kv.db", dir);
    assert_int_equal(access(path, F_OK), -1);
    /* A missing directory. */
    snprintf(uri, sizeof uri, "sqlite://%s/no/such/dir/kv.db", dir);
    open_fails(uri, KVSTORE_ENOSTORE);
    /* A directory where the file should be. */
    snprintf(uri, sizeof uri, "sqlite://%s", dir);
    open_fails(uri, KVSTORE_ENOSTORE);
    /* The files are private to their owner, whatever the umask allows. */
    mode_t old = umask(0);
    t->s = open_store(dir, NULL);
    t->b = open_bucket(t->s, "m");
    set_str(t->b, "k", "v");
    const char *suffixes[] = { "", "-wal", "-shm" };
    for (int i = 0; i < 3; i++) {
        char f[4300];
        struct stat sb;
        snprintf(f, sizeof f, "%s/kv.db%s", dir, suffixes[i]);
        assert_int_equal(stat(f, &sb), 0);
        if ((sb.st_mode & 0077) != 0)
            fail_msg("%s has mode %o", f, (unsigned)(sb.st_mode & 0777));
    }
    tmp_store_shut(t);
    umask(old);
    assert_int_equal(unlink(path), 0);
    /* A relative path spelled like an SQLite URI stays a file name. */
    char cwd[4096];
    assert_non_null(getcwd(cwd, sizeof cwd));
    assert_int_equal(chdir(dir), 0);
    kvstore_close(open_uri("sqlite:file:x.db?sync=false"));
    assert_int_equal(access("file:x.db", F_OK), 0);
    assert_int_equal(chdir(cwd), 0);
    /* A file that is not a database. */
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs("this is not an SQLite database, just some text long enough..."
          "..............................................................",
          f);
    fclose(f);
    db_uri(uri, sizeof uri, dir, NULL);
    assert_true(kvstore_open(&s, uri) < 0);
    assert_true(strlen(kvstore_errmsg()) > 0);
}

static void test_value_limit(void **state)
{
    tmp_store *t = *state;
    kvstore_bucket *b = t->b;
    unsigned char *v = malloc(VALUE_MAX + 1);
    assert_non_null(v);
    for (size_t i = 0; i < VALUE_MAX + 1; i++)
        v[i] = (unsigned char)(i * 31 + 7);
    assert_int_equal(kvstore_set(b, "max", v, VALUE_MAX), KVSTORE_OK);
    void *got = NULL;
    size_t len = 0;
    assert_int_equal(kvstore_get(b, "max", &got, &len), KVSTORE_OK);
    assert_int_equal(len, VALUE_MAX);
    assert_memory_equal(got, v, len);
    kvstore_free(got);
    assert_int_equal(kvstore_set(b, "over", v, VALUE_MAX + 1),
                     KVSTORE_ETOOBIG);
    assert_non_null(strstr(kvstore_errmsg(), "16777216"));
    assert_int_equal(kvstore_set_ttl(b, "over", v, VALUE_MAX + 1, 1000),
                     KVSTORE_ETOOBIG);
    bool e = true;
    assert_int_equal(kvstore_exists(b, "over", &e), KVSTORE_OK);
    assert_false(e);
    kvstore_bucket_stat info = { .version = KVSTORE_BUCKET_STAT_VERSION };
    assert_int_equal(kvstore_bucket_info(t->s, "big", &info), KVSTORE_OK);
    assert_int_equal(info.max_value, VALUE_MAX);
    assert_int_equal(info.keys, 1);
    free(v);
}

/* Per-key expiry as the API promises it is conformance-sqlite's
 * (test_ttl_*: expired keys absent for get, exists, get_many, listing,
 * CAS and ttl; an expired counter counts from 0; a CAS or a set over an
 * expired or expiring key leaves no expiry). Here: sqlite declares it,
 * reports the time left to the order of an hour, lists what is left in
 * key order, and a plain set really drops the expiry (the key outlives
 * it). */
static void test_ttl(void **state)
{
    tmp_store *t = *state;
    assert_true(kvstore_caps(t->s) & KVSTORE_CAP_TTL);
    kvstore_bucket *b = t->b;
    int64_t left = 0;
    assert_int_equal(kvstore_set_ttl(b, "short", "x", 1, 150), KVSTORE_OK);
    assert_int_equal(kvstore_set_ttl(b, "long", "y", 1, 3600000),
                     KVSTORE_OK);
    set_str(b, "plain", "z");
    assert_int_equal(kvstore_ttl(b, "long", &left), KVSTORE_OK);
    assert_true(left > 3500000 && left <= 3600000);
    expect_str(b, "short", "x");
    sleep_ms(300);
    expect_listed(b, NULL, "long plain");
    /* A plain set clears the expiry. */
    assert_int_equal(kvstore_set_ttl(b, "long", "y", 1, 100), KVSTORE_OK);
    set_str(b, "long", "y2");
    sleep_ms(200);
    expect_str(b, "long", "y2");
}

/* Listed keys, each followed by a space. */
typedef struct listed {
    char text[64];
} listed;

static void append_key(void *arg, const char *key)
{
    listed *l = arg;
    size_t n = strlen(l->text);
    if (n + strlen(key) + 2 > sizeof l->text)
        fail_msg("too many keys listed: %s%s", l->text, key);
    snprintf(l->text + n, sizeof l->text - n, "%s ", key);
}

static void test_list_skips_expired(void **state)
{
    kvstore_bucket *b = ((tmp_store *)*state)->b;
    char key[16];
    for (int i = 0; i < 30; i++) {
        snprintf(key, sizeof key, "k%02d", i);
        if (i % 6 == 0)
            set_str(b, key, "live");
        else
            assert_int_equal(kvstore_set_ttl(b, key, "x", 1, 50), KVSTORE_OK);
    }
    sleep_ms(150);
    listed seen = {""};
    /* walk_all checks every page against the limit of 2. */
    assert_true(walk_all(b, "k", NULL, 2, append_key, &seen) < 40);
    assert_string_equal(seen.text, "k00 k06 k12 k18 k24 ");
}

/* With reap_ms, expired rows are deleted from the file after a write. */
static void test_reap(void **state)
{
    tmp_store *t = *state;
    kvstore_bucket *b = t->b;
    for (int i = 0; i < 50; i++) {
        char key[16];
        snprintf(key, sizeof key, "e%02d", i);
        assert_int_equal(kvstore_set_ttl(b, key, "x", 1, 20), KVSTORE_OK);
    }
    assert_int_equal(kvstore_set_ttl(b, "later", "y", 1, 3600000),
                     KVSTORE_OK);
    sleep_ms(100);
    set_str(b, "plain", "z"); /* a commit; the pass follows it */
    set_str(b, "plain", "z");
    sqlite3 *db = raw_db(t->dir, SQLITE_OPEN_READONLY);
    expect_sql(db, "SELECT count(*) FROM spin_key_value WHERE store = 'r'",
               "2"); /* later, plain */
    sqlite3_close(db);
    expect_str(b, "later", "y");
    /* Out of range. */
    char uri[4400];
    db_uri(uri, sizeof uri, t->dir, "?reap_ms=-1");
    open_fails(uri, KVSTORE_EINVAL);
}

static void test_bucket_management(void **state)
{
    tmp_store *t = *state;
    kvstore_store *s = t->s;
    /* Names that are prefixes of each other, or differ only in case. */
    const char *names[] = { "a", "a-", "a_b", "ab", "A", "b" };
    kvstore_bucket *bk[6];
    for (int i = 0; i < 6; i++) {
        bk[i] = open_bucket(s, names[i]);
        set_str(bk[i], "k", names[i]);
        set_str(bk[i], names[i], "own");
    }
    for (int i = 0; i < 6; i++) {
        expect_str(bk[i], "k", names[i]);
        assert_int_equal(listed_count(bk[i], NULL), 2);
    }
    /* Listing, in pages of two. */
    expect_buckets(s, 2, "A a a- a_b ab b");
    /* Info and remove. */
    kvstore_bucket_stat info = { .version = KVSTORE_BUCKET_STAT_VERSION };
    assert_int_equal(kvstore_bucket_info(s, "a", &info), KVSTORE_OK);
    assert_int_equal(info.keys, 2);
    assert_int_equal(kvstore_bucket_remove(s, "a"), KVSTORE_OK);
    assert_int_equal(kvstore_bucket_info(s, "a", &info), KVSTORE_ENOSTORE);
    assert_int_equal(kvstore_bucket_remove(s, "a"), KVSTORE_ENOSTORE);
    assert_int_equal(kvstore_bucket_remove(s, "nosuch"), KVSTORE_ENOSTORE);
    void *v = NULL;
    size_t len;
    assert_int_equal(kvstore_get(bk[0], "k", &v, &len), KVSTORE_NOTFOUND);
    for (int i = 1; i < 6; i++)
        expect_str(bk[i], "k", names[i]);
    /* An empty bucket exists; create=false finds it, not a removed one. */
    kvstore_bucket *empty = open_bucket(s, "empty");
    kvstore_bucket_close(empty);
    kvstore_store *s2 = open_in(t, "sqlite://{dir}/kv.db?create=false");
    kvstore_bucket_close(open_bucket(s2, "empty"));
    kvstore_bucket *gone = NULL;
    assert_int_equal(kvstore_bucket_open(&gone, s2, "a"), KVSTORE_ENOSTORE);
    kvstore_close(s2);
    for (int i = 0; i < 6; i++)
        kvstore_bucket_close(bk[i]);
}

/* One thread reads through one reader connection, whose get statement
 * keeps the bucket of its last get bound: alternating buckets, and a new
 * bucket handle (likely at a freed handle's address) must each read their
 * own rows. */
static void test_gets_alternate_buckets(void **state)
{
    tmp_store *t = *state;
    kvstore_bucket *x = open_bucket(t->s, "x"), *y = t->b;
    set_str(x, "k", "in x");
    set_str(y, "k", "in y");
    for (int i = 0; i < 3; i++) {
        expect_str(x, "k", "in x");
        expect_str(y, "k", "in y");
    }
    kvstore_bucket_close(x);
    kvstore_bucket *z = open_bucket(t->s, "z");
    expect_str(z, "k", NULL);
    set_str(z, "k", "in z");
    expect_str(z, "k", "in z");
    x = open_bucket(t->s, "x");
    expect_str(x, "k", "in x");
    expect_str(z, "k", "in z");
    expect_str(y, "k", "in y");
    kvstore_bucket_close(x);
    kvstore_bucket_close(z);
}

static void exec_sql(sqlite3 *db, const char *sql)
{
    char *err = NULL;
    if (sqlite3_exec(db, sql, NULL, NULL, &err) != SQLITE_OK)
        fail_msg("%s: %s", sql, err);
}

/* A database made as Spin makes it (its CREATE TABLE, its INSERT ... ON
 * CONFLICT), opened by kvstore; then Spin's statements on ours. */
static void test_spin_layout(void **state)
{
    tmp_store *t = *state;
    const int rw = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE;
    sqlite3 *db = raw_db(t->dir, rw);
    exec_sql(db, "CREATE TABLE IF NOT EXISTS spin_key_value ("
                 " store TEXT NOT NULL, key TEXT NOT NULL,"
                 " value BLOB NOT NULL, PRIMARY KEY (store, key))");
    exec_sql(db, "INSERT INTO spin_key_value (store, key, value)"
                 " VALUES ('default', 'greeting', x'68656c6c6f')");
    exec_sql(db, "INSERT INTO spin_key_value (store, key, value)"
                 " VALUES ('bad name', 'k', x'00')");
    sqlite3_close(db);

    t->s = open_store(t->dir, NULL);
    /* Spin's store "default" is a bucket, even with create=false. */
    kvstore_store *s2 = open_in(t, "sqlite://{dir}/kv.db?create=false");
    kvstore_bucket *b = open_bucket(s2, "default");
    expect_str(b, "greeting", "hello");
    /* "bad name" is not a bucket name */
    expect_buckets(t->s, 0, "default");

    /* A write by Spin while a CAS is open makes the swap fail. */
    kvstore_cas *cas = NULL;
    assert_int_equal(kvstore_cas_open(&cas, b, "greeting"), KVSTORE_OK);
    db = raw_db(t->dir, rw);
    sqlite3_busy_timeout(db, 5000);
    exec_sql(db, "INSERT INTO spin_key_value (store, key, value)"
                 " VALUES ('default', 'greeting', x'68656c6c6f')"
                 " ON CONFLICT(store, key) DO UPDATE SET value = excluded.value");
    assert_int_equal(kvstore_cas_swap(cas, "x", 1), KVSTORE_ECONFLICT);
    kvstore_cas_free(cas);

    /* Spin's SELECT reads what kvstore wrote; its upsert clears our
     * expiry. */
    set_str(b, "from-kvstore", "v1");
    assert_int_equal(kvstore_set_ttl(b, "ttl", "t", 1, 3600000), KVSTORE_OK);
    exec_sql(db, "INSERT INTO spin_key_value (store, key, value)"
                 " VALUES ('default', 'ttl', x'74')"
                 " ON CONFLICT(store, key) DO UPDATE SET value = excluded.value");
    int64_t left = 0;
    assert_int_equal(kvstore_ttl(b, "ttl", &left), KVSTORE_OK);
    assert_int_equal(left, -1);
    sqlite3_stmt *st = NULL;
    assert_int_equal(sqlite3_prepare_v2(db, "SELECT value FROM spin_key_value"
                                        " WHERE store=$1 AND key=$2", -1,
                                        &st, NULL), SQLITE_OK);
    sqlite3_bind_text(st, 1, "default", -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, "from-kvstore", -1, SQLITE_STATIC);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    assert_int_equal(sqlite3_column_bytes(st, 0), 2);
    assert_memory_equal(sqlite3_column_blob(st, 0), "v1", 2);
    sqlite3_finalize(st);
    sqlite3_close(db);
    kvstore_bucket_close(b);
    kvstore_close(s2);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        TMP_STORE_TEST(test_uris),
        STORE_TEST(test_value_limit, "sqlite://{dir}/kv.db", "big"),
        STORE_TEST(test_ttl, "sqlite://{dir}/kv.db", "ttl"),
        STORE_TEST(test_list_skips_expired, "sqlite://{dir}/kv.db?sync=false",
                   "exp"),
        STORE_TEST(test_reap, "sqlite://{dir}/kv.db?sync=false&reap_ms=1",
                   "r"),
        STORE_TEST(test_bucket_management, "sqlite://{dir}/kv.db", NULL),
        STORE_TEST(test_gets_alternate_buckets, "sqlite://{dir}/kv.db", "y"),
        TMP_STORE_TEST(test_spin_layout),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

/*
 * kvstore-sqlite: one sq_db per database file per process, its
 * connections, schema and prepared statements.
 *
 * Why one per file: group commit batches the writers of the whole
 * process, and watches must see the writes of every handle of the file,
 * so every kvstore_open of one file shares one writer queue.
 *
 * SPDX-License-Identifier: MIT
 */
#include "sqlite.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

/* The table is Spin's key-value layout (store, key, value, primary key
 * (store, key)) plus two nullable columns of ours: `expires` (absolute
 * Unix time in ms, NULL for none) and `ver` (a random 64-bit number, new
 * for every write, so that compare-and-swap sees A-B-A). WITHOUT ROWID
 * keeps one B-tree ordered by (store, key): a listing is a range scan and
 * a row is stored once. `expires` comes before `value` in each record, so
 * that the expiry check of a listing never reads a large value's overflow
 * pages. A Spin database (which has a rowid) is opened as is: the two
 * columns are added (at the end) by ALTER TABLE. */
static const char schema_sql[] =
    "CREATE TABLE IF NOT EXISTS spin_key_value ("
    " store TEXT NOT NULL, key TEXT NOT NULL,"
    " expires INTEGER, ver INTEGER, value BLOB NOT NULL,"
    " PRIMARY KEY (store, key)) WITHOUT ROWID;"
    "CREATE TABLE IF NOT EXISTS kvstore_buckets ("
    " name TEXT PRIMARY KEY NOT NULL) WITHOUT ROWID;"
    "CREATE TABLE IF NOT EXISTS kvstore_ttl_buckets ("
    " name TEXT PRIMARY KEY NOT NULL) WITHOUT ROWID;";

/* Another program (Spin) updating a value leaves `ver` as it was: this
 * trigger gives the row a new version and clears its expiry, as our own
 * writes do. Our writes always set a new `ver`, so it never fires for
 * them; its own UPDATE does not touch `value`, so it cannot fire itself
 * even where recursive triggers are on (Debian builds them on). */
static const char trigger_sql[] =
    "CREATE TRIGGER IF NOT EXISTS kvstore_foreign_update"
    " AFTER UPDATE OF value ON spin_key_value"
    " WHEN NEW.ver IS OLD.ver BEGIN"
    " UPDATE spin_key_value SET ver = random(), expires = NULL"
    " WHERE store = NEW.store AND key = NEW.key; END;";

/* A row is live when it has no expiry or expires after ?now. */
#define LIVE(n) "(expires IS NULL OR expires > ?" #n ")"

static const char *const stmt_sql[S_COUNT] = {
    /* Reads fetch `expires` and check it in C: most rows have none, and
     * then the check costs neither a clock read nor VDBE work. */
    [S_GET] = "SELECT expires, value FROM spin_key_value"
              " WHERE store = ?1 AND key = ?2",
    [S_GETX] = "SELECT value, expires, ver FROM spin_key_value"
               " WHERE store = ?1 AND key = ?2",
    /* S_GETX without the value (exists, ttl). */
    [S_HEAD] = "SELECT NULL, expires, ver FROM spin_key_value"
               " WHERE store = ?1 AND key = ?2",
    [S_PUT] = "INSERT INTO spin_key_value (store, key, value, expires, ver)"
              " VALUES (?1, ?2, ?3, ?4, random())"
              " ON CONFLICT (store, key) DO UPDATE SET value = excluded.value,"
              " expires = excluded.expires, ver = excluded.ver",
    [S_DEL] = "DELETE FROM spin_key_value WHERE store = ?1 AND key = ?2",
    [S_CAS_UPD] = "UPDATE spin_key_value SET value = ?3, expires = NULL,"
                  " ver = random() WHERE store = ?1 AND key = ?2"
                  " AND ver IS ?4 AND " LIVE(5),
    [S_CAS_INS] = "INSERT INTO spin_key_value (store, key, value, expires, ver)"
                  " VALUES (?1, ?2, ?3, NULL, random())"
                  " ON CONFLICT (store, key) DO UPDATE SET"
                  " value = excluded.value, expires = NULL,"
                  " ver = excluded.ver"
                  " WHERE expires IS NOT NULL AND expires <= ?4",
    /* Listing: ?2 is the lower bound (the prefix, inclusive, or the
     * cursor's last key, exclusive), ?3 the exclusive upper bound of the
     * prefix range. One statement per shape so that each is one bounded
     * range scan of the primary key; the expiry is fetched only for
     * buckets that ever had a key with one (kvstore_ttl_buckets), since
     * reading a second column costs a listing about a quarter more. */
#define LIST(cols, lo, hi) "SELECT " cols " FROM spin_key_value" \
    " WHERE store = ?1 AND key " lo " ?2" hi " ORDER BY key LIMIT ?5"
    [S_LIST + 0] = LIST("key", ">=", ""),
    [S_LIST + 1] = LIST("key", ">=", " AND key < ?3"),
    [S_LIST + 2] = LIST("key", ">", ""),
    [S_LIST + 3] = LIST("key", ">", " AND key < ?3"),
    [S_LIST + 4] = LIST("key, expires", ">=", ""),
    [S_LIST + 5] = LIST("key, expires", ">=", " AND key < ?3"),
    [S_LIST + 6] = LIST("key, expires", ">", ""),
    [S_LIST + 7] = LIST("key, expires", ">", " AND key < ?3"),
#undef LIST
    [S_BUCKET_HAS] = "SELECT 1 FROM kvstore_buckets WHERE name = ?1"
                     " UNION ALL SELECT 1 FROM spin_key_value"
                     " WHERE store = ?1 LIMIT 1",
    [S_BUCKET_ADD] = "INSERT OR IGNORE INTO kvstore_buckets (name)"
                     " VALUES (?1)",
    [S_BUCKET_DEL_KEYS] = "DELETE FROM spin_key_value WHERE store = ?1",
    [S_BUCKET_DEL] = "DELETE FROM kvstore_buckets WHERE name = ?1",
    /* Buckets are the names we created plus the stores of a Spin
     * database that has keys in them. */
    [S_TTL_HAS] = "SELECT 1 FROM kvstore_ttl_buckets WHERE name = ?1",
    [S_TTL_ADD] = "INSERT OR IGNORE INTO kvstore_ttl_buckets (name) VALUES (?1)",
    [S_TTL_DEL] = "DELETE FROM kvstore_ttl_buckets WHERE name = ?1",
    /* Expired rows of the buckets that have expiring keys, a bounded
     * number per pass (row values need SQLite 3.15). */
    [S_REAP] = "DELETE FROM spin_key_value WHERE (store, key) IN ("
               "SELECT store, key FROM spin_key_value WHERE store IN ("
               "SELECT name FROM kvstore_ttl_buckets) AND expires <= ?1"
               " LIMIT 10000)",
    [S_BUCKET_LIST] = "SELECT name FROM kvstore_buckets WHERE name > ?1"
                      " UNION SELECT DISTINCT store FROM spin_key_value"
                      " WHERE store > ?1 ORDER BY 1 LIMIT ?2",
    [S_BUCKET_COUNT] = "SELECT count(*) FROM spin_key_value"
                       " WHERE store = ?1 AND " LIVE(2),
    [S_BEGIN_W] = "BEGIN IMMEDIATE",
    [S_BEGIN_R] = "BEGIN",
    [S_COMMIT] = "COMMIT",
    [S_ROLLBACK] = "ROLLBACK",
};

int64_t sq_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

bool sq_live(sqlite3_stmt *s, int col, int64_t *now)
{
    if (sqlite3_column_type(s, col) == SQLITE_NULL)
        return true;
    if (*now == 0)
        *now = sq_now_ms();
    return sqlite3_column_int64(s, col) > *now;
}

static int64_t mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int sq_status(int src)
{
    switch (src & 0xff) {
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
        return KVSTORE_EUNAVAILABLE;
    case SQLITE_NOMEM:
        return KVSTORE_ENOMEM;
    case SQLITE_TOOBIG:
        return KVSTORE_ETOOBIG;
    case SQLITE_CANTOPEN:
        return KVSTORE_ENOSTORE;
    case SQLITE_PERM:
    case SQLITE_READONLY:
    case SQLITE_AUTH:
        return KVSTORE_EACCESS;
    default:
        return KVSTORE_EIO;
    }
}

int sq_fail(sqlite3 *db, int src, const char *what)
{
    const char *text = db ? sqlite3_errmsg(db) : sqlite3_errstr(src);
    return kvstore_set_error(sq_status(src), "sqlite: %s: %s", what, text);
}

/* SQLite's own busy handler sleeps in steps of up to 100 ms; two
 * processes taking turns on the write lock would spend most of their time
 * asleep. This one polls every 50-500 us until the store's timeout. */
static int busy_handler(void *arg, int count)
{
    sq_conn *c = arg;
    int64_t now = mono_ms();
    if (count == 0)
        c->busy_start_ms = now;
    else if (now - c->busy_start_ms >= c->timeout_ms)
        return 0;
    struct timespec ts = { 0, (count < 20 ? 50 : 500) * 1000L };
    nanosleep(&ts, NULL);
    return 1;
}

void sq_bind_key(sqlite3_stmt *s, const char *bucket, const char *key)
{
    sqlite3_bind_text(s, 1, bucket, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 2, key, -1, SQLITE_STATIC);
}

sqlite3_stmt *sq_stmt(sq_conn *c, enum sq_stmt which)
{
    /* Every caller binds every parameter of the statement each time, so
     * the old bindings need no clearing. */
    sqlite3_stmt *s = c->st[which];
    sqlite3_reset(s);
    return s;
}

static void conn_close(sq_conn *c)
{
    if (c == NULL)
        return;
    for (int i = 0; i < S_COUNT; i++)
        sqlite3_finalize(c->st[i]);
    sqlite3_close(c->db);
    free(c);
}

/* Runs `sql` (several statements) on `c`. */
static int exec(sq_conn *c, const char *sql, const char *what)
{
    int src = sqlite3_exec(c->db, sql, NULL, NULL, NULL);
    return src == SQLITE_OK ? KVSTORE_OK : sq_fail(c->db, src, what);
}

static int conn_open(sq_conn **out, const char *path, bool create,
                     int64_t timeout_ms)
{
    sq_conn *c = calloc(1, sizeof *c);
    if (c == NULL)
        return kvstore_set_error(KVSTORE_ENOMEM, "sqlite: out of memory");
    c->timeout_ms = timeout_ms;
    int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX |
                (create ? SQLITE_OPEN_CREATE : 0);
    int src = sqlite3_open_v2(path, &c->db, flags, NULL);
    if (src != SQLITE_OK) {
        int rc = sq_fail(c->db, src, "cannot open the database");
        conn_close(c);
        return rc;
    }
    sqlite3_extended_result_codes(c->db, 1);
    sqlite3_busy_handler(c->db, busy_handler, c);
    /* Reads map the file instead of copying each page out with pread:
     * listing 100k keys took about half the time (bench-sqlite). Writes
     * still go through write(), so durability is the same. */
    int rc = exec(c, "PRAGMA mmap_size = 1073741824", "cannot set mmap_size");
    if (rc != KVSTORE_OK) {
        conn_close(c);
        return rc;
    }
    *out = c;
    return KVSTORE_OK;
}

int sq_set_sync(sq_db *db, bool full)
{
    int rc = exec(db->writer, full ? "PRAGMA synchronous = FULL"
                                   : "PRAGMA synchronous = NORMAL",
                  "cannot set synchronous");
    if (rc == KVSTORE_OK)
        db->writer_sync = full;
    return rc;
}

static int conn_prepare(sq_conn *c)
{
    for (int i = 0; i < S_COUNT; i++) {
        int src = sqlite3_prepare_v3(c->db, stmt_sql[i], -1,
                                     SQLITE_PREPARE_PERSISTENT, &c->st[i],
                                     NULL);
        if (src != SQLITE_OK)
            return sq_fail(c->db, src, "cannot prepare a statement");
    }
    return KVSTORE_OK;
}

/* True if the table has column `col` (a Spin table lacks ours). */
static bool has_column(sq_conn *c, const char *col)
{
    char sql[96];
    snprintf(sql, sizeof sql, "SELECT %s FROM spin_key_value LIMIT 0", col);
    sqlite3_stmt *s = NULL;
    int src = sqlite3_prepare_v2(c->db, sql, -1, &s, NULL);
    sqlite3_finalize(s);
    return src == SQLITE_OK;
}

/* Creates or upgrades the schema in one write transaction, so that two
 * processes opening a new file at once do not race. */
static int setup_schema(sq_conn *c)
{
    int rc = exec(c, "PRAGMA journal_mode = WAL", "cannot enable WAL");
    if (rc != KVSTORE_OK)
        return rc;
    rc = exec(c, "BEGIN IMMEDIATE", "cannot lock the database");
    if (rc != KVSTORE_OK)
        return rc;
    rc = exec(c, schema_sql, "cannot create the tables");
    if (rc == KVSTORE_OK && !has_column(c, "expires"))
        rc = exec(c, "ALTER TABLE spin_key_value ADD COLUMN expires INTEGER",
                  "cannot add the expiry column");
    if (rc == KVSTORE_OK && !has_column(c, "ver"))
        rc = exec(c, "ALTER TABLE spin_key_value ADD COLUMN ver INTEGER",
                  "cannot add the version column");
    if (rc == KVSTORE_OK)
        rc = exec(c, trigger_sql, "cannot create the trigger");
    if (rc == KVSTORE_OK)
        rc = exec(c, "COMMIT", "cannot commit the schema");
    if (rc != KVSTORE_OK)
        sqlite3_exec(c->db, "ROLLBACK", NULL, NULL, NULL);
    return rc;
}

static void db_free(void *p)
{
    sq_db *db = p;
    conn_close(db->writer);
    conn_close(atomic_load(&db->spare));
    while (db->readers != NULL) {
        sq_conn *c = db->readers;
        db->readers = c->next;
        conn_close(c);
    }
    pthread_mutex_destroy(&db->pool_mu);
    kvstore_commit_queue_free(db->commits);
    kvstore_watch_list_free(db->watches);
    free(db->path);
    free(db);
}

static int db_new(sq_db **out, const char *path, bool create,
                  int64_t timeout_ms)
{
    sq_db *db = calloc(1, sizeof *db);
    if (db == NULL || (db->path = strdup(path)) == NULL) {
        free(db);
        return kvstore_set_error(KVSTORE_ENOMEM, "sqlite: out of memory");
    }
    pthread_mutex_init(&db->pool_mu, NULL);
    db->timeout_ms = timeout_ms;
    int rc = sq_commits_new(db);
    if (rc == KVSTORE_OK && (db->watches = kvstore_watch_list_new()) == NULL)
        rc = kvstore_set_error(KVSTORE_ENOMEM, "sqlite: out of memory");
    if (rc == KVSTORE_OK)
        rc = conn_open(&db->writer, path, create, timeout_ms);
    if (rc == KVSTORE_OK)
        rc = setup_schema(db->writer);
    if (rc == KVSTORE_OK)
        rc = conn_prepare(db->writer);
    /* After preparing: PRAGMA synchronous takes effect when a statement
     * is compiled, not when it runs, so it is never kept prepared. */
    if (rc == KVSTORE_OK)
        rc = sq_set_sync(db, true);
    if (rc != KVSTORE_OK) {
        db_free(db);
        return rc;
    }
    *out = db;
    return KVSTORE_OK;
}

/* Creates a missing database file with mode 0600 before SQLite opens it:
 * SQLite would make it 0644, and gives the -wal and -shm files it creates
 * later the mode of the database file, so all three stay private to the
 * owner (less nothing: the umask can only remove bits). An empty file is
 * a valid empty database. An existing file is left as it is. */
static int create_private(const char *path)
{
    int fd = open(path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW,
                  0600);
    if (fd >= 0) {
        close(fd);
        return KVSTORE_OK;
    }
    if (errno == EEXIST)
        return KVSTORE_OK;
    return kvstore_set_error(errno == ENOENT || errno == ENOTDIR
                                 ? KVSTORE_ENOSTORE
                                 : errno == EACCES ? KVSTORE_EACCESS
                                                   : KVSTORE_EIO,
                             "sqlite: cannot create '%s': %s", path,
                             strerror(errno));
}

/* What db_open needs besides the registry's arguments. */
typedef struct db_args {
    const char *path;
    bool create;
    int64_t timeout_ms, reap_ms;
} db_args;

static int db_open(void **out, void *ctx)
{
    const db_args *a = ctx;
    sq_db *db = NULL;
    int rc = db_new(&db, a->path, a->create, a->timeout_ms);
    if (rc == KVSTORE_OK) {
        db->reap_ms = a->reap_ms;
        db->next_reap_ms = sq_now_ms() + a->reap_ms;
    }
    *out = db;
    return rc;
}

int sq_db_get(sq_db **out, const char *path, bool create, int64_t timeout_ms,
              int64_t reap_ms)
{
    struct stat sb;
    int rc = KVSTORE_OK;
    if (stat(path, &sb) == 0) {
        if (!S_ISREG(sb.st_mode))
            rc = kvstore_set_error(KVSTORE_ENOSTORE, "sqlite: '%s' is not a "
                                   "regular file", path);
    } else if (errno == ENOENT && !create) {
        rc = kvstore_set_error(KVSTORE_ENOSTORE, "sqlite: no database '%s' "
                               "(create=false)", path);
    }
    if (rc == KVSTORE_OK && create)
        rc = create_private(path);
    /* One sq_db per file: group commit and watches need every handle of
     * the file to meet in it. */
    void *db = NULL;
    if (rc == KVSTORE_OK)
        rc = kvstore_shared_get(&db, "sqlite", path, db_open,
                                &(db_args){path, create, timeout_ms, reap_ms});
    *out = db;
    return rc;
}

void sq_db_put(sq_db *db)
{
    kvstore_shared_put(db, db_free);
}

int sq_reader(sq_db *db, sq_conn **out)
{
    sq_conn *c = atomic_exchange_explicit(&db->spare, NULL,
                                          memory_order_acquire);
    if (c != NULL) {
        *out = c;
        return KVSTORE_OK;
    }
    pthread_mutex_lock(&db->pool_mu);
    c = db->readers;
    if (c != NULL)
        db->readers = c->next;
    pthread_mutex_unlock(&db->pool_mu);
    if (c != NULL) {
        c->next = NULL;
        *out = c;
        return KVSTORE_OK;
    }
    /* None free: one more reader (it joins the pool when done). */
    int rc = conn_open(&c, db->path, false, db->timeout_ms);
    if (rc != KVSTORE_OK)
        return rc;
    if ((rc = conn_prepare(c)) != KVSTORE_OK) {
        conn_close(c);
        return rc;
    }
    *out = c;
    return KVSTORE_OK;
}

void sq_reader_done(sq_db *db, sq_conn *c)
{
    sq_conn *none = NULL;
    if (atomic_compare_exchange_strong_explicit(&db->spare, &none, c,
                                                memory_order_release,
                                                memory_order_relaxed))
        return;
    pthread_mutex_lock(&db->pool_mu);
    c->next = db->readers;
    db->readers = c;
    pthread_mutex_unlock(&db->pool_mu);
}

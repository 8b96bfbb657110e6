/*
 * kvstore-sqlite: internal declarations shared by the files of the SQLite
 * backend module. Written only against <kvstore/backend.h> and libsqlite3.
 *
 * Ownership:
 * - sq_db is one per database file per process, shared by every
 *   kvstore_open of that file and reference counted by them in the core's
 *   registry (kvstore_shared_get). It owns the writer connection, the pool of reader
 *   connections, the group-commit queue and the list of watches.
 * - sq_store is one per kvstore_open: it holds a reference on its sq_db and
 *   owns only itself. sq_bucket borrows its store (the core keeps the store
 *   alive until the last bucket is closed) and owns only itself.
 * - sq_op is owned by the thread that submitted it, on its stack; the
 *   leader of a group commit only borrows it until it marks it done.
 *
 * SPDX-License-Identifier: MIT
 */
#ifndef KVSTORE_SQ_H
#define KVSTORE_SQ_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include <sqlite3.h>
#include <kvstore/backend.h>

/* The largest value accepted (docs/backends/sqlite.md). SQLite itself
 * allows a blob of up to SQLITE_MAX_LENGTH (1e9 bytes by default); 16 MiB
 * keeps one group-commit batch and its watch copies bounded. */
#define SQ_VALUE_MAX (16u * 1024u * 1024u)

/* Prepared statements, one set per connection (see db.c for the SQL). */
enum sq_stmt {
    S_GET, S_GETX, S_HEAD, S_PUT, S_DEL, S_CAS_UPD, S_CAS_INS,
    /* Listing: (>= prefix | > cursor) x (no upper bound | < end of the
     * prefix range) x (key only | key and expiry): S_LIST + index. */
    S_LIST, S_LIST_LAST = S_LIST + 7,
    S_BUCKET_HAS, S_BUCKET_ADD, S_BUCKET_DEL_KEYS, S_BUCKET_DEL,
    S_TTL_HAS, S_TTL_ADD, S_TTL_DEL, S_REAP,
    S_BUCKET_LIST, S_BUCKET_COUNT,
    S_BEGIN_W, S_BEGIN_R, S_COMMIT, S_ROLLBACK,
    S_COUNT
};

/* One SQLite connection with its statements. Used by one thread at a
 * time (opened with SQLITE_OPEN_NOMUTEX). */
typedef struct sq_conn {
    sqlite3 *db;
    sqlite3_stmt *st[S_COUNT];
    int64_t busy_start_ms;     /* start of the current busy wait */
    int64_t timeout_ms;
    /* The bucket whose name S_GET has bound as ?1 (0: none): a get on
     * the same bucket skips re-binding it. Bucket ids are never reused,
     * so a match means the bound name is still that live bucket's. */
    uint64_t get_bucket_id;
    struct sq_conn *next;      /* in the reader pool */
} sq_conn;

typedef struct sq_op sq_op;

typedef struct sq_db {
    char *path;                /* as opened (owned) */
    int64_t timeout_ms;        /* of the first handle ("timeout_ms") */
    int64_t reap_ms;           /* of the first handle ("reap_ms"), 0: never */
    int64_t next_reap_ms;      /* leader only: when to reap next */

    sq_conn *writer;           /* used only by the group-commit leader */
    bool writer_sync;          /* synchronous=FULL is set, else NORMAL */

    /* One idle reader kept outside the pool: a thread takes it with one
     * atomic exchange and gives it back with one compare-and-swap, so a
     * read that finds it (always, with one reading thread) takes no
     * lock. The pool below holds the others. */
    _Atomic(sq_conn *) spare;
    pthread_mutex_t pool_mu;   /* guards readers */
    sq_conn *readers;

    kvstore_commit_queue *commits; /* the group commit (commit.c) */

    kvstore_watch_list *watches; /* of this process, on any bucket */
} sq_db;

typedef struct sq_store {
    sq_db *db;                 /* one reference */
    bool sync;                 /* "sync" */
} sq_store;

typedef struct sq_bucket {
    sq_store *st;              /* borrowed */
    uint64_t id;               /* unique in the process, never 0 */
    char name[KVSTORE_BUCKET_NAME_MAX + 1];
} sq_bucket;

/* ---- write operations (commit.c) ---- */
typedef enum sq_kind {
    OP_PUT, OP_DEL, OP_INCR, OP_CAS, OP_BUCKET_ADD, OP_BUCKET_REMOVE
} sq_kind;

struct sq_op {
    sq_kind kind;
    const char *bucket;
    /* OP_PUT / OP_DEL: n keys (and values); others use keys[0]. */
    const char *const *keys;
    const void *const *values;
    const size_t *lens;
    size_t n;
    int64_t expires;           /* OP_PUT: absolute ms, 0 for none */
    int64_t delta, result;     /* OP_INCR */
    char text[24];             /* OP_INCR: the stored decimal */
    bool cas_found;            /* OP_CAS: the snapshot */
    bool cas_ver_null;
    int64_t cas_ver;
    bool sync;                 /* needs synchronous=FULL */
    /* Results, written by the leader within its commit. */
    int rc;
    char msg[200];
};

/* Creates db->commits, the group commit of `db` (db.c, when it opens). */
int sq_commits_new(sq_db *db);
/* Runs `op` (built with rc KVSTORE_OK, 0) in the next group commit of `db`
 * and returns its status once the commit that covers it (and its fsync)
 * has finished; on failure the calling thread's error message is set. */
static inline int sq_submit(sq_db *db, sq_op *op)
{
    return kvstore_commit_queue_run(db->commits, op, op->msg);
}

/* ---- database, connections (db.c) ---- */
int sq_db_get(sq_db **out, const char *path, bool create, int64_t timeout_ms,
              int64_t reap_ms);
void sq_db_put(sq_db *db);
/* Sets synchronous=FULL (true) or NORMAL on the writer (leader only). */
int sq_set_sync(sq_db *db, bool full);
/* A reader connection from the pool (opened if none is free). */
int sq_reader(sq_db *db, sq_conn **out);
void sq_reader_done(sq_db *db, sq_conn *c);
/* A statement of `c`, reset; the caller binds every parameter. */
sqlite3_stmt *sq_stmt(sq_conn *c, enum sq_stmt which);
/* Binds ?1 = bucket and ?2 = key, without copies: both must outlive the
 * statement's next reset. */
void sq_bind_key(sqlite3_stmt *s, const char *bucket, const char *key);
/* Maps an SQLite result code to a kvstore status. */
int sq_status(int src);
/* Records a message naming `what` and SQLite's text; returns the status. */
int sq_fail(sqlite3 *db, int src, const char *what);
int64_t sq_now_ms(void);
/* True if column `col` of the current row (`expires`) is NULL or after
 * *now; *now is read from the clock on first need (0: not yet). */
bool sq_live(sqlite3_stmt *s, int col, int64_t *now);

/* ---- watch (watch.c) ---- */
/* Queues events for the committed ops of a batch (leader, after COMMIT). */
void sq_watch_publish(sq_db *db, void *const *ops, size_t n);

/* ---- store.c: single keys, and what batch.c and atomics.c share ---- */
/* Sets the ETOOBIG error for a value of `len` bytes; returns its code. */
int sq_too_big(size_t len);
/* S_GET of reader `c` with `b` and `key` bound (the bucket's name only
 * when the reader's last get was on another bucket), ready to step; the
 * caller resets it. */
sqlite3_stmt *sq_get_stmt(sq_conn *c, const sq_bucket *b, const char *key);
/* One get on reader `c`: KVSTORE_OK (*value: kvstore_malloc),
 * KVSTORE_NOTFOUND or an error. */
int sq_get_on(sq_conn *c, const sq_bucket *b, const char *key, int64_t *now,
              void **value, size_t *len);
/* Writes n keys in one group-commit op (expires: absolute ms, 0: none). */
int sq_put(sq_bucket *b, const char *const *keys, const void *const *values,
           const size_t *lens, size_t n, int64_t expires);
/* Reads the row of `key` with its expiry and version; *found is false for
 * a missing or expired row; the value is copied when `value` is not NULL. */
int sq_read_row(sq_bucket *b, const char *key, bool *found, void **value,
                size_t *len, int64_t *expires, bool *ver_null, int64_t *ver);

/* ---- the table's slots, sq_<slot> (see <kvstore/backend.h>): backend.c,
 * bucket.c, store.c, lend.c, batch.c, atomics.c, list.c, watch.c ---- */
KVSTORE_SLOT_PROTOTYPES(sq);

#endif /* KVSTORE_SQ_H */

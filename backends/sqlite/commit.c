/*
 * kvstore-sqlite: group commit.
 *
 * Every write of the process to one database file goes through one
 * kvstore_commit_queue (<kvstore/backend.h>): the core queues the
 * writers' operations, makes one of them the leader and gathers the
 * writers of the last commit; this file is what the leader runs. It
 * applies every operation of a batch in one BEGIN IMMEDIATE transaction
 * on the writer connection and commits once (one WAL fsync with
 * synchronous=FULL). So a set returns only after the commit (and fsync)
 * that covers it, and N concurrent writers share one fsync instead of
 * queuing for N.
 *
 * Each operation checks its own preconditions (counter syntax, CAS
 * version) inside the transaction, so a failed increment or a lost CAS
 * does not affect its batch. An SQLite failure rolls the whole batch back
 * and fails every operation in it: none of them was applied.
 *
 * SPDX-License-Identifier: MIT
 */
#include "sqlite.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Records a failure of `op` for its submitter (errors are per thread, and
 * the leader is another thread). */
KVSTORE_PRINTF(3, 4)
static int op_fail(sq_op *op, int rc, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(op->msg, sizeof op->msg, fmt, ap);
    va_end(ap);
    return op->rc = rc;
}

static int step_done(sqlite3_stmt *s)
{
    int src = sqlite3_step(s);
    sqlite3_reset(s);
    return src == SQLITE_DONE || src == SQLITE_ROW ? SQLITE_OK : src;
}

static int apply_put(sq_conn *w, sq_op *op, int *src)
{
    if (op->expires != 0) {
        /* Listing reads the expiry column only for buckets named here,
         * written in the same transaction as the first expiring key. */
        sqlite3_stmt *t = sq_stmt(w, S_TTL_ADD);
        sqlite3_bind_text(t, 1, op->bucket, -1, SQLITE_STATIC);
        if ((*src = step_done(t)) != SQLITE_OK)
            return -1;
    }
    for (size_t i = 0; i < op->n; i++) {
        sqlite3_stmt *s = sq_stmt(w, S_PUT);
        sq_bind_key(s, op->bucket, op->keys[i]);
        /* A zero-length blob must still be a blob, not NULL: the column
         * is NOT NULL and an empty value is a value. */
        sqlite3_bind_blob64(s, 3, op->lens[i] ? op->values[i] : "",
                            op->lens[i], SQLITE_STATIC);
        if (op->expires != 0)
            sqlite3_bind_int64(s, 4, op->expires);
        else
            sqlite3_bind_null(s, 4);
        if ((*src = step_done(s)) != SQLITE_OK)
            return -1;
    }
    return op->rc = KVSTORE_OK;
}

static int apply_del(sq_conn *w, sq_op *op, int *src)
{
    for (size_t i = 0; i < op->n; i++) {
        sqlite3_stmt *s = sq_stmt(w, S_DEL);
        sq_bind_key(s, op->bucket, op->keys[i]);
        if ((*src = step_done(s)) != SQLITE_OK)
            return -1;
    }
    return op->rc = KVSTORE_OK;
}

static int apply_incr(sq_conn *w, sq_op *op, int64_t now, int *src)
{
    int64_t cur = 0, next;
    sqlite3_stmt *s = sq_stmt(w, S_GETX);
    sq_bind_key(s, op->bucket, op->keys[0]);
    int r = sqlite3_step(s);
    if (r == SQLITE_ROW) {
        bool live = sqlite3_column_type(s, 1) == SQLITE_NULL ||
                    sqlite3_column_int64(s, 1) > now;
        const void *v = sqlite3_column_blob(s, 0);
        size_t n = (size_t)sqlite3_column_bytes(s, 0);
        if (live && kvstore_counter_parse(v ? v : "", n, &cur) != KVSTORE_OK) {
            sqlite3_reset(s);
            return op_fail(op, KVSTORE_EINVAL, "sqlite: the value of '%.64s' "
                           "is not a decimal int64", op->keys[0]);
        }
    } else if (r != SQLITE_DONE) {
        *src = r;
        sqlite3_reset(s);
        return -1;
    }
    sqlite3_reset(s);
    if (__builtin_add_overflow(cur, op->delta, &next))
        return op_fail(op, KVSTORE_EINVAL, "sqlite: incrementing '%.64s' "
                       "overflows int64", op->keys[0]);
    int len = snprintf(op->text, sizeof op->text, "%" PRId64, next);
    s = sq_stmt(w, S_PUT);
    sq_bind_key(s, op->bucket, op->keys[0]);
    sqlite3_bind_blob(s, 3, op->text, len, SQLITE_STATIC);
    sqlite3_bind_null(s, 4);
    if ((*src = step_done(s)) != SQLITE_OK)
        return -1;
    op->result = next;
    return op->rc = KVSTORE_OK;
}

static int apply_cas(sq_conn *w, sq_op *op, int64_t now, int *src)
{
    sqlite3_stmt *s;
    if (op->cas_found) {
        s = sq_stmt(w, S_CAS_UPD);
        sq_bind_key(s, op->bucket, op->keys[0]);
        sqlite3_bind_blob64(s, 3, op->lens[0] ? op->values[0] : "",
                            op->lens[0], SQLITE_STATIC);
        if (!op->cas_ver_null)
            sqlite3_bind_int64(s, 4, op->cas_ver);
        else
            sqlite3_bind_null(s, 4);
        sqlite3_bind_int64(s, 5, now);
    } else {
        s = sq_stmt(w, S_CAS_INS);
        sq_bind_key(s, op->bucket, op->keys[0]);
        sqlite3_bind_blob64(s, 3, op->lens[0] ? op->values[0] : "",
                            op->lens[0], SQLITE_STATIC);
        sqlite3_bind_int64(s, 4, now);
    }
    if ((*src = step_done(s)) != SQLITE_OK)
        return -1;
    if (sqlite3_changes(w->db) != 1)
        return op_fail(op, KVSTORE_ECONFLICT, "sqlite: '%.64s' changed since "
                       "the compare-and-swap began", op->keys[0]);
    return op->rc = KVSTORE_OK;
}

static int apply_bucket(sq_conn *w, sq_op *op, int *src)
{
    if (op->kind == OP_BUCKET_ADD) {
        sqlite3_stmt *s = sq_stmt(w, S_BUCKET_ADD);
        sqlite3_bind_text(s, 1, op->bucket, -1, SQLITE_STATIC);
        if ((*src = step_done(s)) != SQLITE_OK)
            return -1;
        return op->rc = KVSTORE_OK;
    }
    sqlite3_stmt *s = sq_stmt(w, S_BUCKET_DEL_KEYS);
    sqlite3_bind_text(s, 1, op->bucket, -1, SQLITE_STATIC);
    if ((*src = step_done(s)) != SQLITE_OK)
        return -1;
    int changed = sqlite3_changes(w->db);
    s = sq_stmt(w, S_BUCKET_DEL);
    sqlite3_bind_text(s, 1, op->bucket, -1, SQLITE_STATIC);
    if ((*src = step_done(s)) != SQLITE_OK)
        return -1;
    changed += sqlite3_changes(w->db);
    s = sq_stmt(w, S_TTL_DEL);
    sqlite3_bind_text(s, 1, op->bucket, -1, SQLITE_STATIC);
    if ((*src = step_done(s)) != SQLITE_OK)
        return -1;
    if (changed == 0)
        return op_fail(op, KVSTORE_ENOSTORE, "sqlite: no bucket '%s'",
                       op->bucket);
    return op->rc = KVSTORE_OK;
}

static int apply(sq_conn *w, sq_op *op, int64_t now, int *src)
{
    switch (op->kind) {
    case OP_PUT: return apply_put(w, op, src);
    case OP_DEL: return apply_del(w, op, src);
    case OP_INCR: return apply_incr(w, op, now, src);
    case OP_CAS: return apply_cas(w, op, now, src);
    case OP_BUCKET_ADD:
    case OP_BUCKET_REMOVE: return apply_bucket(w, op, src);
    }
    return op_fail(op, KVSTORE_EIO, "sqlite: unknown operation");
}

/* Records a batch-wide failure in every op, for their writers' messages,
 * and returns its status. */
static int fail_all(void *const *ops, size_t n, sqlite3 *db, int src,
                    const char *what)
{
    for (size_t i = 0; i < n; i++)
        op_fail(ops[i], sq_status(src), "sqlite: %s: %s", what,
                db ? sqlite3_errmsg(db) : sqlite3_errstr(src));
    return sq_status(src);
}

static int run_stmt(sq_conn *w, enum sq_stmt which)
{
    return step_done(sq_stmt(w, which));
}

/* Deletes expired rows, at most every reap_ms and 10000 rows a pass, in a
 * transaction of its own after a batch has committed, on the leader
 * (which owns the writer connection). The batch's writers wait for it,
 * once per reap_ms; the writers queued behind would wait as long if it
 * ran after their release. Best effort: a failure is retried at the next
 * pass. Expired rows are absent to every read anyway; this only gives
 * their space back. */
static void maybe_reap(sq_db *db)
{
    int64_t now = sq_now_ms();
    if (db->reap_ms == 0 || now < db->next_reap_ms)
        return;
    db->next_reap_ms = now + db->reap_ms;
    sq_conn *w = db->writer;
    if (run_stmt(w, S_BEGIN_W) != SQLITE_OK)
        return;
    sqlite3_stmt *s = sq_stmt(w, S_REAP);
    sqlite3_bind_int64(s, 1, now);
    if (step_done(s) != SQLITE_OK || run_stmt(w, S_COMMIT) != SQLITE_OK) {
        if (!sqlite3_get_autocommit(w->db))
            run_stmt(w, S_ROLLBACK);
    }
}

/* The commit queue's callback: applies one batch in one transaction and
 * commits it, on the leader. */
static int commit_batch(void *ctx, void *const *ops, int *status, size_t n)
{
    sq_db *db = ctx;
    sq_conn *w = db->writer;
    bool want = false;
    for (size_t i = 0; i < n; i++)
        want = want || ((sq_op *)ops[i])->sync;
    /* Handles of one file may differ in ?sync=: a batch syncs if any of
     * its writers asked for it. */
    if (want != db->writer_sync && sq_set_sync(db, want) != KVSTORE_OK)
        return fail_all(ops, n, w->db, sqlite3_errcode(w->db),
                        "cannot set synchronous");
    int src = run_stmt(w, S_BEGIN_W);
    if (src != SQLITE_OK)
        return fail_all(ops, n, w->db, src,
                        "cannot begin a write transaction");
    int64_t now = sq_now_ms();
    for (size_t i = 0; i < n && src == SQLITE_OK; i++)
        apply(w, ops[i], now, &src);
    if (src == SQLITE_OK)
        src = run_stmt(w, S_COMMIT);
    if (src != SQLITE_OK) {
        int rc = fail_all(ops, n, w->db, src, "the write failed");
        if (!sqlite3_get_autocommit(w->db))
            run_stmt(w, S_ROLLBACK);
        return rc;
    }
    for (size_t i = 0; i < n; i++)
        status[i] = ((sq_op *)ops[i])->rc;
    sq_watch_publish(db, ops, n);
    maybe_reap(db);
    return KVSTORE_OK;
}

int sq_commits_new(sq_db *db)
{
    return kvstore_commit_queue_new(&db->commits, commit_batch, db);
}

/*
 * kvstore-sqlite: batches. get_many reads every key in one read
 * transaction (one snapshot); set_many and delete_many are one
 * group-commit op each, so each is applied whole in one transaction with
 * the writes queued beside it.
 *
 * SPDX-License-Identifier: MIT
 */
#include "sqlite.h"

int sq_get_many(void *p, const char *const *keys, size_t n, void **values,
                size_t *lens)
{
    sq_bucket *b = p;
    sq_conn *c;
    for (size_t i = 0; i < n; i++)
        values[i] = NULL;
    int rc = sq_reader(b->st->db, &c);
    if (rc != KVSTORE_OK)
        return rc;
    /* One read transaction: one snapshot, one WAL lookup for the batch. */
    sqlite3_stmt *begin = sq_stmt(c, S_BEGIN_R);
    int src = sqlite3_step(begin);
    sqlite3_reset(begin);
    if (src != SQLITE_DONE)
        rc = sq_fail(c->db, src, "cannot begin a read");
    int64_t now = 0;
    for (size_t i = 0; i < n && rc >= 0; i++) {
        rc = sq_get_on(c, b, keys[i], &now, &values[i], &lens[i]);
        if (rc == KVSTORE_NOTFOUND)
            rc = KVSTORE_OK;
    }
    if (sqlite3_get_autocommit(c->db) == 0) {
        sqlite3_stmt *end = sq_stmt(c, S_COMMIT);
        sqlite3_step(end);
        sqlite3_reset(end);
    }
    sq_reader_done(b->st->db, c);
    if (rc < 0) {
        for (size_t i = 0; i < n; i++) {
            kvstore_free(values[i]);
            values[i] = NULL;
        }
        return rc;
    }
    return KVSTORE_OK;
}

int sq_set_many(void *p, const char *const *keys, const void *const *values,
                const size_t *lens, size_t n)
{
    return sq_put(p, keys, values, lens, n, 0);
}

int sq_delete_many(void *p, const char *const *keys, size_t n)
{
    sq_bucket *b = p;
    sq_op op = { .kind = OP_DEL, .bucket = b->name, .keys = keys, .n = n,
                 .sync = b->st->sync };
    return sq_submit(b->st->db, &op);
}

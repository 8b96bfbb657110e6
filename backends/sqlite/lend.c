/*
 * kvstore-sqlite: get_with, the get that lends the value
 * (kvstore_get_with). The callback reads the blob SQLite holds for the
 * current row of the reader's S_GET, valid until the statement is reset,
 * so a get costs no allocation and no copy. The reader connection stays
 * out of the pool and its read snapshot open meanwhile: writers go on
 * (WAL), but a checkpoint cannot pass the snapshot, which the API's "copy
 * what you need and return" keeps short.
 *
 * SPDX-License-Identifier: MIT
 */
#include "sqlite.h"

int sq_get_with(void *p, const char *key, kvstore_value_fn fn, void *ctx)
{
    sq_bucket *b = p;
    sq_conn *c;
    int rc = sq_reader(b->st->db, &c);
    if (rc != KVSTORE_OK)
        return rc;
    sqlite3_stmt *s = sq_get_stmt(c, b, key);
    int src = sqlite3_step(s);
    int64_t now = 0;
    if (src == SQLITE_ROW && sq_live(s, 0, &now)) {
        const void *v = sqlite3_column_blob(s, 1);
        size_t len = (size_t)sqlite3_column_bytes(s, 1);
        /* SQLite gives NULL for a zero-length blob: never lend NULL. */
        rc = fn(ctx, v != NULL ? v : "", len);
    } else if (src == SQLITE_ROW || src == SQLITE_DONE) {
        rc = KVSTORE_NOTFOUND;
    } else {
        rc = sq_fail(c->db, src, "cannot read");
    }
    sqlite3_reset(s);
    sq_reader_done(b->st->db, c);
    return rc;
}

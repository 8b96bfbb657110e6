/*
 * kvstore-sqlite: single keys: reads (on pooled reader connections),
 * writes (through the group commit of commit.c) and expiry.
 *
 * SPDX-License-Identifier: MIT
 */
#include "sqlite.h"

#include <stdlib.h>
#include <string.h>

int sq_too_big(size_t len)
{
    return kvstore_set_error(KVSTORE_ETOOBIG, "sqlite: a value of %zu bytes "
                             "is over the limit of %u bytes", len,
                             SQ_VALUE_MAX);
}

/* Copies column `col` of `s` into *value (kvstore_malloc, never NULL). */
static int copy_value(sqlite3_stmt *s, int col, void **value, size_t *len)
{
    const void *v = sqlite3_column_blob(s, col);
    size_t n = (size_t)sqlite3_column_bytes(s, col);
    void *copy = kvstore_malloc(n ? n : 1);
    if (copy == NULL)
        return kvstore_set_error(KVSTORE_ENOMEM, "sqlite: out of memory");
    if (n)
        memcpy(copy, v, n);
    *value = copy;
    *len = n;
    return KVSTORE_OK;
}

sqlite3_stmt *sq_get_stmt(sq_conn *c, const sq_bucket *b, const char *key)
{
    sqlite3_stmt *s = c->st[S_GET];
    /* Bindings survive sqlite3_reset: the bucket's name, bound without a
     * copy, is still ?1 when this reader's last get was on `b`. Binding
     * it was about 200 instructions of a 10,200-instruction get
     * (callgrind, docs/benchmarks.md). */
    if (c->get_bucket_id != b->id) {
        sqlite3_bind_text(s, 1, b->name, -1, SQLITE_STATIC);
        c->get_bucket_id = b->id;
    }
    sqlite3_bind_text(s, 2, key, -1, SQLITE_STATIC);
    return s;
}

/* One get on reader `c`: KVSTORE_OK, KVSTORE_NOTFOUND or an error. */
int sq_get_on(sq_conn *c, const sq_bucket *b, const char *key, int64_t *now,
              void **value, size_t *len)
{
    sqlite3_stmt *s = sq_get_stmt(c, b, key);
    int src = sqlite3_step(s);
    int rc;
    *value = NULL;
    *len = 0;
    if (src == SQLITE_ROW && sq_live(s, 0, now))
        rc = copy_value(s, 1, value, len);
    else if (src == SQLITE_ROW || src == SQLITE_DONE)
        rc = KVSTORE_NOTFOUND;
    else
        rc = sq_fail(c->db, src, "cannot read");
    sqlite3_reset(s);
    return rc;
}

int sq_get(void *p, const char *key, void **value, size_t *len)
{
    sq_bucket *b = p;
    sq_conn *c;
    int rc = sq_reader(b->st->db, &c);
    if (rc != KVSTORE_OK)
        return rc;
    int64_t now = 0;
    rc = sq_get_on(c, b, key, &now, value, len);
    sq_reader_done(b->st->db, c);
    return rc;
}

int sq_exists(void *p, const char *key, bool *exists)
{
    bool ver_null;
    int64_t expires, ver;
    return sq_read_row(p, key, exists, NULL, NULL, &expires, &ver_null, &ver);
}

int sq_put(sq_bucket *b, const char *const *keys, const void *const *values,
           const size_t *lens, size_t n, int64_t expires)
{
    for (size_t i = 0; i < n; i++)
        if (lens[i] > SQ_VALUE_MAX)
            return sq_too_big(lens[i]);
    sq_op op = {
        .kind = OP_PUT, .bucket = b->name, .keys = keys, .values = values,
        .lens = lens, .n = n, .expires = expires, .sync = b->st->sync,
    };
    return sq_submit(b->st->db, &op);
}

int sq_set(void *p, const char *key, const void *value, size_t len)
{
    return sq_put(p, &key, &value, &len, 1, 0);
}

int sq_set_ttl(void *p, const char *key, const void *value, size_t len,
               uint64_t ttl_ms)
{
    /* Far futures are clamped: an expiry past year 292 million is none. */
    int64_t now = sq_now_ms();
    int64_t expires = ttl_ms > (uint64_t)(INT64_MAX - now) ? INT64_MAX
                                                           : now + (int64_t)ttl_ms;
    return sq_put(p, &key, &value, &len, 1, expires);
}

int sq_del(void *p, const char *key)
{
    sq_bucket *b = p;
    sq_op op = { .kind = OP_DEL, .bucket = b->name, .keys = &key, .n = 1,
                 .sync = b->st->sync };
    return sq_submit(b->st->db, &op);
}

/* Without `value`, S_HEAD leaves the value out of the row: SQLite does
 * not read a large value's overflow pages for exists and ttl. */
int sq_read_row(sq_bucket *b, const char *key, bool *found, void **value,
                size_t *len, int64_t *expires, bool *ver_null, int64_t *ver)
{
    sq_conn *c;
    int rc = sq_reader(b->st->db, &c);
    if (rc != KVSTORE_OK)
        return rc;
    sqlite3_stmt *s = sq_stmt(c, value != NULL ? S_GETX : S_HEAD);
    sq_bind_key(s, b->name, key);
    int src = sqlite3_step(s);
    *found = false;
    if (src == SQLITE_ROW) {
        bool has_exp = sqlite3_column_type(s, 1) != SQLITE_NULL;
        *expires = has_exp ? sqlite3_column_int64(s, 1) : 0;
        *found = !has_exp || *expires > sq_now_ms();
        *ver_null = sqlite3_column_type(s, 2) == SQLITE_NULL;
        *ver = sqlite3_column_int64(s, 2);
        if (*found && value != NULL)
            rc = copy_value(s, 0, value, len);
    } else if (src != SQLITE_DONE) {
        rc = sq_fail(c->db, src, "cannot read");
    }
    sqlite3_reset(s);
    sq_reader_done(b->st->db, c);
    return rc;
}

int sq_ttl(void *p, const char *key, int64_t *ms_left)
{
    bool found, ver_null;
    int64_t expires = 0, ver;
    int rc = sq_read_row(p, key, &found, NULL, NULL, &expires, &ver_null, &ver);
    if (rc != KVSTORE_OK)
        return rc;
    if (!found) {
        *ms_left = -1;
        return KVSTORE_NOTFOUND;
    }
    if (expires == 0) {
        *ms_left = -1;
    } else {
        int64_t left = expires - sq_now_ms();
        *ms_left = left > 0 ? left : 0;
    }
    return KVSTORE_OK;
}

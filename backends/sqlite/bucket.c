/*
 * kvstore-sqlite: buckets (open, close, list, remove, info). A bucket is
 * the rows whose `store` column holds its name (db.c), plus its name in
 * kvstore_buckets while it holds no key.
 *
 * SPDX-License-Identifier: MIT
 */
#include "sqlite.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Sets *has to whether bucket `name` exists: created by us, or holding
 * keys written by another program (a Spin store). A missing bucket is
 * KVSTORE_ENOSTORE when it is `required`. */
static int bucket_has(sq_db *db, const char *name, bool required, bool *has)
{
    sq_conn *c;
    int rc = sq_reader(db, &c);
    if (rc != KVSTORE_OK)
        return rc;
    sqlite3_stmt *s = sq_stmt(c, S_BUCKET_HAS);
    sqlite3_bind_text(s, 1, name, -1, SQLITE_STATIC);
    int src = sqlite3_step(s);
    if (src == SQLITE_ROW || src == SQLITE_DONE)
        *has = src == SQLITE_ROW;
    else
        rc = sq_fail(c->db, src, "cannot look up the bucket");
    sqlite3_reset(s);
    sq_reader_done(db, c);
    if (rc == KVSTORE_OK && !*has && required)
        rc = kvstore_set_error(KVSTORE_ENOSTORE, "sqlite: no bucket '%s'",
                               name);
    return rc;
}

int sq_bucket_open(void **out, void *p, const char *name, bool create)
{
    /* Starts at 1: 0 is "no bucket bound" on a reader (sqlite.h). */
    static _Atomic uint64_t last_id;
    sq_store *st = p;
    bool has = false;
    int rc = bucket_has(st->db, name, !create, &has);
    if (rc != KVSTORE_OK)
        return rc;
    if (!has) {
        sq_op op = { .kind = OP_BUCKET_ADD, .bucket = name, .sync = st->sync };
        rc = sq_submit(st->db, &op);
        if (rc != KVSTORE_OK)
            return rc;
    }
    sq_bucket *b = calloc(1, sizeof *b);
    if (b == NULL)
        return kvstore_set_error(KVSTORE_ENOMEM, "sqlite: out of memory");
    b->st = st;
    b->id = atomic_fetch_add_explicit(&last_id, 1, memory_order_relaxed) + 1;
    snprintf(b->name, sizeof b->name, "%s", name);
    *out = b;
    return KVSTORE_OK;
}

void sq_bucket_close(void *b)
{
    free(b);
}

int sq_bucket_list(void *p, const char *cursor, size_t limit,
                   kvstore_keys **out)
{
    sq_store *st = p;
    /* The state is the last name of the previous page: a forged one is
     * either a valid name (a valid page follows) or refused. */
    if (cursor != NULL && kvstore_bucket_name_check(cursor) != KVSTORE_OK)
        return kvstore_set_error(KVSTORE_EINVAL, "sqlite: bad bucket cursor");
    kvstore_keys *page = kvstore_keys_new();
    if (page == NULL)
        return kvstore_set_error(KVSTORE_ENOMEM, "sqlite: out of memory");
    sq_conn *c;
    int rc = sq_reader(st->db, &c);
    if (rc != KVSTORE_OK) {
        kvstore_keys_free(page);
        return rc;
    }
    /* Names another program wrote may not be valid bucket names: they
     * are skipped, and the cursor is always the last name listed. Bucket
     * counts are small, so the scan is not limited in SQL. */
    bool more = false;
    sqlite3_stmt *s = sq_stmt(c, S_BUCKET_LIST);
    sqlite3_bind_text(s, 1, cursor ? cursor : "", -1, SQLITE_STATIC);
    sqlite3_bind_int64(s, 2, -1);
    int src;
    while (rc == KVSTORE_OK && (src = sqlite3_step(s)) == SQLITE_ROW) {
        const char *name = (const char *)sqlite3_column_text(s, 0);
        if (name == NULL || kvstore_bucket_name_check(name) != KVSTORE_OK)
            continue;
        if (page->count == limit) {
            more = true;
            break;
        }
        rc = kvstore_keys_add(page, name, strlen(name));
    }
    if (rc == KVSTORE_OK && !more && src != SQLITE_DONE)
        rc = sq_fail(c->db, src, "cannot list buckets");
    sqlite3_reset(s);
    sq_reader_done(st->db, c);
    if (rc == KVSTORE_OK && more)
        rc = kvstore_keys_set_cursor(page, page->keys[page->count - 1]);
    if (rc != KVSTORE_OK) {
        kvstore_keys_free(page);
        return rc;
    }
    *out = page;
    return KVSTORE_OK;
}

int sq_bucket_remove(void *p, const char *name)
{
    sq_store *st = p;
    sq_op op = { .kind = OP_BUCKET_REMOVE, .bucket = name, .sync = st->sync };
    return sq_submit(st->db, &op);
}

int sq_bucket_info(void *p, const char *name, kvstore_bucket_stat *info)
{
    sq_store *st = p;
    bool has;
    int rc = bucket_has(st->db, name, true, &has);
    if (rc != KVSTORE_OK)
        return rc;
    sq_conn *c;
    if ((rc = sq_reader(st->db, &c)) != KVSTORE_OK)
        return rc;
    sqlite3_stmt *s = sq_stmt(c, S_BUCKET_COUNT);
    sqlite3_bind_text(s, 1, name, -1, SQLITE_STATIC);
    sqlite3_bind_int64(s, 2, sq_now_ms());
    int src = sqlite3_step(s);
    if (src == SQLITE_ROW)
        info->keys = sqlite3_column_int64(s, 0);
    else
        rc = sq_fail(c->db, src, "cannot count keys");
    sqlite3_reset(s);
    sq_reader_done(st->db, c);
    info->max_value = SQ_VALUE_MAX;
    return rc;
}

/*
 * kvstore-sqlite: listing as a range scan of the primary key.
 *
 * The cursor state (a table version 2 state, wrapped by the core) is the
 * last key of the previous page, as is: resuming is one B-tree seek past
 * it, O(log n), with nothing cached between pages. A guest can forge a
 * state; it is accepted only if it is a valid key under the listing's
 * prefix, and then it is only a position inside this bucket's range (the
 * query is bound to the bucket's name), so a forged state yields a valid
 * page of this bucket or KVSTORE_EINVAL, never another bucket's keys.
 *
 * SPDX-License-Identifier: MIT
 */
#include "sqlite.h"

#include <stdlib.h>
#include <string.h>

/* The smallest string greater than every string that starts with
 * `prefix`: the prefix with its last byte incremented. Valid UTF-8 never
 * holds the byte 0xff, so the last byte can always be incremented; the
 * result need not be valid UTF-8, SQLite compares the bytes (BINARY). */
static void prefix_end(char *out, const char *prefix, size_t len)
{
    memcpy(out, prefix, len);
    out[len - 1] = (char)((unsigned char)out[len - 1] + 1);
    out[len] = '\0';
}

static void end_read(sq_conn *c)
{
    if (!sqlite3_get_autocommit(c->db)) {
        sqlite3_stmt *s = sq_stmt(c, S_COMMIT);
        sqlite3_step(s);
        sqlite3_reset(s);
    }
}

static int step_once(sq_conn *c, sqlite3_stmt *s, const char *what)
{
    int src = sqlite3_step(s);
    sqlite3_reset(s);
    return src == SQLITE_DONE || src == SQLITE_ROW ? KVSTORE_OK
                                                   : sq_fail(c->db, src, what);
}

/* Begins a read transaction on `c` and sets *ttl to whether `bucket` ever
 * had a key with an expiry. */
static int begin_read(sq_conn *c, const char *bucket, bool *ttl)
{
    int rc = step_once(c, sq_stmt(c, S_BEGIN_R), "cannot begin a read");
    if (rc != KVSTORE_OK)
        return rc;
    sqlite3_stmt *s = sq_stmt(c, S_TTL_HAS);
    sqlite3_bind_text(s, 1, bucket, -1, SQLITE_STATIC);
    int src = sqlite3_step(s);
    *ttl = src == SQLITE_ROW;
    sqlite3_reset(s);
    if (src != SQLITE_ROW && src != SQLITE_DONE) {
        rc = sq_fail(c->db, src, "cannot read the expiry flag");
        end_read(c);
    }
    return rc;
}

int sq_list_keys(void *p, const char *prefix, const char *cursor,
                 size_t limit, kvstore_keys **out)
{
    sq_bucket *b = p;
    size_t plen = strlen(prefix);
    /* The core has checked the prefix (valid UTF-8, at most a key long);
     * `hi` below relies on the length, so it is checked again here. */
    if (plen > KVSTORE_KEY_MAX)
        return kvstore_set_error(KVSTORE_EINVAL, "sqlite: prefix too long");
    if (cursor != NULL && (kvstore_key_check(cursor) != KVSTORE_OK ||
                           strncmp(cursor, prefix, plen) != 0))
        return kvstore_set_error(KVSTORE_EINVAL, "sqlite: bad cursor");
    char hi[KVSTORE_KEY_MAX + 1];
    if (plen > 0)
        prefix_end(hi, prefix, plen);
    kvstore_keys *page = kvstore_keys_new();
    if (page == NULL)
        return kvstore_set_error(KVSTORE_ENOMEM, "sqlite: out of memory");
    sq_conn *c;
    int rc = sq_reader(b->st->db, &c);
    if (rc != KVSTORE_OK) {
        kvstore_keys_free(page);
        return rc;
    }
    /* One read transaction for the expiry flag and the page, so both
     * come from the same snapshot. */
    bool ttl = false;
    rc = begin_read(c, b->name, &ttl);
    if (rc != KVSTORE_OK) {
        sq_reader_done(b->st->db, c);
        kvstore_keys_free(page);
        return rc;
    }
    int which = S_LIST + (cursor ? 2 : 0) + (plen ? 1 : 0) + (ttl ? 4 : 0);
    sqlite3_stmt *s = sq_stmt(c, (enum sq_stmt)which);
    sqlite3_bind_text(s, 1, b->name, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 2, cursor ? cursor : prefix, -1, SQLITE_STATIC);
    if (plen > 0)
        sqlite3_bind_text(s, 3, hi, (int)plen, SQLITE_STATIC);
    /* One row more than the page tells whether another page follows. */
    sqlite3_bind_int64(s, 5, (int64_t)limit + 1);
    bool more = false;
    int src;
    size_t rows = 0;
    int64_t now = 0;
    /* Expired rows are skipped, so a page can end short of `limit` with
     * more rows after it; the walk then resumes after the last row looked
     * at (kept in `skipped` when that row was not listed). */
    char skipped[KVSTORE_KEY_MAX + 1];
    bool resume_skipped = false;
    while ((src = sqlite3_step(s)) == SQLITE_ROW) {
        rows++;
        if (page->count == limit) {
            more = true;
            break;
        }
        const char *key = (const char *)sqlite3_column_text(s, 0);
        size_t klen = (size_t)sqlite3_column_bytes(s, 0);
        /* Another program may have stored keys we would refuse (empty,
         * too long, invalid UTF-8): they are not ours to list, and could
         * not come back as a cursor. */
        if (key == NULL || klen == 0 || klen > KVSTORE_KEY_MAX ||
            memchr(key, '\0', klen) != NULL || !kvstore_utf8_valid(key, klen))
            continue;
        if (ttl && !sq_live(s, 1, &now)) {
            memcpy(skipped, key, klen + 1);
            resume_skipped = true;
            continue;
        }
        if ((rc = kvstore_keys_add(page, key, klen)) != KVSTORE_OK)
            break;
        resume_skipped = false;
    }
    if (rc == KVSTORE_OK && src != SQLITE_ROW && src != SQLITE_DONE)
        rc = sq_fail(c->db, src, "cannot list keys");
    if (rows == limit + 1)
        more = true;
    /* A run of more than `limit` keys another program wrote that we
     * cannot list has no key to resume after: the walk ends there rather
     * than loop. Keys written through kvstore are all listable. */
    if (rc == KVSTORE_OK && more) {
        if (resume_skipped)
            rc = kvstore_keys_set_cursor(page, skipped);
        else if (page->count > 0)
            rc = kvstore_keys_set_cursor(page, page->keys[page->count - 1]);
    }
    sqlite3_reset(s);
    end_read(c);
    sq_reader_done(b->st->db, c);
    if (rc != KVSTORE_OK) {
        kvstore_keys_free(page);
        return rc;
    }
    *out = page;
    return KVSTORE_OK;
}

/*
 * Helpers of the sqlite backend tests on top of tests/support (temporary
 * directories, bucket and value shortcuts): the database file in a
 * directory, and opening a store on it.
 *
 * SPDX-License-Identifier: MIT
 */
#ifndef KVSQ_TEST_UTIL_H
#define KVSQ_TEST_UTIL_H

#include <sqlite3.h>
#include <unistd.h>

#include "fx_files.h"

/* "sqlite://<dir>/kv.db<suffix>" into buf. */
static inline void db_uri(char *buf, size_t cap, const char *dir,
                          const char *suffix)
{
    snprintf(buf, cap, "sqlite://%s/kv.db%s", dir, suffix ? suffix : "");
}

/* Opens db_uri(dir, suffix) and fails the test on error. */
static inline kvstore_store *open_store(const char *dir, const char *suffix)
{
    return open_urif("sqlite://%s/kv.db%s", dir, suffix ? suffix : "");
}

/* The database file <dir>/kv.db opened by SQLite itself with `flags`
 * (sqlite3_open_v2), to look at or write what kvstore stored; fails the
 * test on error. Close it with sqlite3_close. */
static inline sqlite3 *raw_db(const char *dir, int flags)
{
    char path[4200];
    sqlite3 *db = NULL;
    snprintf(path, sizeof path, "%s/kv.db", dir);
    if (sqlite3_open_v2(path, &db, flags, NULL) != SQLITE_OK)
        fail_msg("sqlite3_open_v2 %s: %s", path, sqlite3_errmsg(db));
    return db;
}

/* `sql` must give a first row whose first column reads `want` as text. */
static inline void expect_sql(sqlite3 *db, const char *sql, const char *want)
{
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
        fail_msg("%s: %s", sql, sqlite3_errmsg(db));
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    const unsigned char *got = sqlite3_column_text(st, 0);
    if (got == NULL || strcmp((const char *)got, want) != 0)
        fail_msg("%s: '%s', expected '%s'", sql,
                 got ? (const char *)got : "(null)", want);
    sqlite3_finalize(st);
}

#endif /* KVSQ_TEST_UTIL_H */

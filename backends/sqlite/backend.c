/*
 * kvstore-sqlite: the backend table, stores (open, close) and the module
 * entry point.
 *
 * Scheme "sqlite": sqlite:///abs/path/file.db or sqlite:rel/file.db
 * (docs/backends/sqlite.md). A table of version 2: the core owns the
 * cursors (list.c gives it the last key of each page as the state).
 *
 * SPDX-License-Identifier: MIT
 */
#include "sqlite.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int sq_store_open(void **out, const kvstore_uri *uri)
{
    const char *path;
    bool sync, create;
    int64_t timeout_ms, reap_ms;
    int rc = kvstore_uri_local(uri, "file.db", &path, &sync, &create);
    if (rc == KVSTORE_OK)
        rc = kvstore_uri_param_int(uri, "timeout_ms", 1, 600000, 5000,
                                   &timeout_ms);
    if (rc == KVSTORE_OK)
        rc = kvstore_uri_param_int(uri, "reap_ms", 0, INT64_C(86400000) * 365,
                                   60000, &reap_ms);
    if (rc != KVSTORE_OK)
        return rc;
    /* This libsqlite3 takes a file name starting with "file:" as an SQLite
     * URI (SQLITE_USE_URI): a relative path of that spelling is made
     * explicit so that it stays a file name. */
    char *fixed = NULL;
    if (strncmp(path, "file:", 5) == 0) {
        size_t n = strlen(path) + 3;
        if ((fixed = malloc(n)) == NULL)
            return kvstore_set_error(KVSTORE_ENOMEM, "sqlite: out of memory");
        snprintf(fixed, n, "./%s", path);
        path = fixed;
    }
    sq_store *st = calloc(1, sizeof *st);
    if (st == NULL) {
        free(fixed);
        return kvstore_set_error(KVSTORE_ENOMEM, "sqlite: out of memory");
    }
    st->sync = sync;
    rc = sq_db_get(&st->db, path, create, timeout_ms, reap_ms);
    free(fixed);
    return kvstore_hand_over(rc, out, st, free);
}

void sq_store_close(void *p)
{
    sq_store *st = p;
    sq_db_put(st->db);
    free(st);
}

static const char *const sq_options[] = {
    "sync", "timeout_ms", "reap_ms", NULL
};

/* Keys are listed once (a range scan of a unique key); watch events carry
 * the value written; only this process's writes are watched. */
static const kvstore_backend sq_backend =
    KVSTORE_BACKEND_TABLE(sq, "sqlite", sq_options, KVSTORE_CAP_TTL);

KVSTORE_MODULE_DEFINE("sqlite", &sq_backend);

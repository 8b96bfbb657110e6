/*
 * kvstore CLI - the default store, when neither --store, --store-file nor
 * KVSTORE_URL names one.
 *
 * It is the SQLite database DIR/kvstore.db, DIR being $XDG_DATA_HOME/kvstore
 * (else ~/.local/share/kvstore); docs/backends/default-store.md says why.
 * Before it, the default was a file: store in DIR itself, and data there is
 * never hidden:
 *   - DIR holds buckets of that file store and kvstore.db does not exist:
 *     the file store stays the default, with a note on stderr pointing at
 *     the migration (kvstore copy);
 *   - both exist (the user copied): the database is the default, with a
 *     note that the old buckets are still there, until they are removed.
 * The two share DIR without clashing: a file store lists only
 * subdirectories named like buckets, and "kvstore.db" (with its -wal and
 * -shm files) can never be one ('.' is not allowed in bucket names).
 *
 * SPDX-License-Identifier: MIT
 */
#include "cli.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define DB_NAME "kvstore.db"
#define MIGRATION_DOC "docs/backends/default-store.md"

/* mkdir -p with mode 0700: the default store is private to its user. */
static int make_dirs(char *path)
{
    for (char *p = path + 1; *p; p++) {
        if (*p != '/')
            continue;
        *p = '\0';
        int rc = mkdir(path, 0700);
        *p = '/';
        if (rc != 0 && errno != EEXIST)
            return -1;
    }
    return mkdir(path, 0700) == 0 || errno == EEXIST ? 0 : -1;
}

/* Builds SCHEME://PATH, percent-encoding everything but unreserved
 * characters and '/', since the library percent-decodes a URI's path. */
static char *path_to_uri(const char *scheme, const char *path)
{
    static const char hex[] = "0123456789ABCDEF";
    char *out = malloc(strlen(scheme) + 3 + 3 * strlen(path) + 1);
    if (!out)
        return NULL;
    char *o = stpcpy(stpcpy(out, scheme), "://");
    for (const unsigned char *p = (const unsigned char *)path; *p; p++) {
        if ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
            (*p >= '0' && *p <= '9') || strchr("/-._~", *p)) {
            *o++ = (char)*p;
        } else {
            *o++ = '%';
            *o++ = hex[*p >> 4];
            *o++ = hex[*p & 15];
        }
    }
    *o = '\0';
    return out;
}

/* Does the old default, a file store in `file_uri`'s directory, hold at
 * least one bucket? Sets *has; -1 on success, else an exit code (message
 * printed). */
static int old_store_has_buckets(const cli_ctx *ctx, const char *file_uri,
                                 bool *has)
{
    char *uri;
    kvstore_store *s = NULL;
    kvstore_keys *page = NULL;

    if (asprintf(&uri, "%s?create=false", file_uri) < 0)
        return cli_error(ctx, EXIT_BACKEND, "out of memory");
    int rc = kvstore_open(&s, uri);
    free(uri);
    if (rc == KVSTORE_OK)
        rc = kvstore_bucket_list(s, NULL, 1, &page);
    if (rc != KVSTORE_OK) {
        /* Not knowing would risk hiding data: stop and say why. */
        rc = cli_lib_error(ctx, "cannot check the old default file store");
        kvstore_close(s);
        return rc;
    }
    *has = page->count > 0 || page->cursor != NULL;
    kvstore_keys_free(page);
    kvstore_close(s);
    return -1;
}

/* Picks the default store of `dir` (which exists): see the top. */
static int choose(cli_ctx *ctx, const char *dir, char **uri)
{
    char *db = NULL, *file_uri = NULL, *db_uri = NULL;
    struct stat st;
    int rc = -1;

    if (asprintf(&db, "%s/" DB_NAME, dir) < 0)
        return cli_error(ctx, EXIT_BACKEND, "out of memory");
    file_uri = path_to_uri("file", dir);
    db_uri = path_to_uri("sqlite", db);
    if (!file_uri || !db_uri) {
        rc = cli_error(ctx, EXIT_BACKEND, "out of memory");
        goto out;
    }
    bool db_exists = lstat(db, &st) == 0, old = false;
    if ((rc = old_store_has_buckets(ctx, file_uri, &old)) >= 0)
        goto out;
    if (old && !db_exists) {
        cli_error(ctx, 0, "note: using the old default store %s, which holds "
                  "buckets; the default is now %s: to move, copy each "
                  "bucket with 'kvstore copy' (see " MIGRATION_DOC ")",
                  file_uri, db_uri);
        *uri = file_uri;
        file_uri = NULL;
        goto out;
    }
    if (old)
        cli_error(ctx, 0, "note: the old default store %s still holds "
                  "buckets; the default is %s: remove the old buckets once "
                  "copied (see " MIGRATION_DOC ")", file_uri, db_uri);
    ctx->default_sqlite = true;
    *uri = db_uri;
    db_uri = NULL;
out:
    free(db);
    free(file_uri);
    free(db_uri);
    return rc;
}

int cli_default_uri(cli_ctx *ctx, char **uri)
{
    const char *xdg = getenv("XDG_DATA_HOME");
    const char *home = getenv("HOME");
    char *dir;

    /* The XDG spec says a relative XDG_DATA_HOME is invalid: ignore it. */
    if (xdg && xdg[0] == '/') {
        if (asprintf(&dir, "%s/kvstore", xdg) < 0)
            dir = NULL;
    } else if (home && home[0] == '/') {
        if (asprintf(&dir, "%s/.local/share/kvstore", home) < 0)
            dir = NULL;
    } else {
        return cli_error(ctx, EXIT_USAGE,
                         "no store: give --store, --store-file or "
                         "KVSTORE_URL (HOME and XDG_DATA_HOME are unset)");
    }
    if (!dir)
        return cli_error(ctx, EXIT_BACKEND, "out of memory");
    int rc;
    if (make_dirs(dir) != 0)
        rc = cli_error(ctx, EXIT_BACKEND,
                       "cannot create the default store '%s': %s", dir,
                       strerror(errno));
    else
        rc = choose(ctx, dir, uri);
    free(dir);
    return rc;
}

int cli_default_open_error(const cli_ctx *ctx, int status)
{
    /* A missing module is the one failure the user cannot guess from the
     * library's message alone: say which package and how to go around. */
    if (!ctx->default_sqlite || status != KVSTORE_ENOSTORE ||
        strstr(kvstore_errmsg(), "kvstore-sqlite.so") == NULL)
        return cli_lib_error(ctx, "cannot open the store");
    return cli_error(ctx, EXIT_BACKEND,
                     "the default store is an SQLite database and needs the "
                     "sqlite backend module (kvstore-sqlite.so, Debian "
                     "package libkvstore-sqlite), which is not installed: "
                     "install it, or choose a store with --store URI or "
                     "KVSTORE_URL (e.g. KVSTORE_URL=file:///some/dir) (%s)",
                     kvstore_errmsg());
}

/*
 * kvstore CLI - choosing, opening and closing the store.
 *
 * Order: --store, --store-file, KVSTORE_URL, then the embedded default
 * (default_store.c). Only --store can leak a credential through ps(1);
 * the other three exist so that a password never has to be on a command
 * line.
 *
 * SPDX-License-Identifier: MIT
 */
#include "cli.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

/* The authority of "scheme://authority/..." or NULL when there is none;
 * *len is its length. */
static const char *authority(const char *uri, size_t *len)
{
    const char *p = strstr(uri, "://");
    const char *colon = strchr(uri, ':');
    if (!p || p != colon)
        return NULL;
    p += 3;
    *len = strcspn(p, "/?#");
    return p;
}

bool cli_uri_has_credentials(const char *uri)
{
    size_t len;
    const char *a = authority(uri, &len);
    return a && memchr(a, '@', len) != NULL;
}

void cli_mask_credentials(char *uri)
{
    size_t len;
    char *a = (char *)authority(uri, &len);
    if (!a)
        return;
    /* The userinfo ends at the last '@' of the authority (a password may
     * contain a literal '@'). */
    char *at = NULL;
    for (size_t i = 0; i < len; i++)
        if (a[i] == '@')
            at = a + i;
    if (!at)
        return;
    for (char *p = a; p < at; p++)
        *p = '*';
}

int cli_read_uri_file(const cli_ctx *ctx, const char *path, char **uri)
{
    FILE *f = fopen(path, "r");
    if (!f)
        return cli_error(ctx, EXIT_USAGE, "cannot open store file '%s': %s",
                         path, strerror(errno));
    char *line = NULL;
    size_t cap = 0;
    errno = 0;
    ssize_t n = getline(&line, &cap, f);
    int err = errno;
    fclose(f);
    if (n < 0) {
        free(line);
        /* A directory opens (glibc) but does not read: say so, and what
         * the user probably meant. */
        if (err == EISDIR)
            return cli_error(ctx, EXIT_USAGE, "store file '%s' is a "
                             "directory; --store-file names a file whose "
                             "first line is the URI (for a file store in "
                             "that directory: --store 'file://%s')", path,
                             path);
        if (err != 0)
            return cli_error(ctx, EXIT_USAGE, "cannot read store file "
                             "'%s': %s", path, strerror(err));
        return cli_error(ctx, EXIT_USAGE, "store file '%s' is empty", path);
    }
    while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r' ||
                     line[n - 1] == ' ' || line[n - 1] == '\t'))
        line[--n] = '\0';
    if (n == 0 || strlen(line) != (size_t)n) {
        free(line);
        return cli_error(ctx, EXIT_USAGE,
                         "store file '%s' holds no URI on its first line",
                         path);
    }
    *uri = line;
    return -1;
}

int cli_store_uri(cli_ctx *ctx, char **uri)
{
    if (ctx->store && ctx->store_file)
        return cli_usage(ctx, "give --store or --store-file, not both");
    if (ctx->store) {
        *uri = strdup(ctx->store);
        return *uri ? -1 : cli_error(ctx, EXIT_BACKEND, "out of memory");
    }
    if (ctx->store_file)
        return cli_read_uri_file(ctx, ctx->store_file, uri);
    const char *env = getenv("KVSTORE_URL");
    if (env && *env) {
        *uri = strdup(env);
        return *uri ? -1 : cli_error(ctx, EXIT_BACKEND, "out of memory");
    }
    return cli_default_uri(ctx, uri);
}

static int open_uri(const cli_ctx *ctx, const char *uri, const char *bucket,
                    bool existing, kvstore_store **store, kvstore_bucket **b)
{
    int st;

    *store = NULL;
    *b = NULL;
    /* kvstore_errmsg() never carries a URI's password (contract §2), so
     * it is safe to print; the URI itself is not printed. */
    int st_open = kvstore_open(store, uri);
    if (st_open != KVSTORE_OK)
        return cli_default_open_error(ctx, st_open);
    cli_stats_attach((cli_ctx *)ctx, *store);
    st = existing ? kvstore_bucket_open_existing(b, *store, bucket)
                  : kvstore_bucket_open(b, *store, bucket);
    if (st != KVSTORE_OK) {
        int rc = st == KVSTORE_ENOSTORE && existing
                     ? cli_error(ctx, EXIT_NOTFOUND,
                                 "bucket '%s' does not exist (a reader "
                                 "does not create it)", bucket)
                     : cli_lib_error(ctx, "cannot open the bucket");
        kvstore_close(*store);
        *store = NULL;
        return rc;
    }
    return -1;
}

int cli_open_uri(const cli_ctx *ctx, const char *uri, const char *bucket,
                 kvstore_store **store, kvstore_bucket **b)
{
    return open_uri(ctx, uri, bucket, false, store, b);
}

int cli_open_uri_existing(const cli_ctx *ctx, const char *uri,
                          const char *bucket, kvstore_store **store,
                          kvstore_bucket **b)
{
    return open_uri(ctx, uri, bucket, true, store, b);
}

static int open_ctx(cli_ctx *ctx, bool existing, kvstore_store **store,
                    kvstore_bucket **b)
{
    char *uri = NULL;
    int rc = cli_store_uri(ctx, &uri);
    if (rc >= 0)
        return rc;
    rc = open_uri(ctx, uri, ctx->bucket, existing, store, b);
    if (rc < 0 && !existing)
        cli_memory_note(ctx, uri);
    /* The URI may hold a password: do not leave it lying in the heap. */
    explicit_bzero(uri, strlen(uri));
    free(uri);
    return rc;
}

int cli_open(cli_ctx *ctx, kvstore_store **store, kvstore_bucket **b)
{
    return open_ctx(ctx, false, store, b);
}

void cli_memory_note(const cli_ctx *ctx, const char *uri)
{
    if (strncasecmp(uri, "memory:", 7) == 0)
        cli_error(ctx, 0, "note: a memory: store lives only as long as this "
                          "process; the data is gone when kvstore exits");
}

int cli_open_existing(cli_ctx *ctx, kvstore_store **store,
                      kvstore_bucket **b)
{
    return open_ctx(ctx, true, store, b);
}

int cli_open_store(cli_ctx *ctx, kvstore_store **store)
{
    char *uri = NULL;
    int rc = cli_store_uri(ctx, &uri);
    if (rc >= 0)
        return rc;
    *store = NULL;
    int st = kvstore_open(store, uri);
    if (st != KVSTORE_OK) {
        rc = cli_default_open_error(ctx, st);
    } else {
        rc = -1;
        cli_stats_attach(ctx, *store);
    }
    explicit_bzero(uri, strlen(uri));
    free(uri);
    return rc;
}

void cli_close(kvstore_store *store, kvstore_bucket *b)
{
    kvstore_bucket_close(b);
    kvstore_close(store);
}

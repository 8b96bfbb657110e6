/*
 * kvstore CLI - choosing, opening and closing the store.
 *
 * Order: --store, --store-file, KVSTORE_URL, then the embedded default
 * file://$XDG_DATA_HOME/kvstore (or $HOME/.local/share/kvstore). Only
 * --store can leak a credential through ps(1); the other three exist so
 * that a password never has to be on a command line.
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
        return cli_error(ctx, EXIT_USAGE, "store file '%s' is empty%s%s",
                         path, err ? ": " : "", err ? strerror(err) : "");
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

/* Builds file://DIR, percent-encoding everything but unreserved characters and
 * '/', since the library percent-decodes a file: URI's path. */
static char *path_to_file_uri(const char *dir)
{
    static const char hex[] = "0123456789ABCDEF";
    size_t n = strlen(dir);
    char *out = malloc(strlen("file://") + 3 * n + 1);
    if (!out)
        return NULL;
    char *o = stpcpy(out, "file://");
    for (const unsigned char *p = (const unsigned char *)dir; *p; p++) {
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

static int default_uri(const cli_ctx *ctx, char **uri)
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
    if (make_dirs(dir) != 0) {
        int rc = cli_error(ctx, EXIT_BACKEND,
                           "cannot create the default store '%s': %s", dir,
                           strerror(errno));
        free(dir);
        return rc;
    }
    *uri = path_to_file_uri(dir);
    free(dir);
    return *uri ? -1 : cli_error(ctx, EXIT_BACKEND, "out of memory");
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
    return default_uri(ctx, uri);
}

static int open_uri(const cli_ctx *ctx, const char *uri, const char *bucket,
                    bool existing, kvstore_store **store, kvstore_bucket **b)
{
    int st;

    *store = NULL;
    *b = NULL;
    /* kvstore_errmsg() never carries a URI's password (contract §2), so
     * it is safe to print; the URI itself is not printed. */
    if (kvstore_open(store, uri) != KVSTORE_OK)
        return cli_lib_error(ctx, "cannot open the store");
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
    if (kvstore_open(store, uri) != KVSTORE_OK)
        rc = cli_lib_error(ctx, "cannot open the store");
    else
        cli_stats_attach(ctx, *store);
    explicit_bzero(uri, strlen(uri));
    free(uri);
    return rc;
}

void cli_close(kvstore_store *store, kvstore_bucket *b)
{
    kvstore_bucket_close(b);
    kvstore_close(store);
}

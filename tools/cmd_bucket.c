/*
 * kvstore CLI - buckets (list) and bucket info|rm NAME.
 *
 * SPDX-License-Identifier: MIT
 */
#include "cli.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* ENOTSUP gets a sentence of its own: the backend cannot, it is not a
 * failure of this store. */
static int bucket_error(const cli_ctx *ctx, int st, const char *what)
{
    if (st == KVSTORE_ENOTSUP)
        return cli_error(ctx, EXIT_BACKEND, "this store's backend cannot %s "
                                            "(%s)", what, kvstore_errmsg());
    if (st == KVSTORE_ENOSTORE)
        return cli_error(ctx, EXIT_NOTFOUND, "bucket '%s' does not exist",
                         ctx->bucket);
    return cli_lib_error(ctx, what);
}

static int cmd_buckets(cli_ctx *ctx, int argc, char **argv)
{
    cli_args a;
    kvstore_store *s;
    char *cursor = NULL;
    int rc = cli_command_args(ctx, argc, argv, NULL, 0, 0, 0, &a);
    if (rc >= 0)
        return rc;
    rc = cli_open_store(ctx, &s);
    if (rc >= 0) {
        cli_args_free(&a);
        return rc;
    }
    if (ctx->json)
        fputs("{\"buckets\":[", stdout);
    bool first = true;
    while (rc < 0) {
        kvstore_keys *page;
        int st = kvstore_bucket_list(s, cursor, 0, &page);
        if (st != KVSTORE_OK) {
            rc = bucket_error(ctx, st, "list buckets");
            break;
        }
        for (size_t i = 0; i < page->count; i++) {
            if (ctx->json) {
                if (!first)
                    fputc(',', stdout);
                cli_json_string(stdout, page->keys[i], strlen(page->keys[i]));
            } else {
                puts(page->keys[i]);
            }
            first = false;
        }
        free(cursor);
        cursor = page->cursor ? strdup(page->cursor) : NULL;
        if (page->cursor && !cursor)
            rc = cli_error(ctx, EXIT_BACKEND, "out of memory");
        else if (!page->cursor)
            rc = EXIT_OK;
        kvstore_keys_free(page);
    }
    if (ctx->json && rc == EXIT_OK)
        fputs("]}\n", stdout);
    free(cursor);
    kvstore_close(s);
    cli_args_free(&a);
    return rc == EXIT_OK ? cli_finish_stdout(ctx, rc) : rc;
}

const cli_command cli_cmd_buckets = {
    "buckets", cmd_buckets, "list the store's buckets",
    "Usage: kvstore buckets\n"
    "\n"
    "Prints the names of the store's buckets, one per line. With --json:\n"
    "{\"buckets\":[...]}.\n"
    "\n"
    "Exit: 0 listed, 2 usage error, 3 library error (the backend cannot\n"
    "list buckets, ...).\n"
    GLOBAL_HELP,
};

static int bucket_info(cli_ctx *ctx, kvstore_store *s)
{
    kvstore_bucket_stat info = { .version = KVSTORE_BUCKET_STAT_VERSION };
    int st = kvstore_bucket_info(s, ctx->bucket, &info);

    if (st != KVSTORE_OK)
        return bucket_error(ctx, st, "tell about buckets");
    if (ctx->json) {
        fputs("{\"bucket\":", stdout);
        cli_json_string(stdout, ctx->bucket, strlen(ctx->bucket));
        printf(",\"keys\":%" PRId64 ",\"max_value\":%" PRIu64
               ",\"ttl_ms\":%" PRIu64 ",\"caps\":%u}\n", info.keys,
               info.max_value, info.ttl_ms, kvstore_caps(s));
    } else {
        printf("bucket: %s\n", ctx->bucket);
        if (info.keys >= 0)
            printf("keys: %" PRId64 "\n", info.keys);
        else
            puts("keys: (not counted: costly on this backend)");
        if (info.max_value)
            printf("max value: %" PRIu64 " bytes\n", info.max_value);
        if (info.ttl_ms)
            printf("bucket ttl: %" PRIu64 " ms\n", info.ttl_ms);
        unsigned caps = kvstore_caps(s);
        printf("expiry: %s\n", caps & KVSTORE_CAP_TTL ? "per key"
                               : caps & KVSTORE_CAP_TTL_BUCKET_ONLY
                                   ? "per bucket only"
                                   : "none");
    }
    return cli_finish_stdout(ctx, EXIT_OK);
}

/* rm asks first on a terminal; elsewhere --yes is required, so that a
 * script never removes data by accident. */
static bool confirm(const cli_ctx *ctx)
{
    char line[16];

    if (!isatty(STDIN_FILENO)) {
        cli_error(ctx, 0, "refusing to remove bucket '%s' without --yes "
                          "(stdin is not a terminal)", ctx->bucket);
        return false;
    }
    fprintf(stderr, "Remove bucket '%s' and every key in it? [y/N] ",
            ctx->bucket);
    if (fgets(line, sizeof line, stdin) == NULL)
        return false;
    return line[0] == 'y' || line[0] == 'Y';
}

enum { RM_YES = OPT_NGLOBAL };
static const cli_opt bucket_opts[] = {
    {"yes", 'y', false},
};

static int cmd_bucket(cli_ctx *ctx, int argc, char **argv)
{
    cli_args a;
    kvstore_store *s;
    int rc = cli_command_args(ctx, argc, argv, bucket_opts, 1, 2, 2, &a);
    if (rc >= 0)
        return rc;
    const char *verb = a.pos[0];
    bool rm = strcmp(verb, "rm") == 0;
    if (!rm && strcmp(verb, "info") != 0) {
        rc = cli_usage(ctx, "unknown bucket command '%s' (info or rm)", verb);
        goto out;
    }
    ctx->bucket = a.pos[1];
    rc = cli_open_store(ctx, &s);
    if (rc >= 0)
        goto out;
    if (!rm) {
        rc = bucket_info(ctx, s);
    } else if (!a.val[RM_YES] && !confirm(ctx)) {
        rc = cli_error(ctx, EXIT_USAGE, "bucket '%s' not removed",
                       ctx->bucket);
    } else {
        int st = kvstore_bucket_remove(s, ctx->bucket);
        rc = st == KVSTORE_OK ? EXIT_OK
                              : bucket_error(ctx, st, "remove buckets");
    }
    kvstore_close(s);
out:
    cli_args_free(&a);
    return rc;
}

const cli_command cli_cmd_bucket = {
    "bucket", cmd_bucket, "show or remove one bucket (info|rm NAME)",
    "Usage: kvstore bucket info NAME\n"
    "       kvstore bucket rm [--yes] NAME\n"
    "\n"
    "info prints what the backend knows of bucket NAME: its key count where\n"
    "counting is cheap, its value limit, its expiry. With --json:\n"
    "{\"bucket\":B,\"keys\":N,\"max_value\":N,\"ttl_ms\":N,\"caps\":N} (keys\n"
    "-1 and other fields 0 when unknown; caps as kvstore_caps()).\n"
    "rm removes the bucket and every key in it. It asks first on a\n"
    "terminal; elsewhere it needs --yes.\n"
    "\n"
    "  -y, --yes   remove without asking\n"
    "\n"
    "Exit: 0 done, 1 no such bucket, 2 usage error (or rm not confirmed),\n"
    "3 library error (the backend cannot, ...).\n"
    GLOBAL_HELP,
};

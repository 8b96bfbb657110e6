/*
 * kvstore CLI - ls: list keys, walking every page or one page by hand.
 *
 * SPDX-License-Identifier: MIT
 */
#include "cli.h"

#include <stdlib.h>
#include <string.h>

enum { LS_PREFIX = OPT_NGLOBAL, LS_LIMIT, LS_CURSOR, LS_NULL };
static const cli_opt ls_opts[] = {
    {"prefix", 'p', true},
    {"limit", 'l', true},
    {"cursor", 'c', true},
    {"null", '0', false},
};

static bool print_page(const kvstore_keys *page, char sep)
{
    for (size_t i = 0; i < page->count; i++)
        if (!cli_write(page->keys[i], strlen(page->keys[i])) ||
            !cli_write(&sep, 1))
            return false;
    return true;
}

/* One JSON object per page (JSON Lines): {"keys":[...],"cursor":C}, C
 * null after the last page. */
static bool print_page_json(const kvstore_keys *page)
{
    fputs("{\"keys\":[", stdout);
    for (size_t i = 0; i < page->count; i++) {
        if (i)
            fputc(',', stdout);
        cli_json_string(stdout, page->keys[i], strlen(page->keys[i]));
    }
    fputs("],\"cursor\":", stdout);
    if (page->cursor)
        cli_json_string(stdout, page->cursor, strlen(page->cursor));
    else
        fputs("null", stdout);
    fputs("}\n", stdout);
    return !ferror(stdout);
}

static int cmd_ls(cli_ctx *ctx, int argc, char **argv)
{
    cli_args a;
    kvstore_store *s;
    kvstore_bucket *b;
    uint64_t limit = 0;
    int rc = cli_command_args(ctx, argc, argv, ls_opts,
                              sizeof(ls_opts) / sizeof(ls_opts[0]), 0, 0,
                              &a);
    if (rc >= 0)
        return rc;
    if (a.val[LS_LIMIT] &&
        !cli_parse_size(ctx, "--limit", a.val[LS_LIMIT], 1,
                        KVSTORE_PAGE_MAX, &limit)) {
        cli_args_free(&a);
        return EXIT_USAGE;
    }
    const char *prefix = a.val[LS_PREFIX];
    const char *cursor_opt = a.val[LS_CURSOR];
    char sep = a.val[LS_NULL] ? '\0' : '\n';
    rc = cli_open_existing(ctx, &s, &b);
    if (rc >= 0) {
        cli_args_free(&a);
        return rc;
    }

    /* With --cursor, one page only; "" asks for the first page. */
    bool one_page = cursor_opt != NULL;
    char *cursor = NULL; /* owned copy of the next page's cursor */
    if (cursor_opt && *cursor_opt) {
        cursor = strdup(cursor_opt);
        if (!cursor)
            rc = cli_error(ctx, EXIT_BACKEND, "out of memory");
    }
    while (rc < 0) {
        kvstore_keys *page;
        if (kvstore_list_keys(b, prefix, cursor, (size_t)limit, &page) !=
            KVSTORE_OK) {
            rc = cli_lib_error(ctx, "cannot list keys");
            break;
        }
        free(cursor);
        cursor = NULL;
        if (page->cursor) {
            cursor = strdup(page->cursor);
            if (!cursor)
                rc = cli_error(ctx, EXIT_BACKEND, "out of memory");
        }
        if (ctx->json ? !print_page_json(page) : !print_page(page, sep))
            rc = cli_finish_stdout(ctx, EXIT_BACKEND);
        kvstore_keys_free(page);
        if (rc >= 0)
            break;
        if (one_page && ctx->json) {
            rc = EXIT_OK; /* the cursor is in the page's object */
        } else if (one_page) {
            /* The cursor goes to stderr so stdout stays a plain key list;
             * an empty cursor means there is no next page. */
            fprintf(stderr, "next-cursor: %s\n", cursor ? cursor : "");
            rc = EXIT_OK;
        } else if (!cursor) {
            rc = EXIT_OK;
        }
    }
    free(cursor);
    cli_close(s, b);
    cli_args_free(&a);
    return rc == EXIT_OK ? cli_finish_stdout(ctx, rc) : rc;
}

const cli_command cli_cmd_ls = {
    "ls", cmd_ls, "list keys (every page, or one page by hand)",
    "Usage: kvstore ls [--prefix P] [--limit N] [--cursor C] [--null]\n"
    "\n"
    "Prints the keys of the bucket, one per line, walking every page.\n"
    "\n"
    "  -p, --prefix P   only keys that start with P (byte-wise)\n"
    "  -l, --limit N    page size, 1 to 1000 (default: the backend's)\n"
    "  -c, --cursor C   print one page only, starting at cursor C ('' for\n"
    "                   the first page), then print 'next-cursor: NEXT' on\n"
    "                   stderr; NEXT is empty after the last page. Pass the\n"
    "                   same --prefix with every page.\n"
    "  -0, --null       end each key with a NUL byte instead of a newline\n"
    "                   (keys may contain newlines)\n"
    "\n"
    "With --json, one object per page (JSON Lines): {\"keys\":[...],\n"
    "\"cursor\":C}, where C is the next page's cursor or null; with\n"
    "--cursor the one page's object carries it (nothing on stderr).\n"
    "The bucket must exist: ls never creates it.\n"
    "\n"
    "Exit: 0 listed, 1 no such bucket, 2 usage error, 3 library error (bad\n"
    "cursor, ...).\n"
    GLOBAL_HELP,
};

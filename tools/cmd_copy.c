/*
 * kvstore CLI - copy: migrate a bucket between any two stores.
 *
 * One page of keys at a time: list_keys, then get_many from the source
 * and set_many to the destination, so a backend that batches on the wire
 * moves a page in a few round trips and memory stays bounded by a page.
 *
 * SPDX-License-Identifier: MIT
 */
#include "cli.h"
#include "progress.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

enum { CP_PREFIX = OPT_NGLOBAL, CP_LIMIT };
static const cli_opt copy_opts[] = {
    {"prefix", 'p', true},
    {"limit", 'l', true},
};

/* A URI positional: "@PATH" (with a '/') reads it from a file (keeps a
 * password out of ps), "@NAME" is a named store the library resolves,
 * anything else is the URI, with a warning if it has credentials. */
static int copy_uri(const cli_ctx *ctx, char *arg, char **uri)
{
    if (arg[0] == '@' && strchr(arg, '/') != NULL)
        return cli_read_uri_file(ctx, arg + 1, uri);
    *uri = strdup(arg);
    if (!*uri)
        return cli_error(ctx, EXIT_BACKEND, "out of memory");
    if (cli_uri_has_credentials(arg)) {
        fprintf(stderr, "kvstore copy: warning: a URI argument carries "
                        "credentials that other users can read with ps; "
                        "use @FILE instead\n");
        cli_mask_credentials(arg);
    }
    return -1;
}

static void free_uri(char *uri)
{
    if (uri) {
        explicit_bzero(uri, strlen(uri));
        free(uri);
    }
}

/* Counts the keys to copy, for the bar's total. Returns -1 or an exit
 * code. */
static int count_keys(const cli_ctx *ctx, kvstore_bucket *b,
                      const char *prefix, uint64_t *total)
{
    char *cursor = NULL;
    *total = 0;
    do {
        kvstore_keys *page;
        if (kvstore_list_keys(b, prefix, cursor, KVSTORE_PAGE_MAX, &page) !=
            KVSTORE_OK) {
            free(cursor);
            return cli_lib_error(ctx, "cannot list the source");
        }
        free(cursor);
        cursor = page->cursor ? strdup(page->cursor) : NULL;
        bool oom = page->cursor && !cursor;
        *total += page->count;
        kvstore_keys_free(page);
        if (oom)
            return cli_error(ctx, EXIT_BACKEND, "out of memory");
    } while (cursor);
    return -1;
}

/* Copies the keys of one page that still exist in the source. */
static int copy_page(const cli_ctx *ctx, kvstore_bucket *src,
                     kvstore_bucket *dst, const kvstore_keys *page,
                     uint64_t *copied, uint64_t *vanished)
{
    size_t n = page->count, m = 0;
    void **values = calloc(n ? n : 1, sizeof(*values));
    size_t *lens = calloc(n ? n : 1, sizeof(*lens));
    const char **keys = calloc(n ? n : 1, sizeof(*keys));
    int rc = -1;

    if (!values || !lens || !keys) {
        rc = cli_error(ctx, EXIT_BACKEND, "out of memory");
        goto out;
    }
    if (kvstore_get_many(src, (const char *const *)page->keys, n, values,
                         lens) != KVSTORE_OK) {
        rc = cli_lib_error(ctx, "cannot read the source");
        goto out;
    }
    /* Compact in place: a key deleted since it was listed is skipped. */
    for (size_t i = 0; i < n; i++) {
        if (!values[i]) {
            (*vanished)++;
            continue;
        }
        keys[m] = page->keys[i];
        values[m] = values[i];
        lens[m] = lens[i];
        if (m != i)
            values[i] = NULL;
        m++;
    }
    if (m && kvstore_set_many(dst, keys, (const void *const *)values, lens,
                              m) != KVSTORE_OK) {
        rc = cli_lib_error(ctx, "cannot write the destination");
        goto out;
    }
    *copied += m;
out:
    if (values)
        for (size_t i = 0; i < n; i++)
            kvstore_free(values[i]);
    free(values);
    free(lens);
    free(keys);
    return rc;
}

static int run_copy(const cli_ctx *ctx, kvstore_bucket *src,
                    kvstore_bucket *dst, const char *prefix, size_t limit)
{
    progress bar;
    uint64_t total = 0, copied = 0, vanished = 0;
    bool tty = isatty(STDERR_FILENO);
    char *cursor = NULL;
    int rc = -1;

    /* A bar needs a total: one extra listing pass, only for a person. */
    if (tty && (rc = count_keys(ctx, src, prefix, &total)) >= 0)
        return rc;
    progress_init(&bar, "copy", total, tty);
    do {
        kvstore_keys *page;
        if (kvstore_list_keys(src, prefix, cursor, limit, &page) !=
            KVSTORE_OK) {
            rc = cli_lib_error(ctx, "cannot list the source");
            break;
        }
        free(cursor);
        cursor = NULL;
        if (page->cursor && !(cursor = strdup(page->cursor)))
            rc = cli_error(ctx, EXIT_BACKEND, "out of memory");
        if (rc < 0)
            rc = copy_page(ctx, src, dst, page, &copied, &vanished);
        kvstore_keys_free(page);
        if (rc < 0)
            progress_update(&bar, copied);
    } while (rc < 0 && cursor);
    free(cursor);

    char suffix[64] = "";
    if (vanished)
        snprintf(suffix, sizeof(suffix),
                 " (%" PRIu64 " deleted in the source meanwhile)", vanished);
    if (rc < 0) {
        progress_finish(&bar, copied, suffix);
        rc = EXIT_OK;
    } else {
        fprintf(stderr, "kvstore copy: stopped after %" PRIu64 " keys\n",
                copied);
    }
    return rc;
}

static int cmd_copy(cli_ctx *ctx, int argc, char **argv)
{
    cli_args a;
    kvstore_store *ss = NULL, *ds = NULL;
    kvstore_bucket *sb = NULL, *db = NULL;
    char *src_uri = NULL, *dst_uri = NULL;
    uint64_t limit = KVSTORE_PAGE_MAX;
    int rc = cli_command_args(ctx, argc, argv, copy_opts, 2, 4, 4, &a);
    if (rc >= 0)
        return rc;
    if (a.val[CP_LIMIT] && !cli_parse_size(ctx, "--limit", a.val[CP_LIMIT],
                                           1, KVSTORE_PAGE_MAX, &limit)) {
        rc = EXIT_USAGE;
        goto out;
    }
    if ((rc = copy_uri(ctx, a.pos[0], &src_uri)) >= 0 ||
        (rc = copy_uri(ctx, a.pos[2], &dst_uri)) >= 0)
        goto out;
    if ((rc = cli_open_uri_existing(ctx, src_uri, a.pos[1], &ss, &sb)) >= 0 ||
        (rc = cli_open_uri(ctx, dst_uri, a.pos[3], &ds, &db)) >= 0)
        goto out;
    rc = run_copy(ctx, sb, db, a.val[CP_PREFIX], (size_t)limit);
out:
    cli_close(ds, db);
    cli_close(ss, sb);
    free_uri(src_uri);
    free_uri(dst_uri);
    cli_args_free(&a);
    return rc;
}

const cli_command cli_cmd_copy = {
    "copy", cmd_copy, "copy a bucket between two stores",
    "Usage: kvstore copy [--prefix P] [--limit N] SRC_URI SRC_BUCKET "
    "DST_URI DST_BUCKET\n"
    "\n"
    "Copies every key (starting with P) of bucket SRC_BUCKET of store\n"
    "SRC_URI into bucket DST_BUCKET of store DST_URI, any two backends,\n"
    "one page of N keys at a time (default 1000) with batched reads and\n"
    "writes. Keys already in the destination are overwritten; other keys\n"
    "there are left alone. Not atomic: keys changed during the copy may be\n"
    "copied before or after the change.\n"
    "\n"
    "A URI written as @PATH, where PATH holds a '/' (@./f for a file here),\n"
    "is read from the first line of the file PATH, which keeps a password\n"
    "out of ps; @NAME is the store NAME of the store config file (see\n"
    "kvstore --help). --store and --bucket are ignored.\n"
    "\n"
    "Progress goes to stderr: a bar when stderr is a terminal (after one\n"
    "extra listing pass to count the keys), otherwise one 'copy: N' line\n"
    "per page; then 'copy: N done'.\n"
    "\n"
    "  -p, --prefix P   only keys that start with P\n"
    "  -l, --limit N    keys per page, 1 to 1000\n"
    "\n"
    "Exit: 0 copied, 2 usage error, 3 library error (what was copied\n"
    "before it stays copied).\n"
    GLOBAL_HELP,
};

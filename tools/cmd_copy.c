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

typedef struct copy_counts {
    uint64_t copied;   /* written to the destination */
    uint64_t vanished; /* listed, then deleted in the source meanwhile */
    uint64_t skipped;  /* too big for the destination: reported, not copied */
} copy_counts;

/* The batch write of a page failed on an oversized value: write the keys
 * one by one, so that one value the destination refuses costs only that
 * key, which is reported on stderr and counted. */
static int copy_one_by_one(const cli_ctx *ctx, kvstore_bucket *dst,
                           const char **keys, void **values,
                           const size_t *lens, size_t m, copy_counts *n)
{
    for (size_t i = 0; i < m; i++) {
        int st = kvstore_set(dst, keys[i], values[i], lens[i]);
        if (st == KVSTORE_ETOOBIG) {
            fprintf(stderr, "kvstore copy: skipped ");
            cli_write_escaped(stderr, keys[i], strlen(keys[i]));
            fprintf(stderr, ": %s\n", kvstore_errmsg());
            n->skipped++;
        } else if (st != KVSTORE_OK) {
            return cli_lib_error(ctx, "cannot write the destination");
        } else {
            n->copied++;
        }
    }
    return -1;
}

/* Copies the keys of one page that still exist in the source. */
static int copy_page(const cli_ctx *ctx, kvstore_bucket *src,
                     kvstore_bucket *dst, const kvstore_keys *page,
                     copy_counts *counts)
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
            counts->vanished++;
            continue;
        }
        keys[m] = page->keys[i];
        values[m] = values[i];
        lens[m] = lens[i];
        if (m != i)
            values[i] = NULL;
        m++;
    }
    if (m) {
        int st = kvstore_set_many(dst, keys, (const void *const *)values,
                                  lens, m);
        if (st == KVSTORE_ETOOBIG) {
            rc = copy_one_by_one(ctx, dst, keys, values, lens, m, counts);
            goto out;
        }
        if (st != KVSTORE_OK) {
            rc = cli_lib_error(ctx, "cannot write the destination");
            goto out;
        }
    }
    counts->copied += m;
out:
    if (values)
        for (size_t i = 0; i < n; i++)
            kvstore_free(values[i]);
    free(values);
    free(lens);
    free(keys);
    return rc;
}

/* --json: one object per page on stdout, then a final one. */
static void json_progress(const progress *bar, const copy_counts *n,
                          bool done)
{
    printf("{\"copied\":%" PRIu64 ",\"skipped\":%" PRIu64
           ",\"vanished\":%" PRIu64 ",\"keys_per_s\":%.0f,\"done\":%s}\n",
           n->copied, n->skipped, n->vanished, progress_rate(bar, n->copied),
           done ? "true" : "false");
    fflush(stdout);
}

static int run_copy(const cli_ctx *ctx, kvstore_bucket *src,
                    kvstore_bucket *dst, const char *prefix, size_t limit)
{
    progress bar;
    uint64_t total = 0;
    copy_counts n = {0, 0, 0};
    bool tty = !ctx->json && isatty(STDERR_FILENO);
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
            rc = copy_page(ctx, src, dst, page, &n);
        kvstore_keys_free(page);
        if (rc < 0 && ctx->json)
            json_progress(&bar, &n, false);
        else if (rc < 0)
            progress_update(&bar, n.copied);
    } while (rc < 0 && cursor);
    free(cursor);

    char suffix[128] = "";
    int used = 0;
    if (n.vanished)
        used = snprintf(suffix, sizeof(suffix),
                        " (%" PRIu64 " deleted in the source meanwhile)",
                        n.vanished);
    if (n.skipped && used >= 0 && (size_t)used < sizeof suffix)
        snprintf(suffix + used, sizeof(suffix) - (size_t)used,
                 " (%" PRIu64 " skipped: too big for the destination)",
                 n.skipped);
    if (rc < 0) {
        if (ctx->json)
            json_progress(&bar, &n, true);
        else
            progress_finish(&bar, n.copied, suffix);
        /* Every other key is copied; the skipped ones must not pass
         * unnoticed. */
        rc = n.skipped ? cli_error(ctx, EXIT_BACKEND,
                                   "%" PRIu64 " keys were not copied: "
                                   "their values are too big for the "
                                   "destination", n.skipped)
                       : cli_finish_stdout(ctx, EXIT_OK);
    } else {
        fprintf(stderr, "kvstore copy: stopped after %" PRIu64 " keys\n",
                n.copied);
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
    "Progress goes to stderr: a bar with the rate and the time left when\n"
    "stderr is a terminal (after one extra listing pass to count the\n"
    "keys), otherwise one 'copy: N' line per page; then 'copy: N done'.\n"
    "With --json, progress goes to stdout instead, one object per page\n"
    "and a last one with \"done\":true: {\"copied\":N,\"skipped\":N,\n"
    "\"vanished\":N,\"keys_per_s\":N,\"done\":false}.\n"
    "A value too big for the destination is skipped and reported by key on\n"
    "stderr; the rest is copied, and the exit status is then 3.\n"
    "\n"
    "  -p, --prefix P   only keys that start with P\n"
    "  -l, --limit N    keys per page, 1 to 1000\n"
    "\n"
    "Exit: 0 copied, 1 no such source bucket, 2 usage error, 3 library\n"
    "error or skipped keys (what was copied stays copied).\n"
    GLOBAL_HELP,
};

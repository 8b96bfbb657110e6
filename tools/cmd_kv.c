/*
 * kvstore CLI - get, set, del, exists.
 *
 * SPDX-License-Identifier: MIT
 */
#include "cli.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

enum { GET_RAW = OPT_NGLOBAL };
static const cli_opt get_opts[] = {
    {"raw", 0, false},
};

static int cmd_get(cli_ctx *ctx, int argc, char **argv)
{
    cli_args a;
    kvstore_store *s;
    kvstore_bucket *b;
    void *value;
    size_t len;
    int rc = cli_command_args(ctx, argc, argv, get_opts, 1, 1, 1, &a);
    if (rc >= 0)
        return rc;
    bool raw = a.val[GET_RAW] != NULL;
    rc = cli_open_existing(ctx, &s, &b);
    if (rc < 0) {
        int st = kvstore_get(b, a.pos[0], &value, &len);
        if (st == KVSTORE_NOTFOUND) {
            if (ctx->json) {
                fputs("{\"key\":", stdout);
                cli_json_string(stdout, a.pos[0], strlen(a.pos[0]));
                fputs(",\"found\":false}\n", stdout);
                (void)cli_finish_stdout(ctx, EXIT_OK);
            }
            rc = cli_error(ctx, EXIT_NOTFOUND, "key not found");
        } else if (st != KVSTORE_OK) {
            rc = cli_lib_error(ctx, "cannot read the key");
        } else if (ctx->json) {
            fputs("{\"key\":", stdout);
            cli_json_string(stdout, a.pos[0], strlen(a.pos[0]));
            fputs(",\"found\":true,", stdout);
            cli_json_value(stdout, "value", value, len);
            fputs("}\n", stdout);
            kvstore_free(value);
            rc = cli_finish_stdout(ctx, EXIT_OK);
        } else {
            /* A shell prompt glued to the value is unreadable, so add a
             * newline for a person; never for a pipe or file, where the
             * exact bytes matter, nor with --raw. Write errors surface in
             * finish_stdout. */
            if (cli_write(value, len) && !raw && isatty(STDOUT_FILENO) &&
                (len == 0 || ((char *)value)[len - 1] != '\n'))
                cli_write("\n", 1);
            kvstore_free(value);
            rc = cli_finish_stdout(ctx, EXIT_OK);
        }
        cli_close(s, b);
    }
    cli_args_free(&a);
    return rc;
}

const cli_command cli_cmd_get = {
    "get", cmd_get, "print the value of a key",
    "Usage: kvstore get [--raw] KEY\n"
    "\n"
    "Writes the value of KEY to stdout, byte for byte. No newline is added,\n"
    "except when stdout is a terminal and the value does not end in one\n"
    "(--raw: never). The bucket must exist: get never creates it.\n"
    "With --json: {\"key\":K,\"found\":true,\"value\":V} (\"value_base64\"\n"
    "when V is not UTF-8), or {\"key\":K,\"found\":false}.\n"
    "\n"
    "Exit: 0 found, 1 key or bucket not found, 2 usage error, 3 library\n"
    "error.\n"
    GLOBAL_HELP,
};

enum { SET_TTL = OPT_NGLOBAL };
static const cli_opt set_opts[] = {
    {"ttl", 't', true},
};

static int cmd_set(cli_ctx *ctx, int argc, char **argv)
{
    cli_args a;
    kvstore_store *s;
    kvstore_bucket *b;
    void *value;
    size_t len;
    bool owned;
    uint64_t ttl_ms = 0;
    int rc = cli_command_args(ctx, argc, argv, set_opts, 1, 2, 2, &a);
    if (rc >= 0)
        return rc;
    if (a.val[SET_TTL] && !cli_parse_duration(ctx, "--ttl", a.val[SET_TTL],
                                              &ttl_ms)) {
        cli_args_free(&a);
        return EXIT_USAGE;
    }
    /* Read the value before opening the store: a failed read of stdin
     * must not leave a store half-opened (or a bucket created). */
    rc = cli_read_value(ctx, a.pos[1], &value, &len, &owned);
    if (rc < 0) {
        rc = cli_open(ctx, &s, &b);
        if (rc < 0) {
            if (kvstore_set_ttl(b, a.pos[0], value, len, ttl_ms) !=
                KVSTORE_OK)
                rc = cli_lib_error(ctx, "cannot write the key");
            else
                rc = EXIT_OK;
            cli_close(s, b);
        }
        if (owned)
            free(value);
    }
    cli_args_free(&a);
    return rc;
}

const cli_command cli_cmd_set = {
    "set", cmd_set, "set a key to a value (- reads stdin)",
    "Usage: kvstore set [--ttl DURATION] KEY VALUE\n"
    "       kvstore set [--ttl DURATION] KEY - < FILE\n"
    "\n"
    "Sets KEY to VALUE. When VALUE is '-', the value is all of stdin, read\n"
    "as raw bytes (NUL bytes included, nothing stripped). To store the\n"
    "one-byte value '-', pipe it: printf %s - | kvstore set KEY -\n"
    "\n"
    "  -t, --ttl DURATION  the key expires after DURATION: a number of\n"
    "                      milliseconds, or with a unit ms, s, m, h or d\n"
    "                      (\"30s\", \"2h\"); 0 means never\n"
    "\n"
    "Exit: 0 written, 2 usage error, 3 library error (invalid key, value\n"
    "too big, ...).\n"
    GLOBAL_HELP,
};

static int cmd_del(cli_ctx *ctx, int argc, char **argv)
{
    cli_args a;
    kvstore_store *s;
    kvstore_bucket *b;
    int rc = cli_command_args(ctx, argc, argv, NULL, 0, 1, -1, &a);
    if (rc >= 0)
        return rc;
    rc = cli_open(ctx, &s, &b);
    if (rc < 0) {
        int st = a.npos == 1
                     ? kvstore_delete(b, a.pos[0])
                     : kvstore_delete_many(b, (const char *const *)a.pos,
                                           (size_t)a.npos);
        rc = st == KVSTORE_OK ? EXIT_OK
                              : cli_lib_error(ctx, "cannot delete");
        cli_close(s, b);
    }
    cli_args_free(&a);
    return rc;
}

const cli_command cli_cmd_del = {
    "del", cmd_del, "delete keys",
    "Usage: kvstore del KEY [KEY...]\n"
    "\n"
    "Deletes each KEY (several keys go in one batch). Deleting a missing\n"
    "key succeeds.\n"
    "\n"
    "Exit: 0 deleted or absent, 2 usage error, 3 library error.\n"
    GLOBAL_HELP,
};

static int cmd_exists(cli_ctx *ctx, int argc, char **argv)
{
    cli_args a;
    kvstore_store *s;
    kvstore_bucket *b;
    bool exists;
    int rc = cli_command_args(ctx, argc, argv, NULL, 0, 1, 1, &a);
    if (rc >= 0)
        return rc;
    rc = cli_open_existing(ctx, &s, &b);
    if (rc < 0) {
        if (kvstore_exists(b, a.pos[0], &exists) != KVSTORE_OK) {
            rc = cli_lib_error(ctx, "cannot check the key");
        } else {
            if (ctx->json) {
                fputs("{\"key\":", stdout);
                cli_json_string(stdout, a.pos[0], strlen(a.pos[0]));
                printf(",\"exists\":%s}\n", exists ? "true" : "false");
            } else {
                puts(exists ? "true" : "false");
            }
            rc = cli_finish_stdout(ctx, exists ? EXIT_OK : EXIT_NOTFOUND);
        }
        cli_close(s, b);
    }
    cli_args_free(&a);
    return rc;
}

const cli_command cli_cmd_exists = {
    "exists", cmd_exists, "tell whether a key exists",
    "Usage: kvstore exists KEY\n"
    "\n"
    "Prints 'true' and exits 0 if KEY exists, prints 'false' and exits 1 if\n"
    "not. With --json: {\"key\":K,\"exists\":true|false}. The bucket must\n"
    "exist: exists never creates it.\n"
    "\n"
    "Exit: 0 exists, 1 absent (or no such bucket), 2 usage error, 3 library\n"
    "error.\n"
    GLOBAL_HELP,
};

static int cmd_ttl(cli_ctx *ctx, int argc, char **argv)
{
    cli_args a;
    kvstore_store *s;
    kvstore_bucket *b;
    int64_t left;
    int rc = cli_command_args(ctx, argc, argv, NULL, 0, 1, 1, &a);
    if (rc >= 0)
        return rc;
    rc = cli_open_existing(ctx, &s, &b);
    if (rc < 0) {
        int st = kvstore_ttl(b, a.pos[0], &left);
        if (st == KVSTORE_NOTFOUND) {
            rc = cli_error(ctx, EXIT_NOTFOUND, "key not found");
        } else if (st != KVSTORE_OK) {
            rc = cli_lib_error(ctx, "cannot read the expiry");
        } else {
            if (ctx->json) {
                fputs("{\"key\":", stdout);
                cli_json_string(stdout, a.pos[0], strlen(a.pos[0]));
                printf(",\"ttl_ms\":%" PRId64 "}\n", left);
            } else {
                printf("%" PRId64 "\n", left);
            }
            rc = cli_finish_stdout(ctx, EXIT_OK);
        }
        cli_close(s, b);
    }
    cli_args_free(&a);
    return rc;
}

const cli_command cli_cmd_ttl = {
    "ttl", cmd_ttl, "print the milliseconds before a key expires",
    "Usage: kvstore ttl KEY\n"
    "\n"
    "Prints the milliseconds left before KEY expires, or -1 if it never\n"
    "does (see set --ttl). With --json: {\"key\":K,\"ttl_ms\":N}.\n"
    "\n"
    "Exit: 0 printed, 1 key or bucket not found, 2 usage error, 3 library\n"
    "error (the backend has no per-key expiry, ...).\n"
    GLOBAL_HELP,
};

/*
 * kvstore CLI - get, set, del, exists.
 *
 * SPDX-License-Identifier: MIT
 */
#include "cli.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int cmd_get(cli_ctx *ctx, int argc, char **argv)
{
    cli_args a;
    kvstore_store *s;
    kvstore_bucket *b;
    void *value;
    size_t len;
    int rc = cli_command_args(ctx, argc, argv, NULL, 0, 1, 1, &a);
    if (rc >= 0)
        return rc;
    rc = cli_open(ctx, &s, &b);
    if (rc < 0) {
        int st = kvstore_get(b, a.pos[0], &value, &len);
        if (st == KVSTORE_NOTFOUND) {
            rc = cli_error(ctx, EXIT_NOTFOUND, "key not found");
        } else if (st != KVSTORE_OK) {
            rc = cli_lib_error(ctx, "cannot read the key");
        } else {
            /* A shell prompt glued to the value is unreadable, so add a
             * newline for a person; never for a pipe or file, where the
             * exact bytes matter. Write errors surface in finish_stdout. */
            if (cli_write(value, len) && isatty(STDOUT_FILENO) &&
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
    "Usage: kvstore get KEY\n"
    "\n"
    "Writes the value of KEY to stdout, byte for byte. No newline is added,\n"
    "except when stdout is a terminal and the value does not end in one.\n"
    "\n"
    "Exit: 0 found, 1 key not found, 2 usage error, 3 library error.\n"
    GLOBAL_HELP,
};

static int cmd_set(cli_ctx *ctx, int argc, char **argv)
{
    cli_args a;
    kvstore_store *s;
    kvstore_bucket *b;
    void *value;
    size_t len;
    bool owned;
    int rc = cli_command_args(ctx, argc, argv, NULL, 0, 2, 2, &a);
    if (rc >= 0)
        return rc;
    /* Read the value before opening the store: a failed read of stdin
     * must not leave a store half-opened (or a bucket created). */
    rc = cli_read_value(ctx, a.pos[1], &value, &len, &owned);
    if (rc < 0) {
        rc = cli_open(ctx, &s, &b);
        if (rc < 0) {
            if (kvstore_set(b, a.pos[0], value, len) != KVSTORE_OK)
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
    "Usage: kvstore set KEY VALUE\n"
    "       kvstore set KEY - < FILE\n"
    "\n"
    "Sets KEY to VALUE. When VALUE is '-', the value is all of stdin, read\n"
    "as raw bytes (NUL bytes included, nothing stripped). To store the\n"
    "one-byte value '-', pipe it: printf %%s - | kvstore set KEY -\n"
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
    rc = cli_open(ctx, &s, &b);
    if (rc < 0) {
        if (kvstore_exists(b, a.pos[0], &exists) != KVSTORE_OK) {
            rc = cli_lib_error(ctx, "cannot check the key");
        } else {
            puts(exists ? "true" : "false");
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
    "not.\n"
    "\n"
    "Exit: 0 exists, 1 absent, 2 usage error, 3 library error.\n"
    GLOBAL_HELP,
};

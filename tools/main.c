/*
 * kvstore CLI - entry point: global options and subcommand dispatch.
 *
 * SPDX-License-Identifier: MIT
 */
#include "cli.h"

#include <stdlib.h>
#include <string.h>

static const cli_command *const commands[] = {
    &cli_cmd_get,   &cli_cmd_set,    &cli_cmd_del,   &cli_cmd_exists,
    &cli_cmd_ttl,   &cli_cmd_ls,     &cli_cmd_incr,  &cli_cmd_cas,
    &cli_cmd_watch, &cli_cmd_copy,   &cli_cmd_bench, &cli_cmd_buckets,
    &cli_cmd_bucket,
};
#define N_COMMANDS (sizeof(commands) / sizeof(commands[0]))

static const cli_opt main_opts[] = {
    {"version", 'V', false},
};

static void print_help(void)
{
    fputs(
        "Usage: kvstore [OPTIONS] COMMAND [ARGS...]\n"
        "\n"
        "Reads and writes keys of one bucket of a libkvstore store.\n"
        "\n"
        "Options (accepted before or after COMMAND):\n"
        "  -s, --store URI         the store to use (shows in ps: prefer\n"
        "                          --store-file or KVSTORE_URL for URIs\n"
        "                          with a password)\n"
        "      --store-file PATH   read the store URI from the first line of\n"
        "                          PATH\n"
        "  -b, --bucket NAME       the bucket (default \"default\")\n"
        "      --json              JSON output (JSON Lines for streams)\n"
        "      --stats             print calls, errors and p50/p99 latency\n"
        "                          per operation on stderr at exit\n"
        "  -h, --help              show help (kvstore COMMAND --help for a\n"
        "                          command)\n"
        "  -V, --version           show the library version\n"
        "\n"
        "The store is --store, else --store-file, else $KVSTORE_URL, else\n"
        "file://$XDG_DATA_HOME/kvstore (default ~/.local/share/kvstore).\n"
        "A store URI \"@NAME\" names a store of the store config file\n"
        "($KVSTORE_CONFIG, else $XDG_CONFIG_HOME/kvstore/stores.conf).\n"
        "\n"
        "Commands:\n",
        stdout);
    for (size_t i = 0; i < N_COMMANDS; i++)
        printf("  %-8s %s\n", commands[i]->name, commands[i]->summary);
    fputs(
        "\n"
        "Exit status: 0 success, 1 key or bucket not found (or `exists`\n"
        "false), 2 usage error, 3 library, backend or I/O error (the\n"
        "library's message is printed on stderr), 4 compare-and-swap\n"
        "conflict. Invalid keys, bucket names, URIs and cursors are rejected\n"
        "by the library: exit 3.\n"
        "See docs/cli.md for details.\n",
        stdout);
}

int main(int argc, char **argv)
{
    cli_ctx ctx = {.bucket = "default"};
    cli_args args;
    int rc;

    rc = cli_parse(&ctx, argc - 1, argv + 1, main_opts,
                   sizeof(main_opts) / sizeof(main_opts[0]), true, &args);
    if (rc >= 0)
        goto out;
    if (args.val[OPT_NGLOBAL]) { /* --version */
        printf("kvstore %s\n", kvstore_version());
        rc = cli_finish_stdout(&ctx, EXIT_OK);
    } else if (args.npos == 0) {
        if (args.val[OPT_HELP]) {
            print_help();
            rc = cli_finish_stdout(&ctx, EXIT_OK);
        } else {
            rc = cli_usage(&ctx, "missing command");
        }
    } else {
        const char *name = args.pos[0];
        const cli_command *cmd = NULL;
        /* "kvstore help CMD" is the same as "kvstore CMD --help". */
        bool help = strcmp(name, "help") == 0;
        if (help) {
            if (args.npos < 2) {
                print_help();
                rc = cli_finish_stdout(&ctx, EXIT_OK);
                goto done;
            }
            name = args.pos[1];
        }
        for (size_t i = 0; i < N_COMMANDS; i++)
            if (strcmp(commands[i]->name, name) == 0)
                cmd = commands[i];
        if (!cmd) {
            rc = cli_usage(&ctx, "unknown command '%s'", name);
        } else {
            ctx.cmd = cmd->name;
            ctx.help = cmd->help;
            if (help || args.val[OPT_HELP]) {
                fputs(cmd->help, stdout);
                rc = cli_finish_stdout(&ctx, EXIT_OK);
            } else {
                rc = cmd->fn(&ctx, args.npos - 1, args.pos + 1);
            }
        }
    }
done:
    cli_args_free(&args);
out:
    cli_stats_print(&ctx);
    cli_stats_free(&ctx);
    if (ctx.store_copy)
        explicit_bzero(ctx.store_copy, strlen(ctx.store_copy));
    free(ctx.store_copy);
    return rc;
}

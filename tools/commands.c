/*
 * kvstore CLI - the command table and the tool's --help text: the one
 * source of the --help output, the man page and the shell completion
 * (gen_docs.c).
 *
 * SPDX-License-Identifier: MIT
 */
#include "cli.h"

const cli_command *const cli_commands[] = {
    &cli_cmd_get,   &cli_cmd_set,    &cli_cmd_del,   &cli_cmd_exists,
    &cli_cmd_ttl,   &cli_cmd_ls,     &cli_cmd_incr,  &cli_cmd_cas,
    &cli_cmd_watch, &cli_cmd_copy,   &cli_cmd_bench, &cli_cmd_buckets,
    &cli_cmd_bucket,
};
const size_t cli_n_commands =
    sizeof(cli_commands) / sizeof(cli_commands[0]);

void cli_print_main_help(FILE *f)
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
        "the SQLite database $XDG_DATA_HOME/kvstore/kvstore.db (default\n"
        "~/.local/share/kvstore/kvstore.db; needs the sqlite module). An old\n"
        "file store in that directory stays the default while it holds\n"
        "buckets (see docs/backends/default-store.md to migrate).\n"
        "A store URI \"@NAME\" names a store of the store config file\n"
        "($KVSTORE_CONFIG, else $XDG_CONFIG_HOME/kvstore/stores.conf).\n"
        "\n"
        "Commands:\n",
        f);
    for (size_t i = 0; i < cli_n_commands; i++)
        fprintf(f, "  %-8s %s\n", cli_commands[i]->name,
                cli_commands[i]->summary);
    fputs(
        "\n"
        "Exit status: 0 success, 1 key or bucket not found (or `exists`\n"
        "false), 2 usage error, 3 library, backend or I/O error (the\n"
        "library's message is printed on stderr), 4 compare-and-swap\n"
        "conflict. Invalid keys, bucket names, URIs and cursors are rejected\n"
        "by the library: exit 3.\n"
        "See docs/cli.md for details.\n",
        f);
}


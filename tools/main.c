/*
 * kvstore CLI - entry point: global options and subcommand dispatch.
 *
 * SPDX-License-Identifier: MIT
 */
#include "cli.h"

#include <stdlib.h>
#include <string.h>

static const cli_opt main_opts[] = {
    {"version", 'V', false},
};

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
            cli_print_main_help(stdout);
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
                cli_print_main_help(stdout);
                rc = cli_finish_stdout(&ctx, EXIT_OK);
                goto done;
            }
            name = args.pos[1];
        }
        for (size_t i = 0; i < cli_n_commands; i++)
            if (strcmp(cli_commands[i]->name, name) == 0)
                cmd = cli_commands[i];
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

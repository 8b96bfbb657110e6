/*
 * kvstore CLI - incr and cas.
 *
 * SPDX-License-Identifier: MIT
 */
#include "cli.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

static int cmd_incr(cli_ctx *ctx, int argc, char **argv)
{
    cli_args a;
    kvstore_store *s;
    kvstore_bucket *b;
    int64_t delta = 1, result;
    int rc = cli_command_args(ctx, argc, argv, NULL, 0, 1, 2, &a);
    if (rc >= 0)
        return rc;
    if (a.npos == 2 && !cli_parse_i64(ctx, "DELTA", a.pos[1], &delta)) {
        cli_args_free(&a);
        return EXIT_USAGE;
    }
    rc = cli_open(ctx, &s, &b);
    if (rc < 0) {
        if (kvstore_increment(b, a.pos[0], delta, &result) != KVSTORE_OK) {
            rc = cli_lib_error(ctx, "cannot increment");
        } else {
            if (ctx->json) {
                fputs("{\"key\":", stdout);
                cli_json_string(stdout, a.pos[0], strlen(a.pos[0]));
                printf(",\"value\":%" PRId64 "}\n", result);
            } else {
                printf("%" PRId64 "\n", result);
            }
            rc = cli_finish_stdout(ctx, EXIT_OK);
        }
        cli_close(s, b);
    }
    cli_args_free(&a);
    return rc;
}

const cli_command cli_cmd_incr = {
    "incr", cmd_incr, "add to a counter and print the result",
    "Usage: kvstore incr KEY [DELTA]\n"
    "\n"
    "Atomically adds DELTA (a decimal int64, default 1, may be negative) to\n"
    "the counter at KEY and prints the new value. A missing key counts as\n"
    "0. Counters are stored as ASCII decimal, so `kvstore get` reads them.\n"
    "With --json: {\"key\":K,\"value\":N}.\n"
    "\n"
    "Exit: 0 done, 2 usage error (bad DELTA), 3 library error (the value\n"
    "is not a decimal int64, the result overflows, ...).\n"
    GLOBAL_HELP,
};

enum { CAS_ABSENT = OPT_NGLOBAL };
static const cli_opt cas_opts[] = {
    {"absent", 0, false},
};

/* Compares the snapshot with what the caller expects; prints why not and
 * returns an exit code, or -1 when the swap may go ahead. */
static int cas_check(const cli_ctx *ctx, kvstore_cas *cas, bool absent,
                     const void *expected, size_t expected_len)
{
    const void *cur;
    size_t cur_len;
    int st = kvstore_cas_current(cas, &cur, &cur_len);
    if (st == KVSTORE_NOTFOUND)
        return absent ? -1 : cli_error(ctx, EXIT_NOTFOUND, "key not found");
    if (st != KVSTORE_OK)
        return cli_lib_error(ctx, "cannot read the key");
    if (absent)
        return cli_error(ctx, EXIT_CONFLICT,
                         "conflict: the key exists (--absent)");
    if (cur_len != expected_len || memcmp(cur, expected, cur_len) != 0)
        return cli_error(ctx, EXIT_CONFLICT,
                         "conflict: the current value is not EXPECTED");
    return -1;
}

static int cmd_cas(cli_ctx *ctx, int argc, char **argv)
{
    cli_args a;
    kvstore_store *s;
    kvstore_bucket *b;
    kvstore_cas *cas;
    void *expected = NULL, *value = NULL;
    size_t expected_len = 0, value_len;
    bool expected_owned = false, value_owned = false;
    int rc = cli_command_args(ctx, argc, argv, cas_opts, 1, 2, 3, &a);
    if (rc >= 0)
        return rc;
    bool absent = a.val[CAS_ABSENT] != NULL;
    if (a.npos != (absent ? 2 : 3)) {
        rc = cli_usage(ctx, absent ? "--absent takes KEY NEW"
                                   : "expected KEY EXPECTED NEW");
        goto out;
    }
    if (!absent && strcmp(a.pos[1], "-") == 0 && strcmp(a.pos[2], "-") == 0) {
        rc = cli_usage(ctx, "only one of EXPECTED and NEW can be '-'");
        goto out;
    }
    if (!absent) {
        rc = cli_read_value(ctx, a.pos[1], &expected, &expected_len,
                            &expected_owned);
        if (rc >= 0)
            goto out;
    }
    rc = cli_read_value(ctx, a.pos[a.npos - 1], &value, &value_len,
                        &value_owned);
    if (rc >= 0)
        goto out;

    rc = cli_open(ctx, &s, &b);
    if (rc >= 0)
        goto out;
    if (kvstore_cas_open(&cas, b, a.pos[0]) != KVSTORE_OK) {
        rc = cli_lib_error(ctx, "cannot snapshot the key");
    } else {
        rc = cas_check(ctx, cas, absent, expected, expected_len);
        if (rc < 0) {
            int st = kvstore_cas_swap(cas, value, value_len);
            if (st == KVSTORE_ECONFLICT)
                rc = cli_error(ctx, EXIT_CONFLICT, "conflict: %s",
                               kvstore_errmsg());
            else if (st != KVSTORE_OK)
                rc = cli_lib_error(ctx, "cannot swap");
            else
                rc = EXIT_OK;
        }
        kvstore_cas_free(cas);
        if (ctx->json && (rc == EXIT_OK || rc == EXIT_CONFLICT)) {
            fputs("{\"key\":", stdout);
            cli_json_string(stdout, a.pos[0], strlen(a.pos[0]));
            printf(",\"swapped\":%s}\n", rc == EXIT_OK ? "true" : "false");
            rc = cli_finish_stdout(ctx, rc);
        }
    }
    cli_close(s, b);
out:
    if (expected_owned)
        free(expected);
    if (value_owned)
        free(value);
    cli_args_free(&a);
    return rc;
}

const cli_command cli_cmd_cas = {
    "cas", cmd_cas, "compare-and-swap a value",
    "Usage: kvstore cas KEY EXPECTED NEW\n"
    "       kvstore cas --absent KEY NEW\n"
    "\n"
    "Sets KEY to NEW only if its current value is exactly EXPECTED (or,\n"
    "with --absent, only if KEY does not exist), atomically against every\n"
    "other writer. EXPECTED or NEW (not both) may be '-' to read stdin.\n"
    "\n"
    "With --json: {\"key\":K,\"swapped\":true|false}.\n"
    "\n"
    "Exit: 0 swapped, 1 key not found (without --absent), 2 usage error,\n"
    "3 library error, 4 conflict (the value differs from EXPECTED, or\n"
    "changed before the swap; nothing was written).\n"
    GLOBAL_HELP,
};

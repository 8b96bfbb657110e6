/*
 * kvstore CLI - command-line parsing.
 *
 * A small hand-written parser instead of getopt_long: `incr KEY -5` must
 * read "-5" as a number, and "-" must stay a positional (it means stdin),
 * which getopt cannot be told.
 *
 * SPDX-License-Identifier: MIT
 */
#include "cli.h"

#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

static const cli_opt global_opts[OPT_NGLOBAL] = {
    [OPT_HELP] = {"help", 'h', false},
    [OPT_STORE] = {"store", 's', true},
    [OPT_STORE_FILE] = {"store-file", 0, true},
    [OPT_BUCKET] = {"bucket", 'b', true},
    [OPT_JSON] = {"json", 0, false},
    [OPT_STATS] = {"stats", 0, false},
};

/* A negative decimal number ("-5") is a positional, not an option. */
static bool is_negative_number(const char *s)
{
    if (s[0] != '-' || !isdigit((unsigned char)s[1]))
        return false;
    for (s++; *s; s++)
        if (!isdigit((unsigned char)*s))
            return false;
    return true;
}

static const cli_opt *opt_at(const cli_opt *extra, size_t i)
{
    return i < OPT_NGLOBAL ? &global_opts[i] : &extra[i - OPT_NGLOBAL];
}

static int find_long(const cli_opt *extra, size_t n, const char *name,
                     size_t len)
{
    for (size_t i = 0; i < n; i++) {
        const cli_opt *o = opt_at(extra, i);
        if (strlen(o->name) == len && memcmp(o->name, name, len) == 0)
            return (int)i;
    }
    return -1;
}

static int find_short(const cli_opt *extra, size_t n, char c)
{
    for (size_t i = 0; i < n; i++)
        if (opt_at(extra, i)->short_name == c)
            return (int)i;
    return -1;
}

int cli_parse(cli_ctx *ctx, int argc, char **argv, const cli_opt *extra,
              size_t n_extra, bool stop_at_pos, cli_args *args)
{
    size_t n = OPT_NGLOBAL + n_extra;
    bool only_pos = false;

    memset(args, 0, sizeof(*args));
    if (n > CLI_MAX_OPTS)
        abort(); /* a programming error in a command table */
    args->pos = calloc((size_t)argc + 1, sizeof(char *));
    if (!args->pos)
        return cli_error(ctx, EXIT_BACKEND, "out of memory");

    for (int i = 0; i < argc; i++) {
        char *a = argv[i];
        int idx;
        const char *value = NULL;

        /* A known short option wins over a negative number ("-0" is
         * ls --null), then "-5" is a positional. */
        if (only_pos || a[0] != '-' || a[1] == '\0' ||
            (is_negative_number(a) &&
             !(a[2] == '\0' && find_short(extra, n, a[1]) >= 0))) {
            args->pos[args->npos++] = a;
            if (stop_at_pos)
                only_pos = true;
            continue;
        }
        if (strcmp(a, "--") == 0) {
            only_pos = true;
            continue;
        }
        if (a[1] == '-') {
            const char *eq = strchr(a + 2, '=');
            size_t len = eq ? (size_t)(eq - (a + 2)) : strlen(a + 2);
            idx = find_long(extra, n, a + 2, len);
            if (idx < 0) {
                int rc = cli_usage(ctx, "unknown option '%.*s'",
                                   (int)(len + 2), a);
                cli_args_free(args);
                return rc;
            }
            if (eq) {
                if (!opt_at(extra, (size_t)idx)->has_value) {
                    int rc = cli_usage(ctx, "option '--%s' takes no value",
                                       opt_at(extra, (size_t)idx)->name);
                    cli_args_free(args);
                    return rc;
                }
                value = eq + 1;
            }
        } else {
            /* Single-letter options are not bundled: "-b NAME" only. */
            idx = a[2] == '\0' ? find_short(extra, n, a[1]) : -1;
            if (idx < 0) {
                int rc = cli_usage(ctx, "unknown option '%s'", a);
                cli_args_free(args);
                return rc;
            }
        }
        const cli_opt *o = opt_at(extra, (size_t)idx);
        if (o->has_value && !value) {
            if (i + 1 >= argc) {
                int rc = cli_usage(ctx, "option '--%s' needs a value",
                                   o->name);
                cli_args_free(args);
                return rc;
            }
            value = argv[++i];
        }
        args->val[idx] = o->has_value ? value : "";

        if (idx == OPT_STORE) {
            /* Keep a private copy, then blank the credentials in argv so
             * that they stop showing in ps as early as possible. */
            free(ctx->store_copy);
            ctx->store_copy = strdup(value);
            if (!ctx->store_copy) {
                cli_args_free(args);
                return cli_error(ctx, EXIT_BACKEND, "out of memory");
            }
            ctx->store = ctx->store_copy;
            if (cli_uri_has_credentials(value)) {
                fprintf(stderr,
                        "kvstore: warning: --store carries credentials that "
                        "other users can read with ps; use --store-file or "
                        "KVSTORE_URL instead\n");
                cli_mask_credentials(argv[i]);
            }
        } else if (idx == OPT_STORE_FILE) {
            ctx->store_file = value;
        } else if (idx == OPT_BUCKET) {
            ctx->bucket = value;
        } else if (idx == OPT_JSON) {
            ctx->json = true;
        } else if (idx == OPT_STATS) {
            ctx->stats = true;
        }
    }
    return -1;
}

void cli_args_free(cli_args *args)
{
    free(args->pos);
    args->pos = NULL;
    args->npos = 0;
}

int cli_command_args(cli_ctx *ctx, int argc, char **argv,
                     const cli_opt *extra, size_t n_extra, int min_pos,
                     int max_pos, cli_args *args)
{
    int rc = cli_parse(ctx, argc, argv, extra, n_extra, false, args);
    if (rc >= 0)
        return rc;
    if (args->val[OPT_HELP]) {
        fputs(ctx->help, stdout);
        cli_args_free(args);
        return cli_finish_stdout(ctx, EXIT_OK);
    }
    if (args->npos < min_pos || (max_pos >= 0 && args->npos > max_pos)) {
        rc = cli_usage(ctx, args->npos < min_pos ? "missing argument"
                                                 : "too many arguments");
        cli_args_free(args);
        return rc;
    }
    return -1;
}

bool cli_parse_i64(const cli_ctx *ctx, const char *what, const char *s,
                   int64_t *out)
{
    char *end;
    errno = 0;
    intmax_t v = strtoimax(s, &end, 10);
    /* strtoimax accepts leading blanks and '+'; a counter delta must be a
     * plain decimal, so reject anything else before trusting it. */
    if (!*s || isspace((unsigned char)*s) || *s == '+' || *end ||
        errno == ERANGE ||
        v < INT64_MIN || v > INT64_MAX) {
        cli_usage(ctx, "%s must be a decimal integer in the int64 range",
                  what);
        return false;
    }
    *out = (int64_t)v;
    return true;
}

bool cli_parse_size(const cli_ctx *ctx, const char *what, const char *s,
                    uint64_t min, uint64_t max, uint64_t *out)
{
    char *end;
    errno = 0;
    uintmax_t v = isdigit((unsigned char)*s) ? strtoumax(s, &end, 10) : 0;
    if (!isdigit((unsigned char)*s) || *end || errno == ERANGE || v < min ||
        v > max) {
        cli_usage(ctx, "%s must be a whole number from %" PRIu64
                       " to %" PRIu64, what, min, max);
        return false;
    }
    *out = (uint64_t)v;
    return true;
}

bool cli_parse_duration(const cli_ctx *ctx, const char *what, const char *s,
                        uint64_t *ms)
{
    static const struct { const char *unit; uint64_t ms; } units[] = {
        {"", 1}, {"ms", 1}, {"s", 1000}, {"m", 60000}, {"h", 3600000},
        {"d", 86400000},
    };
    char *end;
    errno = 0;
    uintmax_t v = isdigit((unsigned char)*s) ? strtoumax(s, &end, 10) : 0;
    if (isdigit((unsigned char)*s) && errno != ERANGE) {
        for (size_t i = 0; i < sizeof units / sizeof units[0]; i++) {
            if (strcmp(end, units[i].unit) == 0 &&
                v <= UINT64_MAX / units[i].ms) {
                *ms = (uint64_t)v * units[i].ms;
                return true;
            }
        }
    }
    cli_usage(ctx, "%s must be a whole number of milliseconds, or with a "
                   "unit ms, s, m, h or d (e.g. 30s)", what);
    return false;
}

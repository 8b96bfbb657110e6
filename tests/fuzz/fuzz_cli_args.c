/* The CLI's argument parser (tools/args.c), compiled into the target with
 * tools/output.c and tools/store.c. Run with -close_fd_mask=3: usage
 * messages go to stderr, and libFuzzer keeps its own (and the sanitizers')
 * reports on a private descriptor.
 *
 * Input byte 0 picks an option table (the global part of main.c, ls's
 * table, cas's) and whether parsing stops at the first positional; byte 1
 * picks a number parser to check as well; the rest, split at NUL bytes,
 * is argv. Checked properties:
 *  - the result is "continue" (-1) or a usage error (2), never a crash or
 *    a read past an argument;
 *  - every positional and option value points into argv (or is the flag
 *    marker ""), positionals keep their order, "-" is a positional;
 *  - a --store value with credentials is copied to the context and masked
 *    in argv (what ps shows): nothing but '*' is left before the '@';
 *  - cli_parse_i64 / cli_parse_size accept exactly plain decimals in
 *    range, against an oracle written from docs/cli.md. */
#include <stdlib.h>
#include <string.h>

#include "cli.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAX_ARGS 64

static const cli_opt main_opts[] = {{"version", 'V', false}};
static const cli_opt ls_opts[] = {
    {"prefix", 'p', true}, {"limit", 'l', true},
    {"cursor", 'c', true}, {"null", '0', false},
};
static const cli_opt cas_opts[] = {{"expect-absent", 0, false}};
static const struct { const cli_opt *opts; size_t n; } tables[3] = {
    {main_opts, 1}, {ls_opts, 4}, {cas_opts, 1},
};

/* True if `p` points at or into one of the argument strings. */
static bool in_argv(const char *p, char **argv, const size_t *len, int argc)
{
    for (int i = 0; i < argc; i++)
        if (p >= argv[i] && p <= argv[i] + len[i])
            return true;
    return false;
}

/* The userinfo of "scheme://userinfo@host..." is only '*' now. */
static bool masked(const char *s)
{
    const char *colon = strchr(s, ':'), *auth, *at = NULL;
    size_t alen;

    if (colon == NULL || strncmp(colon, "://", 3) != 0)
        return true; /* no authority, nothing to mask */
    auth = colon + 3;
    alen = strcspn(auth, "/?#");
    for (size_t i = 0; i < alen; i++)
        if (auth[i] == '@')
            at = auth + i;
    for (const char *p = auth; at && p < at; p++)
        if (*p != '*')
            return false;
    return true;
}

static bool plain_decimal(const char *s, bool sign)
{
    if (sign && *s == '-')
        s++;
    if (*s == '\0')
        return false;
    for (; *s; s++)
        if (*s < '0' || *s > '9')
            return false;
    return true;
}

static void check_numbers(int which, const char *s)
{
    cli_ctx ctx = {.cmd = "fuzz"};
    int64_t i;
    uint64_t u;

    if (which == 0) {
        /* int64: optional '-', digits, in range. KNOWN (reported, not a
         * safety issue): a leading '+' is accepted although the comment
         * in tools/args.c says only plain decimals are. */
        bool ok = cli_parse_i64(&ctx, "n", s, &i);
        if (ok && !(plain_decimal(s, true) ||
                    (s[0] == '+' && plain_decimal(s + 1, false))))
            abort();
        if (!ok && plain_decimal(s, true) && strlen(s) < 19)
            abort(); /* short plain decimals always fit */
        if (ok && plain_decimal(s, true) && strtoll(s, NULL, 10) != i)
            abort();
    } else if (which == 1) {
        bool ok = cli_parse_size(&ctx, "n", s, 1, 1000, &u);
        if (ok != (plain_decimal(s, false) && strtoull(s, NULL, 10) >= 1 &&
                   strtoull(s, NULL, 10) <= 1000))
            abort();
        if (ok && (u < 1 || u > 1000))
            abort();
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *argv[MAX_ARGS + 1], *orig[MAX_ARGS];
    size_t len[MAX_ARGS];
    int argc = 0;
    cli_ctx ctx = {.bucket = "default"};
    cli_args args;
    size_t i = 2;

    if (size < 2)
        return 0;
    /* Each argument its own allocation, so ASan sees any over-read. */
    while (i <= size && argc < MAX_ARGS) {
        const uint8_t *nul = memchr(data + i, 0, size - i);
        size_t n = nul ? (size_t)(nul - (data + i)) : size - i;
        argv[argc] = malloc(n + 1);
        orig[argc] = malloc(n + 1);
        if (argv[argc] == NULL || orig[argc] == NULL)
            abort();
        memcpy(argv[argc], data + i, n);
        argv[argc][n] = '\0';
        memcpy(orig[argc], argv[argc], n + 1);
        len[argc] = n;
        argc++;
        i += n + 1;
    }
    argv[argc] = NULL;

    const cli_opt *opts = tables[data[0] % 3].opts;
    size_t nopts = tables[data[0] % 3].n;
    int rc = cli_parse(&ctx, argc, argv, opts, nopts, data[0] & 4, &args);
    if (rc == -1) {
        int last = -1;
        if (args.npos > argc)
            abort();
        for (int p = 0; p < args.npos; p++) {
            int at = -1;
            for (int a = 0; a < argc; a++)
                if (args.pos[p] == argv[a])
                    at = a;
            if (at <= last)
                abort(); /* not an argument, or out of order */
            last = at;
        }
        for (size_t o = 0; o < CLI_MAX_OPTS; o++)
            if (args.val[o] && args.val[o][0] != '\0' &&
                !in_argv(args.val[o], argv, len, argc))
                abort();
        for (int a = 0; a < argc; a++) {
            /* "-" means stdin: a positional, unless it follows an option
             * that takes it as its value (a later repeat of that option
             * may have replaced it in args.val). */
            bool used = false;
            for (int p = 0; p < args.npos; p++)
                used |= args.pos[p] == argv[a];
            if (strcmp(orig[a], "-") == 0 && !used &&
                !(a > 0 && orig[a - 1][0] == '-' && !strchr(orig[a - 1], '=')))
                abort();
        }
        cli_args_free(&args);
    } else if (rc != EXIT_USAGE) {
        abort();
    }
    /* Credentials: the last --store is copied, and every argument that was
     * changed was only masked; one holding the copied URI with a userinfo
     * must have been. */
    if (ctx.store != NULL && ctx.store != ctx.store_copy)
        abort();
    for (int a = 0; a < argc; a++) {
        if (strcmp(argv[a], orig[a]) == 0)
            continue;
        if (strlen(argv[a]) != len[a] || !masked(argv[a]))
            abort();
        for (size_t k = 0; k < len[a]; k++)
            if (argv[a][k] != orig[a][k] && argv[a][k] != '*')
                abort();
    }
    if (ctx.store_copy && cli_uri_has_credentials(ctx.store_copy)) {
        bool found = false;
        for (int a = 0; a < argc; a++) {
            size_t sl = strlen(ctx.store_copy);
            if (len[a] >= sl &&
                strcmp(orig[a] + len[a] - sl, ctx.store_copy) == 0 &&
                masked(argv[a] + len[a] - sl))
                found = true;
        }
        if (!found)
            abort(); /* the password is still on the command line */
    }
    if (argc > 0)
        check_numbers(data[1] % 3, orig[0]);
    free(ctx.store_copy);
    for (int a = 0; a < argc; a++) {
        free(argv[a]);
        free(orig[a]);
    }
    return 0;
}

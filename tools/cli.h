/*
 * kvstore CLI - shared declarations.
 *
 * The tool is written only against the public API <kvstore/kvstore.h>,
 * like any other program that uses the installed library.
 *
 * SPDX-License-Identifier: MIT
 */
#ifndef KVSTORE_CLI_H
#define KVSTORE_CLI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <kvstore/kvstore.h>

/* Exit codes (docs/cli.md). */
enum {
    EXIT_OK = 0,
    EXIT_NOTFOUND = 1, /* key not found; also `exists` answering false */
    EXIT_USAGE = 2,    /* the command line itself is wrong */
    EXIT_BACKEND = 3,  /* the library or an I/O call failed */
    EXIT_CONFLICT = 4  /* cas: the value was not the expected one */
};

/* One option a command accepts. */
typedef struct cli_opt {
    const char *name; /* long name, without "--" */
    char short_name;  /* 0 if none */
    bool has_value;   /* takes an argument (--name=V or --name V) */
} cli_opt;

#define CLI_MAX_OPTS 16

/* Global options every command accepts, before or after its name; they
 * come first in every parsed option table, at these indexes. */
enum {
    OPT_HELP = 0,
    OPT_STORE,
    OPT_STORE_FILE,
    OPT_BUCKET,
    OPT_JSON,
    OPT_STATS,
    OPT_NGLOBAL
};

/* The result of parsing one command line. `val[i]` is the last value given
 * for option i (for a flag, "" when present), NULL when absent. `pos`
 * points into an array owned by this struct (freed by cli_args_free); the
 * strings themselves are argv's. */
typedef struct cli_args {
    const char *val[CLI_MAX_OPTS];
    char **pos;
    int npos;
} cli_args;

/* Everything a command needs to know about how it was invoked. */
typedef struct cli_ctx {
    const char *cmd;        /* subcommand name, for messages */
    const char *help;       /* the subcommand's --help text */
    const char *store;      /* --store (argv, password masked after copy) */
    const char *store_file; /* --store-file */
    const char *bucket;     /* --bucket, default "default" */
    char *store_copy;       /* owned copy of --store taken before masking */
    bool json;              /* --json: JSON output */
    bool stats;             /* --stats: operation statistics at exit */
    bool default_sqlite;    /* the store is the default SQLite database */
    struct cli_stats *stats_state; /* owned; see stats.c */
} cli_ctx;

/* args.c ---------------------------------------------------------------- */

/* Parses argv[0..argc) against the global options followed by `extra`
 * (n_extra entries). Options and positionals may be mixed; "--" ends
 * options; "-" and negative numbers are positionals. With `stop_at_pos`
 * true, parsing stops at the first positional and the rest are all
 * positionals (used for the global part before the subcommand).
 * Returns -1 on success (args filled, free with cli_args_free), else an
 * exit code after printing a message. Global options found are copied
 * into ctx. */
int cli_parse(cli_ctx *ctx, int argc, char **argv, const cli_opt *extra,
              size_t n_extra, bool stop_at_pos, cli_args *args);
void cli_args_free(cli_args *args);

/* Parses helpers: they print "kvstore CMD: bad NAME: ..." and return
 * false on a malformed number. */
bool cli_parse_i64(const cli_ctx *ctx, const char *what, const char *s,
                   int64_t *out);
bool cli_parse_size(const cli_ctx *ctx, const char *what, const char *s,
                    uint64_t min, uint64_t max, uint64_t *out);
/* A duration: milliseconds, or a number with a unit ms, s, m, h, d. */
bool cli_parse_duration(const cli_ctx *ctx, const char *what, const char *s,
                        uint64_t *ms);

/* Standard handling shared by commands: parses, answers --help (exit 0),
 * checks the positional count is within [min_pos, max_pos] (max -1: any).
 * Returns -1 to continue, else the exit code to return. */
int cli_command_args(cli_ctx *ctx, int argc, char **argv,
                     const cli_opt *extra, size_t n_extra, int min_pos,
                     int max_pos, cli_args *args);

/* store.c --------------------------------------------------------------- */

/* Picks the store URI: --store, else --store-file, else KVSTORE_URL, else
 * the embedded default. *uri is malloc'd and owned by the caller. Returns
 * -1 or an exit code after printing a message. */
int cli_store_uri(cli_ctx *ctx, char **uri);

/* default_store.c ------------------------------------------------------- */

/* The store when none is named (see default_store.c): sets *uri (malloc'd,
 * owned by the caller) and may print a note. Returns -1 or an exit code
 * after printing a message. */
int cli_default_uri(cli_ctx *ctx, char **uri);

/* After kvstore_open failed with `status`: prints why (naming the missing
 * module when the default store needs one) and returns the exit code. */
int cli_default_open_error(const cli_ctx *ctx, int status);

/* Reads a URI from a file: the first line, trailing whitespace removed.
 * *uri is malloc'd. Returns -1 or an exit code after a message. */
int cli_read_uri_file(const cli_ctx *ctx, const char *path, char **uri);

/* True if `uri` has userinfo (user:password@ or token@) in its authority:
 * a credential that must not sit on a command line. */
bool cli_uri_has_credentials(const char *uri);

/* Overwrites the userinfo of a URI held in argv with '*' so that it no
 * longer shows in ps(1) / /proc/PID/cmdline. */
void cli_mask_credentials(char *uri);

/* Opens `uri` and its bucket `bucket`. On success *store and *bucket are
 * owned by the caller (cli_close). Returns -1 or an exit code after a
 * message that never repeats the URI's credentials. */
int cli_open_uri(const cli_ctx *ctx, const char *uri, const char *bucket,
                 kvstore_store **store, kvstore_bucket **b);
/* The same for readers: the bucket must already exist. */
int cli_open_uri_existing(const cli_ctx *ctx, const char *uri,
                          const char *bucket, kvstore_store **store,
                          kvstore_bucket **b);

/* cli_store_uri + cli_open_uri on the context's store and bucket. */
int cli_open(cli_ctx *ctx, kvstore_store **store, kvstore_bucket **b);

/* As cli_open for commands that only read: the bucket must exist, and a
 * missing one is reported (exit 1) and not created. */
int cli_open_existing(cli_ctx *ctx, kvstore_store **store,
                      kvstore_bucket **b);

/* cli_store_uri + kvstore_open only, for commands on the store itself. */
int cli_open_store(cli_ctx *ctx, kvstore_store **store);

void cli_close(kvstore_store *store, kvstore_bucket *b);

/* output.c -------------------------------------------------------------- */

/* "kvstore CMD: <message>" on stderr; returns `code`. */
int cli_error(const cli_ctx *ctx, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* A usage error: message plus a pointer to --help; returns EXIT_USAGE. */
int cli_usage(const cli_ctx *ctx, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* A failed library call: "kvstore CMD: WHAT: kvstore_errmsg()" on stderr;
 * returns EXIT_BACKEND. */
int cli_lib_error(const cli_ctx *ctx, const char *what);

/* Writes exactly len bytes to stdout; false on a write error. */
bool cli_write(const void *p, size_t len);

/* Writes `s` (len bytes) to `f` with C-style escapes for backslash, tab,
 * newline, other control bytes and bytes that are not valid UTF-8, so one
 * record is always one line. */
void cli_write_escaped(FILE *f, const void *s, size_t len);

/* Flushes stdout; on failure reports it and returns EXIT_BACKEND, else
 * `code` unchanged. */
int cli_finish_stdout(const cli_ctx *ctx, int code);

/* Reads a value: the argument's bytes, or all of stdin when it is "-".
 * *buf is malloc'd (owned by the caller) when *owned is true. Returns -1 or
 * an exit code after a message. */
int cli_read_value(const cli_ctx *ctx, const char *arg, void **buf,
                   size_t *len, bool *owned);

/* JSON output (json.c): a JSON string of `len` bytes, which must be
 * valid UTF-8 (keys and bucket names always are). */
void cli_json_string(FILE *f, const void *s, size_t len);
/* A value as a JSON member: "value":"..." when it is valid UTF-8, else
 * "value_base64":"...", so that no byte is lost. `name` is the member
 * name for the UTF-8 form ("value"). */
void cli_json_value(FILE *f, const char *name, const void *v, size_t len);
bool cli_utf8_valid(const void *s, size_t len);
/* Length of the valid UTF-8 sequence at s (n bytes left, n > 0), 0 if
 * it is not one (output.c). */
size_t cli_utf8_seq(const unsigned char *s, size_t n);

/* stats.c: --stats. cli_stats_attach observes `store` (no-op without
 * --stats); cli_stats_print writes the summary to stderr at exit;
 * cli_stats_free releases ctx->stats_state. */
void cli_stats_attach(cli_ctx *ctx, kvstore_store *store);
void cli_stats_print(const cli_ctx *ctx);
void cli_stats_free(cli_ctx *ctx);

/* A note on stderr when a writing command opens a memory: store: the data
 * vanishes when the process exits. */
void cli_memory_note(const cli_ctx *ctx, const char *uri);

/* Commands (cmd_*.c) ---------------------------------------------------- */

/* Common tail of every command's --help text. */
#define GLOBAL_HELP                                                        \
    "\nGlobal options: -s/--store URI, --store-file PATH, -b/--bucket NAME,\n" \
    "--json, --stats (see kvstore --help).\n"

typedef int (*cli_cmd_fn)(cli_ctx *ctx, int argc, char **argv);

typedef struct cli_command {
    const char *name;
    cli_cmd_fn fn;
    const char *summary; /* one line for the tool's --help */
    const char *help;    /* full --help text */
} cli_command;

extern const cli_command cli_cmd_get, cli_cmd_set, cli_cmd_del,
    cli_cmd_exists, cli_cmd_ttl, cli_cmd_ls, cli_cmd_incr, cli_cmd_cas,
    cli_cmd_watch, cli_cmd_copy, cli_cmd_bench, cli_cmd_buckets,
    cli_cmd_bucket;

/* commands.c: every command, and the tool's own --help. */
extern const cli_command *const cli_commands[];
extern const size_t cli_n_commands;
void cli_print_main_help(FILE *f);

#endif /* KVSTORE_CLI_H */

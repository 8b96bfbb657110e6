/*
 * kvstore CLI - watch: one line per event until SIGINT/SIGTERM.
 *
 * SPDX-License-Identifier: MIT
 */
#include "cli.h"

#include <signal.h>
#include <stdatomic.h>
#include <string.h>
#include <unistd.h>

enum { W_PREFIX = OPT_NGLOBAL };
static const cli_opt watch_opts[] = {
    {"prefix", 'p', true},
};

static atomic_bool write_failed;

/* Runs on a library thread. One event is one line, written and flushed
 * under the stdout lock so a reader of a pipe sees it at once. */
static void on_event(void *payload, kvstore_event event, const char *key,
                     const void *value, size_t len)
{
    const cli_ctx *ctx = payload;

    flockfile(stdout);
    if (ctx->json) {
        printf("{\"event\":\"%s\",\"key\":",
               event == KVSTORE_EVENT_SET ? "set" : "delete");
        cli_json_string(stdout, key, strlen(key));
        if (event == KVSTORE_EVENT_SET) {
            fputc(',', stdout);
            cli_json_value(stdout, "value", value, len);
        }
        fputc('}', stdout);
    } else {
        fputs(event == KVSTORE_EVENT_SET ? "set\t" : "del\t", stdout);
        cli_write_escaped(stdout, key, strlen(key));
        if (event == KVSTORE_EVENT_SET) {
            fputc('\t', stdout);
            cli_write_escaped(stdout, value, len);
        }
    }
    fputc('\n', stdout);
    bool failed = fflush(stdout) != 0 || ferror(stdout);
    funlockfile(stdout);
    /* The reader went away: wake the main thread, which stops the watch
     * (a callback must not stop its own watch). */
    if (failed && !atomic_exchange(&write_failed, true))
        kill(getpid(), SIGTERM);
}

static int cmd_watch(cli_ctx *ctx, int argc, char **argv)
{
    cli_args a;
    kvstore_store *s;
    kvstore_bucket *b;
    kvstore_watch *w;
    sigset_t set, old;
    int sig;
    int rc = cli_command_args(ctx, argc, argv, watch_opts, 1, 0, 0, &a);
    if (rc >= 0)
        return rc;

    /* Block the stop signals before the library starts any thread, so
     * every thread inherits the mask and only sigwait() below takes them:
     * the process then stops the watch and closes the store cleanly
     * instead of dying mid-write. SIGPIPE goes the same way. */
    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGHUP);
    sigaddset(&set, SIGPIPE);
    pthread_sigmask(SIG_BLOCK, &set, &old);

    rc = cli_open_existing(ctx, &s, &b);
    if (rc < 0) {
        if (kvstore_watch_start(&w, b, a.val[W_PREFIX], on_event, ctx) !=
            KVSTORE_OK) {
            rc = cli_lib_error(ctx, "cannot watch");
        } else {
            /* Tells a person, or a script waiting on stderr, that every
             * later change is going to be printed. */
            fprintf(stderr, "kvstore watch: watching bucket '%s'; "
                            "Ctrl-C to stop\n", ctx->bucket);
            do {
                if (sigwait(&set, &sig) != 0)
                    sig = SIGTERM;
            } while (sig == SIGPIPE && !atomic_load(&write_failed));
            kvstore_watch_stop(w);
            rc = atomic_load(&write_failed)
                     ? cli_error(ctx, EXIT_BACKEND, "cannot write to stdout")
                     : EXIT_OK;
        }
        cli_close(s, b);
    }
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    cli_args_free(&a);
    return rc;
}

const cli_command cli_cmd_watch = {
    "watch", cmd_watch, "print changes as they happen",
    "Usage: kvstore watch [--prefix P]\n"
    "\n"
    "Prints one line per change of a key (starting with P) in the bucket,\n"
    "by any client, until SIGINT, SIGTERM or SIGHUP:\n"
    "  set<TAB>KEY<TAB>VALUE\n"
    "  del<TAB>KEY\n"
    "KEY and VALUE are escaped so that an event is always one line:\n"
    "\\\\ \\t \\n \\r, and \\xHH for other control bytes and bytes that are not\n"
    "UTF-8. Each line is flushed at once. When the watch is live,\n"
    "'kvstore watch: watching bucket ...' is printed on stderr. With\n"
    "--json, one object per event: {\"event\":\"set\",\"key\":K,\"value\":V}\n"
    "(\"value_base64\" when V is not UTF-8) or {\"event\":\"delete\",\"key\":K}.\n"
    "The bucket must exist: watch never creates it.\n"
    "\n"
    "  -p, --prefix P   only keys that start with P\n"
    "\n"
    "Exit: 0 stopped by a signal, 1 no such bucket, 2 usage error, 3\n"
    "library error (the\n"
    "backend cannot watch, ...) or stdout closed.\n"
    GLOBAL_HELP,
};

/*
 * bench-core - entry point: options, scratch directory, suites, table.
 *
 * SPDX-License-Identifier: MIT
 */
#include "bench.h"

#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static char workdir[4096];

static void remove_workdir(void)
{
    if (workdir[0])
        bench_rmtree(workdir);
}

static void usage(FILE *out)
{
    fputs("usage: bench-core [--keys N] [--list-keys N] [--value-size B]\n"
          "                  [--repeat R] [--only memory|file] [--dir PATH]\n"
          "                  [--quick]\n"
          "Runs the same workload through libkvstore and through the raw\n"
          "equivalent (uthash + mutex; plain files) and prints ops/s and the\n"
          "ratio libkvstore/raw.\n"
          "  --keys N        keys for get/set/delete (default 10000)\n"
          "  --list-keys N   keys for the full listing (default 100000)\n"
          "  --sorted-keys N keys for the listing against iterate + strdup\n"
          "                  + qsort (default 1000000; 0 skips it)\n"
          "  --rounds R      interleaved rounds of that listing, reported\n"
          "                  as medians with their spread (default 5)\n"
          "  --value-size B  bytes per value (default 100)\n"
          "  --repeat R      keep the best of R runs (default 3)\n"
          "  --only S        run only the memory or the file suite\n"
          "  --dir PATH      create the scratch directory in PATH (default\n"
          "                  $TMPDIR or /tmp); it is removed at the end\n"
          "  --quick         small sizes, one run: a smoke test only\n",
          out);
}

static size_t parse_size(const char *opt, const char *s, size_t min,
                         size_t max)
{
    char *end;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno || end == s || *end || s[0] == '-' || v < min || v > max) {
        fprintf(stderr, "bench-core: %s: expected a number in [%zu, %zu]\n",
                opt, min, max);
        exit(2);
    }
    return (size_t)v;
}

int main(int argc, char **argv)
{
    bench_cfg cfg = { .keys = 10000, .list_keys = 100000,
                      .sorted_keys = 1000000, .rounds = 5, .value_size = 100,
                      .repeats = 3, .run_memory = true, .run_file = true };
    const char *parent = getenv("TMPDIR");
    bool quick = false, keys_set = false, list_set = false, rep_set = false;
    bool sorted_set = false, rounds_set = false;
    static const struct option opts[] = {
        { "keys", required_argument, NULL, 'k' },
        { "list-keys", required_argument, NULL, 'l' },
        { "sorted-keys", required_argument, NULL, 's' },
        { "rounds", required_argument, NULL, 'R' },
        { "value-size", required_argument, NULL, 'v' },
        { "repeat", required_argument, NULL, 'r' },
        { "only", required_argument, NULL, 'o' },
        { "dir", required_argument, NULL, 'd' },
        { "quick", no_argument, NULL, 'q' },
        { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 },
    };
    int c;
    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        switch (c) {
        case 'k':
            cfg.keys = parse_size("--keys", optarg, 1, 100000000);
            keys_set = true;
            break;
        case 'l':
            cfg.list_keys = parse_size("--list-keys", optarg, 1, 100000000);
            list_set = true;
            break;
        case 's':
            cfg.sorted_keys = parse_size("--sorted-keys", optarg, 0,
                                         100000000);
            sorted_set = true;
            break;
        case 'R':
            cfg.rounds = (unsigned)parse_size("--rounds", optarg, 1, 1000);
            rounds_set = true;
            break;
        case 'v':
            cfg.value_size = parse_size("--value-size", optarg, 0, 1 << 20);
            break;
        case 'r':
            cfg.repeats = (unsigned)parse_size("--repeat", optarg, 1, 100);
            rep_set = true;
            break;
        case 'd':
            parent = optarg;
            break;
        case 'q':
            quick = true;
            break;
        case 'o':
            if (strcmp(optarg, "memory") == 0) {
                cfg.run_file = false;
            } else if (strcmp(optarg, "file") == 0) {
                cfg.run_memory = false;
            } else {
                fprintf(stderr, "bench-core: --only: memory or file\n");
                return 2;
            }
            break;
        case 'h': usage(stdout); return 0;
        default: usage(stderr); return 2;
        }
    }
    if (optind != argc) {
        usage(stderr);
        return 2;
    }
    if (quick) {
        /* Explicit sizes still win over --quick's. */
        if (!keys_set)
            cfg.keys = 200;
        if (!list_set)
            cfg.list_keys = 2500; /* three pages and a partial one */
        if (!rep_set)
            cfg.repeats = 1;
        if (!sorted_set)
            cfg.sorted_keys = 2500;
        if (!rounds_set)
            cfg.rounds = 1;
    }
    if (!parent || !*parent)
        parent = "/tmp";
    /* Always a fresh directory of our own inside `parent`, so removing it
     * at the end can never touch anything of the user's. */
    if (snprintf(workdir, sizeof workdir, "%s/kvstore-bench-XXXXXX", parent) >=
        (int)sizeof workdir) {
        fprintf(stderr, "bench-core: --dir: path too long\n");
        return 2;
    }
    if (!mkdtemp(workdir)) {
        fprintf(stderr, "bench-core: mkdtemp %s: %s\n", workdir,
                strerror(errno));
        workdir[0] = '\0';
        return 1;
    }
    atexit(remove_workdir);
    cfg.workdir = workdir;
    bench_load_average(cfg.load_start, sizeof cfg.load_start);

    if (cfg.run_memory)
        bench_suite_memory(&cfg);
    if (cfg.run_file)
        bench_suite_file(&cfg);
    bench_print_table(&cfg);
    return 0;
}

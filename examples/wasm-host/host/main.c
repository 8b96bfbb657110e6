/*
 * wasm-host: runs WebAssembly guests, compiled into this program with
 * wasm2c, whose wasi:keyvalue imports (0.2.0-draft, 0.2.0-draft2 and
 * Spin's get-many shape) are served by libkvstore-wasi. See ../README.md.
 *
 * SPDX-License-Identifier: MIT
 */
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include "runner.h"

#define MAX_CONFIG 32

static void usage(FILE *f)
{
    fputs("Usage: wasm-host [-s URI] [-p PREFIX] [-n PAGE] [-c KEY=VALUE]...\n"
          "                 [-e EVENTS] GUEST[=ID,...]...\n"
          "\n"
          "Runs each GUEST (draft, draft2, spin, watcher, hostile) in turn\n"
          "against one store.\n"
          "  -s, --store URI      libkvstore store (default memory:)\n"
          "  -p, --prefix PREFIX  prepended to every bucket name\n"
          "  -n, --page-size N    keys per list-keys page, 1..1000 (default 16)\n"
          "  -c, --config K=V     a libkvstore-wasi config key (docs/wasi.md)\n"
          "  -e, --events N       watcher guests: events to wait for (default 0)\n"
          "  GUEST=ID,...         the only bucket identifiers GUEST may open\n"
          "                       (others are access-denied)\n"
          "Exit status: 0 every guest succeeded, 1 a guest failed or trapped\n"
          "in run, 2 usage, 3 the store could not be opened.\n",
          f);
}

int main(int argc, char **argv)
{
    static const struct option opts[] = {
        {"store", required_argument, NULL, 's'},
        {"prefix", required_argument, NULL, 'p'},
        {"page-size", required_argument, NULL, 'n'},
        {"config", required_argument, NULL, 'c'},
        {"events", required_argument, NULL, 'e'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const char *uri = "memory:";
    const char *config[MAX_CONFIG + 1] = {NULL};
    size_t nconfig = 0;
    wh_options o = {.prefix = "", .page_size = 16, .config = config, .out = stdout};
    int c, status = 0;
    char *end;

    while ((c = getopt_long(argc, argv, "s:p:n:c:e:h", opts, NULL)) != -1) {
        switch (c) {
        case 's': uri = optarg; break;
        case 'p': o.prefix = optarg; break;
        case 'n': {
            unsigned long n = strtoul(optarg, &end, 10);
            if (*end || n < 1 || n > KVSTORE_PAGE_MAX) {
                fprintf(stderr, "wasm-host: bad page size %s\n", optarg);
                return 2;
            }
            o.page_size = n;
            break;
        }
        case 'c':
            if (nconfig == MAX_CONFIG || !strchr(optarg, '=')) {
                fprintf(stderr, "wasm-host: bad --config %s\n", optarg);
                return 2;
            }
            config[nconfig++] = optarg;
            break;
        case 'e':
            o.events = strtoul(optarg, &end, 10);
            if (*end) {
                fprintf(stderr, "wasm-host: bad event count %s\n", optarg);
                return 2;
            }
            break;
        case 'h': usage(stdout); return 0;
        default: usage(stderr); return 2;
        }
    }
    if (optind == argc) {
        usage(stderr);
        return 2;
    }
    for (int i = optind; i < argc; i++) {
        char name[32];
        size_t len = strcspn(argv[i], "=");
        snprintf(name, sizeof(name), "%.*s", (int)len, argv[i]);
        if (!wh_guest_find(name)) {
            fprintf(stderr, "wasm-host: no guest called %s\n", name);
            return 2;
        }
    }

    if (kvstore_open(&o.store, uri) != KVSTORE_OK) {
        fprintf(stderr, "wasm-host: cannot open store: %s\n", kvstore_errmsg());
        return 3;
    }
    wh_runtime_init();
    for (int i = optind; i < argc; i++) {
        char name[32];
        size_t len = strcspn(argv[i], "=");
        snprintf(name, sizeof(name), "%.*s", (int)len, argv[i]);
        /* GUEST=ID,ID,...: the layer's allow key takes the list as is. */
        o.allow = argv[i][len] == '=' ? argv[i] + len + 1 : NULL;
        int rc = wh_run(wh_guest_find(name), &o);
        if (rc == 3) {
            status = 3;
            break;
        }
        if (rc != 0)
            status = 1;
    }
    wh_runtime_free();
    kvstore_close(o.store);
    return status;
}

/*
 * wasm-host: runs WebAssembly guests, compiled into this program with
 * wasm2c, whose wasi:keyvalue imports (0.2.0-draft and 0.2.0-draft2) are
 * served by libkvstore. See ../README.md.
 *
 * SPDX-License-Identifier: MIT
 */
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include "runner.h"

#define MAX_ALLOW 16

static void usage(FILE *f)
{
    fputs("Usage: wasm-host [-s URI] [-p PREFIX] [-n PAGE] GUEST[=ID,...]...\n"
          "\n"
          "Runs each GUEST (draft, draft2, hostile) in turn against one store.\n"
          "  -s, --store URI      libkvstore store (default memory:)\n"
          "  -p, --prefix PREFIX  prepended to every bucket identifier\n"
          "  -n, --page-size N    keys per list-keys page, 1..1000 (default 16)\n"
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
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const char *uri = "memory:";
    kvhost_config cfg = {.prefix = "", .page_size = 16, .out = stdout};
    int c, status = 0;

    while ((c = getopt_long(argc, argv, "s:p:n:h", opts, NULL)) != -1) {
        switch (c) {
        case 's': uri = optarg; break;
        case 'p': cfg.prefix = optarg; break;
        case 'n': {
            char *end;
            unsigned long n = strtoul(optarg, &end, 10);
            if (*end || n < 1 || n > KVSTORE_PAGE_MAX) {
                fprintf(stderr, "wasm-host: bad page size %s\n", optarg);
                return 2;
            }
            cfg.page_size = n;
            break;
        }
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

    if (kvstore_open(&cfg.store, uri) != KVSTORE_OK) {
        fprintf(stderr, "wasm-host: cannot open store: %s\n", kvstore_errmsg());
        return 3;
    }
    wh_runtime_init();
    for (int i = optind; i < argc; i++) {
        char spec[512], name[32];
        const char *allow[MAX_ALLOW + 1];
        size_t len = strcspn(argv[i], "=");
        snprintf(name, sizeof(name), "%.*s", (int)len, argv[i]);
        cfg.allow = NULL;
        if (argv[i][len] == '=') {
            /* GUEST=ID,ID,...: split a copy in place. */
            size_t n = 0;
            snprintf(spec, sizeof(spec), "%s", argv[i] + len + 1);
            for (char *save = NULL, *t = strtok_r(spec, ",", &save);
                 t && n < MAX_ALLOW; t = strtok_r(NULL, ",", &save))
                allow[n++] = t;
            allow[n] = NULL;
            cfg.allow = allow;
        }
        if (wh_run(wh_guest_find(name), &cfg) != 0)
            status = 1;
    }
    wh_runtime_free();
    kvstore_close(cfg.store);
    return status;
}

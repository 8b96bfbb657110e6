/*
 * Runs guests compiled in with wasm2c over libkvstore-wasi: one fresh
 * instance per call (wasm2c instance + kvstore_wasi_instance), traps
 * caught and reported, everything the instance held released afterwards.
 * This and bindings.c are the whole wasm2c binding: the wasi:keyvalue
 * logic is in the library.
 *
 * SPDX-License-Identifier: MIT
 */
#ifndef WASM_HOST_RUNNER_H
#define WASM_HOST_RUNNER_H

#include "guest.h"

/* How one guest runs. Everything is lent. */
typedef struct wh_options {
    kvstore_store *store;        /* the default store */
    const char *prefix;          /* bucket_prefix, NULL or "" for none */
    const char *allow;           /* comma-separated identifiers, NULL: any */
    size_t page_size;            /* list-keys page, 0: the layer's default */
    const char *const *config;   /* more KEY=VALUE pairs (NULL-terminated) */
    kvstore_wasi_wit wit;        /* 0: by the guest's name */
    size_t events;               /* watcher guests: events to wait for */
    FILE *out;                   /* host.print and the host's messages */
} wh_options;

/* Initialises wasm2c's runtime and every compiled-in guest; once. */
void wh_runtime_init(void);
void wh_runtime_free(void);

/* The compiled-in guest called `name`, or NULL. */
const wh_guest *wh_guest_find(const char *name);

/* Runs a guest: run() once, or for a guest exporting attack(), attack(1),
 * attack(2), ... each in a fresh instance (a trapped instance is never
 * entered again), until one returns 0. A guest exporting report() is a
 * watcher: after run() the runner waits (at most 10 s) until o->events
 * events were queued, pumps them into the guest, then calls report().
 * Traps are reported on o->out as "host: <guest> trapped: <reason>".
 * Returns 0 when run() returned 0 or every attack ended (in a trap or a
 * result), 1 when run() returned non-zero, 2 when run() trapped, 3 when
 * the config was refused or the stores could not be opened. */
int wh_run(const wh_guest *g, const wh_options *o);

#endif /* WASM_HOST_RUNNER_H */

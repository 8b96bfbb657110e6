/*
 * Runs guests: one fresh instance per call, its own kvhost (resource and
 * cursor tables), traps caught and reported, everything the instance held
 * released afterwards.
 *
 * SPDX-License-Identifier: MIT
 */
#ifndef WASM_HOST_RUNNER_H
#define WASM_HOST_RUNNER_H

#include "guest.h"

/* Initialises wasm2c's runtime and every compiled-in guest; once. */
void wh_runtime_init(void);
void wh_runtime_free(void);

/* The compiled-in guest called `name`, or NULL. */
const wh_guest *wh_guest_find(const char *name);

/* Runs a guest: run() once, or for a guest exporting attack(), attack(1),
 * attack(2), ... each in a fresh instance (a trapped instance is never
 * entered again), until one returns 0. Traps are reported on cfg->out as
 * "host: <guest> trapped: <reason>". Returns 0 when run() returned 0 or
 * every attack ended (in a trap or a result), 1 when run() returned
 * non-zero, 2 when run() trapped. */
int wh_run(const wh_guest *g, const kvhost_config *cfg);

#endif /* WASM_HOST_RUNNER_H */

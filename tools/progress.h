/*
 * kvstore CLI - progress reporting on stderr.
 *
 * On a terminal: a bar redrawn in place ("\r"), at most every 100 ms, with
 * the rate and, when the total is known, the time left.
 * Elsewhere (a log, a pipe): one plain "LABEL: N/TOTAL" line per update
 * call, so logs stay readable and parseable.
 *
 * SPDX-License-Identifier: MIT
 */
#ifndef KVSTORE_CLI_PROGRESS_H
#define KVSTORE_CLI_PROGRESS_H

#include <stdbool.h>
#include <stdint.h>

typedef struct progress {
    const char *label;
    uint64_t total; /* 0: unknown */
    bool tty;       /* draw a bar */
    uint64_t last_ns;
    uint64_t start_ns; /* for the rate and the ETA */
} progress;

/* tty: whether stderr is a terminal (isatty), decided by the caller. */
void progress_init(progress *p, const char *label, uint64_t total,
                   bool tty);
/* Reports `done` items so far. */
void progress_update(progress *p, uint64_t done);
/* Final report; ends the bar's line. */
void progress_finish(progress *p, uint64_t done, const char *suffix);

/* Items per second since progress_init, 0 before any time passed. */
double progress_rate(const progress *p, uint64_t done);

/* CLOCK_MONOTONIC in nanoseconds. */
uint64_t progress_now_ns(void);

#endif /* KVSTORE_CLI_PROGRESS_H */

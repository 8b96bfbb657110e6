/*
 * kvstore CLI - progress bar or progress counts on stderr.
 *
 * SPDX-License-Identifier: MIT
 */
#include "progress.h"

#include <inttypes.h>
#include <stdio.h>
#include <time.h>

#define BAR_WIDTH 30
#define REDRAW_NS 100000000ull /* 100 ms: fast enough to look live */

uint64_t progress_now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

void progress_init(progress *p, const char *label, uint64_t total,
                   bool tty)
{
    p->label = label;
    p->total = total;
    p->tty = tty;
    p->last_ns = 0;
    p->start_ns = progress_now_ns();
}

double progress_rate(const progress *p, uint64_t done)
{
    uint64_t ns = progress_now_ns() - p->start_ns;
    return ns ? (double)done * 1e9 / (double)ns : 0.0;
}

static void draw(const progress *p, uint64_t done)
{
    uint64_t total = p->total && done <= p->total ? p->total : done;
    unsigned fill = total ? (unsigned)(done * BAR_WIDTH / total) : 0;
    unsigned pct = total ? (unsigned)(done * 100 / total) : 100;
    char bar[BAR_WIDTH + 1];
    for (unsigned i = 0; i < BAR_WIDTH; i++)
        bar[i] = i < fill ? '#' : '.';
    bar[BAR_WIDTH] = '\0';
    double rate = progress_rate(p, done);
    /* "\r" + clear-to-end-of-line redraws the same terminal line. */
    fprintf(stderr, "\r%s [%s] %3u%% %" PRIu64 "/%" PRIu64 " %.0f/s",
            p->label, bar, pct, done, total, rate);
    if (p->total && rate > 0 && done < total)
        fprintf(stderr, " ETA %.0fs", (double)(total - done) / rate);
    fputs("\033[K", stderr);
}

void progress_update(progress *p, uint64_t done)
{
    if (p->tty) {
        uint64_t now = progress_now_ns();
        if (now - p->last_ns < REDRAW_NS)
            return;
        p->last_ns = now;
        draw(p, done);
    } else if (p->total) {
        fprintf(stderr, "%s: %" PRIu64 "/%" PRIu64 "\n", p->label, done,
                p->total);
    } else {
        fprintf(stderr, "%s: %" PRIu64 "\n", p->label, done);
    }
    fflush(stderr);
}

void progress_finish(progress *p, uint64_t done, const char *suffix)
{
    if (p->tty) {
        draw(p, done);
        fputc('\n', stderr);
    }
    fprintf(stderr, "%s: %" PRIu64 " done%s\n", p->label, done,
            suffix ? suffix : "");
    fflush(stderr);
}

/*
 * bench-core - the results table.
 *
 * SPDX-License-Identifier: MIT
 */
#include "bench.h"

#include <stdio.h>
#include <string.h>
#include <unistd.h>

#define MAX_ROWS 32

static bench_row rows[MAX_ROWS];
static size_t nrows;

void bench_add_row(const char *name, const char *baseline, double lib_ops,
                   double base_ops, double target)
{
    if (nrows == MAX_ROWS)
        bench_die("too many result rows");
    bench_row *r = &rows[nrows++];
    snprintf(r->name, sizeof r->name, "%s", name);
    snprintf(r->baseline, sizeof r->baseline, "%s", baseline);
    r->lib_ops = lib_ops;
    r->base_ops = base_ops;
    r->target = target;
    /* Progress on stderr so a long file run shows it is alive; the table
     * on stdout stays clean for a pipe. */
    fprintf(stderr, "  %-36s %12.0f %12.0f\n", r->name, r->lib_ops,
            r->base_ops);
}

/* The 1-minute load average, or "?": other work on the machine skews the
 * thread lines, so the table says how busy it was. */
static void load_average(char *buf, size_t cap)
{
    FILE *f = fopen("/proc/loadavg", "r");
    snprintf(buf, cap, "?");
    if (!f)
        return;
    if (fgets(buf, (int)cap, f))
        buf[strcspn(buf, " \n")] = '\0';
    else
        snprintf(buf, cap, "?");
    fclose(f);
}

void bench_print_table(const bench_cfg *cfg)
{
    char load[64];
    load_average(load, sizeof load);
    printf("libkvstore %s core benchmark: %zu keys, %zu-byte values, "
           "listing %zu keys, best of %u, %ld CPUs, scratch fs %s, "
           "load average %s at start, %s at end\n\n",
           kvstore_version(), cfg->keys, cfg->value_size, cfg->list_keys,
           cfg->repeats, sysconf(_SC_NPROCESSORS_ONLN),
           bench_fs_name(cfg->workdir), cfg->load_start, load);
    printf("%-36s %12s %12s %6s %7s %-4s  %s\n", "workload", "libkvstore/s",
           "baseline/s", "ratio", "target", "met", "baseline");
    for (size_t i = 0; i < nrows; i++) {
        const bench_row *r = &rows[i];
        double ratio = r->base_ops > 0 ? r->lib_ops / r->base_ops : 0;
        char target[16] = "-";
        const char *met = "-";
        if (r->target > 0) {
            snprintf(target, sizeof target, ">=%.2f", r->target);
            met = ratio >= r->target ? "yes" : "NO";
        }
        printf("%-36s %12.0f %12.0f %6.2f %7s %-4s  %s\n", r->name,
               r->lib_ops, r->base_ops, ratio, target, met, r->baseline);
    }
}

void bench_load_average(char *buf, size_t cap)
{
    load_average(buf, cap);
}

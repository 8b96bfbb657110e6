/*
 * fsync_probe (fsync-probe.h): what a commit of one page costs on this
 * disk, measured the way an engine commits: pwrite then fdatasync.
 *
 * SPDX-License-Identifier: MIT
 */
#include "fsync-probe.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static double now_ms(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec * 1e3 + (double)t.tv_nsec / 1e6;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

int fsync_probe(const char *dir, int n)
{
    char path[4200], block[4096];
    snprintf(path, sizeof path, "%s/fsync-probe.tmp", dir);
    int fd = open(path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    double *ms = malloc((size_t)n * sizeof *ms);
    if (fd < 0 || ms == NULL) {
        if (fd >= 0)
            close(fd);
        free(ms);
        return -1;
    }
    memset(block, 'x', sizeof block);
    int done = 0;
    for (; done < n; done++) {
        double t0 = now_ms();
        if (pwrite(fd, block, sizeof block, (off_t)done * 4096) !=
                (ssize_t)sizeof block || fdatasync(fd) != 0)
            break;
        ms[done] = now_ms() - t0;
    }
    close(fd);
    unlink(path);
    if (done < n) {
        free(ms);
        return -1;
    }
    qsort(ms, (size_t)n, sizeof *ms, cmp_double);
    printf("%-34s p10 %.2f ms, median %.2f ms, p90 %.2f ms, max %.2f ms "
           "(%d x pwrite 4 KiB + fdatasync)\n", "fsync of this disk",
           ms[n / 10], ms[n / 2], ms[n * 9 / 10], ms[n - 1], n);
    fflush(stdout);
    free(ms);
    return 0;
}

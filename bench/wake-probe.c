/*
 * wake_probe (wake-probe.h): a sleeper and a waker, pinned, timing from
 * sem_post to the sleeper running.
 *
 * SPDX-License-Identifier: MIT
 */
#include "wake-probe.h"

#include <pthread.h>
#include <sched.h>
#include <semaphore.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

typedef struct probe {
    sem_t go, back;
    int cpu_waker, cpu_sleeper, n;
    struct timespec posted; /* written by the waker before each post */
    double *us;
} probe;

static double since_us(const struct timespec *t0)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)(t.tv_sec - t0->tv_sec) * 1e6 +
           (double)(t.tv_nsec - t0->tv_nsec) / 1e3;
}

static void pin(int cpu)
{
    cpu_set_t set;
    CPU_ZERO(&set);
    CPU_SET(cpu, &set);
    pthread_setaffinity_np(pthread_self(), sizeof set, &set);
}

static void sem_take(sem_t *s)
{
    while (sem_wait(s) != 0)
        ;
}

static void *sleeper(void *arg)
{
    probe *p = arg;
    pin(p->cpu_sleeper);
    for (int i = 0; i < p->n; i++) {
        sem_take(&p->go);
        p->us[i] = since_us(&p->posted);
        sem_post(&p->back);
    }
    return NULL;
}

static void *waker(void *arg)
{
    probe *p = arg;
    pin(p->cpu_waker);
    for (int i = 0; i < p->n; i++) {
        usleep(300);
        clock_gettime(CLOCK_MONOTONIC, &p->posted);
        sem_post(&p->go);
        sem_take(&p->back);
    }
    return NULL;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* Runs one probe; sorts p->us. */
static int run(probe *p)
{
    pthread_t s, w;
    sem_init(&p->go, 0, 0);
    sem_init(&p->back, 0, 0);
    int rc = -1;
    if (pthread_create(&s, NULL, sleeper, p) == 0) {
        if (pthread_create(&w, NULL, waker, p) == 0) {
            pthread_join(w, NULL);
            rc = 0;
        } else {
            p->n = 0; /* nothing will come: let the sleeper go */
            sem_post(&p->go);
        }
        pthread_join(s, NULL);
    }
    sem_destroy(&p->go);
    sem_destroy(&p->back);
    if (rc == 0)
        qsort(p->us, (size_t)p->n, sizeof *p->us, cmp_double);
    return rc;
}

int wake_probe(int n)
{
    cpu_set_t mine;
    int cpus[2], found = 0;
    if (n < 10 || sched_getaffinity(0, sizeof mine, &mine) != 0)
        return -1;
    for (int c = 0; c < CPU_SETSIZE && found < 2; c++)
        if (CPU_ISSET(c, &mine))
            cpus[found++] = c;
    double *across = malloc((size_t)n * sizeof *across);
    double *same = malloc((size_t)n * sizeof *same);
    probe a = { .cpu_waker = cpus[0], .cpu_sleeper = cpus[1], .n = n,
                .us = across };
    probe b = { .cpu_waker = cpus[0], .cpu_sleeper = cpus[0], .n = n,
                .us = same };
    int rc = -1;
    if (found == 2 && across != NULL && same != NULL && run(&a) == 0 &&
        run(&b) == 0) {
        printf("%-34s across CPUs p10 %.0f us, median %.0f us, p90 %.0f us;"
               " on one CPU median %.0f us (%d x, after 300 us idle)\n",
               "wake-up of a sleeping thread", across[n / 10], across[n / 2],
               across[n * 9 / 10], same[n / 2], n);
        fflush(stdout);
        rc = 0;
    }
    free(across);
    free(same);
    return rc;
}

/*
 * How long a thread sleeping on one CPU takes to run again once another
 * CPU wakes it, after the machine was idle for a moment: what a group
 * commit pays for each writer it releases onto an idle core. On bare
 * metal that is a few microseconds; on a VM whose idle vCPUs halt, the
 * wake-up goes through the hypervisor and can cost a fair part of a
 * commit. A line to print next to the 4-thread ratios of bench-sqlite and
 * bench-lmdb, as fsync-probe.h is for the disk.
 *
 * SPDX-License-Identifier: MIT
 */
#ifndef KVSTORE_BENCH_WAKE_PROBE_H
#define KVSTORE_BENCH_WAKE_PROBE_H

/* Wakes a thread pinned to one CPU from a thread pinned to another, `n`
 * times (n >= 10), each after 300 us of idleness, then the same with both
 * on one CPU, and prints the median wake-up latency of each (and the 10th
 * and 90th percentile across CPUs) on stdout. Returns 0, or -1 with
 * nothing printed when fewer than two CPUs are usable or a thread cannot
 * be started. */
int wake_probe(int n);

#endif

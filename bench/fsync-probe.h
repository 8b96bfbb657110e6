/*
 * The fsync latency of a directory's disk, for the benchmarks whose
 * durable-set ratios depend on it (bench-sqlite, bench-lmdb): a line to
 * print next to them, so that each run says how fast its disk was.
 *
 * SPDX-License-Identifier: MIT
 */
#ifndef KVSTORE_BENCH_FSYNC_PROBE_H
#define KVSTORE_BENCH_FSYNC_PROBE_H

/* Appends 4 KiB to a scratch file in `dir` and fdatasyncs it, `n` times
 * (n >= 1), and prints the 10th, 50th and 90th percentile and the maximum
 * of those syncs on stdout. The file is removed. Returns 0, or -1 with
 * nothing printed when the file cannot be written. */
int fsync_probe(const char *dir, int n);

#endif

/*
 * bench-core - the two sides of each comparison: the libkvstore workload
 * (kv.c) and the raw equivalents (raw_mem.c, raw_file.c).
 *
 * SPDX-License-Identifier: MIT
 */
#ifndef BENCH_WORKLOAD_H
#define BENCH_WORKLOAD_H

#include "bench.h"

/* A workload over keys[0..n): the same struct drives both sides. */
typedef struct work {
    kvstore_bucket *bucket;        /* libkvstore side */
    struct raw_mem *mem;           /* raw memory side */
    struct raw_file *file;         /* raw file side */
    char **keys;                   /* lib keys, or raw file names */
    size_t n;
    const unsigned char *value;
    size_t vlen;
    const char *dir;               /* raw file listing: directory to walk */
} work;

/* libkvstore (kv.c). Every call is checked; a failure ends the run. */
void kv_set_range(work *w, size_t from, size_t to);
void kv_get_range(work *w, size_t from, size_t to);
void kv_delete_range(work *w, size_t from, size_t to);
/* Walks every page (limit 1000) and returns the number of keys seen. */
size_t kv_list_all(work *w);

/* Raw uthash + one pthread mutex, values copied in and out (raw_mem.c). */
typedef struct raw_mem raw_mem;
raw_mem *raw_mem_new(void);
void raw_mem_free(raw_mem *m);
void raw_mem_set_range(work *w, size_t from, size_t to);
void raw_mem_get_range(work *w, size_t from, size_t to);
void raw_mem_delete_range(work *w, size_t from, size_t to);
/* Copies every key out under the lock (as a listing must), frees them,
 * and returns their number. */
size_t raw_mem_list_all(work *w);
/* The same, then qsort by strcmp: what a program does to list a hash
 * table in key order, as libkvstore does. */
size_t raw_mem_list_sorted(work *w);

/* Raw files in one directory (raw_file.c). With `sync`, a set is temp
 * file + write + fsync + rename + directory fsync and a delete is unlink +
 * directory fsync; without, the same minus the fsyncs. */
typedef struct raw_file {
    int dirfd;
    bool sync;
} raw_file;
void raw_file_open(raw_file *f, const char *dir, bool sync);
void raw_file_close(raw_file *f);
void raw_file_set_range(work *w, size_t from, size_t to);
void raw_file_get_range(work *w, size_t from, size_t to);
void raw_file_delete_range(work *w, size_t from, size_t to);
/* One opendir/readdir walk of w->dir copying every name that does not
 * start with '.', as a listing must; returns their number. */
size_t raw_file_walk(work *w);

#endif /* BENCH_WORKLOAD_H */

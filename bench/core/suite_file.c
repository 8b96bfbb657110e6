/*
 * bench-core - the file backend against raw files in a sibling directory
 * of the same filesystem, with names as long as the backend's own.
 *
 * SPDX-License-Identifier: MIT
 */
#include "workload.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

/* Keys per slice of an interleaved comparison (see sliced_pair). */
#define SLICE 100

typedef void (*range_fn)(work *w, size_t from, size_t to);

/* One side of a set/get/delete comparison: `run` is timed over slices of
 * `w`; `fill`, if set, first writes every key through `fill_w`, untimed,
 * so that a delete has something to remove. */
typedef struct side {
    work *w;
    range_fn run;
    work *fill_w;
    range_fn fill;
} side;

/* Times `lib` and `raw` over the same keys, alternating every SLICE keys
 * (and which side goes first), and keeps the best total of `repeats`
 * passes. fsync latency on a disk shared with other work swings by
 * multiples within seconds; interleaving finely makes both sides see the
 * same disk, where timing whole passes one after the other did not. */
static void sliced_pair(unsigned repeats, const side *lib, const side *raw,
                        double *lib_s, double *raw_s)
{
    size_t n = lib->w->n;
    for (unsigned r = 0; r < repeats; r++) {
        double tl = 0, tr = 0;
        if (lib->fill)
            lib->fill(lib->fill_w, 0, n);
        if (raw->fill)
            raw->fill(raw->fill_w, 0, n);
        for (size_t from = 0, k = 0; from < n; from += SLICE, k++) {
            size_t to = from + SLICE < n ? from + SLICE : n;
            for (int half = 0; half < 2; half++) {
                const side *sd = (half == 0) == (k % 2 == 0) ? lib : raw;
                double t0 = bench_now();
                sd->run(sd->w, from, to);
                double t = bench_now() - t0;
                if (sd == lib)
                    tl += t;
                else
                    tr += t;
            }
        }
        if (r == 0 || tl < *lib_s)
            *lib_s = tl;
        if (r == 0 || tr < *raw_s)
            *raw_s = tr;
    }
}

static void sliced_row(const bench_cfg *cfg, const char *name,
                       const char *baseline, side lib, side raw,
                       double target)
{
    double lib_s = 0, raw_s = 0;
    sliced_pair(cfg->repeats, &lib, &raw, &lib_s, &raw_s);
    bench_add_row(name, baseline, bench_rate(lib.w->n, lib_s),
                  bench_rate(raw.w->n, raw_s), target);
}

static void lib_list(void *p)
{
    work *w = p;
    size_t got = kv_list_all(w);
    if (got < w->n)
        bench_die("file list: %zu keys of %zu", got, w->n);
}

static void raw_list(void *p)
{
    work *w = p;
    size_t got = raw_file_walk(w);
    if (got < w->n)
        bench_die("raw walk of %s: %zu entries of %zu", w->dir, got, w->n);
}

static void make_dir(const char *path)
{
    if (mkdir(path, 0700) != 0 && errno != EEXIST)
        bench_die("mkdir %s: %s", path, strerror(errno));
}

/* The most common length of the entries of `dir` not starting with '.':
 * the length of the backend's encoded file names for our fixed-width keys.
 * 0 if the directory holds none. */
static size_t common_name_length(const char *dir)
{
    size_t counts[256] = { 0 }, best = 0;
    DIR *d = opendir(dir);
    if (!d)
        bench_die("opendir %s: %s (is the bucket a subdirectory?)", dir,
                  strerror(errno));
    struct dirent *de;
    while ((de = readdir(d)) != NULL) {
        size_t len = strlen(de->d_name);
        if (de->d_name[0] != '.' && len < 256)
            counts[len]++;
    }
    closedir(d);
    for (size_t i = 1; i < 256; i++)
        if (counts[i] > counts[best])
            best = i;
    return best;
}

/* Raw file names "r000...0i" of exactly `len` bytes (at least 9). */
static char **raw_names(size_t n, size_t len)
{
    char **v = bench_xmalloc(n * sizeof *v);
    int digits = len > 9 ? (int)len - 1 : 8;
    for (size_t i = 0; i < n; i++) {
        char buf[300];
        snprintf(buf, sizeof buf, "r%0*zu", digits, i);
        v[i] = bench_xstrdup(buf);
    }
    return v;
}

static void pair_row(const bench_cfg *cfg, const char *name,
                     const char *baseline, bench_action lib,
                     bench_action raw, size_t ops, double target)
{
    double lib_s, raw_s;
    bench_pair(cfg->repeats, &lib, &raw, &lib_s, &raw_s);
    bench_add_row(name, baseline, bench_rate(ops, lib_s),
                  bench_rate(ops, raw_s), target);
}

void bench_suite_file(const bench_cfg *cfg)
{
    char root[4096], rawdir[4096], uri[4200], uri_fast[4300], name[48];
    char bench_dir[4200], list_dir[4200];
    kvstore_store *st_sync, *st_fast;
    kvstore_bucket *b_sync, *b_fast, *b_list, *b_list_fast;
    unsigned char *value = bench_xmalloc(cfg->value_size);
    char **keys = bench_make_keys(cfg->keys, "key-");
    char **lkeys = bench_make_keys(cfg->list_keys, "list-");

    for (size_t i = 0; i < cfg->value_size; i++)
        value[i] = (unsigned char)('a' + i % 26);
    snprintf(root, sizeof root, "%s/kv", cfg->workdir);
    snprintf(rawdir, sizeof rawdir, "%s/raw", cfg->workdir);
    make_dir(root);
    make_dir(rawdir);
    /* Two handles on the same root: default (durable) and sync=false. */
    snprintf(uri, sizeof uri, "file://%s", root);
    snprintf(uri_fast, sizeof uri_fast, "%s?sync=false", uri);
    bench_check(kvstore_open(&st_sync, uri), "kvstore_open file (sync)");
    bench_check(kvstore_open(&st_fast, uri_fast),
                "kvstore_open file (sync=false)");
    bench_check(kvstore_bucket_open(&b_sync, st_sync, "bench"), "bucket_open");
    bench_check(kvstore_bucket_open(&b_fast, st_fast, "bench"), "bucket_open");
    bench_check(kvstore_bucket_open(&b_list, st_sync, "list"), "bucket_open");
    bench_check(kvstore_bucket_open(&b_list_fast, st_fast, "list"),
                "bucket_open");
    snprintf(bench_dir, sizeof bench_dir, "%s/bench", root);
    snprintf(list_dir, sizeof list_dir, "%s/list", root);

    work lib = { .bucket = b_sync, .keys = keys, .n = cfg->keys,
                 .value = value, .vlen = cfg->value_size };
    work lib_fast = lib;
    lib_fast.bucket = b_fast;

    /* Fill once (untimed) so that every timed set replaces a file on both
     * sides, and learn how long the backend's file names are. */
    kv_set_range(&lib_fast, 0, lib_fast.n);
    size_t name_len = common_name_length(bench_dir);
    char **rnames = raw_names(cfg->keys, name_len);
    raw_file rf_sync, rf_fast;
    raw_file_open(&rf_sync, rawdir, true);
    raw_file_open(&rf_fast, rawdir, false);
    work raw = { .file = &rf_sync, .keys = rnames, .n = cfg->keys,
                 .value = value, .vlen = cfg->value_size };
    work raw_fast = raw;
    raw_fast.file = &rf_fast;
    raw_file_set_range(&raw_fast, 0, raw_fast.n);
    fprintf(stderr, "file backend (libkvstore/s, baseline/s), backend names "
            "%zu bytes, raw names %zu bytes:\n", name_len, strlen(rnames[0]));

    sliced_row(cfg, "file set (sync, default)",
               "tmp+write+fsync+rename+dir fsync",
               (side){ &lib, kv_set_range, NULL, NULL },
               (side){ &raw, raw_file_set_range, NULL, NULL }, 0.9);
    sliced_row(cfg, "file set (sync=false)", "tmp+write+rename",
               (side){ &lib_fast, kv_set_range, NULL, NULL },
               (side){ &raw_fast, raw_file_set_range, NULL, NULL }, 0);
    sliced_row(cfg, "file get", "open+fstat+read+close, malloc",
               (side){ &lib, kv_get_range, NULL, NULL },
               (side){ &raw, raw_file_get_range, NULL, NULL }, 0.8);
    /* Deletes need keys to remove: each pass refills through the fast
     * handles, untimed. */
    sliced_row(cfg, "file delete (sync, default)", "unlink+dir fsync",
               (side){ &lib, kv_delete_range, &lib_fast, kv_set_range },
               (side){ &raw, raw_file_delete_range, &raw_fast,
                       raw_file_set_range }, 0);
    sliced_row(cfg, "file delete (sync=false)", "unlink",
               (side){ &lib_fast, kv_delete_range, &lib_fast, kv_set_range },
               (side){ &raw_fast, raw_file_delete_range, &raw_fast,
                       raw_file_set_range }, 0);

    /* Listing: the raw side walks the backend's own bucket directory. */
    work llib = { .bucket = b_list_fast, .keys = lkeys, .n = cfg->list_keys,
                  .value = value, .vlen = cfg->value_size };
    kv_set_range(&llib, 0, llib.n);
    llib.bucket = b_list;
    work lraw = llib;
    lraw.bucket = NULL;
    lraw.dir = list_dir;
    snprintf(name, sizeof name, "file ls %zu keys, pages of 1000",
             cfg->list_keys);
    pair_row(cfg, name, "one opendir/readdir walk, strdup",
             (bench_action){ NULL, lib_list, &llib },
             (bench_action){ NULL, raw_list, &lraw }, cfg->list_keys, 0.5);

    raw_file_close(&rf_fast);
    raw_file_close(&rf_sync);
    kvstore_bucket_close(b_list_fast);
    kvstore_bucket_close(b_list);
    kvstore_bucket_close(b_fast);
    kvstore_bucket_close(b_sync);
    kvstore_close(st_fast);
    kvstore_close(st_sync);
    bench_free_strings(rnames, cfg->keys);
    bench_free_strings(lkeys, cfg->list_keys);
    bench_free_strings(keys, cfg->keys);
    free(value);
}

/*
 * bench-sqlite: the sqlite backend against raw SQLite doing the same work
 * on a database of its own, in the same run (issue 11's targets).
 *
 *   bench-sqlite [--dir PATH] [--rounds N] [--only set|get|list] [--quick]
 *                [--raw-mmap] [--raw-spin]
 *
 * Raw SQLite is what a careful program would write: one connection per
 * thread, WAL with synchronous=FULL, a table (key TEXT PRIMARY KEY, value
 * BLOB) WITHOUT ROWID, prepared statements, autocommit (one transaction
 * and one WAL fsync per set), and a get that copies the value out.
 * SQLite's default reads pages with pread; the backend maps the file
 * (PRAGMA mmap_size, backends/sqlite/db.c). --raw-mmap gives the raw side
 * the same mapping, so that both are configured alike. --raw-spin gives it
 * the backend's own table (Spin's layout: PRIMARY KEY (store, key)) and
 * the statements a program would write for it, so that the ratio shows
 * what the backend adds over SQLite on the same layout; the default raw
 * table is the simpler one a program free to choose would use, and the
 * issue's targets are against that one.
 *
 * Each measurement interleaves the two sides in short slices (kvstore
 * then raw, then raw then kvstore, ...) and sums each side's time per
 * round, so that background load hits both alike; a round gives one
 * ratio, and the line shows the median ratio of the rounds and their
 * spread (min-max). Progress goes to stderr, the table to stdout. Exit
 * status 0 when every operation succeeded and every value and listing
 * came back right; timing is never asserted.
 *
 * SPDX-License-Identifier: MIT
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <ftw.h>

#include <sqlite3.h>
#include <kvstore/backend.h>
#include <kvstore/kvstore.h>

#include "../fsync-probe.h"
#include "../wake-probe.h"

#define MAX_ROUNDS 15

static int rounds = 5;
/* Durable sets: many short slices, because fsync latency on a shared
 * disk swings by multiples within seconds. */
static int set_slices = 40, set_ops = 5;         /* 1 thread, per side */
/* 400 sets a 4-thread slice: with 40, starting and joining the threads
 * (0.3-0.5 ms) and the last lone writers of each slice weighed on the
 * 4-thread side, which is about steady throughput. */
static int set4_slices = 4, set4_ops = 400;      /* each of 4 variants */
static int get_keys = 10000, get_slices = 10;
static int list_keys = 100000, list_page = 1000;
static int value_size = 100;
static int probe_syncs = 200;  /* the fsync latency line */
static char dir[4096];
static const char *only;      /* "set", "get" or "list": one workload */
static bool raw_mmap;         /* --raw-mmap: raw maps the file like kvstore */
static bool raw_spin;         /* --raw-spin: raw uses the backend's table */

static double now_s(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

/* CPU time of the calling thread: for the single-threaded, CPU-bound
 * lines (get, listing) it leaves out the time other processes of a busy
 * machine held the CPU, which wall time cannot. */
static double cpu_s(void)
{
    struct timespec t;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static void die(const char *what, const char *msg)
{
    fprintf(stderr, "bench-sqlite: %s: %s\n", what, msg);
    exit(1);
}

static void kv_check(int rc, const char *what)
{
    if (rc != KVSTORE_OK)
        die(what, kvstore_errmsg());
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* Prints the median, min and max of n ratios and a target. */
static void report(const char *line, const char *unit, double kv, double raw,
                   double *ratios, int n, const char *target)
{
    qsort(ratios, (size_t)n, sizeof *ratios, cmp_double);
    printf("%-34s kvstore %10.1f %-6s raw %10.1f %-6s ratio %.2f "
           "(%.2f-%.2f)  target %s\n", line, kv, unit, raw, unit,
           ratios[n / 2], ratios[0], ratios[n - 1], target);
    fflush(stdout);
}

/* ---- raw SQLite ---- */

typedef struct raw {
    sqlite3 *db;
    sqlite3_stmt *put, *get, *list;
} raw;

static void raw_exec(sqlite3 *db, const char *sql)
{
    char *err = NULL;
    if (sqlite3_exec(db, sql, NULL, NULL, &err) != SQLITE_OK)
        die(sql, err ? err : "?");
}

static void raw_open(raw *r, const char *path)
{
    if (sqlite3_open_v2(path, &r->db, SQLITE_OPEN_READWRITE |
                        SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, NULL))
        die("sqlite3_open", path);
    sqlite3_busy_timeout(r->db, 10000);
    raw_exec(r->db, "PRAGMA journal_mode = WAL");
    raw_exec(r->db, "PRAGMA synchronous = FULL");
    if (raw_mmap) /* the backend's setting (backends/sqlite/db.c) */
        raw_exec(r->db, "PRAGMA mmap_size = 1073741824");
    /* The simple table, or the backend's (Spin's layout, as db.c makes
     * it) with the rows of one bucket. */
    static const char *const sql[2][4] = {
        { "CREATE TABLE IF NOT EXISTS kv (key TEXT PRIMARY KEY NOT NULL,"
          " value BLOB NOT NULL) WITHOUT ROWID",
          "INSERT OR REPLACE INTO kv (key, value) VALUES (?1, ?2)",
          "SELECT value FROM kv WHERE key = ?1",
          "SELECT key FROM kv ORDER BY key" },
        { "CREATE TABLE IF NOT EXISTS spin_key_value (store TEXT NOT NULL,"
          " key TEXT NOT NULL, expires INTEGER, ver INTEGER,"
          " value BLOB NOT NULL, PRIMARY KEY (store, key)) WITHOUT ROWID",
          "INSERT OR REPLACE INTO spin_key_value (store, key, value)"
          " VALUES ('bench', ?1, ?2)",
          "SELECT value FROM spin_key_value WHERE store = 'bench'"
          " AND key = ?1",
          "SELECT key FROM spin_key_value WHERE store = 'bench'"
          " ORDER BY key" },
    };
    const char *const *q = sql[raw_spin];
    raw_exec(r->db, q[0]);
    if (sqlite3_prepare_v2(r->db, q[1], -1, &r->put, NULL) ||
        sqlite3_prepare_v2(r->db, q[2], -1, &r->get, NULL) ||
        sqlite3_prepare_v2(r->db, q[3], -1, &r->list, NULL))
        die("prepare", sqlite3_errmsg(r->db));
}

static void raw_close(raw *r)
{
    sqlite3_finalize(r->put);
    sqlite3_finalize(r->get);
    sqlite3_finalize(r->list);
    sqlite3_close(r->db);
}

static void raw_set(raw *r, const char *key, const void *v, size_t len)
{
    sqlite3_bind_text(r->put, 1, key, -1, SQLITE_STATIC);
    sqlite3_bind_blob(r->put, 2, v, (int)len, SQLITE_STATIC);
    if (sqlite3_step(r->put) != SQLITE_DONE)
        die("raw set", sqlite3_errmsg(r->db));
    sqlite3_reset(r->put);
}

/* ---- fixtures ---- */

static char value[65536];
static char path_kv[4200], path_raw[4200], uri[4400];

static void paths(const char *name)
{
    snprintf(path_kv, sizeof path_kv, "%s/%s-kv.db", dir, name);
    snprintf(path_raw, sizeof path_raw, "%s/%s-raw.db", dir, name);
    snprintf(uri, sizeof uri, "sqlite://%s", path_kv);
}

/* ---- durable set, one thread ---- */

static void bench_set_1(void)
{
    paths("set1");
    kvstore_store *s;
    kvstore_bucket *b;
    kv_check(kvstore_open(&s, uri), "open");
    kv_check(kvstore_bucket_open(&b, s, "bench"), "bucket");
    raw r;
    raw_open(&r, path_raw);
    double ratios[MAX_ROUNDS] = { 0 }, tkv_all = 0, traw_all = 0;
    long ops_all = 0;
    char key[32];
    for (int round = 0; round < rounds; round++) {
        double tkv = 0, traw = 0;
        for (int sl = 0; sl < set_slices; sl++) {
            for (int side = 0; side < 2; side++) {
                bool kv_side = (side == 0) == (sl % 2 == 0);
                double t0 = now_s();
                for (int i = 0; i < set_ops; i++) {
                    snprintf(key, sizeof key, "k%d", (sl * set_ops + i) % 1000);
                    if (kv_side)
                        kv_check(kvstore_set(b, key, value, (size_t)value_size),
                                 "set");
                    else
                        raw_set(&r, key, value, (size_t)value_size);
                }
                double t = now_s() - t0;
                if (kv_side)
                    tkv += t;
                else
                    traw += t;
            }
        }
        ratios[round] = traw / tkv; /* ops/s ratio = inverse time ratio */
        tkv_all += tkv;
        traw_all += traw;
        ops_all += (long)set_slices * set_ops;
        fprintf(stderr, "  set 1 thread round %d: ratio %.2f\n", round,
                ratios[round]);
    }
    report("durable set, 1 thread (ops/s)", "ops/s", ops_all / tkv_all,
           ops_all / traw_all, ratios, rounds, ">= 1.0");
    raw_close(&r);
    kvstore_bucket_close(b);
    kvstore_close(s);
}

/* ---- durable set, 4 threads vs 1 ---- */

typedef struct job {
    kvstore_bucket *b;      /* kvstore side, or NULL */
    raw *r;                 /* raw side: a connection of its own */
    int id, n;
} job;

static void *set_job(void *arg)
{
    job *j = arg;
    char key[32];
    for (int i = 0; i < j->n; i++) {
        snprintf(key, sizeof key, "t%d-%d", j->id, i % 500);
        if (j->b)
            kv_check(kvstore_set(j->b, key, value, (size_t)value_size), "set");
        else
            raw_set(j->r, key, value, (size_t)value_size);
    }
    return NULL;
}

/* Seconds for `threads` threads doing `total` sets between them. */
static double run_threads(int threads, int total, kvstore_bucket *b, raw *rs)
{
    pthread_t t[4];
    job j[4];
    double t0 = now_s();
    for (int i = 0; i < threads; i++) {
        j[i] = (job){ b, b ? NULL : &rs[i], i, total / threads };
        pthread_create(&t[i], NULL, set_job, &j[i]);
    }
    for (int i = 0; i < threads; i++)
        pthread_join(t[i], NULL);
    return now_s() - t0;
}

static void bench_set_4(void)
{
    paths("set4");
    kvstore_store *s;
    kvstore_bucket *b;
    kv_check(kvstore_open(&s, uri), "open");
    kv_check(kvstore_bucket_open(&b, s, "bench"), "bucket");
    raw rs[4];
    for (int i = 0; i < 4; i++)
        raw_open(&rs[i], path_raw);
    double rk[MAX_ROUNDS] = { 0 }, rr[MAX_ROUNDS] = { 0 };
    double k1 = 0, k4 = 0, r1 = 0, r4 = 0;
    int total = set4_ops;
    for (int round = 0; round < rounds; round++) {
        double tk1 = 0, tk4 = 0, tr1 = 0, tr4 = 0;
        for (int sl = 0; sl < set4_slices; sl++) {
            /* The four variants in a rotating order. */
            for (int v = 0; v < 4; v++) {
                switch ((v + sl) % 4) {
                case 0: tk1 += run_threads(1, total, b, NULL); break;
                case 1: tk4 += run_threads(4, total, b, NULL); break;
                case 2: tr1 += run_threads(1, total, NULL, rs); break;
                case 3: tr4 += run_threads(4, total, NULL, rs); break;
                }
            }
        }
        rk[round] = tk1 / tk4;
        rr[round] = tr1 / tr4;
        k1 += tk1; k4 += tk4; r1 += tr1; r4 += tr4;
        fprintf(stderr, "  set 4 threads round %d: kvstore %.2fx, raw %.2fx\n",
                round, rk[round], rr[round]);
    }
    long ops = (long)rounds * set4_slices * total;
    /* Here both columns are one side: 4 threads against 1 thread. */
    qsort(rk, (size_t)rounds, sizeof *rk, cmp_double);
    qsort(rr, (size_t)rounds, sizeof *rr, cmp_double);
    printf("%-34s 4 thr %10.1f ops/s  1 thr %10.1f ops/s  ratio %.2f "
           "(%.2f-%.2f)  target >= 2.5\n", "durable set 4 thr / 1 thr, kvstore",
           ops / k4, ops / k1, rk[rounds / 2], rk[0], rk[rounds - 1]);
    printf("%-34s 4 thr %10.1f ops/s  1 thr %10.1f ops/s  ratio %.2f "
           "(%.2f-%.2f)  raw stays about 1\n", "durable set 4 thr / 1 thr, raw",
           ops / r4, ops / r1, rr[rounds / 2], rr[0], rr[rounds - 1]);
    printf("%-34s kvstore 4 threads / raw 4 threads: %.2f\n", "", r4 / k4);
    for (int i = 0; i < 4; i++)
        raw_close(&rs[i]);
    kvstore_bucket_close(b);
    kvstore_close(s);
}

/* ---- fill (for get, listing and size) ---- */

static void fill(kvstore_store *s, raw *r, int n)
{
    kvstore_bucket *b;
    kv_check(kvstore_bucket_open(&b, s, "bench"), "bucket");
    enum { BATCH = 500 };
    char names[BATCH][32];
    const char *keys[BATCH];
    const void *vals[BATCH];
    size_t lens[BATCH];
    raw_exec(r->db, "BEGIN");
    for (int i = 0; i < n; i += BATCH) {
        int m = n - i < BATCH ? n - i : BATCH;
        for (int j = 0; j < m; j++) {
            snprintf(names[j], sizeof names[j], "key-%07d", i + j);
            keys[j] = names[j];
            vals[j] = value;
            lens[j] = (size_t)value_size;
            raw_set(r, names[j], value, (size_t)value_size);
        }
        kv_check(kvstore_set_many(b, keys, vals, lens, (size_t)m), "set_many");
    }
    raw_exec(r->db, "COMMIT");
    kvstore_bucket_close(b);
}

/* ---- get ---- */

/* Moves the WAL left by the load into the database file, on both sides
 * alike: how each side happened to load (one transaction, or batches)
 * should not decide how many WAL frames every later read looks through. */
static void checkpoint(const char *path)
{
    sqlite3 *db;
    if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE, NULL) != SQLITE_OK)
        die("sqlite3_open", path);
    sqlite3_busy_timeout(db, 10000);
    raw_exec(db, "PRAGMA wal_checkpoint(TRUNCATE)");
    sqlite3_close(db);
}

static void bench_get(void)
{
    paths("get");
    kvstore_store *s;
    kvstore_bucket *b;
    kv_check(kvstore_open(&s, uri), "open");
    raw r;
    raw_open(&r, path_raw);
    fill(s, &r, get_keys);
    checkpoint(path_kv);
    checkpoint(path_raw);
    kv_check(kvstore_bucket_open(&b, s, "bench"), "bucket");
    double ratios[MAX_ROUNDS] = { 0 }, tkv_all = 0, traw_all = 0;
    double cratios[MAX_ROUNDS] = { 0 }, ckv_all = 0, craw_all = 0;
    long ops = 0;
    char key[32];
    unsigned seed = 42;
    for (int round = 0; round < rounds; round++) {
        double tkv = 0, traw = 0, ckv = 0, craw = 0;
        for (int sl = 0; sl < get_slices; sl++) {
            for (int side = 0; side < 2; side++) {
                bool kv_side = (side == 0) == (sl % 2 == 0);
                unsigned sd = seed + (unsigned)sl;
                double t0 = now_s(), c0 = cpu_s();
                for (int i = 0; i < get_keys; i++) {
                    snprintf(key, sizeof key, "key-%07d",
                             (int)(rand_r(&sd) % (unsigned)get_keys));
                    void *v = NULL;
                    size_t len = 0;
                    if (kv_side) {
                        kv_check(kvstore_get(b, key, &v, &len), "get");
                    } else {
                        sqlite3_bind_text(r.get, 1, key, -1, SQLITE_STATIC);
                        if (sqlite3_step(r.get) != SQLITE_ROW)
                            die("raw get", key);
                        len = (size_t)sqlite3_column_bytes(r.get, 0);
                        v = malloc(len);
                        memcpy(v, sqlite3_column_blob(r.get, 0), len);
                        sqlite3_reset(r.get);
                    }
                    if (len != (size_t)value_size ||
                        memcmp(v, value, len) != 0)
                        die("get", "wrong value");
                    if (kv_side)
                        kvstore_free(v);
                    else
                        free(v);
                }
                double t = now_s() - t0, c = cpu_s() - c0;
                if (kv_side) {
                    tkv += t;
                    ckv += c;
                } else {
                    traw += t;
                    craw += c;
                }
            }
        }
        ratios[round] = traw / tkv;
        cratios[round] = craw / ckv;
        tkv_all += tkv;
        traw_all += traw;
        ckv_all += ckv;
        craw_all += craw;
        ops += (long)get_slices * get_keys;
    }
    report("get, 1 thread (ops/s)", "ops/s", ops / tkv_all, ops / traw_all,
           ratios, rounds, ">= 0.9");
    report("get, 1 thread (ops/cpu-s)", "ops/s", ops / ckv_all,
           ops / craw_all, cratios, rounds, ">= 0.9");
    raw_close(&r);
    kvstore_bucket_close(b);
    kvstore_close(s);
}

/* ---- listing and size ---- */

static long file_size(const char *path)
{
    struct stat sb;
    return stat(path, &sb) == 0 ? (long)sb.st_size : 0;
}

static void bench_list_and_size(void)
{
    paths("list");
    kvstore_store *s;
    kvstore_bucket *b;
    kv_check(kvstore_open(&s, uri), "open");
    raw r;
    raw_open(&r, path_raw);
    fprintf(stderr, "  filling %d keys\n", list_keys);
    fill(s, &r, list_keys);
    checkpoint(path_kv);
    checkpoint(path_raw);
    kv_check(kvstore_bucket_open(&b, s, "bench"), "bucket");
    double ratios[MAX_ROUNDS] = { 0 }, tkv_all = 0, traw_all = 0;
    double cratios[MAX_ROUNDS] = { 0 }, ckv_all = 0, craw_all = 0;
    for (int round = 0; round < rounds; round++) {
        double tkv = 0, traw = 0, ckv = 0, craw = 0;
        /* Four walks per side per round, alternating which side goes
         * first, so one scheduling hiccup weighs less. */
        for (int step = 0; step < 8; step++) {
            bool kv_side = (step % 2 == 0) == ((step / 2 + round) % 2 == 0);
            long n = 0;
            double t0 = now_s(), c0 = cpu_s();
            if (kv_side) {
                char *cur = NULL;
                do {
                    kvstore_keys *page = NULL;
                    kv_check(kvstore_list_keys(b, NULL, cur, (size_t)list_page,
                                               &page), "list");
                    free(cur);
                    cur = page->cursor ? strdup(page->cursor) : NULL;
                    n += (long)page->count;
                    kvstore_keys_free(page);
                } while (cur != NULL);
            } else {
                /* The raw walk copies each key out, as a page does. */
                while (sqlite3_step(r.list) == SQLITE_ROW) {
                    char *k = strdup((const char *)sqlite3_column_text(r.list, 0));
                    free(k);
                    n++;
                }
                sqlite3_reset(r.list);
            }
            double t = now_s() - t0, c = cpu_s() - c0;
            if (n != list_keys)
                die("list", "wrong count");
            if (kv_side) {
                tkv += t;
                ckv += c;
            } else {
                traw += t;
                craw += c;
            }
        }
        ratios[round] = tkv / traw;
        cratios[round] = ckv / craw;
        tkv_all += tkv;
        traw_all += traw;
        ckv_all += ckv;
        craw_all += craw;
    }
    char line[64];
    snprintf(line, sizeof line, "%dk listing, pages of %d (ms)",
             list_keys / 1000, list_page);
    report(line, "ms", tkv_all * 1000 / (4 * rounds),
           traw_all * 1000 / (4 * rounds), ratios, rounds, "<= 1.3 (time)");
    snprintf(line, sizeof line, "%dk listing (cpu ms)", list_keys / 1000);
    report(line, "ms", ckv_all * 1000 / (4 * rounds),
           craw_all * 1000 / (4 * rounds), cratios, rounds, "<= 1.3 (time)");
    kvstore_bucket_close(b);
    kvstore_close(s); /* the last connection checkpoints the WAL away */
    raw_close(&r);
    char wal[4300];
    snprintf(wal, sizeof wal, "%s-wal", path_kv);
    long kv = file_size(path_kv) + file_size(wal);
    snprintf(wal, sizeof wal, "%s-wal", path_raw);
    long rw = file_size(path_raw) + file_size(wal);
    double ratio = (double)kv / (double)rw;
    snprintf(line, sizeof line, "disk size, %dk x %d B", list_keys / 1000,
             value_size);
    printf("%-34s kvstore %10.1f MiB    raw %10.1f MiB    ratio %.2f"
           "              target <= 1.3\n", line,
           kv / 1048576.0, rw / 1048576.0, ratio);
}

static int rm_one(const char *p, const struct stat *sb, int f, struct FTW *w)
{
    (void)sb; (void)f; (void)w;
    return remove(p);
}

int main(int argc, char **argv)
{
    const char *base = getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp";
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--dir") == 0 && i + 1 < argc) {
            base = argv[++i];
        } else if (strcmp(argv[i], "--rounds") == 0 && i + 1 < argc) {
            rounds = atoi(argv[++i]);
            if (rounds < 1 || rounds > MAX_ROUNDS)
                die("--rounds", "1..15");
        } else if (strcmp(argv[i], "--only") == 0 && i + 1 < argc) {
            only = argv[++i];
        } else if (strcmp(argv[i], "--raw-mmap") == 0) {
            raw_mmap = true;
        } else if (strcmp(argv[i], "--set4-ops") == 0 && i + 1 < argc) {
            set4_ops = atoi(argv[++i]);
            if (set4_ops < 4 || set4_ops > 100000)
                die("--set4-ops", "4..100000");
        } else if (strcmp(argv[i], "--raw-spin") == 0) {
            raw_spin = true;
        } else if (strcmp(argv[i], "--quick") == 0) {
            rounds = 1;
            set_slices = 4;
            set_ops = 4;
            set4_slices = 2;
            set4_ops = 16;
            get_keys = 500;
            get_slices = 2;
            list_keys = 5000;
            list_page = 100;
            probe_syncs = 20;
        } else {
            fprintf(stderr, "usage: %s [--dir PATH] [--rounds N] [--only set|get|list] [--quick] [--raw-mmap] [--raw-spin] [--set4-ops N]\n",
                    argv[0]);
            return 2;
        }
    }
    snprintf(dir, sizeof dir, "%s/kvstore-bench-XXXXXX", base);
    if (mkdtemp(dir) == NULL)
        die("mkdtemp", dir);
#ifdef BENCH_MODULE
    if (kvstore_backend_load(BENCH_MODULE) != KVSTORE_OK)
        die("kvstore_backend_load", kvstore_errmsg());
#endif
    for (int i = 0; i < (int)sizeof value; i++)
        value[i] = (char)('a' + i % 26);
    printf("bench-sqlite: SQLite %s, %d rounds, %d-byte values, %ld cores, "
           "files in %s, raw side: %s table, %s\n", sqlite3_libversion(),
           rounds, value_size, sysconf(_SC_NPROCESSORS_ONLN), base,
           raw_spin ? "the backend's (Spin's layout)" : "a (key, value)",
           raw_mmap ? "mmap_size as kvstore" : "SQLite's default pread "
           "(kvstore maps the file)");
    printf("ratio: median of the rounds' ratios (min-max); > 1 is kvstore "
           "faster, except time ratios\n");
    if (only == NULL || strcmp(only, "set") == 0) {
        /* The set ratios depend on the disk: say how fast it is. */
        if (fsync_probe(dir, probe_syncs) != 0)
            die("fsync probe", dir);
        /* The 4-thread line also pays a wake-up per released writer. */
        if (wake_probe(probe_syncs) != 0)
            printf("wake-up probe: skipped (fewer than two usable CPUs)\n");
        bench_set_1();
        bench_set_4();
    }
    if (only == NULL || strcmp(only, "get") == 0)
        bench_get();
    if (only == NULL || strcmp(only, "list") == 0)
        bench_list_and_size();
    nftw(dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
    return 0;
}

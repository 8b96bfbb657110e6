/*
 * bench/redis: what the redis benchmarks share: the clock, filling a
 * bucket to walk, a full walk through the library, and the raw SCAN walk
 * it is compared to.
 *
 * SPDX-License-Identifier: MIT
 */
#ifndef KVSTORE_BENCH_REDIS_WALK_H
#define KVSTORE_BENCH_REDIS_WALK_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <hiredis/hiredis.h>
#include <kvstore/kvstore.h>

static inline double bench_now_s(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

/* Keys "key-000000" ... of `b` (n a multiple of 1000), each holding the
 * string `value`, with set_many of 1000. */
static inline void bench_fill_walk(kvstore_bucket *b, int n,
                                   const char *value)
{
    static char names[1000][16];
    const char *keys[1000];
    const void *vals[1000];
    size_t lens[1000];

    for (int i = 0; i < n; i += 1000) {
        for (int j = 0; j < 1000; j++) {
            snprintf(names[j], sizeof names[j], "key-%06d", i + j);
            keys[j] = names[j];
            vals[j] = value;
            lens[j] = strlen(value);
        }
        if (kvstore_set_many(b, keys, vals, lens, 1000) != KVSTORE_OK) {
            fprintf(stderr, "bench: set_many: %s\n", kvstore_errmsg());
            exit(1);
        }
    }
}

/* Every key of `b` in pages of 1000; returns how many were listed. */
static inline size_t bench_kv_walk(kvstore_bucket *b)
{
    char *cursor = NULL;
    size_t count = 0;

    do {
        kvstore_keys *page = NULL;

        if (kvstore_list_keys(b, "", cursor, 1000, &page) != KVSTORE_OK) {
            fprintf(stderr, "bench: list_keys: %s\n", kvstore_errmsg());
            exit(1);
        }
        count += page->count;
        free(cursor);
        cursor = page->cursor ? strdup(page->cursor) : NULL;
        kvstore_keys_free(page);
    } while (cursor != NULL);
    return count;
}

/* SCAN ... MATCH pattern COUNT 1000 over all of `c`'s database, copying
 * the keys out as a caller of SCAN must; returns how many came. */
static inline size_t bench_raw_scan(redisContext *c, const char *pattern)
{
    char cursor[32] = "0";
    size_t count = 0;

    do {
        redisReply *r = redisCommand(c, "SCAN %s MATCH %s COUNT 1000",
                                     cursor, pattern);
        if (r == NULL || r->type != REDIS_REPLY_ARRAY)
            exit(1);
        snprintf(cursor, sizeof cursor, "%s", r->element[0]->str);
        for (size_t i = 0; i < r->element[1]->elements; i++) {
            char *k = strdup(r->element[1]->element[i]->str);
            free(k);
            count++;
        }
        freeReplyObject(r);
    } while (strcmp(cursor, "0") != 0);
    return count;
}

#endif

/*
 * bench-core - the raw in-memory baseline: one uthash table behind one
 * pthread mutex, with values copied in on set and out on get (malloc +
 * memcpy), which is what the memory backend must do too.
 *
 * SPDX-License-Identifier: MIT
 */
#include "workload.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <uthash.h>

typedef struct entry {
    char *key;       /* owned */
    void *value;     /* owned */
    size_t len;
    UT_hash_handle hh;
} entry;

struct raw_mem {
    pthread_mutex_t lock;
    entry *table;
};

raw_mem *raw_mem_new(void)
{
    raw_mem *m = bench_xmalloc(sizeof *m);
    pthread_mutex_init(&m->lock, NULL);
    m->table = NULL;
    return m;
}

void raw_mem_free(raw_mem *m)
{
    entry *e, *tmp;
    if (!m)
        return;
    HASH_ITER(hh, m->table, e, tmp) {
        HASH_DEL(m->table, e);
        free(e->key);
        free(e->value);
        free(e);
    }
    pthread_mutex_destroy(&m->lock);
    free(m);
}

void raw_mem_set_range(work *w, size_t from, size_t to)
{
    raw_mem *m = w->mem;
    for (size_t i = from; i < to; i++) {
        const char *key = w->keys[i];
        /* Copy outside the lock, as a careful implementation would. */
        void *copy = bench_xmalloc(w->vlen);
        memcpy(copy, w->value, w->vlen);
        pthread_mutex_lock(&m->lock);
        entry *e;
        HASH_FIND_STR(m->table, key, e);
        if (e) {
            void *old = e->value;
            e->value = copy;
            e->len = w->vlen;
            pthread_mutex_unlock(&m->lock);
            free(old);
            continue;
        }
        e = bench_xmalloc(sizeof *e);
        e->key = bench_xstrdup(key);
        e->value = copy;
        e->len = w->vlen;
        HASH_ADD_KEYPTR(hh, m->table, e->key, strlen(e->key), e);
        pthread_mutex_unlock(&m->lock);
    }
}

void raw_mem_get_range(work *w, size_t from, size_t to)
{
    raw_mem *m = w->mem;
    for (size_t i = from; i < to; i++) {
        entry *e;
        void *copy = NULL;
        size_t len = 0;
        pthread_mutex_lock(&m->lock);
        HASH_FIND_STR(m->table, w->keys[i], e);
        if (e) {
            len = e->len;
            copy = malloc(len ? len : 1);
            if (copy)
                memcpy(copy, e->value, len);
        }
        pthread_mutex_unlock(&m->lock);
        if (!copy)
            bench_die("raw get: %s missing", w->keys[i]);
        if (len != w->vlen ||
            (len > 0 && ((unsigned char *)copy)[len - 1] != w->value[len - 1]))
            bench_die("raw get: %s: wrong value", w->keys[i]);
        free(copy);
    }
}

void raw_mem_delete_range(work *w, size_t from, size_t to)
{
    raw_mem *m = w->mem;
    for (size_t i = from; i < to; i++) {
        entry *e;
        pthread_mutex_lock(&m->lock);
        HASH_FIND_STR(m->table, w->keys[i], e);
        if (e)
            HASH_DEL(m->table, e);
        pthread_mutex_unlock(&m->lock);
        if (e) {
            free(e->key);
            free(e->value);
            free(e);
        }
    }
}

size_t raw_mem_list_all(work *w)
{
    raw_mem *m = w->mem;
    entry *e, *tmp;
    pthread_mutex_lock(&m->lock);
    size_t n = HASH_COUNT(m->table), i = 0;
    char **names = bench_xmalloc(n * sizeof *names);
    HASH_ITER(hh, m->table, e, tmp)
        names[i++] = bench_xstrdup(e->key);
    pthread_mutex_unlock(&m->lock);
    bench_free_strings(names, i);
    return i;
}

static int cmp_names(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

size_t raw_mem_list_sorted(work *w)
{
    raw_mem *m = w->mem;
    entry *e, *tmp;
    pthread_mutex_lock(&m->lock);
    size_t n = HASH_COUNT(m->table), i = 0;
    char **names = bench_xmalloc((n ? n : 1) * sizeof *names);
    HASH_ITER(hh, m->table, e, tmp)
        names[i++] = bench_xstrdup(e->key);
    pthread_mutex_unlock(&m->lock);
    qsort(names, i, sizeof *names, cmp_names);
    bench_free_strings(names, i);
    return i;
}

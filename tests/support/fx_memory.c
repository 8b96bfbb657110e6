/*
 * Event recorder, worker threads and page checks (see fx_memory.h).
 *
 * SPDX-License-Identifier: MIT
 */
#include "fx_memory.h"

#include <time.h>
#include <unistd.h>

ev_log *ev_log_new(size_t cap)
{
    ev_log *log = calloc(1, sizeof *log + cap * sizeof log->ev[0]);

    assert_non_null(log);
    pthread_mutex_init(&log->mu, NULL);
    pthread_cond_init(&log->cv, NULL);
    log->cap = cap;
    return log;
}

void ev_log_free(ev_log *log)
{
    if (log == NULL)
        return;
    pthread_cond_destroy(&log->cv);
    pthread_mutex_destroy(&log->mu);
    free(log);
}

void ev_log_add(void *payload, kvstore_event type, const char *key,
                const void *value, size_t len)
{
    ev_log *log = payload;

    if (atomic_load(&log->stopped))
        atomic_fetch_add(&log->late, 1);
    atomic_fetch_add(&log->began, 1);
    if (log->delay_us)
        usleep(log->delay_us);
    pthread_mutex_lock(&log->mu);
    while (log->held)
        pthread_cond_wait(&log->cv, &log->mu);
    if (log->n < log->cap) {
        ev_entry *e = &log->ev[log->n];
        e->type = type;
        snprintf(e->key, sizeof e->key, "%s", key);
        if (value)
            snprintf(e->value, sizeof e->value, "%.*s", (int)len,
                     (const char *)value);
        e->len = len;
        e->value_null = value == NULL;
    }
    log->n++;
    pthread_cond_broadcast(&log->cv);
    pthread_mutex_unlock(&log->mu);
    atomic_fetch_add(&log->ended, 1);
}

void ev_log_stopped(ev_log *log)
{
    atomic_store(&log->stopped, true);
}

void ev_log_hold(ev_log *log, bool held)
{
    pthread_mutex_lock(&log->mu);
    log->held = held;
    pthread_cond_broadcast(&log->cv);
    pthread_mutex_unlock(&log->mu);
}

void ev_log_wait(ev_log *log, size_t n)
{
    struct timespec dl;
    size_t got;

    clock_gettime(CLOCK_REALTIME, &dl);
    dl.tv_sec += 20;
    pthread_mutex_lock(&log->mu);
    while (log->n < n &&
           pthread_cond_timedwait(&log->cv, &log->mu, &dl) == 0)
        ;
    got = log->n;
    pthread_mutex_unlock(&log->mu);
    if (got < n)
        fail_msg("%zu of %zu events after 20 s", got, n);
}

size_t ev_log_count(ev_log *log)
{
    pthread_mutex_lock(&log->mu);
    size_t n = log->n;
    pthread_mutex_unlock(&log->mu);
    return n;
}

void ev_log_expect(const ev_log *log, size_t i, kvstore_event type,
                   const char *key, const char *value)
{
    assert_true(i < log->n && i < log->cap);
    const ev_entry *e = &log->ev[i];

    if (e->type != type || strcmp(e->key, key) != 0)
        fail_msg("event %zu: type %d key '%s', expected %d '%s'", i,
                 (int)e->type, e->key, (int)type, key);
    if (value == NULL) {
        assert_true(e->value_null);
        assert_int_equal(e->len, 0);
        return;
    }
    assert_false(e->value_null);
    assert_int_equal(e->len, strlen(value));
    assert_true(e->len < sizeof e->value);
    assert_string_equal(e->value, value);
}

void *seq_write(void *writer)
{
    const seq_writer *w = writer;
    char key[64], value[16];

    snprintf(key, sizeof key, "%s%d", w->prefix, w->id);
    for (int i = 0; i < w->count; i++) {
        snprintf(value, sizeof value, "%d", i);
        if (w->put(w->to, key, value) != KVSTORE_OK)
            return (void *)1;
    }
    return NULL;
}

int put_in_bucket(void *to, const char *key, const char *value)
{
    return kvstore_set(to, key, value, strlen(value));
}

void ev_log_expect_sequences(const ev_log *log, const char *prefix,
                             int writers, int count)
{
    size_t plen = strlen(prefix);
    int *next = calloc((size_t)writers, sizeof *next);

    assert_non_null(next);
    assert_int_equal(log->n, (size_t)writers * (size_t)count);
    for (size_t i = 0; i < log->n; i++) {
        const ev_entry *e = &log->ev[i];
        char want[16];
        int id = -1;

        if (strncmp(e->key, prefix, plen) != 0 ||
            sscanf(e->key + plen, "%d", &id) != 1 || id < 0 || id >= writers)
            fail_msg("event %zu: key '%s' of no writer", i, e->key);
        snprintf(want, sizeof want, "%d", next[id]++);
        ev_log_expect(log, i, KVSTORE_EVENT_SET, e->key, want);
    }
    for (int id = 0; id < writers; id++)
        if (next[id] != count)
            fail_msg("writer %d: %d events, expected %d", id, next[id],
                     count);
    free(next);
}

void threads_start(pthread_t *th, size_t n, void *(*fn)(void *), void *args,
                   size_t size)
{
    for (size_t i = 0; i < n; i++) {
        int rc = pthread_create(&th[i], NULL, fn, (char *)args + i * size);
        if (rc != 0)
            fail_msg("pthread_create %zu of %zu: %s", i, n, strerror(rc));
    }
}

void threads_join(const pthread_t *th, size_t n)
{
    size_t failed = n;

    for (size_t i = 0; i < n; i++) {
        void *ret = NULL;
        pthread_join(th[i], &ret);
        if (ret != NULL && failed == n)
            failed = i;
    }
    if (failed < n)
        fail_msg("thread %zu of %zu failed", failed, n);
}

void threads_run(size_t n, void *(*fn)(void *), void *args, size_t size)
{
    pthread_t th[64];

    assert_true(n <= 64);
    threads_start(th, n, fn, args, size);
    threads_join(th, n);
}

bool expect_page(kvstore_bucket *b, const char *prefix, const char *cursor,
                 size_t limit, size_t count, const char *first)
{
    kvstore_keys *page = NULL;

    assert_ok(kvstore_list_keys(b, prefix, cursor, limit, &page));
    assert_non_null(page);
    if (page->count != count)
        fail_msg("page of %zu keys, expected %zu", page->count, count);
    if (first && count > 0 && strcmp(page->keys[0], first) != 0)
        fail_msg("page starts at '%s', expected '%s'", page->keys[0], first);
    bool more = page->cursor != NULL;
    kvstore_keys_free(page);
    return more;
}

void bucket_list_refused(kvstore_store *s, const char *cursor,
                         const char *what)
{
    kvstore_keys *page = (kvstore_keys *)&page;
    int rc = kvstore_bucket_list(s, cursor, 0, &page);

    if (rc == KVSTORE_OK)
        kvstore_keys_free(page);
    if (rc != KVSTORE_EINVAL)
        fail_msg("bucket_list with %s cursor = %d, expected EINVAL", what,
                 rc);
    assert_null(page);
}

void expect_many(void *const out[], const size_t lens[],
                 const char *const want[], size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (want[i] == NULL) {
            if (out[i] != NULL || lens[i] != 0)
                fail_msg("get_many slot %zu: %zu bytes, expected absent", i,
                         lens[i]);
            continue;
        }
        if (out[i] == NULL)
            fail_msg("get_many slot %zu: absent, expected '%s'", i, want[i]);
        assert_int_equal(lens[i], strlen(want[i]));
        assert_memory_equal(out[i], want[i], lens[i]);
    }
    for (size_t i = 0; i < n; i++)
        kvstore_free(out[i]);
}

kvstore_cas *cas_of(kvstore_bucket *b, const char *key)
{
    kvstore_cas *cas = NULL;

    assert_ok(kvstore_cas_open(&cas, b, key));
    assert_non_null(cas);
    return cas;
}

void cas_swap_free(kvstore_cas *cas, const char *value, int want)
{
    int rc = kvstore_cas_swap(cas, value, strlen(value));

    kvstore_cas_free(cas);
    if (rc != want)
        fail_msg("cas_swap '%s' = %d (%s), expected %d", value, rc,
                 kvstore_errmsg(), want);
}

/*
 * Fixtures and checks of the file, sqlite and lmdb tests (see
 * fx_files.h).
 *
 * SPDX-License-Identifier: MIT
 */
#include "fx_files.h"
#include "procs.h"
#include "run.h"

#include <time.h>

int tmp_store_setup(void **state)
{
    tmp_store *t = calloc(1, sizeof *t);

    assert_non_null(t);
    t->dir = tmp_new();
    *state = t;
    return 0;
}

kvstore_store *open_in(const tmp_store *t, const char *uri)
{
    const ts_placeholder ph = { "dir", t->dir };
    char *full = ts_substitute(uri, &ph, 1);

    assert_non_null(full);
    kvstore_store *s = open_uri(full);
    free(full);
    return s;
}

void tmp_store_shut(tmp_store *t)
{
    kvstore_bucket_close(t->b);
    kvstore_close(t->s);
    t->b = NULL;
    t->s = NULL;
}

void tmp_store_reopen(tmp_store *t, const char *uri, const char *bucket)
{
    tmp_store_shut(t);
    t->s = open_in(t, uri);
    if (bucket)
        t->b = open_bucket(t->s, bucket);
}

/* Checks that `name` is the next name of `*want` and moves past it and
 * its separator; `what` says whose names they are in a failure. */
static void next_name(const char **want, const char *name, const char *what)
{
    size_t n = strlen(name);

    if (strncmp(*want, name, n) != 0 || ((*want)[n] != ' ' &&
                                         (*want)[n] != '\0'))
        fail_msg("%s: '%.60s' listed where '%.60s' was due", what, name,
                 *want);
    *want += n + ((*want)[n] == ' ');
}

static void no_name_left(const char *want, const char *what)
{
    if (*want != '\0')
        fail_msg("%s: '%.60s' not listed", what, want);
}

size_t listed_count(kvstore_bucket *b, const char *prefix)
{
    kvstore_keys *page = NULL;
    int rc = kvstore_list_keys(b, prefix, NULL, 0, &page);

    if (rc != KVSTORE_OK)
        fail_msg("list_keys: %d %s", rc, kvstore_errmsg());
    assert_null(page->cursor);
    size_t n = page->count;
    kvstore_keys_free(page);
    return n;
}

void expect_listed(kvstore_bucket *b, const char *prefix, const char *want)
{
    kvstore_keys *page = NULL;
    int rc = kvstore_list_keys(b, prefix, NULL, 0, &page);

    if (rc != KVSTORE_OK)
        fail_msg("list_keys: %d %s", rc, kvstore_errmsg());
    assert_null(page->cursor);
    for (size_t i = 0; i < page->count; i++)
        next_name(&want, page->keys[i], "keys");
    kvstore_keys_free(page);
    no_name_left(want, "keys");
}

size_t expect_buckets(kvstore_store *s, size_t limit, const char *want)
{
    char *cur = NULL, last[KVSTORE_KEY_MAX + 1] = "";
    size_t pages = 0;

    do {
        kvstore_keys *page = NULL;
        int rc = kvstore_bucket_list(s, cur, limit, &page);
        free(cur);
        if (rc != KVSTORE_OK)
            fail_msg("bucket_list (page %zu): %d %s", pages, rc,
                     kvstore_errmsg());
        if (limit != 0 && page->count > limit)
            fail_msg("page of %zu buckets, limit %zu", page->count, limit);
        for (size_t i = 0; i < page->count; i++) {
            if (last[0] != '\0' && strcmp(last, page->keys[i]) >= 0)
                fail_msg("bucket '%s' listed after '%s'", page->keys[i],
                         last);
            snprintf(last, sizeof last, "%s", page->keys[i]);
            next_name(&want, page->keys[i], "buckets");
        }
        cur = page->cursor ? strdup(page->cursor) : NULL;
        kvstore_keys_free(page);
        if (++pages > 1000)
            fail_msg("bucket_list did not end after %zu pages", pages);
    } while (cur != NULL);
    no_name_left(want, "buckets");
    return pages;
}

int cas_across_processes(kvstore_bucket *b, const char *key,
                         const char *snapshot, const char *uri,
                         const char *bucket, const char *const *steps,
                         const char *swap)
{
    kvstore_cas *cas = cas_of(b, key);
    const void *v = NULL;
    size_t len = 0;
    int rc = kvstore_cas_current(cas, &v, &len);
    if (snapshot == NULL) {
        assert_int_equal(rc, KVSTORE_NOTFOUND);
    } else {
        assert_int_equal(rc, KVSTORE_OK);
        assert_int_equal(len, strlen(snapshot));
        assert_memory_equal(v, snapshot, len);
    }
    procs_write_steps(uri, bucket, key, steps);
    rc = kvstore_cas_swap(cas, swap, strlen(swap));
    kvstore_cas_free(cas);
    return rc;
}

watch_log *watch_log_new(void)
{
    watch_log *log = calloc(1, sizeof *log);

    assert_non_null(log);
    pthread_mutex_init(&log->mu, NULL);
    pthread_cond_init(&log->cv, NULL);
    return log;
}

void watch_log_free(watch_log *log)
{
    for (int i = 0; i < log->n; i++) {
        free(log->ev[i].key);
        free(log->ev[i].value);
    }
    pthread_mutex_destroy(&log->mu);
    pthread_cond_destroy(&log->cv);
    free(log);
}

void watch_log_event(void *payload, kvstore_event type, const char *key,
                     const void *value, size_t len)
{
    watch_log *log = payload;

    pthread_mutex_lock(&log->mu);
    if (log->n < WATCH_LOG_MAX) {
        watch_event *e = &log->ev[log->n++];
        e->type = type;
        e->key = strdup(key);
        e->value = value ? strndup(value, len) : NULL;
    }
    pthread_cond_broadcast(&log->cv);
    pthread_mutex_unlock(&log->mu);
}

int watch_log_wait(watch_log *log, int n)
{
    struct timespec deadline;

    clock_gettime(CLOCK_REALTIME, &deadline);
    deadline.tv_sec += 10;
    pthread_mutex_lock(&log->mu);
    while (log->n < n &&
           pthread_cond_timedwait(&log->cv, &log->mu, &deadline) == 0)
        ;
    int got = log->n;
    pthread_mutex_unlock(&log->mu);
    return got;
}

void expect_event(const watch_log *log, int i, kvstore_event type,
                  const char *key, const char *value)
{
    assert_true(i < log->n);
    assert_int_equal(log->ev[i].type, type);
    assert_string_equal(log->ev[i].key, key);
    if (value)
        assert_string_equal(log->ev[i].value, value);
    else
        assert_null(log->ev[i].value);
}

/*
 * kvstore-log.so: a third-party backend module built out of tree against
 * the installed libkvstore. It serves the scheme "log:" by forwarding every
 * call to another store (through the public API) and writing one line per
 * operation to a log, which is the kind of wrapper (auditing, metrics,
 * tracing) a host adds without touching libkvstore.
 *
 *   log:?target=<percent-encoded URI>&file=<path>
 *   target defaults to "memory:"; file defaults to standard error.
 *
 * SPDX-License-Identifier: MIT
 */
#include <kvstore/backend.h>

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <pthread.h>

struct log_store {
    kvstore_store *inner;
    FILE *log;
    bool close_log;
    pthread_mutex_t lock; /* one line at a time */
};

struct log_bucket {
    struct log_store *store;
    kvstore_bucket *inner;
    char name[KVSTORE_BUCKET_NAME_MAX + 1];
};

struct log_watch {
    kvstore_watch *inner;
};

static void logf_(struct log_store *s, const char *fmt, ...)
    KVSTORE_PRINTF(2, 3);

static void logf_(struct log_store *s, const char *fmt, ...)
{
    va_list ap;

    pthread_mutex_lock(&s->lock);
    va_start(ap, fmt);
    vfprintf(s->log, fmt, ap);
    va_end(ap);
    fputc('\n', s->log);
    fflush(s->log);
    pthread_mutex_unlock(&s->lock);
}

/* Forwarded calls already set kvstore_errmsg(); keep their code. */
static int done(struct log_bucket *b, const char *op, const char *key,
                int rc)
{
    logf_(b->store, "%s %s %s -> %d", op, b->name, key ? key : "-", rc);
    return rc;
}

static int log_store_open(void **out, const kvstore_uri *uri)
{
    const char *target = kvstore_uri_param(uri, "target");
    const char *file = kvstore_uri_param(uri, "file");
    struct log_store *s = calloc(1, sizeof *s);
    int rc;

    if (s == NULL)
        return kvstore_set_error(KVSTORE_ENOMEM, "log: out of memory");
    if (target && strncmp(target, "log:", 4) == 0) {
        free(s);
        return kvstore_set_error(KVSTORE_EINVAL,
                                 "log: target must not be another log: store");
    }
    s->log = stderr;
    if (file) {
        s->log = fopen(file, "a");
        if (s->log == NULL) {
            free(s);
            return kvstore_set_error(KVSTORE_EIO, "log: cannot open %s",
                                     file);
        }
        s->close_log = true;
    }
    rc = kvstore_open(&s->inner, target ? target : "memory:");
    if (rc != KVSTORE_OK) {
        if (s->close_log)
            fclose(s->log);
        free(s);
        return rc;
    }
    pthread_mutex_init(&s->lock, NULL);
    logf_(s, "open %s", kvstore_uri_redacted(uri));
    *out = s;
    return KVSTORE_OK;
}

static void log_store_close(void *store)
{
    struct log_store *s = store;

    logf_(s, "close");
    kvstore_close(s->inner);
    if (s->close_log)
        fclose(s->log);
    pthread_mutex_destroy(&s->lock);
    free(s);
}

static int log_bucket_open(void **out, void *store, const char *name,
                           bool create)
{
    struct log_store *s = store;
    struct log_bucket *b;
    int rc;

    /* "create" belongs to the target store: put ?create=false in the
     * target URI, which the inner kvstore_bucket_open then honours. */
    (void)create;
    b = calloc(1, sizeof *b);
    if (b == NULL)
        return kvstore_set_error(KVSTORE_ENOMEM, "log: out of memory");
    rc = kvstore_bucket_open(&b->inner, s->inner, name);
    if (rc != KVSTORE_OK) {
        free(b);
        return rc;
    }
    b->store = s;
    snprintf(b->name, sizeof b->name, "%s", name);
    logf_(s, "bucket_open %s", name);
    *out = b;
    return KVSTORE_OK;
}

static void log_bucket_close(void *bucket)
{
    struct log_bucket *b = bucket;

    kvstore_bucket_close(b->inner);
    free(b);
}

static int log_get(void *bucket, const char *key, void **value, size_t *len)
{
    struct log_bucket *b = bucket;
    return done(b, "get", key, kvstore_get(b->inner, key, value, len));
}

static int log_set(void *bucket, const char *key, const void *value,
                   size_t len)
{
    struct log_bucket *b = bucket;
    return done(b, "set", key, kvstore_set(b->inner, key, value, len));
}

static int log_del(void *bucket, const char *key)
{
    struct log_bucket *b = bucket;
    return done(b, "delete", key, kvstore_delete(b->inner, key));
}

static int log_exists(void *bucket, const char *key, bool *exists)
{
    struct log_bucket *b = bucket;
    return done(b, "exists", key, kvstore_exists(b->inner, key, exists));
}

static int log_list_keys(void *bucket, const char *prefix, const char *cursor,
                         size_t limit, kvstore_keys **out)
{
    struct log_bucket *b = bucket;
    /* The inner store's cursors are already bucket-bound and validated. */
    return done(b, "list_keys", prefix,
                kvstore_list_keys(b->inner, prefix, cursor, limit, out));
}

static int log_increment(void *bucket, const char *key, int64_t delta,
                         int64_t *result)
{
    struct log_bucket *b = bucket;
    return done(b, "increment", key,
                kvstore_increment(b->inner, key, delta, result));
}

static int log_cas_open(void **out, void *bucket, const char *key,
                        bool *found, const void **value, size_t *len)
{
    struct log_bucket *b = bucket;
    kvstore_cas *cas = NULL;
    int rc = kvstore_cas_open(&cas, b->inner, key);

    if (rc == KVSTORE_OK) {
        int cur = kvstore_cas_current(cas, value, len);
        *found = cur == KVSTORE_OK;
        *out = cas;
    }
    return done(b, "cas_open", key, rc);
}

static int log_cas_swap(void *cas, const void *value, size_t len)
{
    return kvstore_cas_swap(cas, value, len);
}

static void log_cas_free(void *cas)
{
    kvstore_cas_free(cas);
}

static int log_watch_start(void **out, void *bucket, const char *prefix,
                           kvstore_watch_fn fn, void *payload)
{
    struct log_bucket *b = bucket;
    kvstore_watch *w = NULL;
    int rc = kvstore_watch_start(&w, b->inner, prefix, fn, payload);

    if (rc == KVSTORE_OK)
        *out = w;
    return done(b, "watch_start", prefix, rc);
}

static void log_watch_stop(void *watch)
{
    kvstore_watch_stop(watch);
}

static const char *const log_options[] = { "target", "file", NULL };

static const kvstore_backend log_backend = {
    /* Version 1 list semantics: the core hands list_keys the user's cursor
     * untouched, which is what a wrapper forwarding another store's cursors
     * wants (version 2 would hand it a state of its own to interpret). */
    .version = 1,
    .name = "log",
    .options = log_options,
    .store_open = log_store_open,
    .store_close = log_store_close,
    .bucket_open = log_bucket_open,
    .bucket_close = log_bucket_close,
    .get = log_get,
    .set = log_set,
    .del = log_del,
    .exists = log_exists,
    .list_keys = log_list_keys,
    .increment = log_increment,
    .cas_open = log_cas_open,
    .cas_swap = log_cas_swap,
    .cas_free = log_cas_free,
    .watch_start = log_watch_start,
    .watch_stop = log_watch_stop,
};

static const kvstore_backend *const log_backends[] = { &log_backend, NULL };

static const kvstore_module log_module = {
    .version = KVSTORE_MODULE_VERSION,
    .name = "log",
    .backends = log_backends,
};

KVSTORE_MODULE_ENTRY
{
    return &log_module;
}

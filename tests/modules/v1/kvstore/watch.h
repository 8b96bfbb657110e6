/*
 * libkvstore - watching keys for changes (wasi:keyvalue/watcher).
 *
 * SPDX-License-Identifier: MIT
 */
#ifndef KVSTORE_WATCH_H
#define KVSTORE_WATCH_H

#include "store.h"

KVSTORE_BEGIN_DECLS

typedef enum kvstore_event {
    KVSTORE_EVENT_SET = 1,
    KVSTORE_EVENT_DELETE = 2
} kvstore_event;

/** Called on a library-owned thread. `key` and `value` are lent for the
 * duration of the call. For KVSTORE_EVENT_DELETE, value is NULL and len 0.
 * A set's value is the value written, except on backends that document
 * reading it after the event (file, redis): there it may be a later
 * write's value, or NULL with len 0 if the key was deleted meanwhile.
 * The callback must not call kvstore_watch_stop() on its own watch. */
typedef void (*kvstore_watch_fn)(void *payload, kvstore_event event,
                                 const char *key, const void *value,
                                 size_t len);

/** A running watch. Opaque. */
typedef struct kvstore_watch kvstore_watch;

/**
 * Watches every key of `b` starting with `prefix` (NULL or "" for all).
 * After this returns KVSTORE_OK, every later set and delete of a matching
 * key, by any client, is delivered once, in order per key, to `fn` on a
 * library-owned thread. KVSTORE_ENOTSUP if the backend cannot watch.
 * *out is owned by the caller and released with kvstore_watch_stop(),
 * before the bucket is closed.
 */
KVSTORE_API int kvstore_watch_start(kvstore_watch **out, kvstore_bucket *b,
                                    const char *prefix, kvstore_watch_fn fn,
                                    void *payload);

/** Stops a watch. When it returns, `fn` is never called again. NULL is a
 * harmless no-op. */
KVSTORE_API void kvstore_watch_stop(kvstore_watch *w);

KVSTORE_END_DECLS

#endif /* KVSTORE_WATCH_H */

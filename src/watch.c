/*
 * Watch dispatch: the backend owns the thread that calls back; the core
 * validates and wraps the handle.
 *
 * SPDX-License-Identifier: MIT
 */
#include <stdlib.h>

#include "internal.h"

static int watch_start_impl(kvstore_watch **out, kvstore_bucket *b,
                            const char *prefix, kvstore_watch_fn fn,
                            void *payload)
{
    kvstore_watch *w;
    unsigned mark;
    int rc;

    if (out == NULL)
        return kvstore_set_error(KVSTORE_EINVAL, "out is NULL");
    *out = NULL;
    if (b == NULL || fn == NULL)
        return kvstore_set_error(KVSTORE_EINVAL, "%s is NULL",
                                 b == NULL ? "bucket" : "callback");
    if (prefix == NULL)
        prefix = "";
    rc = kvs_prefix_check(prefix);
    if (rc != KVSTORE_OK)
        return rc;
    if (b->be->watch_start == NULL)
        return kvstore_set_error(KVSTORE_ENOTSUP,
                                 "watch: backend '%s' cannot watch keys",
                                 b->be->name);
    w = calloc(1, sizeof *w);
    if (w == NULL)
        return kvstore_set_error(KVSTORE_ENOMEM, "out of memory");
    w->be = b->be;
    mark = kvs_error_mark();
    rc = b->be->watch_start(&w->state, b->state, prefix, fn, payload);
    if (rc != KVSTORE_OK) {
        free(w);
        return kvs_error_finish(rc, mark, "watch_start");
    }
    *out = w;
    return KVSTORE_OK;
}

int kvstore_watch_start(kvstore_watch **out, kvstore_bucket *b,
                        const char *prefix, kvstore_watch_fn fn,
                        void *payload)
{
    struct kvs_obs_call c;
    int rc;

    if (b == NULL || !kvs_obs_begin(&c, b->store))
        return watch_start_impl(out, b, prefix, fn, payload);
    rc = watch_start_impl(out, b, prefix, fn, payload);
    kvs_obs_end(&c, KVSTORE_OP_WATCH_START, b->name, 0, 0, 0, rc);
    return rc;
}

void kvstore_watch_stop(kvstore_watch *w)
{
    if (w == NULL)
        return;
    w->be->watch_stop(w->state);
    free(w);
}

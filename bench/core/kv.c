/*
 * bench-core - the libkvstore side of each workload (public API only).
 *
 * SPDX-License-Identifier: MIT
 */
#include "workload.h"

#include <stdlib.h>

void kv_set_range(work *w, size_t from, size_t to)
{
    for (size_t i = from; i < to; i++)
        bench_check(kvstore_set(w->bucket, w->keys[i], w->value, w->vlen),
                    "kvstore_set");
}

void kv_get_range(work *w, size_t from, size_t to)
{
    for (size_t i = from; i < to; i++) {
        void *v;
        size_t len;
        int rc = kvstore_get(w->bucket, w->keys[i], &v, &len);
        if (rc == KVSTORE_NOTFOUND)
            bench_die("kvstore_get: %s missing", w->keys[i]);
        bench_check(rc, "kvstore_get");
        /* A cheap check that the value really came back, so a broken
         * backend cannot look fast. */
        if (len != w->vlen ||
            (len > 0 && ((unsigned char *)v)[len - 1] != w->value[len - 1]))
            bench_die("kvstore_get: %s: wrong value", w->keys[i]);
        kvstore_free(v);
    }
}

void kv_delete_range(work *w, size_t from, size_t to)
{
    for (size_t i = from; i < to; i++)
        bench_check(kvstore_delete(w->bucket, w->keys[i]), "kvstore_delete");
}

size_t kv_list_all(work *w)
{
    size_t count = 0;
    char *cursor = NULL;
    do {
        kvstore_keys *page;
        bench_check(kvstore_list_keys(w->bucket, NULL, cursor, 1000, &page),
                    "kvstore_list_keys");
        free(cursor);
        count += page->count;
        /* Keep the cursor and let the page go, as a pager would. */
        cursor = page->cursor ? bench_xstrdup(page->cursor) : NULL;
        kvstore_keys_free(page);
    } while (cursor);
    return count;
}

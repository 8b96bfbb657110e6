/*
 * Helpers of the conformance group (see fx_conformance.h).
 *
 * SPDX-License-Identifier: MIT
 */
#include "fx_conformance.h"

int dir_setup(void **state)
{
    *state = tmp_new();
    return 0;
}

int dir_teardown(void **state)
{
    tmp_free(*state);
    *state = NULL;
    return 0;
}

void expect_bytes(const char *what, const void *v, size_t n,
                  const void *want, size_t len)
{
    if (want == NULL) {
        if (v != NULL || n != 0)
            fail_msg("%s: %zu bytes, expected none", what, n);
        return;
    }
    if (v == NULL)
        fail_msg("%s: absent, expected %zu bytes", what, len);
    if (n != len || (len > 0 && memcmp(v, want, len) != 0))
        fail_msg("%s: %zu bytes differ from the %zu expected", what, n, len);
}

int walk_pages(kvstore_bucket *b, const char *prefix, size_t limit,
               page_fn each, void *arg)
{
    char *cur = NULL;
    for (int pages = 0; pages < 100000; pages++) {
        kvstore_keys *page = NULL;
        int rc = kvstore_list_keys(b, prefix, cur, limit, &page);
        free(cur);
        if (rc != KVSTORE_OK)
            return rc;
        bool more = each(arg, page);
        bool last = page->cursor == NULL;
        cur = more && !last ? strdup(page->cursor) : NULL;
        kvstore_keys_free(page);
        if (!more || (!last && cur == NULL))
            return -1;
        if (last)
            return KVSTORE_OK;
    }
    free(cur);
    return -1;
}

/* What wipe_bucket's walk deletes from, and how many keys it found. */
typedef struct wipe_walk {
    kvstore_bucket *b;
    size_t found;
} wipe_walk;

/* A walk_pages step of wipe_bucket: deletes what the page lists. */
static bool delete_page(void *arg, const kvstore_keys *page)
{
    wipe_walk *w = arg;
    if (page->count > 0)
        kvstore_delete_many(w->b, (const char *const *)page->keys,
                            page->count);
    w->found += page->count;
    return true;
}

void wipe_bucket(kvstore_bucket *b)
{
    /* Walk every page, deleting what each page lists. Deleting during a
     * walk may make a backend skip keys, so walk again until a walk finds
     * nothing (bounded: cleanup is best effort). */
    for (int round = 0; round < 5; round++) {
        wipe_walk w = { b, 0 };
        if (walk_pages(b, NULL, 1000, delete_page, &w) != KVSTORE_OK ||
            w.found == 0)
            return;
    }
}

void store_roundtrip(const char *uri, const char *bucket, const char *value)
{
    kvstore_store *s = open_uri(uri);
    kvstore_bucket *b = open_bucket(s, bucket);
    set_str(b, "k", value);
    expect_str(b, "k", value);
    kvstore_bucket_close(b);
    kvstore_close(s);
}

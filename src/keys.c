/*
 * Pages of keys: built by backends, owned and freed by the user.
 *
 * SPDX-License-Identifier: MIT
 */
#include <stdlib.h>
#include <string.h>

#include "internal.h"

kvstore_keys *kvstore_keys_new(void)
{
    return calloc(1, sizeof(kvstore_keys));
}

int kvstore_keys_add(kvstore_keys *page, const char *key, size_t len)
{
    char *copy;

    if (page == NULL || key == NULL)
        return kvstore_set_error(KVSTORE_EINVAL, "keys_add: NULL argument");
    /* kvstore_keys has no capacity field (its layout is public), so the
     * capacity is implied: 16 slots, doubled whenever count reaches a
     * power of two from 16 on. */
    if (page->count == 0 ||
        (page->count >= 16 && (page->count & (page->count - 1)) == 0)) {
        size_t cap = page->count ? page->count * 2 : 16;
        char **k = realloc(page->keys, cap * sizeof *k);
        if (k == NULL)
            return kvstore_set_error(KVSTORE_ENOMEM,
                                     "out of memory building a page");
        page->keys = k;
    }
    copy = kvstore_memdup(key, len);
    if (copy == NULL)
        return kvstore_set_error(KVSTORE_ENOMEM,
                                 "out of memory building a page");
    page->keys[page->count++] = copy;
    return KVSTORE_OK;
}

int kvstore_keys_set_cursor(kvstore_keys *page, const char *cursor)
{
    char *copy = NULL;

    if (page == NULL)
        return kvstore_set_error(KVSTORE_EINVAL,
                                 "keys_set_cursor: NULL page");
    if (cursor) {
        copy = kvstore_memdup(cursor, strlen(cursor));
        if (copy == NULL)
            return kvstore_set_error(KVSTORE_ENOMEM,
                                     "out of memory building a page");
    }
    free(page->cursor);
    page->cursor = copy;
    return KVSTORE_OK;
}

void kvstore_keys_free(kvstore_keys *page)
{
    if (page == NULL)
        return;
    for (size_t i = 0; i < page->count; i++)
        free(page->keys[i]);
    free(page->keys);
    free(page->cursor);
    free(page);
}

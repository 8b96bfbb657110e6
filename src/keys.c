/*
 * Pages of keys: built by backends, owned and freed by the user.
 *
 * The public struct kvstore_keys has a fixed layout (three pointers-sized
 * fields, pinned by the ABI), so the builder's own state lives around it:
 * kvstore_keys_new allocates a kvs_page whose first member is the public
 * struct, and only kvstore_keys_free releases it. The keys are copied into
 * a chain of arena blocks owned by the page rather than one allocation
 * each: a listing of 1000 keys costs a handful of mallocs, not a thousand,
 * and freeing the page is a walk over a few blocks. Blocks never move, so
 * the key pointers handed out stay valid until kvstore_keys_free.
 *
 * SPDX-License-Identifier: MIT
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

enum {
    FIRST_BLOCK_BYTES = 4096,
    MAX_BLOCK_BYTES = 64 * 1024,
    FIRST_SLOTS = 16,
};

typedef struct kvs_key_block {
    struct kvs_key_block *prev; /* older block, NULL for the first */
    size_t used;
    size_t size;
    char bytes[];
} kvs_key_block;

typedef struct kvs_page {
    kvstore_keys pub;      /* first: a kvstore_keys * is a kvs_page * */
    size_t slots;          /* capacity of pub.keys */
    kvs_key_block *block;  /* newest block, the one being filled */
} kvs_page;

static kvs_page *page_of(kvstore_keys *page)
{
    return (kvs_page *)(void *)page;
}

kvstore_keys *kvstore_keys_new(void)
{
    /* The public struct is the first member: the pointer handed out is
     * the allocation's own address, which kvstore_keys_free releases. */
    return (kvstore_keys *)calloc(1, sizeof(kvs_page));
}

static int grow_slots(kvs_page *p)
{
    size_t slots = p->slots ? p->slots * 2 : FIRST_SLOTS;
    char **k;

    if (slots > SIZE_MAX / sizeof *k)
        return KVSTORE_ENOMEM;
    k = realloc(p->pub.keys, slots * sizeof *k);
    if (k == NULL)
        return KVSTORE_ENOMEM;
    p->pub.keys = k;
    p->slots = slots;
    return KVSTORE_OK;
}

/* Returns room for `need` bytes, starting a new block when the newest one
 * is full. Blocks double up to MAX_BLOCK_BYTES; a key larger than that
 * gets a block of its own size. */
static char *reserve(kvs_page *p, size_t need)
{
    kvs_key_block *b = p->block;
    char *at;

    if (b == NULL || b->size - b->used < need) {
        size_t size = b ? b->size * 2 : FIRST_BLOCK_BYTES;
        if (size > MAX_BLOCK_BYTES)
            size = MAX_BLOCK_BYTES;
        if (size < need)
            size = need;
        if (size > SIZE_MAX - sizeof *b)
            return NULL;
        b = malloc(sizeof *b + size);
        if (b == NULL)
            return NULL;
        b->prev = p->block;
        b->used = 0;
        b->size = size;
        p->block = b;
    }
    at = b->bytes + b->used;
    b->used += need;
    return at;
}

int kvstore_keys_add(kvstore_keys *page, const char *key, size_t len)
{
    kvs_page *p;
    char *copy;

    if (page == NULL || key == NULL)
        return kvstore_set_error(KVSTORE_EINVAL, "keys_add: NULL argument");
    p = page_of(page);
    if (page->count == p->slots && grow_slots(p) != KVSTORE_OK)
        return kvstore_set_error(KVSTORE_ENOMEM,
                                 "out of memory building a page");
    if (len == SIZE_MAX || (copy = reserve(p, len + 1)) == NULL)
        return kvstore_set_error(KVSTORE_ENOMEM,
                                 "out of memory building a page");
    memcpy(copy, key, len);
    copy[len] = '\0';
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
    kvs_page *p;
    kvs_key_block *b;

    if (page == NULL)
        return;
    p = page_of(page);
    b = p->block;
    while (b) {
        kvs_key_block *prev = b->prev;
        free(b);
        b = prev;
    }
    free(page->keys);
    free(page->cursor);
    free(p);
}

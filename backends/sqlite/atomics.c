/*
 * kvstore-sqlite: increment and compare-and-swap. Both are decided inside
 * the group commit's write transaction (commit.c), which SQLite's write
 * lock serialises across processes, so each is atomic for every client of
 * the file. CAS compares the row's `ver`, which every write replaces, so
 * A-B-A and delete-then-recreate are conflicts.
 *
 * SPDX-License-Identifier: MIT
 */
#include "sqlite.h"

#include <stdlib.h>
#include <string.h>

int sq_increment(void *p, const char *key, int64_t delta, int64_t *result)
{
    sq_bucket *b = p;
    sq_op op = { .kind = OP_INCR, .bucket = b->name, .keys = &key, .n = 1,
                 .delta = delta, .sync = b->st->sync };
    int rc = sq_submit(b->st->db, &op);
    if (rc == KVSTORE_OK && result != NULL)
        *result = op.result;
    return rc;
}

/* A compare-and-swap snapshot: the key, the row's version and its value,
 * all owned. */
typedef struct sq_cas {
    sq_bucket *b;          /* borrowed */
    char *key;
    bool found, ver_null;
    int64_t ver;
    void *value;           /* kvstore_malloc, when found */
    size_t len;
} sq_cas;

int sq_cas_open(void **out, void *p, const char *key, bool *found,
                const void **value, size_t *len)
{
    sq_cas *c = calloc(1, sizeof *c);
    if (c == NULL || (c->key = strdup(key)) == NULL) {
        free(c);
        return kvstore_set_error(KVSTORE_ENOMEM, "sqlite: out of memory");
    }
    c->b = p;
    int64_t expires = 0;
    int rc = sq_read_row(c->b, key, &c->found, &c->value, &c->len, &expires,
                      &c->ver_null, &c->ver);
    if (rc == KVSTORE_OK)
        kvstore_cas_lend(found, value, len, c->found, c->value, c->len);
    return kvstore_hand_over(rc, out, c, sq_cas_free);
}

int sq_cas_swap(void *p, const void *value, size_t len)
{
    sq_cas *c = p;
    if (len > SQ_VALUE_MAX)
        return sq_too_big(len);
    sq_op op = {
        .kind = OP_CAS, .bucket = c->b->name, .keys = (const char *const *)&c->key,
        .values = &value, .lens = &len, .n = 1, .cas_found = c->found,
        .cas_ver_null = c->ver_null, .cas_ver = c->ver, .sync = c->b->st->sync,
    };
    return sq_submit(c->b->st->db, &op);
}

void sq_cas_free(void *p)
{
    sq_cas *c = p;
    free(c->key);
    kvstore_free(c->value);
    free(c);
}

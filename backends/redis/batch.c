/*
 * Redis backend: batches as MGET, MSET and multi-key DEL, one round trip
 * per chunk. Chunks bound the command size (RD_CHUNK_KEYS keys and, for
 * MSET, about RD_CHUNK_BYTES of payload) so a huge batch never builds one
 * giant request; a single value above RD_CHUNK_BYTES gets a chunk alone.
 *
 * SPDX-License-Identifier: MIT
 */
#include <stdlib.h>
#include <string.h>

#include "redis.h"

void rd_args_free(rd_args *a)
{
    free(a->mem);
}

int rd_args_build(rd_args *a, const rd_bucket *b, const char *cmd,
                         const char *const *keys, const void *const *values,
                         const size_t *vlens, size_t n)
{
    size_t per = values ? 2 : 1, slots = 1 + per * n, total = 0;
    char *arena;

    memset(a, 0, sizeof *a);
    for (size_t i = 0; i < n; i++)
        total += b->prefix_len + strlen(keys[i]);
    a->mem = malloc(slots * (sizeof *a->argv + sizeof *a->lens) + total);
    if (a->mem == NULL)
        return kvstore_set_error(KVSTORE_ENOMEM, "redis: out of memory");
    a->argv = a->mem;
    a->lens = (size_t *)(a->argv + slots);
    arena = (char *)(a->lens + slots);
    a->argv[0] = cmd;
    a->lens[0] = strlen(cmd);
    a->argc = 1;
    for (size_t i = 0; i < n; i++) {
        size_t klen = strlen(keys[i]);

        memcpy(arena, b->prefix, b->prefix_len);
        memcpy(arena + b->prefix_len, keys[i], klen);
        a->argv[a->argc] = arena;
        a->lens[a->argc++] = b->prefix_len + klen;
        arena += b->prefix_len + klen;
        if (values) {
            a->argv[a->argc] = values[i];
            a->lens[a->argc++] = vlens[i];
        }
    }
    return KVSTORE_OK;
}

int rd_get_many(void *bucket, const char *const *keys, size_t n,
                void **values, size_t *lens)
{
    rd_bucket *b = bucket;
    int rc = KVSTORE_OK;

    if (b->store->cluster != NULL)
        return rd_cluster_get_many(b, keys, n, values, lens);
    for (size_t off = 0; off < n && rc == KVSTORE_OK; off += RD_CHUNK_KEYS) {
        size_t m = n - off < RD_CHUNK_KEYS ? n - off : RD_CHUNK_KEYS;
        redisReply *r = NULL;
        rd_args a;

        rc = rd_args_build(&a, b, "MGET", keys + off, NULL, NULL, m);
        if (rc != KVSTORE_OK)
            break;
        rc = rd_call(b->store, RD_RETRY, a.argc, a.argv, a.lens, &r);
        rd_args_free(&a);
        if (rc != KVSTORE_OK)
            break;
        if (r->type != REDIS_REPLY_ARRAY || r->elements != m) {
            rc = rd_unexpected(b->store, "MGET", r);
            rd_reply_free(r);
            break;
        }
        for (size_t i = 0; i < m && rc == KVSTORE_OK; i++) {
            redisReply *e = r->element[i];

            if (e->type == REDIS_REPLY_NIL)
                continue;
            if (e->type != REDIS_REPLY_STRING) {
                /* MGET answers nil for keys of other types. */
                rc = rd_unexpected(b->store, "MGET", e);
                break;
            }
            lens[off + i] = e->len;
            values[off + i] = rd_reply_take(r->element[i]);
        }
        rd_reply_free(r);
    }
    /* On failure the core frees the values already read. */
    return rc;
}

/* A write, sent at most once (as SET): a chunk that went out without a
 * reply is KVSTORE_EUNCERTAIN, and the chunks before it are applied. */
static int rd_write_chunk(rd_bucket *b, const char *cmd,
                          const char *const *keys, const void *const *values,
                          const size_t *lens, size_t m, int expect)
{
    rd_args a;
    int rc = rd_args_build(&a, b, cmd, keys, values, lens, m);

    if (rc != KVSTORE_OK)
        return rc;
    rc = rd_call_expect(b->store, RD_ONCE, a.argc, a.argv, a.lens, expect);
    rd_args_free(&a);
    return rc;
}

int rd_set_many(void *bucket, const char *const *keys,
                const void *const *values, const size_t *lens, size_t n)
{
    rd_bucket *b = bucket;
    size_t off = 0;

    for (size_t i = 0; i < n; i++) {
        int rc = rd_value_check(lens[i]);
        if (rc != KVSTORE_OK)
            return rc;
    }
    if (b->store->cluster != NULL)
        return rd_cluster_set_many(b, keys, values, lens, n);
    while (off < n) {
        size_t m = 0, bytes = 0;
        int rc;

        while (off + m < n && m < RD_CHUNK_KEYS &&
               (m == 0 || bytes + lens[off + m] <= RD_CHUNK_BYTES))
            bytes += lens[off + m++];
        rc = rd_write_chunk(b, "MSET", keys + off, values + off, lens + off,
                            m, REDIS_REPLY_STATUS);
        if (rc != KVSTORE_OK)
            return rc;
        off += m;
    }
    return KVSTORE_OK;
}

int rd_delete_many(void *bucket, const char *const *keys, size_t n)
{
    rd_bucket *b = bucket;

    if (b->store->cluster != NULL)
        return rd_cluster_delete_many(b, keys, n);
    for (size_t off = 0; off < n; off += RD_CHUNK_KEYS) {
        size_t m = n - off < RD_CHUNK_KEYS ? n - off : RD_CHUNK_KEYS;
        int rc = rd_write_chunk(b, "DEL", keys + off, NULL, NULL, m,
                                REDIS_REPLY_INTEGER);

        if (rc != KVSTORE_OK)
            return rc;
    }
    return KVSTORE_OK;
}

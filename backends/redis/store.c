/*
 * Redis backend: get, set, delete, exists on "B:K".
 *
 * Reads are retried once on a fresh connection when a pooled one was
 * dead (RD_RETRY); writes never are (RD_ONCE, see conn.c).
 *
 * SPDX-License-Identifier: MIT
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "redis.h"

int rd_value_check(size_t len)
{
    if (len > RD_VALUE_MAX)
        return kvstore_set_error(KVSTORE_ETOOBIG, "redis: a value of %zu "
                                 "bytes exceeds the redis backend's limit of "
                                 RD_VALUE_MAX_TEXT " (Redis' default "
                                 "proto-max-bulk-len)", len);
    return KVSTORE_OK;
}

int rd_get(void *bucket, const char *key, void **value, size_t *len)
{
    rd_bucket *b = bucket;
    char k[RD_KEYBUF];
    const char *argv[2] = { "GET", k };
    size_t lens[2] = { 3, rd_key(b, key, k) };
    redisReply *r = NULL;
    int rc = rd_call(b->store, RD_RETRY, 2, argv, lens, &r);

    *value = NULL;
    *len = 0;
    if (rc != KVSTORE_OK)
        return rc;
    if (r->type == REDIS_REPLY_NIL) {
        rc = KVSTORE_NOTFOUND;
    } else if (r->type == REDIS_REPLY_STRING) {
        /* Already kvstore_malloc memory with a NUL after it (reply.c),
         * so even "" is a non-NULL value. */
        *len = r->len;
        *value = rd_reply_take(r);
    } else {
        rc = rd_unexpected(b->store, "GET", r);
    }
    rd_reply_free(r);
    return rc;
}

int rd_set(void *bucket, const char *key, const void *value, size_t len)
{
    rd_bucket *b = bucket;
    char k[RD_KEYBUF];
    const char *argv[3] = { "SET", k, value };
    size_t lens[3] = { 3, rd_key(b, key, k), len };
    int rc = rd_value_check(len);

    if (rc != KVSTORE_OK)
        return rc;
    /* A write is never sent twice (RD_ONCE): SET is idempotent alone, but
     * replaying it could overwrite another client's later write. If it
     * went out and no reply came, it is KVSTORE_EUNCERTAIN. */
    return rd_call_expect(b->store, RD_ONCE, 3, argv, lens,
                          REDIS_REPLY_STATUS);
}

int rd_del(void *bucket, const char *key)
{
    rd_bucket *b = bucket;
    char k[RD_KEYBUF];
    const char *argv[2] = { "DEL", k };
    size_t lens[2] = { 3, rd_key(b, key, k) };

    return rd_call_expect(b->store, RD_ONCE, 2, argv, lens,
                          REDIS_REPLY_INTEGER);
}

/* A read of one key answered by an integer (EXISTS, PTTL): retried once
 * on a stale pooled connection; any other reply is rd_unexpected. */
static int rd_key_integer(rd_bucket *b, const char *cmd, const char *key,
                          long long *out)
{
    char k[RD_KEYBUF];
    const char *argv[2] = { cmd, k };
    size_t lens[2] = { strlen(cmd), rd_key(b, key, k) };
    redisReply *r = NULL;
    int rc = rd_call(b->store, RD_RETRY, 2, argv, lens, &r);

    if (rc != KVSTORE_OK)
        return rc;
    if (r->type == REDIS_REPLY_INTEGER)
        *out = r->integer;
    else
        rc = rd_unexpected(b->store, cmd, r);
    rd_reply_free(r);
    return rc;
}

int rd_exists(void *bucket, const char *key, bool *exists)
{
    long long n = 0;
    int rc = rd_key_integer(bucket, "EXISTS", key, &n);

    *exists = rc == KVSTORE_OK && n > 0;
    return rc;
}

int rd_set_ttl(void *bucket, const char *key, const void *value, size_t len,
               uint64_t ttl_ms)
{
    rd_bucket *b = bucket;
    char k[RD_KEYBUF], ms[24];
    const char *argv[5] = { "SET", k, value, "PX", ms };
    size_t lens[5] = { 3, rd_key(b, key, k), len, 2, 0 };
    int rc = rd_value_check(len);

    if (rc != KVSTORE_OK)
        return rc;
    /* Redis refuses an expiry whose deadline overflows its clock
     * (milliseconds in a long long); refuse it first, with a message. */
    if (ttl_ms > RD_TTL_MAX)
        return kvstore_set_error(KVSTORE_EINVAL, "redis: a TTL of %" PRIu64
                                 " ms is beyond what Redis can hold (at most "
                                 "%" PRIu64 " ms)", ttl_ms,
                                 (uint64_t)RD_TTL_MAX);
    lens[4] = (size_t)snprintf(ms, sizeof ms, "%" PRIu64, ttl_ms);
    /* Value and expiry in one command, so no reader sees one without the
     * other; a write, so sent at most once. */
    return rd_call_expect(b->store, RD_ONCE, 5, argv, lens,
                          REDIS_REPLY_STATUS);
}

int rd_ttl(void *bucket, const char *key, int64_t *ms_left)
{
    long long v = 0;
    int rc = rd_key_integer(bucket, "PTTL", key, &v);

    *ms_left = -1;
    if (rc != KVSTORE_OK)
        return rc;
    /* PTTL: -2 for a missing (or expired) key, -1 for no expiry. */
    if (v < -2)
        return kvstore_set_error(KVSTORE_EIO, "redis: PTTL on %s: "
                                 "unexpected reply %lld",
                                 ((rd_bucket *)bucket)->store->cfg.label, v);
    if (v == -2)
        return KVSTORE_NOTFOUND;
    *ms_left = v;
    return KVSTORE_OK;
}

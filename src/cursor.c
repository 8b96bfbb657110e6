/*
 * The cursor envelope backends wrap their positions in:
 *   "c1" <lower-case hex of state> "." <16 hex digits of a checksum>
 * The checksum (FNV-1a 64) covers the bucket name and the state, so a
 * cursor from another bucket, a truncated one or one with any single byte
 * changed fails to decode. It is an integrity check, not a secret: a
 * backend must still treat the decoded state as untrusted.
 *
 * SPDX-License-Identifier: MIT
 */
#include <stdlib.h>
#include <string.h>

#include "internal.h"

#define MAGIC "c1"
#define MAGIC_LEN 2
#define SUM_HEX 16

static uint64_t fnv1a(uint64_t h, const void *p, size_t len)
{
    const unsigned char *s = p;

    for (size_t i = 0; i < len; i++) {
        h ^= s[i];
        h *= 0x100000001b3ULL;
    }
    return h;
}

static uint64_t checksum(const char *bucket, const void *state, size_t len)
{
    uint64_t h = 0xcbf29ce484222325ULL;

    h = fnv1a(h, bucket, strlen(bucket) + 1);
    return fnv1a(h, state, len);
}

static const char hexdig[] = "0123456789abcdef";

static int unhex(char c)
{
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    return -1;
}

/* The envelope itself: magic, the state in hex, '.', the checksum in 16
 * hex digits. *out is from kvstore_malloc. */
static int envelope_build(char **out, const char *magic, const void *state,
                          size_t len, uint64_t sum)
{
    char *c = kvstore_malloc(MAGIC_LEN + 2 * len + 1 + SUM_HEX + 1), *p;

    if (c == NULL)
        return kvstore_set_error(KVSTORE_ENOMEM,
                                 "out of memory encoding a cursor");
    memcpy(c, magic, MAGIC_LEN);
    p = c + MAGIC_LEN;
    for (size_t i = 0; i < len; i++) {
        unsigned char b = ((const unsigned char *)state)[i];
        *p++ = hexdig[b >> 4];
        *p++ = hexdig[b & 15];
    }
    *p++ = '.';
    for (int i = SUM_HEX - 1; i >= 0; i--) {
        p[i] = hexdig[sum & 15];
        sum >>= 4;
    }
    p[SUM_HEX] = '\0';
    *out = c;
    return KVSTORE_OK;
}

/* Splits an envelope with `magic` into its state (at most cap bytes, into
 * buf) and its checksum; false for anything malformed. */
static bool envelope_split(const char *cursor, const char *magic,
                           unsigned char *buf, size_t cap, size_t *n,
                           uint64_t *sum)
{
    size_t clen = strnlen(cursor, KVSTORE_CURSOR_MAX + 1), hexlen;
    const char *s;

    if (clen > KVSTORE_CURSOR_MAX || clen < MAGIC_LEN + 1 + SUM_HEX ||
        memcmp(cursor, magic, MAGIC_LEN) != 0 ||
        cursor[clen - SUM_HEX - 1] != '.')
        return false;
    hexlen = clen - MAGIC_LEN - 1 - SUM_HEX;
    if (hexlen % 2 != 0 || hexlen / 2 > cap)
        return false;
    *n = hexlen / 2;
    s = cursor + MAGIC_LEN;
    for (size_t i = 0; i < *n; i++) {
        int hi = unhex(s[2 * i]), lo = unhex(s[2 * i + 1]);
        if (hi < 0 || lo < 0)
            return false;
        buf[i] = (unsigned char)(hi << 4 | lo);
    }
    s = cursor + clen - SUM_HEX;
    *sum = 0;
    for (int i = 0; i < SUM_HEX; i++) {
        int d = unhex(s[i]);
        if (d < 0)
            return false;
        *sum = *sum << 4 | (uint64_t)d;
    }
    return true;
}

int kvstore_cursor_encode(char **out, const char *bucket, const void *state,
                          size_t len)
{
    if (out == NULL || bucket == NULL || (state == NULL && len != 0))
        return kvstore_set_error(KVSTORE_EINVAL,
                                 "cursor_encode: NULL argument");
    *out = NULL;
    if (len > KVSTORE_CURSOR_STATE_MAX)
        return kvstore_set_error(KVSTORE_EINVAL,
                                 "cursor state of %zu bytes exceeds %d", len,
                                 KVSTORE_CURSOR_STATE_MAX);
    return envelope_build(out, MAGIC, state, len,
                          checksum(bucket, state, len));
}

int kvstore_cursor_decode(const char *cursor, const char *bucket, void *buf,
                          size_t cap, size_t *len)
{
    uint64_t sum;
    size_t n;

    if (cursor == NULL || bucket == NULL || len == NULL ||
        (buf == NULL && cap != 0))
        return kvstore_set_error(KVSTORE_EINVAL,
                                 "cursor_decode: NULL argument");
    *len = 0;
    if (!envelope_split(cursor, MAGIC, buf, cap, &n, &sum) ||
        sum != checksum(bucket, buf, n))
        return kvstore_set_error(KVSTORE_EINVAL,
                                 "cursor was not produced by this backend for "
                                 "bucket '%s' (garbage, truncated or from "
                                 "another bucket)", bucket);
    *len = n;
    return KVSTORE_OK;
}

/*
 * Cursors of version 2 tables: the same envelope with magic "c2", whose
 * checksum also covers the backend's name and the store's identity, so
 * that a cursor issued by one backend, store or bucket is refused by every
 * other. The bucket list binds to a name no bucket can have.
 */
#define MAGIC2 "c2"
#define BUCKET_LIST_BINDING "\x01" "buckets"

static uint64_t binding_sum(const kvstore_store *store, const char *bucket,
                            const void *state, size_t len)
{
    uint64_t h = 0xcbf29ce484222325ULL;

    h = fnv1a(h, store->be->name, strlen(store->be->name) + 1);
    h = fnv1a(h, store->id, strlen(store->id) + 1);
    h = fnv1a(h, bucket, strlen(bucket) + 1);
    return fnv1a(h, state, len);
}

int kvs_cursor_wrap(char **out, const kvstore_store *store,
                    const char *bucket, const char *state)
{
    size_t len = strlen(state);

    *out = NULL;
    if (len > KVSTORE_CURSOR_STATE_MAX)
        return kvstore_set_error(KVSTORE_EIO,
                                 "backend '%s' returned a cursor state of %zu "
                                 "bytes (at most %d)", store->be->name, len,
                                 KVSTORE_CURSOR_STATE_MAX);
    if (bucket == NULL)
        bucket = BUCKET_LIST_BINDING;
    return envelope_build(out, MAGIC2, state, len,
                          binding_sum(store, bucket, state, len));
}

int kvs_cursor_unwrap(const char *cursor, const kvstore_store *store,
                      const char *bucket, char *buf)
{
    uint64_t sum;
    size_t n;

    if (bucket == NULL)
        bucket = BUCKET_LIST_BINDING;
    /* A state is a string: no NUL inside. */
    if (envelope_split(cursor, MAGIC2, (unsigned char *)buf,
                       KVSTORE_CURSOR_STATE_MAX, &n, &sum) &&
        memchr(buf, '\0', n) == NULL &&
        sum == binding_sum(store, bucket, buf, n)) {
        buf[n] = '\0';
        return KVSTORE_OK;
    }
    buf[0] = '\0';
    if (bucket[0] == '\x01')
        return kvstore_set_error(KVSTORE_EINVAL,
                                 "cursor was not issued for this store's "
                                 "bucket list (garbage, truncated or from "
                                 "another store or backend)");
    return kvstore_set_error(KVSTORE_EINVAL,
                             "cursor was not issued for bucket '%s' of this "
                             "store (garbage, truncated or from another "
                             "bucket, store or backend)", bucket);
}

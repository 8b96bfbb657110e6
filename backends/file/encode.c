/*
 * libkvstore - file backend: the reversible key -> file name encoding.
 *
 * Escaped form: every byte outside [A-Za-z0-9_-] becomes "%XX" (upper-case
 * hex). The result never contains "/" and never starts with "." (both are
 * escaped), so no key can name "..", a temp file or the lock file. The
 * encoding is injective, and decoding accepts only the canonical form, so
 * each key has exactly one name and each name at most one key.
 *
 * Hashed form: when the escaped form would exceed KVF_NAME_DIRECT_MAX
 * bytes (up to 3 * 1024 for long or non-ASCII keys), the name is "~"
 * followed by the lower-case hex SHA-256 of the key, and the key itself is
 * read back from the record header. "~" is escaped in the first form, so
 * the two forms never meet.
 *
 * SPDX-License-Identifier: MIT
 */
#include "file.h"

#include <nettle/sha2.h>
#include <string.h>

static const char hex_upper[] = "0123456789ABCDEF";
static const char hex_lower[] = "0123456789abcdef";

static bool is_safe(unsigned char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
           (c >= '0' && c <= '9') || c == '_' || c == '-';
}

/* Nettle's SHA-256 (Debian nettle-dev): 4-10x faster than the
 * hand-written one it replaced (docs/backends/file.md, "Key encoding"). */
void kvf_sha256(const void *data, size_t len, uint8_t out[32])
{
    struct sha256_ctx ctx;
    sha256_init(&ctx);
    sha256_update(&ctx, len, data);
    sha256_digest(&ctx, SHA256_DIGEST_SIZE, out);
}

static void hashed_name(const char *key, size_t klen, char *name)
{
    uint8_t digest[32];
    kvf_sha256(key, klen, digest);
    name[0] = '~';
    for (int i = 0; i < 32; i++) {
        name[1 + 2 * i] = hex_lower[digest[i] >> 4];
        name[2 + 2 * i] = hex_lower[digest[i] & 15];
    }
    name[KVF_NAME_HASHED_LEN] = '\0';
}

void kvf_name_encode(const char *key, size_t klen, char *name)
{
    size_t n = 0;
    for (size_t i = 0; i < klen; i++) {
        unsigned char c = (unsigned char)key[i];
        size_t need = is_safe(c) ? 1 : 3;
        if (n + need > KVF_NAME_DIRECT_MAX) {
            hashed_name(key, klen, name);
            return;
        }
        if (need == 1) {
            name[n++] = (char)c;
        } else {
            name[n++] = '%';
            name[n++] = hex_upper[c >> 4];
            name[n++] = hex_upper[c & 15];
        }
    }
    name[n] = '\0';
}

bool kvf_name_is_hashed(const char *name)
{
    if (name[0] != '~')
        return false;
    for (int i = 1; i < KVF_NAME_HASHED_LEN; i++)
        if (!strchr(hex_lower, name[i]) || name[i] == '\0')
            return false;
    return name[KVF_NAME_HASHED_LEN] == '\0';
}

static int hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1; /* lower case is not canonical */
}

size_t kvf_name_decode(const char *name, char *key)
{
    size_t n = 0, i = 0;
    /* A longer escaped name is never written: its key has a hashed name.
     * Checked on the whole name, not where an escape starts, so a last
     * "%XX" cannot straddle the limit. */
    if (strnlen(name, KVF_NAME_DIRECT_MAX + 1) > KVF_NAME_DIRECT_MAX)
        return 0;
    for (; name[i] != '\0'; i++) {
        unsigned char c = (unsigned char)name[i];
        if (is_safe(c)) {
            key[n++] = (char)c;
            continue;
        }
        if (c != '%')
            return 0;
        int hi = hexval(name[i + 1]);
        int lo = hi < 0 ? -1 : hexval(name[i + 2]);
        if (lo < 0)
            return 0;
        unsigned char v = (unsigned char)(hi << 4 | lo);
        if (v == 0 || is_safe(v))
            return 0; /* NUL is no key byte; safe bytes are never escaped */
        key[n++] = (char)v;
        i += 2;
    }
    key[n] = '\0';
    if (n == 0 || !kvstore_utf8_valid(key, n))
        return 0;
    return n;
}

bool kvf_name_matches(const char *name, const char *key, size_t klen)
{
    char expect[KVF_NAME_BUF];
    kvf_name_encode(key, klen, expect);
    return strcmp(expect, name) == 0;
}

/*
 * Redis backend: glob escaping for SCAN MATCH and PSUBSCRIBE patterns, and
 * the check of keys read back from the server.
 *
 * Redis' stringmatchlen() treats '*', '?', '[' (with ']' closing a class
 * and '^' negating it inside one) and '\' specially; a backslash makes the
 * next byte literal. Bucket names cannot contain any of these, but keys
 * and prefixes can, so every one is escaped: a pattern built here matches
 * exactly the keys that start with the literal bytes given, never keys of
 * another bucket.
 *
 * SPDX-License-Identifier: MIT
 */
#include <string.h>

#include "redis.h"

size_t rd_glob_escape(char *dst, size_t at, const char *s, size_t len)
{
    for (size_t i = 0; i < len; i++) {
        char c = s[i];

        if (c == '*' || c == '?' || c == '[' || c == ']' || c == '\\' ||
            c == '^')
            dst[at++] = '\\';
        dst[at++] = c;
    }
    return at;
}

bool rd_key_usable(const char *k, size_t len)
{
    return len >= 1 && len <= KVSTORE_KEY_MAX &&
           memchr(k, '\0', len) == NULL && kvstore_utf8_valid(k, len);
}

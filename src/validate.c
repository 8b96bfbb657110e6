/*
 * Validation of untrusted input shared by the core and every backend:
 * UTF-8, keys, bucket names, schemes, prefixes, cursors, counters.
 *
 * SPDX-License-Identifier: MIT
 */
#include <string.h>

#include "internal.h"

bool kvstore_utf8_valid(const char *s, size_t len)
{
    const unsigned char *p = (const unsigned char *)s;
    const unsigned char *end;

    if (s == NULL)
        return len == 0;
    end = p + len;
    /* Keys are mostly ASCII, and this runs on every call: a string of 8
     * bytes or more that has no high bit in its whole 8-byte words nor in
     * its last 8 bytes (overlapping them) is valid with no byte loop. Else
     * the loop below starts at the first word with a high bit, or at the
     * tail: everything before it is ASCII, whole characters. */
    if (len >= 8) {
        const unsigned char *q = p;
        uint64_t w;
        while (end - q >= 8) {
            memcpy(&w, q, 8);
            if (w & 0x8080808080808080ULL)
                break;
            q += 8;
        }
        if (end - q < 8) {
            memcpy(&w, end - 8, 8);
            if (!(w & 0x8080808080808080ULL))
                return true;
        }
        p = q;
    }
    while (p < end) {
        unsigned c;
        size_t need;
        unsigned min, cp;

        /* Keys are mostly ASCII: skip 8 bytes at a time while no byte has
         * its high bit set. This is on every call's hot path. */
        while (end - p >= 8) {
            uint64_t w;
            memcpy(&w, p, 8);
            if (w & 0x8080808080808080ULL)
                break;
            p += 8;
        }
        if (p == end)
            break;
        c = *p;
        if (c < 0x80) {
            p++;
            continue;
        }
        if (c >= 0xC2 && c <= 0xDF) {
            need = 1; min = 0x80; cp = c & 0x1F;
        } else if (c >= 0xE0 && c <= 0xEF) {
            need = 2; min = 0x800; cp = c & 0x0F;
        } else if (c >= 0xF0 && c <= 0xF4) {
            need = 3; min = 0x10000; cp = c & 0x07;
        } else {
            return false; /* continuation byte, overlong lead, or > F4 */
        }
        if ((size_t)(end - p) <= need)
            return false;
        for (size_t i = 1; i <= need; i++) {
            if ((p[i] & 0xC0) != 0x80)
                return false;
            cp = (cp << 6) | (p[i] & 0x3F);
        }
        if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
            return false;
        p += need + 1;
    }
    return true;
}

int kvstore_key_check(const char *key)
{
    size_t len;

    if (key == NULL)
        return kvstore_set_error(KVSTORE_EINVAL, "key is NULL");
    len = strnlen(key, KVSTORE_KEY_MAX + 1);
    if (len == 0)
        return kvstore_set_error(KVSTORE_EINVAL, "key is empty");
    if (len > KVSTORE_KEY_MAX)
        return kvstore_set_error(KVSTORE_EINVAL,
                                 "key is longer than %d bytes",
                                 KVSTORE_KEY_MAX);
    if (!kvstore_utf8_valid(key, len))
        return kvstore_set_error(KVSTORE_EINVAL, "key is not valid UTF-8");
    return KVSTORE_OK;
}

static bool bucket_char(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
           (c >= '0' && c <= '9') || c == '_' || c == '-';
}

int kvstore_bucket_name_check(const char *name)
{
    size_t len;

    if (name == NULL)
        return kvstore_set_error(KVSTORE_EINVAL, "bucket name is NULL");
    len = strnlen(name, KVSTORE_BUCKET_NAME_MAX + 1);
    if (len == 0)
        return kvstore_set_error(KVSTORE_EINVAL, "bucket name is empty");
    if (len > KVSTORE_BUCKET_NAME_MAX)
        return kvstore_set_error(KVSTORE_EINVAL,
                                 "bucket name is longer than %d bytes",
                                 KVSTORE_BUCKET_NAME_MAX);
    for (size_t i = 0; i < len; i++) {
        if (!bucket_char((unsigned char)name[i]))
            return kvstore_set_error(KVSTORE_EINVAL,
                                     "bucket name may contain only "
                                     "[A-Za-z0-9_-] (byte %zu is not)", i);
    }
    return KVSTORE_OK;
}

bool kvstore_bucket_name_valid(const char *name, size_t len)
{
    if (len == 0 || len > KVSTORE_BUCKET_NAME_MAX)
        return false;
    for (size_t i = 0; i < len; i++)
        if (!bucket_char((unsigned char)name[i]))
            return false;
    return true;
}

bool kvs_scheme_valid(const char *s, size_t len)
{
    if (len == 0 || len > 32)
        return false;
    if (!((s[0] >= 'a' && s[0] <= 'z') || (s[0] >= 'A' && s[0] <= 'Z')))
        return false;
    for (size_t i = 1; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
              (c >= '0' && c <= '9') || c == '+' || c == '-' || c == '.'))
            return false;
    }
    return true;
}

int kvs_prefix_check(const char *prefix)
{
    size_t len = strnlen(prefix, KVSTORE_KEY_MAX + 1);

    if (len > KVSTORE_KEY_MAX)
        return kvstore_set_error(KVSTORE_EINVAL,
                                 "prefix is longer than %d bytes",
                                 KVSTORE_KEY_MAX);
    if (!kvstore_utf8_valid(prefix, len))
        return kvstore_set_error(KVSTORE_EINVAL,
                                 "prefix is not valid UTF-8");
    return KVSTORE_OK;
}

int kvs_cursor_check(const char *cursor)
{
    size_t len = strnlen(cursor, KVSTORE_CURSOR_MAX + 1);

    if (len == 0)
        return kvstore_set_error(KVSTORE_EINVAL, "cursor is empty");
    if (len > KVSTORE_CURSOR_MAX)
        return kvstore_set_error(KVSTORE_EINVAL,
                                 "cursor is longer than %d bytes",
                                 KVSTORE_CURSOR_MAX);
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)cursor[i];
        if (c < 0x21 || c > 0x7E)
            return kvstore_set_error(KVSTORE_EINVAL,
                                     "cursor is not a cursor of this "
                                     "backend (non-printable byte)");
    }
    return KVSTORE_OK;
}

int kvs_value_check(const void *value, size_t len)
{
    if (value == NULL && len != 0)
        return kvstore_set_error(KVSTORE_EINVAL,
                                 "value is NULL but its length is %zu", len);
    return KVSTORE_OK;
}

int kvstore_counter_parse(const void *text, size_t len, int64_t *out)
{
    const unsigned char *p = text;
    size_t i = 0;
    bool neg = false;
    uint64_t acc = 0;
    uint64_t limit;

    if (text == NULL || out == NULL)
        return KVSTORE_EINVAL;
    if (len > 0 && p[0] == '-') {
        neg = true;
        i = 1;
    }
    if (i == len || len > 20)
        return KVSTORE_EINVAL;
    /* One spelling per number, as Redis INCR demands: "0" alone, never
     * "007" or "-0". */
    if (p[i] == '0' && (neg || len != 1))
        return KVSTORE_EINVAL;
    limit = neg ? (uint64_t)INT64_MAX + 1 : (uint64_t)INT64_MAX;
    for (; i < len; i++) {
        if (p[i] < '0' || p[i] > '9')
            return KVSTORE_EINVAL;
        if (acc > (limit - (uint64_t)(p[i] - '0')) / 10)
            return KVSTORE_EINVAL;
        acc = acc * 10 + (uint64_t)(p[i] - '0');
    }
    if (neg)
        *out = acc == (uint64_t)INT64_MAX + 1 ? INT64_MIN : -(int64_t)acc;
    else
        *out = (int64_t)acc;
    return KVSTORE_OK;
}

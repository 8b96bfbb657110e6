/*
 * kvstore-nats: the mapping between contract keys and NATS KV keys.
 *
 * A contract key is any UTF-8 string of 1..1024 bytes without NUL; a NATS
 * key becomes part of a subject, where "." separates tokens and "*", ">"
 * are wildcards. The mapping (docs/backends/nats.md):
 *
 *  - A "plain" key is stored unchanged: bytes of [A-Za-z0-9_/=.-], not
 *    starting with "=" or ".", not ending with ".", no "..". These are
 *    exactly the keys `nats kv` accepts, minus the leading "=".
 *  - Any other key is stored as "=" + E(key). E keeps [A-Za-z0-9_/-],
 *    keeps "." when the next byte exists and is not "." (so no token is
 *    empty), and writes every other byte as "=" + two upper-case hex digits.
 *
 * Plain keys never start with "=" and encoded keys always do, and E is a
 * function, so no two keys share a NATS key. Decoding accepts only the
 * canonical encoding of a valid key: a foreign NATS key that would decode
 * to the same key as another one is ignored rather than aliased.
 *
 * SPDX-License-Identifier: MIT
 */
#include "nats.h"

#include <string.h>

static bool lit(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
           (c >= '0' && c <= '9') || c == '_' || c == '-' || c == '/';
}

/* True if `s` (len bytes) could start a plain key: safe bytes, no leading
 * "=" or ".", no "..". A full plain key also must not end with ".". */
static bool plain_start(const char *s, size_t len)
{
    if (len == 0 || s[0] == '=' || s[0] == '.')
        return false;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c == '.') {
            if (s[i - 1] == '.')
                return false;
        } else if (!lit(c) && c != '=') {
            return false;
        }
    }
    return true;
}

static bool plain_key(const char *s, size_t len)
{
    return plain_start(s, len) && s[len - 1] != '.';
}

static const char hexd[] = "0123456789ABCDEF";

/* Appends E(s[0..len)) to out at *o. With `open_end`, a final "." whose
 * fate depends on the byte after it is left out (for prefixes). */
static void escape(const char *s, size_t len, bool open_end, char *out,
                   size_t *o)
{
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        if (lit(c)) {
            out[(*o)++] = (char)c;
        } else if (c == '.' && i + 1 == len && open_end) {
            return;
        } else if (c == '.' && i + 1 < len && s[i + 1] != '.') {
            out[(*o)++] = '.';
        } else {
            out[(*o)++] = '=';
            out[(*o)++] = hexd[c >> 4];
            out[(*o)++] = hexd[c & 15];
        }
    }
}

size_t nk_key_encode(const char *key, char *out)
{
    size_t len = strlen(key), o = 0;
    if (plain_key(key, len)) {
        memcpy(out, key, len + 1);
        return len;
    }
    out[o++] = '=';
    escape(key, len, false, out, &o);
    out[o] = '\0';
    return o;
}

static int hexv(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

bool nk_key_decode(const char *nkey, char *out)
{
    size_t nlen = strlen(nkey), o = 0;
    if (nkey[0] != '=') {
        if (nlen > KVSTORE_KEY_MAX || !plain_key(nkey, nlen))
            return false;
        memcpy(out, nkey, nlen + 1);
        return true;
    }
    for (size_t i = 1; i < nlen; i++) {
        if (o == KVSTORE_KEY_MAX)
            return false;
        if (nkey[i] == '=') {
            int h, l;
            if (i + 2 >= nlen)
                return false;
            h = hexv(nkey[i + 1]);
            l = h < 0 ? -1 : hexv(nkey[i + 2]);
            if (l < 0)
                return false;
            out[o++] = (char)(h * 16 + l);
            i += 2;
        } else {
            out[o++] = nkey[i];
        }
    }
    out[o] = '\0';
    if (o == 0 || memchr(out, '\0', o) != NULL ||
        !kvstore_utf8_valid(out, o))
        return false;
    /* Canonical form only: re-encoding must give the same NATS key. */
    char again[NK_ENC_MAX + 1];
    return nk_key_encode(out, again) == nlen && memcmp(again, nkey, nlen) == 0;
}

/* Cuts `f` (length n) after its last "." and appends ">"; "" gives ">". */
static void to_filter(char *f, size_t n)
{
    while (n > 0 && f[n - 1] != '.')
        n--;
    f[n++] = '>';
    f[n] = '\0';
}

int nk_prefix_filters(const char *prefix, char f[2][NK_ENC_MAX + 3])
{
    size_t len = strlen(prefix), o = 0;
    int n = 0;

    if (len == 0) {
        strcpy(f[0], ">");
        return 1;
    }
    if (plain_start(prefix, len)) {
        memcpy(f[n], prefix, len);
        to_filter(f[n], len);
        n++;
    }
    f[n][o++] = '=';
    escape(prefix, len, true, f[n], &o);
    to_filter(f[n], o);
    n++;
    /* A bare ">" already covers the other filter. */
    for (int i = 0; i < n; i++) {
        if (strcmp(f[i], ">") == 0) {
            strcpy(f[0], ">");
            return 1;
        }
    }
    return n;
}

void nk_subject(const nk_bucket *b, const char *key, char *subj)
{
    memcpy(subj, b->pre, b->pre_len);
    nk_key_encode(key, subj + b->pre_len);
}

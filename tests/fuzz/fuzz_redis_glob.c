/* The redis module's SCAN MATCH / PSUBSCRIBE pattern escaping
 * (backends/redis/glob.c, compiled into the target: its functions are
 * hidden in the module), against a glob matcher written here from the
 * Redis documentation of KEYS/SCAN patterns: "?" one byte, "*" any run,
 * "[...]" a class ("^" negates, "a-z" a range, "\" escapes inside), "\"
 * makes the next byte literal, a trailing "\" is literal.
 *
 * Input: byte 0 picks a bucket name from a fixed list (names that prefix
 * each other); the rest is "prefix NUL candidate". The pattern list.c
 * builds, escape("B:") + escape(prefix) + "*", must match a Redis key
 * exactly when it starts with "B:" + prefix, both for the candidate as
 * given and for "B:" + prefix + candidate (so that matches are common):
 * no key of another bucket or outside the prefix, whatever glob
 * characters the prefix holds, and no key of the bucket is missed. Also
 * rd_key_usable agrees with the core's key check. */
#include <stdlib.h>
#include <string.h>

#include "redis.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Redis glob semantics (stringmatchlen), written independently. */
static bool glob(const char *p, size_t pl, const char *s, size_t sl)
{
    while (pl > 0) {
        switch (p[0]) {
        case '*':
            while (pl > 1 && p[1] == '*') {
                p++;
                pl--;
            }
            if (pl == 1)
                return true;
            for (size_t i = 0; i <= sl; i++)
                if (glob(p + 1, pl - 1, s + i, sl - i))
                    return true;
            return false;
        case '?':
            if (sl == 0)
                return false;
            break;
        case '[': {
            bool neg, hit = false;
            if (sl == 0)
                return false;
            p++;
            pl--;
            neg = pl > 0 && p[0] == '^';
            if (neg) {
                p++;
                pl--;
            }
            for (;;) {
                if (pl == 0) {
                    /* Unterminated class: Redis stops at the last byte. */
                    p--;
                    pl++;
                    break;
                }
                if (p[0] == '\\' && pl >= 2) {
                    if (p[1] == s[0])
                        hit = true;
                    p += 2;
                    pl -= 2;
                } else if (p[0] == ']') {
                    break;
                } else if (pl >= 3 && p[1] == '-') {
                    unsigned char lo = (unsigned char)p[0],
                                  hi = (unsigned char)p[2],
                                  c = (unsigned char)s[0];
                    if (lo > hi) {
                        unsigned char t = lo;
                        lo = hi;
                        hi = t;
                    }
                    if (c >= lo && c <= hi)
                        hit = true;
                    p += 3;
                    pl -= 3;
                } else {
                    if (p[0] == s[0])
                        hit = true;
                    p++;
                    pl--;
                }
            }
            if (neg)
                hit = !hit;
            if (!hit)
                return false;
            break;
        }
        case '\\':
            if (pl >= 2) {
                p++;
                pl--;
            }
            /* fall through: the byte is literal */
        default:
            if (sl == 0 || p[0] != s[0])
                return false;
            break;
        }
        p++;
        pl--;
        s++;
        sl--;
    }
    return sl == 0;
}

static const char *const buckets[] = { "g", "g1", "g2", "a-b", "a_b", "A" };

static void check(const char *pat, size_t pat_len, const char *want,
                  size_t want_len, const char *s, size_t sl)
{
    bool starts = sl >= want_len && memcmp(s, want, want_len) == 0;

    if (glob(pat, pat_len, s, sl) != starts)
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    const char *bucket = buckets[data[0] % 6];
    const char *rest = (const char *)data + 1;
    size_t rlen = size - 1;
    const char *nul = memchr(rest, '\0', rlen);
    size_t plen = nul ? (size_t)(nul - rest) : rlen;
    const char *cand = nul ? nul + 1 : rest + rlen;
    size_t clen = rlen - plen - (nul ? 1 : 0);
    size_t blen = strlen(bucket);

    /* The literal prefix every matching key has: "B:" + prefix. */
    char *want = malloc(blen + 1 + plen);
    char *pat = malloc(2 * (blen + 1 + plen) + 1);
    char *full = malloc(blen + 1 + plen + clen);
    if (want == NULL || pat == NULL || full == NULL)
        goto out;
    memcpy(want, bucket, blen);
    want[blen] = ':';
    memcpy(want + blen + 1, rest, plen);
    size_t wl = blen + 1 + plen;

    size_t n = rd_glob_escape(pat, 0, want, blen + 1);
    n = rd_glob_escape(pat, n, rest, plen);
    if (n > 2 * wl)
        abort();
    pat[n++] = '*';

    check(pat, n, want, wl, cand, clen);
    memcpy(full, want, wl);
    memcpy(full + wl, cand, clen);
    check(pat, n, want, wl, full, wl + clen);
    /* The same key in a bucket whose name extends this one's. */
    full[blen - 1] ^= 1;
    check(pat, n, want, wl, full, wl + clen);

    /* rd_key_usable: exactly the keys the contract accepts. */
    if (memchr(cand, '\0', clen) == NULL) {
        char *k = malloc(clen + 1);
        if (k != NULL) {
            memcpy(k, cand, clen);
            k[clen] = '\0';
            if (rd_key_usable(k, clen) != (kvstore_key_check(k) == KVSTORE_OK))
                abort();
            free(k);
        }
    }
out:
    free(want);
    free(pat);
    free(full);
    return 0;
}

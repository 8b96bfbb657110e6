/* The nats module's key <-> NATS key mapping (backends/nats/key.c,
 * compiled into the target: its functions are hidden in the module),
 * against properties written from docs/backends/nats.md and the NATS
 * subject rules, not from the code:
 *
 *  byte 0 % 3 == 0, a key: for a valid key k (1..1024 bytes of UTF-8, no
 *    NUL), enc(k) is a NATS KV key whose subject tokens are never empty,
 *    never "*" or ">" (bytes [A-Za-z0-9_/=.-] only, no leading, trailing
 *    or doubled "."); enc(k) == k exactly when k is in the plain set and
 *    starts with "=" otherwise (an unchanged key never equals an encoded
 *    one); decode(enc(k)) == k, so no two keys share a NATS key. The rest
 *    of the input, split at the first NUL, gives a second key whose
 *    encoding must differ unless the keys are equal.
 *  == 1, a NATS key from the server (any bytes up to a NUL): decode
 *    either refuses it or yields a valid key that encodes back to exactly
 *    that NATS key (canonical: a foreign key never aliases another).
 *  == 2, a prefix and a key: every filter nk_prefix_filters gives is a
 *    subject filter with ">" only as its whole last token and no "*";
 *    when the key starts with the prefix, enc(key) matches one of them
 *    (NATS matching, written here): a listing or watch never misses it.
 */
#include <stdlib.h>
#include <string.h>

#include "nats.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static bool valid_key(const char *k, size_t len)
{
    return len >= 1 && len <= KVSTORE_KEY_MAX && memchr(k, 0, len) == NULL &&
           kvstore_key_check(k) == KVSTORE_OK;
}

/* docs/backends/nats.md: plain keys are [A-Za-z0-9_/=.-], not starting
 * with "=" or ".", not ending with ".", without "..". */
static bool safe_byte(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
           (c >= '0' && c <= '9') || c == '_' || c == '/' || c == '=' ||
           c == '.' || c == '-';
}

static bool plain_oracle(const char *k, size_t len)
{
    if (len == 0 || k[0] == '=' || k[0] == '.' || k[len - 1] == '.')
        return false;
    for (size_t i = 0; i < len; i++) {
        if (!safe_byte((unsigned char)k[i]))
            return false;
        if (k[i] == '.' && i > 0 && k[i - 1] == '.')
            return false;
    }
    return true;
}

/* A usable subject remainder: safe bytes, tokens never empty. */
static bool subject_safe(const char *s, size_t len)
{
    if (len == 0 || s[0] == '.' || s[len - 1] == '.')
        return false;
    for (size_t i = 0; i < len; i++)
        if (!safe_byte((unsigned char)s[i]) ||
            (s[i] == '.' && s[i - 1] == '.'))
            return false;
    return true;
}

/* NATS subject matching of a literal subject against a filter: tokens
 * split on ".", "*" matches one token, ">" as the last token one or more. */
static bool subject_match(const char *filter, const char *subj)
{
    const char *f = filter, *s = subj;

    for (;;) {
        const char *fe = strchr(f, '.'), *se = strchr(s, '.');
        size_t fl = fe ? (size_t)(fe - f) : strlen(f);
        size_t sl = se ? (size_t)(se - s) : strlen(s);

        if (fl == 1 && f[0] == '>' && fe == NULL)
            return true; /* s has at least this token */
        if (!(fl == 1 && f[0] == '*') && (fl != sl || memcmp(f, s, fl) != 0))
            return false;
        if (fe == NULL || se == NULL)
            return fe == NULL && se == NULL;
        f = fe + 1;
        s = se + 1;
    }
}

static void check_key(const char *k, size_t len, char *enc)
{
    char dec[KVSTORE_KEY_MAX + 1];
    size_t n = nk_key_encode(k, enc);

    if (n > NK_ENC_MAX || strlen(enc) != n || !subject_safe(enc, n))
        abort();
    if (plain_oracle(k, len)) {
        if (n != len || memcmp(enc, k, len) != 0)
            abort();
    } else if (enc[0] != '=') {
        abort();
    }
    if (!nk_key_decode(enc, dec) || strcmp(dec, k) != 0)
        abort();
}

static void mode_key(const char *text, size_t size)
{
    static char e1[NK_ENC_MAX + 1], e2[NK_ENC_MAX + 1];
    size_t l1 = strnlen(text, size);

    if (!valid_key(text, l1))
        return;
    check_key(text, l1, e1);
    if (l1 + 1 >= size)
        return;
    const char *k2 = text + l1 + 1;
    size_t l2 = strlen(k2);
    if (!valid_key(k2, l2))
        return;
    check_key(k2, l2, e2);
    if ((strcmp(text, k2) == 0) != (strcmp(e1, e2) == 0))
        abort();
}

static void mode_nats_key(const char *text)
{
    static char again[NK_ENC_MAX + 1];
    char dec[KVSTORE_KEY_MAX + 1];

    if (!nk_key_decode(text, dec))
        return;
    if (!valid_key(dec, strlen(dec)))
        abort();
    nk_key_encode(dec, again);
    if (strcmp(again, text) != 0)
        abort();
}

static void mode_prefix(const char *text, size_t size)
{
    static char f[2][NK_ENC_MAX + 3];
    static char enc[NK_ENC_MAX + 1];
    size_t pl = strnlen(text, size);

    /* The core passes prefixes of at most 1024 bytes of UTF-8. */
    if (pl > KVSTORE_KEY_MAX || !kvstore_utf8_valid(text, pl))
        return;
    int nf = nk_prefix_filters(text, f);
    if (nf < 1 || nf > 2)
        abort();
    for (int i = 0; i < nf; i++) {
        size_t fl = strlen(f[i]);
        if (fl == 0 || fl > NK_ENC_MAX + 2 || f[i][fl - 1] != '>' ||
            (fl > 1 && f[i][fl - 2] != '.') || strchr(f[i], '*') ||
            strchr(f[i], '>') != f[i] + fl - 1 ||
            (fl > 1 && !subject_safe(f[i], fl - 2)))
            abort();
    }
    if (pl + 1 >= size)
        return;
    const char *k = text + pl + 1;
    size_t kl = strlen(k);
    /* The key: the prefix followed by the rest, so matches are common. */
    char *key = malloc(pl + kl + 1);
    if (key == NULL)
        return;
    memcpy(key, text, pl);
    memcpy(key + pl, k, kl + 1);
    if (valid_key(key, pl + kl)) {
        nk_key_encode(key, enc);
        bool hit = false;
        for (int i = 0; i < nf; i++)
            hit = hit || subject_match(f[i], enc);
        if (!hit)
            abort();
    }
    free(key);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    /* A NUL-terminated copy of its own, so ASan sees any over-read. */
    char *text = malloc(size);
    if (text == NULL)
        return 0;
    memcpy(text, data + 1, size - 1);
    text[size - 1] = '\0';
    switch (data[0] % 3) {
    case 0:
        mode_key(text, size - 1);
        break;
    case 1:
        mode_nats_key(text);
        break;
    default:
        mode_prefix(text, size - 1);
        break;
    }
    free(text);
    return 0;
}

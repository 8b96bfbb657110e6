/*
 * kvstore-nats: parsing the JetStream API's JSON answers for batches
 * (reply.h). The answers come from the server, which we trust to speak
 * JetStream but not to be well-formed: anything unexpected is -1, which
 * batch.c turns into KVSTORE_EIO.
 *
 * SPDX-License-Identifier: MIT
 */
#include "reply.h"

#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <kvstore/backend.h>

static int b64_value(unsigned char c)
{
    if (c >= 'A' && c <= 'Z') return c - 'A';
    if (c >= 'a' && c <= 'z') return c - 'a' + 26;
    if (c >= '0' && c <= '9') return c - '0' + 52;
    if (c == '+') return 62;
    if (c == '/') return 63;
    return -1;
}

bool nk_b64_decode(const char *s, size_t n, unsigned char *out,
                   size_t *out_len)
{
    size_t k = 0;

    *out_len = 0;
    if (n % 4 != 0)
        return false;
    for (size_t i = 0; i < n; i += 4) {
        int v[4];
        int pad = 0;

        for (int j = 0; j < 4; j++) {
            unsigned char c = (unsigned char)s[i + j];

            /* '=' only in the last quantum's last one or two places. */
            if (c == '=' && i + 4 == n && j >= 2) {
                v[j] = 0;
                pad++;
                continue;
            }
            if (pad > 0 || (v[j] = b64_value(c)) < 0)
                return false;
        }
        /* Canonical: the bits padding drops must be zero. */
        if ((pad == 1 && (v[2] & 0x3)) || (pad == 2 && (v[1] & 0xF)))
            return false;
        out[k++] = (unsigned char)(v[0] << 2 | v[1] >> 4);
        if (pad < 2)
            out[k++] = (unsigned char)((v[1] & 0xF) << 4 | v[2] >> 2);
        if (pad < 1)
            out[k++] = (unsigned char)((v[2] & 0x3) << 6 | v[3]);
    }
    *out_len = k;
    return true;
}

void nk_reply_clear(nk_reply *r)
{
    free(r->hdrs);
    kvstore_free(r->data);
    memset(r, 0, sizeof *r);
}

/* An optional integer member: absent is 0; present must be an integer. */
static bool opt_int(const json_t *obj, const char *name, long long *out)
{
    const json_t *v = json_object_get(obj, name);

    *out = 0;
    if (v == NULL)
        return true;
    if (!json_is_integer(v))
        return false;
    *out = (long long)json_integer_value(v);
    return true;
}

/* The required "seq" member: an integer >= 1. */
static bool get_seq(const json_t *obj, uint64_t *out)
{
    const json_t *v = json_object_get(obj, "seq");

    if (!json_is_integer(v) || json_integer_value(v) < 1)
        return false;
    *out = (uint64_t)json_integer_value(v);
    return true;
}

/* Decodes the optional base64 string member `name` into a buffer from
 * `alloc` with a NUL after the bytes; absent gives an empty buffer when
 * `empty_if_absent`, else NULL. */
static bool get_b64(const json_t *obj, const char *name,
                    void *(*alloc)(size_t), bool empty_if_absent, char **out,
                    size_t *out_len)
{
    const json_t *v = json_object_get(obj, name);
    const char *s;
    size_t n;

    *out = NULL;
    *out_len = 0;
    if (v == NULL) {
        if (!empty_if_absent)
            return true;
        *out = alloc(1);
        if (*out == NULL)
            return false;
        (*out)[0] = '\0';
        return true;
    }
    if (!json_is_string(v))
        return false;
    s = json_string_value(v);
    n = json_string_length(v);
    *out = alloc(n / 4 * 3 + 1);
    if (*out == NULL)
        return false;
    if (!nk_b64_decode(s, n, (unsigned char *)*out, out_len))
        return false;
    (*out)[*out_len] = '\0';
    return true;
}

static void *plain_malloc(size_t n)
{
    return malloc(n);
}

/* Whether d[0..n) starts with the n_lit bytes of `lit`; moves *p past. */
static bool skip_lit(const char **p, const char *end, const char *lit,
                     size_t n_lit)
{
    if ((size_t)(end - *p) < n_lit || memcmp(*p, lit, n_lit) != 0)
        return false;
    *p += n_lit;
    return true;
}

/* The text of a successful publish ack as nats-server writes it, byte for
 * byte: {"stream":"S", "seq":N} (2.9; without the space elsewhere). A
 * set_many gets one per key, and building a jansson object for each was
 * most of the client's time in it (callgrind). Only this exact text is
 * taken here: a stream name of printable ASCII without '"' or '\' (so no
 * escapes), a sequence of 1 to 18 digits without a leading zero (so it is
 * the JSON integer jansson would read, >= 1). Any other answer, however it
 * is written, goes to jansson; the fuzz target checks that both agree. */
static bool plain_ack(const char *d, size_t n, uint64_t *seq)
{
    const char *p = d, *end = d + n, *name;
    uint64_t v = 0;
    int digits = 0;

    if (!skip_lit(&p, end, "{\"stream\":\"", 11))
        return false;
    for (name = p; p < end && *p > ' ' && *p < 0x7f && *p != '"' &&
                   *p != '\\'; p++)
        ;
    if (p == name || !skip_lit(&p, end, "\",", 2))
        return false;
    if (p < end && *p == ' ')
        p++;
    if (!skip_lit(&p, end, "\"seq\":", 6) || p == end || *p < '1' || *p > '9')
        return false;
    for (; p < end && *p >= '0' && *p <= '9'; p++) {
        if (++digits > 18)
            return false;
        v = v * 10 + (uint64_t)(*p - '0');
    }
    if (end - p != 1 || *p != '}')
        return false;
    *seq = v;
    return true;
}

int nk_reply_parse(const char *d, size_t n, nk_reply_expect expect,
                   nk_reply *r)
{
    json_error_t jerr;
    json_t *root, *err, *msg;
    bool ok = false;

    memset(r, 0, sizeof *r);
    if (expect == NK_EXPECT_ACK && plain_ack(d, n, &r->seq)) {
        r->kind = NK_REPLY_ACK;
        return 0;
    }
    /* Duplicate members would make "the" seq or error ambiguous. */
    root = json_loadb(d, n, JSON_REJECT_DUPLICATES, &jerr);
    if (!json_is_object(root))
        goto done;
    err = json_object_get(root, "error");
    if (err != NULL) {
        r->kind = NK_REPLY_ERROR;
        ok = json_is_object(err) && opt_int(err, "code", &r->code) &&
             opt_int(err, "err_code", &r->err_code);
        goto done;
    }
    if (expect == NK_EXPECT_ACK) {
        r->kind = NK_REPLY_ACK;
        ok = json_is_string(json_object_get(root, "stream")) &&
             get_seq(root, &r->seq);
        goto done;
    }
    r->kind = NK_REPLY_MSG;
    msg = json_object_get(root, "message");
    if (!json_is_object(msg) || !get_seq(msg, &r->seq))
        goto done;
    if (!get_b64(msg, "hdrs", plain_malloc, false, &r->hdrs, &r->hdrs_len))
        goto done;
    /* kvstore_malloc memory: batch.c hands it to the user. */
    ok = get_b64(msg, "data", kvstore_malloc, true, &r->data, &r->data_len);
done:
    json_decref(root);
    if (!ok) {
        nk_reply_clear(r);
        return -1;
    }
    return 0;
}

/* Spaces and tabs around a header value, as NATS writes "Name: value". */
static void trim(const char **s, const char **e)
{
    while (*s < *e && (**s == ' ' || **s == '\t'))
        (*s)++;
    while (*e > *s && ((*e)[-1] == ' ' || (*e)[-1] == '\t'))
        (*e)--;
}

static bool is(const char *s, const char *e, const char *word)
{
    size_t n = strlen(word);

    return (size_t)(e - s) == n && memcmp(s, word, n) == 0;
}

bool nk_hdrs_is_delete(const char *h, size_t n)
{
    const char *end = h + n, *line;
    const char *nl = memchr(h, '\n', n);

    /* The first line is "NATS/1.0" with an optional status. */
    if (nl == NULL)
        return false;
    for (line = nl + 1; line < end; line = nl + 1) {
        const char *le, *colon, *ns, *ne, *vs, *ve;

        nl = memchr(line, '\n', (size_t)(end - line));
        le = nl ? nl : end;
        if (le > line && le[-1] == '\r')
            le--;
        colon = memchr(line, ':', (size_t)(le - line));
        if (colon != NULL) {
            ns = line;
            ne = colon;
            vs = colon + 1;
            ve = le;
            trim(&ns, &ne);
            trim(&vs, &ve);
            if (is(ns, ne, "KV-Operation"))
                return is(vs, ve, "DEL") || is(vs, ve, "PURGE");
        }
        if (nl == NULL)
            break;
    }
    return false;
}

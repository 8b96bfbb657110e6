/* The nats module's parser of JetStream API answers for batches
 * (backends/nats/reply.c, compiled into the target: its functions are
 * hidden in the module). The input is used as:
 *
 *  - an answer, parsed as a publish ack and as a STREAM.MSG.GET answer
 *    from a heap copy of exactly its size (ASan sees any read past it):
 *    0 or -1 only; an accepted answer is an error exactly when the JSON
 *    object has an "error" member, a sequence is >= 1, and the decoded
 *    "data" / "hdrs" bytes base64-encode (with the encoder written here
 *    from RFC 4648) to exactly the strings in the JSON;
 *  - the same JSON written again with every object's members in reverse
 *    order, indented, and compact: the result must be identical (field
 *    order and whitespace do not matter);
 *  - NATS headers, for nk_hdrs_is_delete, against a line splitter written
 *    here from the header format ("NATS/1.0" line, then "Name: value"
 *    lines; the first KV-Operation decides);
 *  - base64 text, for nk_b64_decode: accepted exactly when our encoder
 *    gives the text back from the decoded bytes; and the input bytes,
 *    encoded here, always decode back to themselves. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <kvstore/backend.h>

#include "reply.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char alphabet[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/* Padded base64 of n bytes; malloc'd, NUL-terminated. */
static char *b64(const unsigned char *p, size_t n, size_t *out_len)
{
    char *o = malloc((n + 2) / 3 * 4 + 1), *q = o;

    if (o == NULL)
        abort();
    for (size_t i = 0; i < n; i += 3) {
        unsigned v = (unsigned)p[i] << 16;
        size_t left = n - i;

        if (left > 1)
            v |= (unsigned)p[i + 1] << 8;
        if (left > 2)
            v |= p[i + 2];
        *q++ = alphabet[v >> 18 & 63];
        *q++ = alphabet[v >> 12 & 63];
        *q++ = left > 1 ? alphabet[v >> 6 & 63] : '=';
        *q++ = left > 2 ? alphabet[v & 63] : '=';
    }
    *q = '\0';
    *out_len = (size_t)(q - o);
    return o;
}

static void check_b64(const char *s, size_t n)
{
    unsigned char *out = malloc(n / 4 * 3 + 1);
    size_t len = 0, elen = 0;
    char *again;
    bool ok;

    if (out == NULL)
        abort();
    ok = nk_b64_decode(s, n, out, &len);
    again = b64(out, ok ? len : 0, &elen);
    if (ok != (elen == n && memcmp(again, s, n) == 0))
        abort();
    free(again);
    /* Any bytes, encoded, come back. */
    again = b64((const unsigned char *)s, n, &elen);
    unsigned char *back = malloc(elen / 4 * 3 + 1);
    if (back == NULL || !nk_b64_decode(again, elen, back, &len) ||
        len != n || memcmp(back, s, n) != 0)
        abort();
    free(back);
    free(again);
    free(out);
}

/* The header oracle. */
static bool hdrs_delete(const char *h, size_t n)
{
    size_t at = 0;
    bool first = true;

    while (at < n) {
        size_t e = at;
        while (e < n && h[e] != '\n')
            e++;
        size_t le = e;
        if (le > at && h[le - 1] == '\r')
            le--;
        if (!first) {
            size_t c = at;
            while (c < le && h[c] != ':')
                c++;
            if (c < le) {
                size_t ns = at, ne = c, vs = c + 1, ve = le;
                while (ns < ne && (h[ns] == ' ' || h[ns] == '\t'))
                    ns++;
                while (ne > ns && (h[ne - 1] == ' ' || h[ne - 1] == '\t'))
                    ne--;
                while (vs < ve && (h[vs] == ' ' || h[vs] == '\t'))
                    vs++;
                while (ve > vs && (h[ve - 1] == ' ' || h[ve - 1] == '\t'))
                    ve--;
                if (ne - ns == 12 && memcmp(h + ns, "KV-Operation", 12) == 0)
                    return (ve - vs == 3 && memcmp(h + vs, "DEL", 3) == 0) ||
                           (ve - vs == 5 && memcmp(h + vs, "PURGE", 5) == 0);
            }
        }
        if (e == n)
            break; /* no newline: the first line never ended */
        first = false;
        at = e + 1;
    }
    return false;
}

/* The same value with every object's members in reverse order. */
static json_t *reversed(json_t *v)
{
    if (json_is_object(v)) {
        size_t n = json_object_size(v), i = 0;
        const char **keys = calloc(n ? n : 1, sizeof *keys);
        const char *k;
        json_t *child, *o = json_object();

        if (keys == NULL || o == NULL)
            abort();
        json_object_foreach(v, k, child)
            keys[i++] = k;
        while (i-- > 0)
            json_object_set_new(o, keys[i],
                                reversed(json_object_get(v, keys[i])));
        free(keys);
        return o;
    }
    if (json_is_array(v)) {
        json_t *a = json_array(), *child;
        size_t i;

        json_array_foreach(v, i, child)
            json_array_append_new(a, reversed(child));
        return a;
    }
    return json_incref(v);
}

static bool same(const nk_reply *a, int ra, const nk_reply *b, int rb)
{
    if (ra != rb)
        return false;
    if (ra != 0)
        return true;
    return a->kind == b->kind && a->code == b->code &&
           a->err_code == b->err_code && a->seq == b->seq &&
           (a->hdrs == NULL) == (b->hdrs == NULL) &&
           a->hdrs_len == b->hdrs_len &&
           (a->hdrs == NULL || memcmp(a->hdrs, b->hdrs, a->hdrs_len) == 0) &&
           a->data_len == b->data_len &&
           (a->data == NULL) == (b->data == NULL) &&
           (a->data == NULL || memcmp(a->data, b->data, a->data_len) == 0);
}

/* The decoded bytes encode to the JSON's string exactly. */
static void check_string(const json_t *obj, const char *name,
                         const char *bytes, size_t len, bool absent_empty)
{
    const json_t *s = json_object_get(obj, name);
    size_t elen = 0;
    char *enc;

    if (s == NULL) {
        if (absent_empty ? (bytes == NULL || len != 0) : bytes != NULL)
            abort();
        return;
    }
    if (bytes == NULL || bytes[len] != '\0')
        abort();
    enc = b64((const unsigned char *)bytes, len, &elen);
    if (elen != json_string_length(s) ||
        memcmp(enc, json_string_value(s), elen) != 0)
        abort();
    free(enc);
}

static void check_reply(const uint8_t *data, size_t size,
                        nk_reply_expect expect)
{
    char *buf = malloc(size ? size : 1);
    nk_reply r, v;
    int rc, rv;
    json_t *root;

    if (buf == NULL)
        abort();
    memcpy(buf, data, size);
    rc = nk_reply_parse(buf, size, expect, &r);
    free(buf);
    if (rc != 0 && rc != -1)
        abort();
    root = json_loadb((const char *)data, size, JSON_REJECT_DUPLICATES,
                      NULL);
    if (rc == 0) {
        const json_t *err = json_object_get(root, "error");
        if (!json_is_object(root) || (err != NULL) !=
                                         (r.kind == NK_REPLY_ERROR))
            abort();
        if (r.kind == NK_REPLY_ACK &&
            (expect != NK_EXPECT_ACK || r.seq < 1 || r.data || r.hdrs))
            abort();
        if (r.kind == NK_REPLY_MSG) {
            const json_t *m = json_object_get(root, "message");
            if (expect != NK_EXPECT_MSG || r.seq < 1)
                abort();
            check_string(m, "data", r.data, r.data_len, true);
            check_string(m, "hdrs", r.hdrs, r.hdrs_len, false);
        }
    }
    if (root != NULL) {
        /* Field order and whitespace do not change the answer. */
        json_t *rev = reversed(root);
        static const size_t flags[] = { JSON_INDENT(3), JSON_COMPACT };

        for (size_t f = 0; f < 2; f++) {
            char *text = json_dumps(rev, flags[f] | JSON_ENCODE_ANY);

            if (text == NULL)
                abort();
            rv = nk_reply_parse(text, strlen(text), expect, &v);
            if (!same(&r, rc, &v, rv))
                abort();
            nk_reply_clear(&v);
            free(text);
        }
        json_decref(rev);
    }
    json_decref(root);
    if (rc == 0)
        nk_reply_clear(&r);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *h;

    check_reply(data, size, NK_EXPECT_ACK);
    check_reply(data, size, NK_EXPECT_MSG);
    h = malloc(size ? size : 1);
    if (h == NULL)
        abort();
    memcpy(h, data, size);
    if (nk_hdrs_is_delete(h, size) != hdrs_delete(h, size))
        abort();
    check_b64(h, size);
    free(h);
    return 0;
}

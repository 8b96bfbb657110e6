/*
 * kvstore-nats: the JSON answers of the JetStream API that batches read
 * (batch.c), parsed with jansson, so whitespace and field order do not
 * matter. Free of libnats, so tests/fuzz/fuzz_nats_reply.c can run it on
 * any bytes.
 *
 * SPDX-License-Identifier: MIT
 */
#ifndef KVSTORE_NATS_REPLY_H
#define KVSTORE_NATS_REPLY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef enum {
    NK_REPLY_ERROR = 1,  /* {"error": {"code": C, "err_code": E, ...}} */
    NK_REPLY_ACK,        /* a publish ack: {"stream": S, "seq": N, ...} */
    NK_REPLY_MSG         /* STREAM.MSG.GET: {"message": {"seq": N,
                            "hdrs": B64?, "data": B64?, ...}, ...} */
} nk_reply_kind;

/* One parsed answer. Owned by the caller of nk_reply_parse, released by
 * nk_reply_clear (which also takes `data` unless it was handed on). */
typedef struct nk_reply {
    nk_reply_kind kind;
    long long code;      /* ERROR: "code" (HTTP-like), 0 if absent */
    long long err_code;  /* ERROR: "err_code" (JetStream's), 0 if absent */
    uint64_t seq;        /* ACK, MSG: the stream sequence, >= 1 */
    char *hdrs;          /* MSG: decoded headers (malloc), NULL if none */
    size_t hdrs_len;
    char *data;          /* MSG: decoded payload, kvstore_malloc'd with a
                            NUL after it, "" (not NULL) if absent */
    size_t data_len;
} nk_reply;

/* What the caller expects (an error answer is accepted for both). */
typedef enum { NK_EXPECT_ACK, NK_EXPECT_MSG } nk_reply_expect;

/* Parses the `n` bytes at `d`. Returns 0 with *r filled, or -1 for
 * anything else (not JSON, not an object, wrong field types, a sequence
 * that is not a positive integer, base64 that is not canonical), with *r
 * cleared; never reads past d + n. Out of memory is -1 as well. */
int nk_reply_parse(const char *d, size_t n, nk_reply_expect expect,
                   nk_reply *r);
void nk_reply_clear(nk_reply *r);

/* True if NATS headers ("NATS/1.0...\r\nName: value\r\n...") carry
 * KV-Operation: DEL or PURGE (a delete or purge marker). */
bool nk_hdrs_is_delete(const char *h, size_t n);

/* Strict base64 (RFC 4648 alphabet, padded, canonical: unused bits zero).
 * Decodes `n` chars into `out` (room for n / 4 * 3 bytes) and sets
 * *out_len; false if the text is not canonical base64. */
bool nk_b64_decode(const char *s, size_t n, unsigned char *out,
                   size_t *out_len);

#endif

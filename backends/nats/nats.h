/*
 * kvstore-nats: internal declarations shared by the files of the NATS
 * JetStream KV backend module. Written only against <kvstore/backend.h>
 * and nats.c (libnats 3.4).
 *
 * Ownership: an nk_store owns its NATS connection, JetStream context and
 * listing cache; an nk_bucket borrows its store (the core closes buckets
 * before their store) and owns its kvStore handle.
 *
 * SPDX-License-Identifier: MIT
 */
#ifndef KVSTORE_NK_H
#define KVSTORE_NK_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <nats/nats.h>
#include <kvstore/backend.h>

/* An encoded key is at most '=' + 3 bytes per key byte. */
#define NK_ENC_MAX (1 + 3 * KVSTORE_KEY_MAX)
/* "$KV." + bucket + "." + encoded key + NUL. */
#define NK_SUBJ_MAX (4 + KVSTORE_BUCKET_NAME_MAX + 1 + NK_ENC_MAX + 1)
/* Revisions of a key kept by a bucket this backend creates (the KV
 * maximum, `nats kv add --history 64`). A watch is a push consumer the
 * server feeds some time after it stores a write: with one revision a
 * later write of the key removed an earlier one not yet delivered, and
 * the watcher never saw it. Now a watcher loses a write only when it lags
 * 64 writes of one key behind. */
#define NK_HISTORY 64
/* `?history=N` lowers it (1..NK_HISTORY) where storage matters more. */
/* Header overhead of a delete marker ("NATS/1.0\r\nKV-Operation: DEL..."). */
#define NK_DEL_HDR_BYTES 64

typedef struct nk_store {
    natsConnection *nc;
    jsCtx *js;
    int64_t timeout_ms;     /* bound of every call, "timeout_ms" */
    int replicas;           /* for buckets this store creates */
    int64_t ttl_ms;         /* max age of buckets this store creates, "ttl";
                               0: none */
    int history;            /* revisions per key of buckets this store
                               creates, "history" (NK_HISTORY) */
    int64_t max_payload;    /* server max_payload, headers included */
    char *redacted;         /* URI without secrets, for messages (owned) */

    kvstore_walks *walks;   /* listing snapshots (list.c), owned */
} nk_store;

typedef struct nk_bucket {
    nk_store *st;                         /* borrowed */
    char name[KVSTORE_BUCKET_NAME_MAX + 1];
    char stream[KVSTORE_BUCKET_NAME_MAX + 4];     /* "KV_" name */
    char pre[KVSTORE_BUCKET_NAME_MAX + 6];        /* "$KV." name "." */
    size_t pre_len;
    /* Reads use direct get only when every answer comes from the one copy
     * of the stream (replicas 1): with replicas > 1 a follower could answer
     * before it applied our write (nats-server issue 6557), so reads go to
     * the stream leader instead. */
    bool direct;
    /* Replicas > 1: listings must be served by the stream leader. */
    bool replicated;
    /* The stream's max age in ns (0: none): a message older than that is
     * expired even before the server has removed it. */
    int64_t max_age_ns;
    pthread_mutex_t mu;                  /* guards leader */
    char leader[64];                     /* last known stream leader */
} nk_bucket;

/* ---- time ---- */
int64_t nk_now_ms(void);
/* True if `msg` is older than the bucket's max age (wall clock). */
bool nk_msg_expired(const nk_bucket *b, natsMsg *msg);

/* ---- errors (conn.c) ---- */
/* What a failed call may have done, for choosing the status code. */
typedef enum { NK_READ, NK_WRITE } nk_kind;
/* True for failures where the server did not act and a retry may succeed
 * (no responders while a leader is elected, JetStream busy, not connected). */
bool nk_transient(natsStatus s, jsErrCode ec);
/* Maps a NATS failure to a kvstore status and records a message that
 * names `what` but never a credential. */
int nk_fail(const nk_bucket *b, const char *what, nk_kind kind, natsStatus s,
            jsErrCode ec);
/* Waits until the connection is up or `deadline` passes
 * (KVSTORE_EUNAVAILABLE). */
int nk_wait_connected(const nk_store *st, int64_t deadline);
/* Milliseconds left until `deadline`, at least 1 (a JetStream wait of 0
 * would mean the library's default). */
int64_t nk_left_ms(int64_t deadline);
/* The start of each attempt of a JetStream call bounded by `deadline`:
 * waits for the connection, then sets `o` to wait the time left. */
int nk_attempt_start(const nk_store *st, int64_t deadline, jsOptions *o);
/* Sleeps before retry `attempt` of a transient failure, never past
 * `deadline`. Returns false when no time is left. */
bool nk_backoff(int attempt, int64_t deadline);

/* ---- keys (key.c) ---- */
/* Stores the NATS key for `key` in `out` (NK_ENC_MAX + 1 bytes); returns
 * its length. Keys of the safe set stay unchanged, others get "=" + the
 * escaped form (docs/backends/nats.md). */
size_t nk_key_encode(const char *key, char *out);
/* Decodes a NATS key into `out` (KVSTORE_KEY_MAX + 1 bytes). Returns false
 * for anything that is not the canonical encoding of a valid key, so
 * foreign keys that would alias another key are skipped. */
bool nk_key_decode(const char *nkey, char *out);
/* Computes up to two NATS key filters (e.g. "a.b.>") that together cover
 * every key starting with `prefix`. Each filter buffer holds NK_ENC_MAX + 3
 * bytes. Returns the number of filters (1 or 2). */
int nk_prefix_filters(const char *prefix, char f[2][NK_ENC_MAX + 3]);
/* Builds "$KV.<bucket>.<nats key>" for `key` into `subj` (NK_SUBJ_MAX). */
void nk_subject(const nk_bucket *b, const char *key, char *subj);

/* ---- single-key operations (store.c) ---- */
/* The last message of `subj`: KVSTORE_OK with *msg (caller destroys),
 * KVSTORE_NOTFOUND when the subject has no message. *seq is the stream
 * sequence of the message found (0 when none); *deleted tells a delete or
 * purge marker. Retries transient failures within timeout_ms. */
int nk_fetch(nk_bucket *b, const char *subj, natsMsg **msg, uint64_t *seq,
             bool *deleted);
/* Publishes to `subj` and waits for the ack. `expect` is NULL or the last
 * sequence the subject must have (0: no message). `del` publishes a delete
 * marker. Transient failures before the server acted are retried. */
int nk_publish(nk_bucket *b, const char *subj, const void *value, size_t len,
               const uint64_t *expect, bool del);
bool nk_msg_is_delete(natsMsg *msg);
/* A copy of m's payload the caller owns (kvstore_malloc'd; "" when empty):
 * KVSTORE_OK, or KVSTORE_ENOMEM with *value untouched. */
int nk_msg_value(natsMsg *m, void **value, size_t *len);
int nk_check_size(const nk_bucket *b, size_t len);

/* ---- the table's slots, nk_<slot> (see <kvstore/backend.h>): conn.c
 * (store), bucket.c, store.c, list.c, batch.c, atomics.c, watch.c ---- */
KVSTORE_SLOT_PROTOTYPES(nk);

#endif /* KVSTORE_NK_H */

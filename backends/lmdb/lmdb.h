/*
 * LMDB backend module (kvstore-lmdb.so, scheme lmdb): internal interface.
 * Written only against <kvstore/backend.h> and liblmdb.
 *
 * Layout of one store directory (an LMDB environment, data.mdb + lock.mdb),
 * all in LMDB's main (unnamed) database, because a named database costs
 * one more B-tree search in every transaction that touches it:
 *   '\0' bucket   -> ""      (one entry per bucket; no stored key of a
 *                               bucket starts with NUL)
 *   stored key    -> record
 * A stored key is  bucket '\0' key  when that fits LMDB's key limit
 * (mdb_env_get_maxkeysize, 511 in Debian's build); a longer key is stored as
 *   bucket '\0' key[0..T) 0xFF fnv64(key) seq16   (exactly the limit)
 * and its record carries the whole key. Bucket names have no NUL and keys
 * are UTF-8 without NUL or 0xFF, so no two buckets and no short and long
 * form can ever share a stored key; a long form's seq tells apart keys
 * whose first T bytes and hash collide (the record's key decides).
 *
 * A record is  flags:u8 version:u64le [expires_ms:u64le] [klen:u16le key]
 * value. version is the id of the write transaction that wrote it
 * (mdb_txn_id), unique per committed write, which is what CAS compares:
 * it catches A->B->A and delete->re-create across processes.
 *
 * Ownership: lm_env is shared by every store of one directory in this
 * process and owned by the core's registry (kvstore_shared_get, env.c);
 * a store owns its lm_store and one reference; a bucket owns only itself (the
 * core keeps the store alive while buckets are open).
 *
 * SPDX-License-Identifier: MIT
 */
#ifndef KVSTORE_LMDB_LM_H
#define KVSTORE_LMDB_LM_H

#include <kvstore/backend.h>

#include <lmdb.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

/* Largest value accepted, documented in docs/backends/lmdb.md. */
#define LM_VALUE_MAX (64u * 1024 * 1024)
/* Initial map size when the URI does not set map_size; it doubles on
 * MDB_MAP_FULL. The file only takes the pages actually used. */
#define LM_MAP_DEFAULT ((size_t)256 * 1024 * 1024)

/* The stored-key limit the format uses, whatever LMDB's build allows
 * (511 is LMDB's default MDB_MAXKEYSIZE): the layout of a store does not
 * depend on how liblmdb was built. */
#define LM_KEY_LIMIT 511
/* Big enough for any stored key. */
#define LM_SKEY_CAP 1024

#define LM_REC_TTL 0x01u  /* record has expires_ms */
#define LM_REC_LONG 0x02u /* record carries the whole key */

typedef struct lm_watch lm_watch;
typedef struct lm_op lm_op;

#define LM_POOL_MAX 16
#define LM_SLOT_BUSY ((uintptr_t)1) /* MDB_txn is at least 2-aligned */

typedef struct lm_env {
    MDB_env *env;
    MDB_dbi data;        /* the main database: everything */
    size_t maxkey;       /* mdb_env_get_maxkeysize */

    /* LMDB changes the map size only while no transaction of the process
     * is active. Every transaction is bracketed by lm_map_enter/leave (a
     * counter: cheaper than a read-write lock on the hot read path); a
     * resize sets map_resizing under resize_mu and waits for the counter
     * to drain, and entrants that see the flag wait on resize_mu. */
    atomic_uint map_users;
    atomic_bool map_resizing;
    pthread_mutex_t resize_mu;

    /* Read transactions kept for reuse: renewing one skips the
     * reader-table lock that a fresh MDB_NOTLS read transaction takes.
     * A slot holds 0 (empty), a reset transaction, or that transaction
     * with LM_SLOT_BUSY set while one reader uses it: a busy slot is that
     * reader's bracket against a resize, in place of map_users (env.c). */
    _Atomic(uintptr_t) pool[LM_POOL_MAX];

    /* Group commit (commit.c): writers queue ops; a leader applies a
     * whole batch in one transaction and commits it (one sync). */
    kvstore_commit_queue *commits;

    /* Watches of this process on any bucket of this directory. */
    kvstore_watch_list *watches;

    /* Reaping of expired records (reap.c), from the first handle's
     * reap_ms (0: never). The rest is the leader's alone: the commit
     * queue runs one leader at a time. */
    uint64_t reap_ms;
    uint64_t next_reap;              /* wall-clock ms of the next pass */
    size_t reap_len;                 /* 0: the next pass starts at the top */
    unsigned char reap_at[LM_SKEY_CAP]; /* where the next pass starts */
} lm_env;

typedef struct lm_store {
    lm_env *env;
    bool sync; /* false: this store's writes are not synced at commit */
} lm_store;

typedef struct lm_bucket {
    lm_store *st;
    size_t nlen;
    char name[KVSTORE_BUCKET_NAME_MAX + 1];
} lm_bucket;

/* ---- env.c: the per-directory environment ---- */
/* map_size and reap_ms count only when this call opens the environment:
 * the first handle of a directory in the process sets them. */
int lm_env_acquire(lm_env **out, const char *path, bool create,
                   size_t map_size, uint64_t reap_ms);
void lm_env_release(lm_env *e);
/* Takes one more reference on an environment already held. */
void lm_env_ref(lm_env *e);
/* Bracket every transaction of the process (see map_users). */
void lm_map_enter(lm_env *e);
void lm_map_leave(lm_env *e);
/* A write transaction of its own, inside lm_map_enter/leave: sets
 * MDB_NOSYNC to `nosync` (0 or 1; -1 leaves it), runs body(txn, ctx) and
 * commits if it returns 0, else aborts. Returns the LMDB code (body's, or
 * the begin's or commit's). *mapsize, if not NULL, gets the map size the
 * transaction ran with (for lm_env_grow). Leader only. */
int lm_write_txn(lm_env *e, int nosync,
                 int (*body)(MDB_txn *txn, void *ctx), void *ctx,
                 size_t *mapsize);
/* A read transaction (inside lm_map_enter until lm_rtxn_end). */
int lm_rtxn_begin(lm_env *e, MDB_txn **out);
void lm_rtxn_end(lm_env *e, MDB_txn *txn);
/* Adopts a map grown by another process, or doubles ours if it is still
 * `seen` bytes. The caller must not be inside lm_map_enter. */
int lm_env_grow(lm_env *e, size_t seen, bool adopt);
size_t lm_env_mapsize(lm_env *e);
/* Maps an LMDB error to a kvstore code with a message. */
int lm_error(int mdb_rc, const char *what);

/* ---- record.c: stored keys and records ---- */
typedef struct lm_rec {
    unsigned flags;
    uint64_t version;
    uint64_t expires; /* ms since the epoch; 0: none */
    const char *key;  /* whole key for LM_REC_LONG, else NULL */
    size_t klen;
    const void *value;
    size_t len;
} lm_rec;

uint64_t lm_now_ms(void);
/* Parses a stored record; KVSTORE_EIO on a malformed one. */
int lm_rec_parse(const MDB_val *v, lm_rec *out);
/* The common record, no expiry and a short key: the 9-byte header (flags
 * 0, version) then the value. The read paths test it inline and skip
 * lm_rec_parse for it. */
#define LM_REC_HEAD 9
static inline bool lm_rec_plain(const MDB_val *v)
{
    return v->mv_size >= LM_REC_HEAD &&
           ((const unsigned char *)v->mv_data)[0] == 0;
}
/* True if the record has expired. *now is the time in ms, read from the
 * clock on first need when it is 0 (records without expiry never need it,
 * so the common read costs no clock call). */
bool lm_rec_expired(const lm_rec *r, uint64_t *now);
/* True if the raw record `v` is well formed enough to carry an expiry and
 * it is at or before `now`; no parse and no error state, for the reaper's
 * walk over every record. */
bool lm_rec_raw_expired(const MDB_val *v, uint64_t now);
/* Size of the record for these fields and fills `buf` (which has that
 * many bytes) when buf != NULL. */
size_t lm_rec_build(void *buf, uint64_t version, uint64_t expires,
                    const char *longkey, size_t klen, const void *value,
                    size_t len);
/* Is `klen` too long for the short stored form in bucket `b`? */
bool lm_key_is_long(const lm_bucket *b, size_t klen);
/* Bytes of the key kept in a long stored form of bucket `b`. */
size_t lm_long_keep(const lm_bucket *b);
/* Writes the registry key '\0' name into buf (KVSTORE_BUCKET_NAME_MAX + 1
 * bytes), returns its length. */
size_t lm_bucket_key(const char *name, size_t nlen, unsigned char *buf);
/* Writes bucket '\0' into buf, returns its length. */
size_t lm_skey_bucket(const lm_bucket *b, unsigned char *buf);
/* Looks up `key`: on KVSTORE_OK fills *skey (pointing into `buf`, or into
 * the map) with the stored key and *rec; KVSTORE_NOTFOUND if there is no
 * record (expired ones are found: callers decide). When `free_slot` is
 * not NULL and the key is absent, *free_slot is set to the stored key a
 * new record of it must use (in `buf`). */
int lm_find(const lm_bucket *b, MDB_txn *txn, const char *key, size_t klen,
            unsigned char *buf, MDB_val *skey, lm_rec *rec,
            MDB_val *free_slot);
/* The user key of a stored entry of bucket `b` (short: the suffix; long:
 * from the record). */
void lm_user_key(const lm_bucket *b, const MDB_val *k, const lm_rec *r,
                 const char **key, size_t *klen);

/* ---- commit.c: group commit of write ops ---- */
typedef enum lm_op_kind {
    LM_OP_PUT,          /* n keys = values, expires */
    LM_OP_DEL,          /* n keys */
    LM_OP_INCR,         /* keys[0] += delta -> result */
    LM_OP_CAS,          /* keys[0] = values[0] if still at version/found */
    LM_OP_BUCKET_ADD,   /* register bucket b */
    LM_OP_BUCKET_DROP,  /* remove bucket `name` and its keys */
} lm_op_kind;

struct lm_op {
    lm_op_kind kind;
    const lm_bucket *b;
    const char *name;       /* BUCKET_DROP */
    size_t n;
    const char *const *keys;
    const void *const *values;
    const size_t *lens;
    uint64_t expires;       /* PUT */
    int64_t delta, result;  /* INCR */
    bool snap_found;        /* CAS */
    uint64_t snap_version;  /* CAS */
    bool durable;
    unsigned char *hit;     /* DEL: which keys had a record (n bytes) */
    unsigned char hit1;
    /* Set by the leader within its commit. */
    int rc;
    char msg[200];
};

/* Creates e->commits, the group commit of `e` (env.c, when it opens). */
int lm_commits_new(lm_env *e);
/* Runs `op` (built with rc KVSTORE_OK, 0) in the next group commit and
 * returns its status, with its message raised on the calling thread. */
static inline int lm_submit(lm_env *e, lm_op *op)
{
    return kvstore_commit_queue_run(e->commits, op, op->msg);
}

/* ---- reap.c ---- */
/* Called by the leader after a batch committed: deletes expired records
 * when a pass is due (see reap.c). Best effort, never fails. */
void lm_maybe_reap(lm_env *e);

/* ---- store.c: single keys, and what batch.c shares with it ---- */
/* Sets the ETOOBIG error for a value of `len` bytes; returns its code. */
int lm_too_big(size_t len);
/* Copies the live value of `key` (kvstore_malloc) or KVSTORE_NOTFOUND. */
int lm_read_value(const lm_bucket *b, MDB_txn *txn, const char *key,
                  uint64_t *now, void **value, size_t *len);
/* Writes n keys in one group-commit op (expires: absolute ms, 0: none). */
int lm_put(lm_bucket *b, const char *const *keys, const void *const *values,
           const size_t *lens, size_t n, uint64_t expires);

/* ---- the table's slots, lm_<slot> (see <kvstore/backend.h>): backend.c,
 * bucket.c, store.c, lend.c, batch.c, list.c, atomics.c, watch.c ---- */
KVSTORE_SLOT_PROTOTYPES(lm);

/* ---- watch.c ---- */
/* Called by the leader after a commit, before the next batch starts, so
 * events reach every watch in commit order. */
void lm_watch_dispatch(lm_env *e, void *const *ops, size_t nops);

#endif /* KVSTORE_LMDB_LM_H */

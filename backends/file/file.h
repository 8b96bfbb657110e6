/*
 * libkvstore - built-in "file" backend: shared declarations.
 *
 * One directory per store (the URI path), one subdirectory per bucket,
 * one file per key. docs/backends/file.md describes the layout, the key
 * encoding and the guarantees; this header only ties the small source
 * files together. Nothing here is exported from libkvstore: the backend
 * is its own static library compiled with hidden visibility (meson.build),
 * and libkvstore exports only what src/kvstore.map lists.
 *
 * SPDX-License-Identifier: MIT
 */
#ifndef KVSTORE_FILE_H
#define KVSTORE_FILE_H

#include <kvstore/backend.h>

#include <pthread.h>
#include <sys/types.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Largest value accepted (docs/backends/file.md, "Limits"). */
#define KVF_VALUE_MAX ((size_t)1 << 30)

/* Key names: the escaped form is used up to this many bytes, longer
 * encodings use the hashed form "~" + 64 hex digits (65 bytes). Both stay
 * far below the 255-byte NAME_MAX of every Linux file system. */
#define KVF_NAME_DIRECT_MAX 200
#define KVF_NAME_HASHED_LEN 65
#define KVF_NAME_BUF (KVF_NAME_DIRECT_MAX + 1)

/* The on-disk record: a fixed header, the key, the value. "KVF1" has no
 * expiry; "KVF2" (written only by set_ttl and an increment of a key with
 * an expiry) appends the expiry, in wall-clock milliseconds since the
 * epoch, so every process agrees on it. */
#define KVF_MAGIC "KVF1"
#define KVF_HEADER_LEN 24
#define KVF_MAGIC2 "KVF2"
#define KVF_HEADER2_LEN 32
/* The file whose presence in a bucket directory says that some record in
 * it may expire: only then does listing read headers (list.c). */
#define KVF_TTL_MARK ".ttl"

/* Temp file names: ".tmp." + 16 hex digits. */
#define KVF_TEMP_NAME_BUF 32

typedef struct kvf_store {
    int rootfd;           /* the store directory, O_DIRECTORY */
    bool sync;            /* fsync file and directory on every write */
    uint64_t seed;        /* random, mixed into write ids and temp names */
    atomic_uint_fast64_t counter;
    kvstore_walks *walks; /* listing snapshots (list.c, bucket.c), owned */
} kvf_store;

typedef struct kvf_bucket {
    kvf_store *store;     /* borrowed: the core closes buckets first */
    int dfd;              /* the bucket directory, O_DIRECTORY */
    dev_t dev;            /* identity of that directory, so watches of */
    ino_t ino;            /* other handles on it can be found (watch.c) */
    atomic_bool ttl_marked; /* this handle made sure KVF_TTL_MARK exists */
    char name[KVSTORE_BUCKET_NAME_MAX + 1];
} kvf_bucket;

/* A record read from disk. `value` is from kvstore_malloc (owned by the
 * holder, NULL when not requested); `key` is malloc'd only by
 * kvf_record_key (list and watch need it). */
typedef struct kvf_record {
    uint64_t version;
    uint64_t expires;     /* wall-clock ms since the epoch; 0: never */
    void *value;
    size_t len;
} kvf_record;

/* ---- encode.c: key <-> file name ------------------------------------- */

/* Writes the file name of `key` (klen bytes) into `name` (KVF_NAME_BUF
 * bytes, NUL-terminated). Never fails for a valid key. */
void kvf_name_encode(const char *key, size_t klen, char *name);
/* True if `name` is a hashed-form name ("~" + 64 lower-case hex). */
bool kvf_name_is_hashed(const char *name);
/* Decodes an escaped-form name into `key` (KVSTORE_KEY_MAX + 1 bytes,
 * NUL-terminated) and returns its length, or 0 if `name` is not the
 * canonical encoding of a valid key (then it is not a key file). */
size_t kvf_name_decode(const char *name, char *key);
/* True if `name` is exactly the hashed-form name of `key`. */
bool kvf_name_matches(const char *name, const char *key,
                      size_t klen);
/* SHA-256 of `len` bytes (encode.c, through nettle). */
void kvf_sha256(const void *data, size_t len, uint8_t out[32]);

/* ---- record.c: files, temp files, locks ------------------------------ */

/* Reads the record of `key` stored under `name`. Returns KVSTORE_OK,
 * KVSTORE_NOTFOUND or an error (with message). With want_value false only
 * the header is checked and rec->value stays NULL. */
int kvf_record_read(kvf_bucket *b, const char *name,
                    const char *key, size_t klen,
                    bool want_value, kvf_record *rec);
/* Reads the key stored in a hashed-form file; returns its length, or 0
 * if the file is missing, not a valid record or not named after its key.
 * `key` has KVSTORE_KEY_MAX + 1 bytes; *expires (if not NULL) gets the
 * record's expiry (0: none), expired or not. */
size_t kvf_record_key(kvf_bucket *b, const char *name, char *key,
                      uint64_t *expires);
/* The expiry in the header of `name` (0: none); false if it is not a
 * readable record. */
bool kvf_record_expires(kvf_bucket *b, const char *name, uint64_t *expires);
/* True if an expiry has passed (0 never does). */
bool kvf_expired(uint64_t expires);
/* Wall-clock milliseconds since the epoch. */
uint64_t kvf_now_ms(void);
/* Writes a complete record with expiry `expires` (0: none) to a new temp
 * file (fsynced when the store syncs) and returns its name in `tmp`
 * (KVF_TEMP_NAME_BUF bytes) and its write id. */
int kvf_temp_write(kvf_bucket *b, const char *key, size_t klen,
                   const void *value, size_t len, uint64_t expires, char *tmp,
                   uint64_t *version);
/* Atomically replaces `name` with the temp file; on failure removes it. */
int kvf_temp_commit(kvf_bucket *b, const char *tmp,
                    const char *name);
void kvf_temp_discard(kvf_bucket *b, const char *tmp);
/* fsyncs the bucket directory when the store syncs. */
int kvf_dir_sync(kvf_bucket *b);
/* A held write lock (record.c). */
typedef struct kvf_lock_t {
    int fd;          /* the lock file; closing it drops the OFD lock */
    unsigned stripe; /* the in-process mutex also held */
} kvf_lock_t;
/* Takes the cross-process, cross-thread write lock of `name`; release it
 * with kvf_unlock. */
int kvf_lock(kvf_bucket *b, const char *name, kvf_lock_t *lk);
void kvf_unlock(kvf_lock_t *lk);
/* A write of one key made ready (store.c): its record in a temp file and
 * the key's lock held, so the caller decides under the lock whether to
 * commit (kvf_temp_commit) or not (kvf_temp_discard), then unlocks. */
typedef struct kvf_staged {
    char name[KVF_NAME_BUF];     /* the key's file name */
    char tmp[KVF_TEMP_NAME_BUF]; /* the temp file holding the record */
    size_t klen;
    kvf_lock_t lk;
} kvf_staged;
/* Checks the size, writes the temp file, takes the lock; on failure
 * nothing is left behind. */
int kvf_stage(kvf_bucket *b, const char *key, const void *value, size_t len,
              uint64_t expires, kvf_staged *w);
/* kvf_record_read of `key`'s file. */
int kvf_read_key(kvf_bucket *b, const char *key, bool want_value,
                 kvf_record *rec);
/* A fresh random 64-bit number (write ids, temp names, walk tokens). */
uint64_t kvf_random(kvf_store *s);
/* Maps errno of a failed system call to a status with a message. */
int kvf_errno(int err, const char *what, const char *bucket);

/* The backend's slots, kvf_<slot> (see <kvstore/backend.h>): backend.c
 * (store), bucket.c, store.c, batch.c, atomics.c, list.c, watch.c. */
KVSTORE_SLOT_PROTOTYPES(kvf);

/* ---- store.c: single keys -------------------------------------------- */

/* set and delete without the directory fsync, so a batch can share one. */
int kvf_set_one(kvf_bucket *b, const char *key, const void *value,
                size_t len, uint64_t expires);
int kvf_del_one(kvf_bucket *b, const char *key);
/* KVSTORE_ETOOBIG with a message naming the limit. */
int kvf_too_big(size_t len);

/* ---- list.c ---------------------------------------------------------- */

/* Calls fn(ctx, key, len) for every live key of the bucket, in directory
 * order, until fn returns an error, which it returns: one directory scan,
 * with a header read only for each hashed-form name. Removes stale temps
 * and, within a budget per scan, expired records on the way. */
typedef int (*kvf_key_fn)(void *ctx, const char *key, size_t len);
int kvf_each_key(kvf_bucket *b, kvf_key_fn fn, void *ctx);

/* ---- watch.c --------------------------------------------------------- */

/* Called by writers once a temp file holds `value` for `key`, before the
 * rename: hands every watch of this directory in this process a copy. */
void kvf_watch_note(kvf_bucket *b, const char *tmp,
                    const char *key, size_t klen,
                    const void *value, size_t len);
/* The temp file was discarded: drops the copies kvf_watch_note made. */
void kvf_watch_forget(kvf_bucket *b, const char *tmp);

/* The table the core registers (backend.c). */
extern const kvstore_backend kvstore_builtin_file;

#endif /* KVSTORE_FILE_H */

/*
 * libkvstore - file backend: increment and compare-and-swap.
 *
 * Increment holds the key's lock (record.c) across its read-modify-write;
 * compare-and-swap writes its temp file first and holds the lock only to
 * check the snapshot's write id and rename.
 *
 * SPDX-License-Identifier: MIT
 */
#include "file.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int kvf_increment(void *bucket, const char *key, int64_t delta,
                  int64_t *result)
{
    kvf_bucket *b = bucket;
    char name[KVF_NAME_BUF], tmp[KVF_TEMP_NAME_BUF], text[24];
    size_t klen = strlen(key);
    kvf_record rec;
    uint64_t version, expires = 0;
    int64_t cur = 0, next;
    kvf_lock_t lk;

    kvf_name_encode(key, klen, name);
    int rc = kvf_lock(b, name, &lk);
    if (rc != KVSTORE_OK)
        return rc;
    /* Under the lock no other writer of this key can commit, in this
     * process or another, so read-compute-write is atomic. */
    rc = kvf_record_read(b, name, key, klen, true, &rec);
    if (rc == KVSTORE_OK) {
        bool ok = kvstore_counter_parse(rec.value, rec.len, &cur) == KVSTORE_OK;
        expires = rec.expires;
        kvstore_free(rec.value);
        if (!ok)
            rc = kvstore_set_error(KVSTORE_EINVAL, "increment: the value of "
                                   "the key is not a decimal int64");
    } else if (rc == KVSTORE_NOTFOUND) {
        rc = KVSTORE_OK; /* a missing or expired key counts as 0 */
    }
    if (rc == KVSTORE_OK && __builtin_add_overflow(cur, delta, &next))
        rc = kvstore_set_error(KVSTORE_EINVAL, "increment: %" PRId64
                               " + %" PRId64 " overflows int64", cur, delta);
    if (rc == KVSTORE_OK) {
        int n = snprintf(text, sizeof text, "%" PRId64, next);
        /* A live key keeps its expiry, as Redis INCR does. */
        rc = kvf_temp_write(b, key, klen, text, (size_t)n, expires, tmp,
                            &version);
        if (rc == KVSTORE_OK)
            rc = kvf_temp_commit(b, tmp, name);
    }
    kvf_unlock(&lk);
    if (rc == KVSTORE_OK)
        rc = kvf_dir_sync(b);
    if (rc == KVSTORE_OK && result)
        *result = next;
    return rc;
}

/* A CAS snapshot: owned by the core's kvstore_cas, freed by cas_free. */
typedef struct kvf_cas {
    kvf_bucket *bucket;
    bool found;
    uint64_t version;   /* write id of the snapshot when found */
    void *value;        /* kvstore_malloc'd, lent by cas_open */
    size_t len;
    char key[];         /* NUL-terminated */
} kvf_cas;

int kvf_cas_open(void **out, void *bucket, const char *key, bool *found,
                 const void **value, size_t *len)
{
    size_t klen = strlen(key);
    kvf_record rec;

    *out = NULL;
    kvf_cas *cas = malloc(sizeof *cas + klen + 1);
    if (cas == NULL)
        return kvstore_set_error(KVSTORE_ENOMEM, "file: out of memory");
    memcpy(cas->key, key, klen + 1);
    cas->bucket = bucket;
    int rc = kvf_read_key(bucket, key, true, &rec);
    if (rc != KVSTORE_OK && rc != KVSTORE_NOTFOUND) {
        free(cas);
        return rc;
    }
    /* One read gives value and write id together: the record file is
     * never modified in place, so they belong to the same write. */
    cas->found = rc == KVSTORE_OK;
    cas->version = cas->found ? rec.version : 0;
    cas->value = rec.value;
    cas->len = rec.len;
    *found = cas->found;
    *value = cas->value;
    *len = cas->len;
    *out = cas;
    return KVSTORE_OK;
}

int kvf_cas_swap(void *handle, const void *value, size_t len)
{
    kvf_cas *cas = handle;
    kvf_bucket *b = cas->bucket;
    kvf_record rec;
    kvf_staged w;

    /* A swap writes a record without expiry, as set does. */
    int rc = kvf_stage(b, cas->key, value, len, 0, &w);
    if (rc != KVSTORE_OK)
        return rc;
    /* Write ids are random 64-bit numbers, fresh for every write, so a
     * delete followed by a new set can never restore the snapshot's id. */
    rc = kvf_record_read(b, w.name, cas->key, w.klen, false, &rec);
    if (rc == KVSTORE_OK || rc == KVSTORE_NOTFOUND) {
        bool same = cas->found ? rc == KVSTORE_OK && rec.version == cas->version
                               : rc == KVSTORE_NOTFOUND;
        rc = same ? KVSTORE_OK
                  : kvstore_set_error(KVSTORE_ECONFLICT, "cas: the key "
                                      "changed since the snapshot");
    }
    if (rc == KVSTORE_OK)
        rc = kvf_temp_commit(b, w.tmp, w.name);
    else
        kvf_temp_discard(b, w.tmp);
    kvf_unlock(&w.lk);
    return rc == KVSTORE_OK ? kvf_dir_sync(b) : rc;
}

void kvf_cas_free(void *handle)
{
    kvf_cas *cas = handle;
    kvstore_free(cas->value);
    free(cas);
}

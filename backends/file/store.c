/*
 * libkvstore - file backend: get, set, delete, exists of one key.
 *
 * Writers of a key serialise on its lock (record.c) only around the step
 * that must see the current state: the rename (set, CAS) or unlink
 * (delete), and for increment the read-modify-write. Writing and fsyncing
 * a new value happens before the lock is taken, so writers of one key do
 * not wait on each other's disk flushes except in increment (atomics.c).
 *
 * SPDX-License-Identifier: MIT
 */
#include "file.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

int kvf_too_big(size_t len)
{
    return kvstore_set_error(KVSTORE_ETOOBIG, "file: a value of %zu bytes "
                             "exceeds the limit of %zu bytes (1 GiB)", len,
                             KVF_VALUE_MAX);
}

int kvf_read_key(kvf_bucket *b, const char *key, bool want_value,
                 kvf_record *rec)
{
    char name[KVF_NAME_BUF];
    size_t klen = strlen(key);

    kvf_name_encode(key, klen, name);
    return kvf_record_read(b, name, key, klen, want_value, rec);
}

int kvf_get(void *bucket, const char *key, void **value, size_t *len)
{
    kvf_record rec;

    *value = NULL;
    *len = 0;
    int rc = kvf_read_key(bucket, key, true, &rec);
    if (rc == KVSTORE_OK) {
        *value = rec.value;
        *len = rec.len;
    }
    return rc;
}

int kvf_exists(void *bucket, const char *key, bool *exists)
{
    kvf_record rec;
    int rc = kvf_read_key(bucket, key, false, &rec);

    *exists = rc == KVSTORE_OK;
    return rc == KVSTORE_NOTFOUND ? KVSTORE_OK : rc;
}

int kvf_stage(kvf_bucket *b, const char *key, const void *value, size_t len,
              uint64_t expires, kvf_staged *w)
{
    uint64_t version;

    if (len > KVF_VALUE_MAX)
        return kvf_too_big(len);
    w->klen = strlen(key);
    kvf_name_encode(key, w->klen, w->name);
    int rc = kvf_temp_write(b, key, w->klen, value, len, expires, w->tmp,
                            &version);
    if (rc != KVSTORE_OK)
        return rc;
    rc = kvf_lock(b, w->name, &w->lk);
    if (rc != KVSTORE_OK)
        kvf_temp_discard(b, w->tmp);
    return rc;
}

int kvf_set_one(kvf_bucket *b, const char *key, const void *value,
                size_t len, uint64_t expires)
{
    kvf_staged w;
    int rc = kvf_stage(b, key, value, len, expires, &w);

    if (rc != KVSTORE_OK)
        return rc;
    rc = kvf_temp_commit(b, w.tmp, w.name);
    kvf_unlock(&w.lk);
    return rc;
}

int kvf_del_one(kvf_bucket *b, const char *key)
{
    char name[KVF_NAME_BUF];
    kvf_lock_t lk;

    kvf_name_encode(key, strlen(key), name);
    int rc = kvf_lock(b, name, &lk);
    if (rc != KVSTORE_OK)
        return rc;
    if (unlinkat(b->dfd, name, 0) < 0 && errno != ENOENT)
        rc = kvf_errno(errno, "delete", b->name);
    kvf_unlock(&lk);
    return rc;
}

int kvf_set(void *bucket, const char *key, const void *value, size_t len)
{
    int rc = kvf_set_one(bucket, key, value, len, 0);
    return rc == KVSTORE_OK ? kvf_dir_sync(bucket) : rc;
}

int kvf_del(void *bucket, const char *key)
{
    int rc = kvf_del_one(bucket, key);
    return rc == KVSTORE_OK ? kvf_dir_sync(bucket) : rc;
}


/* The bucket says once, in a marker file, that some record may expire:
 * listing reads record headers only where the marker exists (list.c). */
static int mark_ttl(kvf_bucket *b)
{
    if (atomic_load(&b->ttl_marked))
        return KVSTORE_OK;
    int fd = openat(b->dfd, KVF_TTL_MARK,
                    O_WRONLY | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);
    if (fd < 0)
        return kvf_errno(errno, "create expiry marker", b->name);
    close(fd);
    atomic_store(&b->ttl_marked, true);
    return KVSTORE_OK;
}

int kvf_set_ttl(void *bucket, const char *key, const void *value, size_t len,
                uint64_t ttl_ms)
{
    kvf_bucket *b = bucket;
    uint64_t now = kvf_now_ms();
    /* A TTL beyond the clock's range saturates: never expires in
     * practice. */
    uint64_t expires = ttl_ms > UINT64_MAX - 1 - now ? UINT64_MAX - 1
                                                      : now + ttl_ms;
    int rc = mark_ttl(b);
    if (rc == KVSTORE_OK)
        rc = kvf_set_one(b, key, value, len, expires);
    return rc == KVSTORE_OK ? kvf_dir_sync(b) : rc;
}

int kvf_ttl(void *bucket, const char *key, int64_t *ms_left)
{
    kvf_record rec;

    *ms_left = -1;
    int rc = kvf_read_key(bucket, key, false, &rec);
    if (rc != KVSTORE_OK)
        return rc; /* NOTFOUND for a missing or expired key */
    if (rec.expires != 0) {
        uint64_t now = kvf_now_ms();
        uint64_t left = rec.expires > now ? rec.expires - now : 0;
        *ms_left = left > INT64_MAX ? INT64_MAX : (int64_t)left;
    }
    return KVSTORE_OK;
}

/*
 * libkvstore - file backend: the on-disk record, temp files and locks.
 *
 * Every file is read and written with *at() calls relative to the held
 * bucket directory descriptor, with O_NOFOLLOW: a name never contains "/"
 * (encode.c), so nothing outside the bucket directory can be reached, and
 * a symlink planted inside it is refused rather than followed.
 *
 * SPDX-License-Identifier: MIT
 */
#include "file.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

static void put_le32(uint8_t *p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

static void put_le64(uint8_t *p, uint64_t v)
{
    for (int i = 0; i < 8; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

static uint32_t get_le32(const uint8_t *p)
{
    uint32_t v = 0;
    for (int i = 3; i >= 0; i--)
        v = v << 8 | p[i];
    return v;
}

static uint64_t get_le64(const uint8_t *p)
{
    uint64_t v = 0;
    for (int i = 7; i >= 0; i--)
        v = v << 8 | p[i];
    return v;
}

int kvf_errno(int err, const char *what, const char *bucket)
{
    int code = KVSTORE_EIO;
    switch (err) {
    case EACCES:
    case EPERM:
    case EROFS:
        code = KVSTORE_EACCESS;
        break;
    case ENOMEM:
        code = KVSTORE_ENOMEM;
        break;
    default:
        break;
    }
    if (err == ELOOP)
        return kvstore_set_error(code, "file: %s in bucket '%s': refusing "
                                 "to follow a symbolic link", what, bucket);
    return kvstore_set_error(code, "file: %s in bucket '%s': %s", what,
                             bucket, strerror(err));
}

uint64_t kvf_random(kvf_store *s)
{
    /* splitmix64 over (seed, pid, counter): distinct inputs give distinct
     * outputs, and the pid keeps forked children from repeating their
     * parent's sequence. */
    uint64_t n = atomic_fetch_add(&s->counter, 1) + 1;
    uint64_t z = (s->seed ^ ((uint64_t)getpid() << 40)) +
                 n * 0x9E3779B97F4A7C15ull;
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

uint64_t kvf_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* Parses a record header from the `have` bytes at `p`: "KVF1" (24 bytes,
 * no expiry) or "KVF2" (32 bytes, + the expiry). Returns the header's
 * length, or 0 if it is neither. Lengths are not checked here. */
static size_t header_parse(const uint8_t *p, size_t have, size_t *klen,
                           uint64_t *version, uint64_t *vlen,
                           uint64_t *expires)
{
    size_t head;
    if (have >= KVF_HEADER_LEN && memcmp(p, KVF_MAGIC, 4) == 0) {
        head = KVF_HEADER_LEN;
        *expires = 0;
    } else if (have >= KVF_HEADER2_LEN && memcmp(p, KVF_MAGIC2, 4) == 0) {
        head = KVF_HEADER2_LEN;
        *expires = get_le64(p + 24);
    } else {
        return 0;
    }
    *klen = get_le32(p + 4);
    *version = get_le64(p + 8);
    *vlen = get_le64(p + 16);
    return head;
}

static bool expired(uint64_t expires)
{
    return expires != 0 && expires <= kvf_now_ms();
}

static int not_regular(kvf_bucket *b)
{
    return kvstore_set_error(KVSTORE_EIO, "file: an entry of bucket '%s' is "
                             "not a regular file", b->name);
}

/* Opens the entry `name` for reading, never through a link; NOTFOUND when
 * there is none. */
static int open_entry(kvf_bucket *b, const char *name, int *fdp)
{
    /* O_NONBLOCK: a FIFO planted under a key name must not hang us. */
    *fdp = openat(b->dfd, name,
                  O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
    if (*fdp >= 0)
        return KVSTORE_OK;
    return errno == ENOENT ? KVSTORE_NOTFOUND
           : errno == ENXIO ? not_regular(b) /* a socket */
                            : kvf_errno(errno, "open", b->name);
}

static int open_record(kvf_bucket *b, const char *name, int *fdp,
                       struct stat *st)
{
    int fd;
    int rc = open_entry(b, name, &fd);
    if (rc != KVSTORE_OK)
        return rc;
    if (fstat(fd, st) < 0) {
        int err = errno;
        close(fd);
        return kvf_errno(err, "stat", b->name);
    }
    if (!S_ISREG(st->st_mode)) {
        close(fd);
        return not_regular(b);
    }
    *fdp = fd;
    return KVSTORE_OK;
}

static int corrupt(kvf_bucket *b)
{
    return kvstore_set_error(KVSTORE_EIO, "file: a record in bucket '%s' is "
                             "incomplete or corrupt", b->name);
}

/* Reads from `off` until `cap` bytes or end of file; -1 on error. */
static ssize_t read_upto(int fd, void *buf, size_t cap, off_t off)
{
    size_t got = 0;
    while (got < cap) {
        ssize_t r = pread(fd, (char *)buf + got, cap - got, off + (off_t)got);
        if (r < 0) {
            if (errno == EINTR)
                continue;
            return -1;
        }
        if (r == 0)
            break;
        got += (size_t)r;
    }
    return (ssize_t)got;
}

/* Reads a record with as few system calls as a plain open/read/close:
 * one read into a stack buffer serves every record shorter than it; the
 * header gives the length of longer ones. A FIFO (O_NONBLOCK: no hang) or
 * a directory under a key's name fails that read. */
#define READ_CHUNK 8192

int kvf_record_read(kvf_bucket *b, const char *name, const char *key,
                    size_t klen, bool want_value, kvf_record *rec)
{
    uint8_t buf[READ_CHUNK];
    size_t hlen, hk;
    uint64_t version, vlen64, expires;
    void *value = NULL;
    int rc = KVSTORE_OK;

    rec->value = NULL;
    rec->len = 0;
    int fd;
    rc = open_entry(b, name, &fd);
    if (rc != KVSTORE_OK)
        return rc;
    ssize_t r = read_upto(fd, buf, sizeof buf, 0);
    if (r < 0) {
        /* pread of a directory is EISDIR, of a FIFO ESPIPE ("Illegal
         * seek", which would only puzzle the reader). */
        rc = errno == EISDIR || errno == EAGAIN || errno == EINVAL ||
                     errno == ESPIPE
                 ? not_regular(b)
                 : kvf_errno(errno, "read", b->name);
        goto out;
    }
    /* The header must describe exactly this key. */
    size_t head = header_parse(buf, (size_t)r, &hk, &version, &vlen64,
                               &expires);
    hlen = head + klen;
    if (head == 0 || hk != klen || (size_t)r < hlen ||
        vlen64 > KVF_VALUE_MAX ||
        memcmp(buf + head, key, klen) != 0) {
        rc = corrupt(b);
        goto out;
    }
    /* An expired record is absent for every read, reaped or not. */
    if (expired(expires)) {
        rc = KVSTORE_NOTFOUND;
        goto out;
    }
    size_t vlen = (size_t)vlen64;
    size_t total = hlen + vlen;
    if (total < sizeof buf) {
        /* read_upto stopped short of the buffer: r is the file size */
        if ((size_t)r != total) {
            rc = corrupt(b);
            goto out;
        }
        if (want_value) {
            value = kvstore_malloc(vlen ? vlen : 1);
            if (value == NULL)
                goto nomem;
            memcpy(value, buf + hlen, vlen);
        }
    } else if (want_value) {
        value = kvstore_malloc(vlen);
        if (value == NULL)
            goto nomem;
        size_t have = (size_t)r - hlen;
        memcpy(value, buf + hlen, have);
        uint8_t extra;
        ssize_t more = read_upto(fd, (char *)value + have, vlen - have, r);
        if (more < 0) {
            rc = kvf_errno(errno, "read", b->name);
            goto out;
        }
        /* exactly vlen bytes, then end of file */
        if ((size_t)more != vlen - have ||
            read_upto(fd, &extra, 1, (off_t)total) != 0) {
            rc = corrupt(b);
            goto out;
        }
    } else {
        struct stat st;
        if (fstat(fd, &st) < 0) {
            rc = kvf_errno(errno, "stat", b->name);
            goto out;
        }
        if ((uint64_t)st.st_size != total) {
            rc = corrupt(b);
            goto out;
        }
    }
    rec->version = version;
    rec->expires = expires;
    rec->value = value;
    rec->len = vlen;
    value = NULL;
    goto out;
nomem:
    rc = kvstore_set_error(KVSTORE_ENOMEM, "file: out of memory");
out:
    close(fd);
    kvstore_free(value);
    return rc;
}

size_t kvf_record_key(kvf_bucket *b, const char *name, char *key,
                      uint64_t *expires)
{
    int fd = -1;
    struct stat st;
    if (open_record(b, name, &fd, &st) != KVSTORE_OK)
        return 0;
    uint8_t head[KVF_HEADER2_LEN + KVSTORE_KEY_MAX];
    ssize_t got = read_upto(fd, head, sizeof head, 0);
    close(fd);
    size_t want = got < 0 ? 0 : (size_t)got, klen;
    uint64_t version, vlen, exp;
    size_t hl = header_parse(head, want, &klen, &version, &vlen, &exp);
    if (hl == 0 || klen == 0 || klen > KVSTORE_KEY_MAX || hl + klen > want ||
        vlen != (uint64_t)st.st_size - hl - klen)
        return 0;
    if (expires)
        *expires = exp;
    memcpy(key, head + hl, klen);
    key[klen] = '\0';
    /* Only a file named after its own key counts: a copied or renamed
     * file must not show up under another name. */
    if (memchr(key, '\0', klen) || !kvstore_utf8_valid(key, klen) ||
        !kvf_name_matches(name, key, klen))
        return 0;
    return klen;
}

bool kvf_record_expires(kvf_bucket *b, const char *name, uint64_t *expires)
{
    int fd = -1;
    struct stat st;
    *expires = 0;
    if (open_record(b, name, &fd, &st) != KVSTORE_OK)
        return false;
    uint8_t head[KVF_HEADER2_LEN];
    ssize_t got = read_upto(fd, head, sizeof head, 0);
    close(fd);
    size_t klen;
    uint64_t version, vlen;
    return got > 0 && header_parse(head, (size_t)got, &klen, &version, &vlen,
                                   expires) != 0;
}

bool kvf_expired(uint64_t expires)
{
    return expired(expires);
}

static int writev_full(int fd, struct iovec *iov, int cnt)
{
    while (cnt > 0) {
        ssize_t r = writev(fd, iov, cnt);
        if (r < 0) {
            if (errno == EINTR)
                continue;
            return -1;
        }
        size_t put = (size_t)r;
        while (cnt > 0 && put >= iov->iov_len) {
            put -= iov->iov_len;
            iov++;
            cnt--;
        }
        if (cnt > 0) {
            iov->iov_base = (char *)iov->iov_base + put;
            iov->iov_len -= put;
        }
    }
    return 0;
}

int kvf_temp_write(kvf_bucket *b, const char *key, size_t klen,
                   const void *value, size_t len, uint64_t expires, char *tmp,
                   uint64_t *version)
{
    int fd = -1;
    for (int tries = 0; fd < 0 && tries < 8; tries++) {
        snprintf(tmp, KVF_TEMP_NAME_BUF, ".tmp.%016llx",
                 (unsigned long long)kvf_random(b->store));
        fd = openat(b->dfd, tmp,
                    O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
                    0600);
        if (fd < 0 && errno != EEXIST)
            break;
    }
    if (fd < 0)
        return kvf_errno(errno, "create temp file", b->name);

    /* A record without expiry keeps the 1.0 format, so that older
     * readers of the store still read it. */
    uint8_t head[KVF_HEADER2_LEN];
    *version = kvf_random(b->store);
    memcpy(head, expires ? KVF_MAGIC2 : KVF_MAGIC, 4);
    put_le32(head + 4, (uint32_t)klen);
    put_le64(head + 8, *version);
    put_le64(head + 16, len);
    put_le64(head + 24, expires);
    struct iovec iov[3] = {{head, expires ? KVF_HEADER2_LEN : KVF_HEADER_LEN},
                           {(void *)key, klen},
                           {(void *)value, len}};
    int err = 0;
    if (writev_full(fd, iov, len ? 3 : 2) < 0 ||
        (b->store->sync && fsync(fd) < 0))
        err = errno;
    if (close(fd) < 0 && err == 0 && errno != EINTR)
        err = errno;
    if (err != 0) {
        unlinkat(b->dfd, tmp, 0);
        return kvf_errno(err, "write", b->name);
    }
    kvf_watch_note(b, tmp, key, klen, value, len);
    return KVSTORE_OK;
}

int kvf_temp_commit(kvf_bucket *b, const char *tmp, const char *name)
{
    /* rename() replaces the name atomically: readers see the old or the
     * new record, never a mix; a symlink at `name` is replaced, not
     * followed. */
    if (renameat(b->dfd, tmp, b->dfd, name) < 0) {
        int err = errno;
        kvf_temp_discard(b, tmp);
        return kvf_errno(err, "rename", b->name);
    }
    return KVSTORE_OK;
}

void kvf_temp_discard(kvf_bucket *b, const char *tmp)
{
    unlinkat(b->dfd, tmp, 0);
    kvf_watch_forget(b, tmp);
}

int kvf_dir_sync(kvf_bucket *b)
{
    /* Makes the rename (or unlink) itself durable. */
    if (b->store->sync && fsync(b->dfd) < 0)
        return kvf_errno(errno, "fsync directory", b->name);
    return KVSTORE_OK;
}

/* Threads of one process first meet on a mutex stripe, so that at most
 * one of them per stripe waits in the kernel: a thread blocked in fcntl
 * then only ever waits for another process. (It also keeps valgrind, which
 * runs one thread at a time and does not know F_OFD_SETLKW blocks, from
 * deadlocking.) Stripes are process-wide, shared by every store handle. */
#define KVF_STRIPES 256
static pthread_mutex_t stripes[KVF_STRIPES];
static pthread_once_t stripes_once = PTHREAD_ONCE_INIT;

static void stripes_init(void)
{
    for (int i = 0; i < KVF_STRIPES; i++)
        pthread_mutex_init(&stripes[i], NULL);
}

int kvf_lock(kvf_bucket *b, const char *name, kvf_lock_t *lk)
{
    /* An open file description of its own per operation: OFD locks then
     * exclude other processes, including forked children that inherited
     * our descriptors (a shared descriptor would not), and the kernel drops
     * the lock if the process dies. The locked byte is a hash of the file
     * name, so writers of different keys rarely wait for each other. */
    uint32_t h = 2166136261u;
    for (const char *p = name; *p; p++)
        h = (h ^ (unsigned char)*p) * 16777619u;
    lk->stripe = h % KVF_STRIPES;
    pthread_once(&stripes_once, stripes_init);
    pthread_mutex_lock(&stripes[lk->stripe]);
    lk->fd = openat(b->dfd, ".lock",
                    O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);
    if (lk->fd < 0) {
        int err = errno;
        pthread_mutex_unlock(&stripes[lk->stripe]);
        return kvf_errno(err, "open lock file", b->name);
    }
    struct flock fl = {.l_type = F_WRLCK, .l_whence = SEEK_SET,
                       .l_start = (off_t)(h & 0xFFFF), .l_len = 1};
    while (fcntl(lk->fd, F_OFD_SETLKW, &fl) < 0) {
        if (errno != EINTR) {
            int err = errno;
            close(lk->fd);
            pthread_mutex_unlock(&stripes[lk->stripe]);
            return kvf_errno(err, "lock", b->name);
        }
    }
    return KVSTORE_OK;
}

void kvf_unlock(kvf_lock_t *lk)
{
    close(lk->fd); /* the last descriptor of the OFD: the lock goes */
    pthread_mutex_unlock(&stripes[lk->stripe]);
}

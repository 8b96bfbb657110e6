/*
 * libkvstore - file backend: buckets (open, close, list, remove, info).
 *
 * A bucket is a subdirectory of the store directory named exactly as the
 * bucket. Every access goes through the store's root descriptor with
 * O_NOFOLLOW: a symbolic link planted in the root under a bucket's name
 * is never followed, opened, listed or emptied.
 *
 * SPDX-License-Identifier: MIT
 */
#include "file.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* Directory levels bucket_remove descends into. A bucket holds only files;
 * deeper trees were planted by hand and are left alone past this depth. */
#define PURGE_DEPTH 8
/* Sweeps of a removed bucket: a writer holding a handle may still drop a
 * file into it after a sweep (it cannot after the directory is gone). */
#define PURGE_TRIES 4

static int no_bucket(const char *name)
{
    return kvstore_set_error(KVSTORE_ENOSTORE, "file: no bucket '%s'", name);
}

/* The entry `name` of the root, without following a symlink: a directory,
 * else no bucket (a symlink is refused as bucket_open refuses it). */
static int root_stat(kvf_store *s, const char *name, struct stat *st)
{
    if (fstatat(s->rootfd, name, st, AT_SYMLINK_NOFOLLOW) < 0)
        return errno == ENOENT || errno == ENOTDIR
                   ? no_bucket(name)
                   : kvf_errno(errno, "stat bucket directory", name);
    if (S_ISLNK(st->st_mode))
        return kvf_errno(ELOOP, "open bucket directory", name);
    return S_ISDIR(st->st_mode) ? KVSTORE_OK : no_bucket(name);
}

int kvf_bucket_open(void **out, void *store, const char *name, bool create)
{
    kvf_store *s = store;
    *out = NULL;
    if (create) {
        if (mkdirat(s->rootfd, name, 0700) == 0) {
            /* a new bucket's directory entry must outlast a crash too */
            if (s->sync && fsync(s->rootfd) < 0)
                return kvf_errno(errno, "fsync store directory", name);
        } else if (errno != EEXIST) {
            return kvf_errno(errno, "create bucket directory", name);
        }
    }
    /* O_NOFOLLOW: a symlink planted in the root in place of a bucket
     * would lead out of the store. */
    int fd = openat(s->rootfd, name,
                    O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0) {
        int err = errno;
        struct stat st;
        if (err == ENOENT)
            return no_bucket(name);
        /* With O_DIRECTORY, Linux reports a symlink as ENOTDIR, not
         * ELOOP: say which it is. */
        if (err == ENOTDIR &&
            fstatat(s->rootfd, name, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
            S_ISLNK(st.st_mode))
            err = ELOOP;
        return kvf_errno(err, "open bucket directory", name);
    }
    struct stat st;
    if (fstat(fd, &st) < 0) {
        int err = errno;
        close(fd);
        return kvf_errno(err, "stat bucket directory", name);
    }
    kvf_bucket *b = calloc(1, sizeof *b);
    if (b == NULL) {
        close(fd);
        return kvstore_set_error(KVSTORE_ENOMEM, "file: out of memory");
    }
    b->store = s;
    b->dfd = fd;
    b->dev = st.st_dev;
    b->ino = st.st_ino;
    strncpy(b->name, name, KVSTORE_BUCKET_NAME_MAX);
    *out = b;
    return KVSTORE_OK;
}

void kvf_bucket_close(void *bucket)
{
    kvf_bucket *b = bucket;
    close(b->dfd);
    free(b);
}

/* ---- listing ---------------------------------------------------------- */

/* Opens a directory stream on a descriptor of its own (closedir closes
 * it; readdir moves its offset). */
static DIR *open_dir(int at, const char *path)
{
    int fd = openat(at, path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW |
                              O_CLOEXEC);
    DIR *dir = fd < 0 ? NULL : fdopendir(fd);
    if (dir == NULL && fd >= 0) {
        int err = errno;
        close(fd);
        errno = err;
    }
    return dir;
}

/* The walk helper's fill for bucket names: the subdirectories of the root
 * with valid bucket names. Files and symlinks are not buckets. */
static int fill_buckets(void *ctx, const char *prefix, const char *after,
                        kvstore_walk_sink *sink)
{
    kvf_store *s = ctx;
    int rc = KVSTORE_OK;

    (void)prefix; /* always "" */
    DIR *dir = open_dir(s->rootfd, ".");
    if (dir == NULL)
        return kvf_errno(errno, "read store directory", ".");
    while (rc == KVSTORE_OK) {
        errno = 0;
        struct dirent *de = readdir(dir);
        if (de == NULL) {
            if (errno != 0)
                rc = kvf_errno(errno, "read store directory", ".");
            break;
        }
        size_t len = strlen(de->d_name);
        struct stat st;
        /* Other entries of the root are not buckets. */
        if (!kvstore_bucket_name_valid(de->d_name, len) ||
            (after != NULL && strcmp(de->d_name, after) <= 0) ||
            (de->d_type != DT_DIR &&
             (de->d_type != DT_UNKNOWN ||
              fstatat(s->rootfd, de->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0 ||
              !S_ISDIR(st.st_mode))))
            continue;
        rc = kvstore_walk_add(sink, de->d_name, len);
    }
    closedir(dir);
    return rc;
}

int kvf_bucket_list(void *store, const char *cursor, size_t limit,
                    kvstore_keys **out)
{
    kvf_store *s = store;
    /* Scope "": no bucket has that name, so it never meets a key walk. */
    return kvstore_walk_page(s->walks, "", "", cursor, limit, fill_buckets,
                             s, out);
}

/* ---- removal ---------------------------------------------------------- */

/* Unlinks every entry of the directory `fd`, descending into directories
 * (never through a symlink: unlinkat removes the link itself). Returns 0
 * or an errno. */
static int purge(int fd, int depth)
{
    DIR *dir = open_dir(fd, ".");
    int err = 0;
    if (dir == NULL)
        return errno;
    for (;;) {
        errno = 0;
        struct dirent *de = readdir(dir);
        if (de == NULL) {
            if (errno != 0 && err == 0)
                err = errno;
            break;
        }
        const char *name = de->d_name;
        if (strcmp(name, ".") == 0 || strcmp(name, "..") == 0)
            continue;
        if (unlinkat(fd, name, 0) == 0 || errno == ENOENT)
            continue;
        if (errno != EISDIR || depth >= PURGE_DEPTH) {
            if (err == 0)
                err = errno;
            continue;
        }
        int sub = openat(fd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW |
                                   O_CLOEXEC);
        if (sub < 0) {
            if (err == 0 && errno != ENOENT)
                err = errno;
            continue;
        }
        int e = purge(sub, depth + 1);
        close(sub);
        if (e == 0 && unlinkat(fd, name, AT_REMOVEDIR) < 0 &&
            errno != ENOENT)
            e = errno;
        if (err == 0)
            err = e;
    }
    closedir(dir);
    return err;
}

int kvf_bucket_remove(void *store, const char *name)
{
    kvf_store *s = store;
    struct stat st;
    int rc = root_stat(s, name, &st);
    if (rc != KVSTORE_OK)
        return rc;

    /* First take the bucket out of the namespace in one step, under a
     * reserved name no bucket can have: from then on no open, list or
     * create by name reaches the old contents, and a new bucket of the
     * same name starts empty. */
    char gone[KVF_TEMP_NAME_BUF];
    snprintf(gone, sizeof gone, ".rm.%016llx",
             (unsigned long long)kvf_random(s));
    if (renameat(s->rootfd, name, s->rootfd, gone) < 0) {
        if (errno == ENOENT)
            return no_bucket(name);
        return kvf_errno(errno, "remove bucket directory", name);
    }
    /* Walks of this process in progress continue from their last key in
     * whatever now has the name, never from the old snapshot. */
    kvstore_walks_forget(s->walks, name);
    if (s->sync && fsync(s->rootfd) < 0)
        return kvf_errno(errno, "fsync store directory", name);

    int fd = openat(s->rootfd, gone, O_RDONLY | O_DIRECTORY | O_NOFOLLOW |
                                     O_CLOEXEC);
    if (fd < 0) {
        /* Swapped for something else between the stat and the rename
         * (a symlink, a file): remove that entry, never what it points
         * to. */
        if (errno == ENOTDIR || errno == ELOOP) {
            unlinkat(s->rootfd, gone, 0);
            return no_bucket(name);
        }
        return kvf_errno(errno, "remove bucket directory", name);
    }
    int err = 0;
    for (int i = 0; i < PURGE_TRIES; i++) {
        err = purge(fd, 0);
        if (err == 0 && unlinkat(s->rootfd, gone, AT_REMOVEDIR) == 0)
            break;
        if (err == 0)
            err = errno;
    }
    close(fd);
    /* ENOTEMPTY: a writer with an open handle kept adding files. The
     * bucket is gone all the same (nothing reaches the hidden name); the
     * leftover is documented in docs/backends/file.md. */
    if (err != 0 && err != ENOTEMPTY)
        return kvf_errno(err, "remove bucket directory", name);
    if (s->sync && fsync(s->rootfd) < 0)
        return kvf_errno(errno, "fsync store directory", name);
    return KVSTORE_OK;
}

/* ---- info ------------------------------------------------------------- */

static int count_key(void *ctx, const char *key, size_t len)
{
    (void)key;
    (void)len;
    ++*(int64_t *)ctx;
    return KVSTORE_OK;
}

int kvf_bucket_info(void *store, const char *name, kvstore_bucket_stat *info)
{
    kvf_store *s = store;
    kvf_bucket b = {.store = s};
    struct stat st;
    int rc = root_stat(s, name, &st);
    if (rc != KVSTORE_OK)
        return rc;
    snprintf(b.name, sizeof b.name, "%s", name);
    b.dfd = openat(s->rootfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW |
                                    O_CLOEXEC);
    if (b.dfd < 0)
        return errno == ENOENT ? no_bucket(name) : kvf_errno(errno, "open bucket directory", name);
    /* The keys a full listing would return. */
    int64_t keys = 0;
    rc = kvf_each_key(&b, count_key, &keys);
    close(b.dfd);
    if (rc != KVSTORE_OK)
        return rc;
    info->keys = keys;
    info->max_value = KVF_VALUE_MAX;
    info->ttl_ms = 0;
    return KVSTORE_OK;
}

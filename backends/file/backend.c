/*
 * libkvstore - file backend: the table, stores and buckets.
 *
 * URI: file:///abs/dir or file:rel/dir, options ?sync=true|false and the
 * core's ?create=true|false. The store holds a descriptor of its root
 * directory, each bucket one of its subdirectory; every later file access
 * is relative to those descriptors (record.c).
 *
 * SPDX-License-Identifier: MIT
 */
#include "file.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

/* mkdir -p with mode 0700 for every directory it creates. */
static int make_path(const char *path)
{
    char *p = strdup(path);
    if (p == NULL)
        return ENOMEM;
    int err = 0;
    for (char *s = p + 1; err == 0; s++) {
        if (*s != '/' && *s != '\0')
            continue;
        char c = *s;
        *s = '\0';
        if (mkdir(p, 0700) < 0 && errno != EEXIST)
            err = errno;
        *s = c;
        if (c == '\0')
            break;
    }
    free(p);
    return err;
}

static int store_error(int err, const char *what, const char *path)
{
    int code = err == EACCES || err == EPERM || err == EROFS
                   ? KVSTORE_EACCESS
                   : KVSTORE_EIO;
    return kvstore_set_error(code, "file: %s store directory '%s': %s", what,
                             path, strerror(err));
}

static int store_open(void **out, const kvstore_uri *uri)
{
    const char *path = kvstore_uri_path(uri);
    const char *hosts = kvstore_uri_hosts(uri);
    bool sync, create;
    int rc;

    *out = NULL;
    if (hosts != NULL && hosts[0] != '\0')
        return kvstore_set_error(KVSTORE_EINVAL, "file: '%s' names a host; "
                                 "use file:///abs/dir or file:rel/dir",
                                 kvstore_uri_redacted(uri));
    if (kvstore_uri_user(uri) != NULL)
        return kvstore_set_error(KVSTORE_EINVAL, "file: '%s' carries "
                                 "credentials, which a directory cannot "
                                 "check; remove them",
                                 kvstore_uri_redacted(uri));
    if (path == NULL || path[0] == '\0')
        return kvstore_set_error(KVSTORE_EINVAL, "file: '%s' has no "
                                 "directory path; use file:///abs/dir or "
                                 "file:rel/dir", kvstore_uri_redacted(uri));
    if ((rc = kvstore_uri_param_bool(uri, "sync", true, &sync)) != KVSTORE_OK ||
        (rc = kvstore_uri_param_bool(uri, "create", true, &create)) !=
            KVSTORE_OK)
        return rc;

    int fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0 && errno == ENOENT && create) {
        int err = make_path(path);
        if (err != 0)
            return store_error(err, "cannot create", path);
        fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    }
    if (fd < 0) {
        if (errno == ENOENT || errno == ENOTDIR)
            return kvstore_set_error(KVSTORE_ENOSTORE, "file: no store "
                                     "directory '%s'", path);
        return store_error(errno, "cannot open", path);
    }

    kvf_store *s = calloc(1, sizeof *s);
    if (s == NULL) {
        close(fd);
        return kvstore_set_error(KVSTORE_ENOMEM, "file: out of memory");
    }
    s->rootfd = fd;
    s->sync = sync;
    if (getrandom(&s->seed, sizeof s->seed, 0) != sizeof s->seed)
        s->seed = (uint64_t)time(NULL) * 0x9E3779B97F4A7C15ull ^
                  (uint64_t)(uintptr_t)s; /* ids stay unique per process */
    atomic_init(&s->counter, 0);
    pthread_mutex_init(&s->walks_mu, NULL);
    *out = s;
    return KVSTORE_OK;
}

static void store_close(void *store)
{
    kvf_store *s = store;
    if (s == NULL)
        return;
    kvf_walks_free(s);
    pthread_mutex_destroy(&s->walks_mu);
    close(s->rootfd);
    free(s);
}

static int bucket_open(void **out, void *store, const char *name, bool create)
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
        if (errno == ENOENT)
            return kvstore_set_error(KVSTORE_ENOSTORE, "file: no bucket "
                                     "'%s'", name);
        return kvf_errno(errno, "open bucket directory", name);
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

static void bucket_close(void *bucket)
{
    kvf_bucket *b = bucket;
    if (b == NULL)
        return;
    close(b->dfd);
    free(b);
}

static const char *const file_options[] = {"sync", NULL};

const kvstore_backend kvstore_builtin_file = {
    .version = 1, /* list_keys still wraps its own cursors */
    .name = "file",
    .options = file_options,
    .store_open = store_open,
    .store_close = store_close,
    .bucket_open = bucket_open,
    .bucket_close = bucket_close,
    .get = kvf_get,
    .set = kvf_set,
    .del = kvf_del,
    .exists = kvf_exists,
    .list_keys = kvf_list_keys,
    .set_many = kvf_set_many,
    .delete_many = kvf_delete_many,
    .increment = kvf_increment,
    .cas_open = kvf_cas_open,
    .cas_swap = kvf_cas_swap,
    .cas_free = kvf_cas_free,
    .watch_start = kvf_watch_start,
    .watch_stop = kvf_watch_stop,
};

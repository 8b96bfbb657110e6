/*
 * libkvstore - file backend: watch via inotify.
 *
 * One library thread per watch polls an inotify descriptor on the bucket
 * directory and an eventfd that watch_stop uses to wake it; watch_stop
 * joins the thread, so the callback is never called after it returns.
 *
 * Every write ends with a rename onto the key's name (IN_MOVED_TO), a
 * delete is an unlink (IN_DELETE). A file written in place by another
 * tool shows up as IN_CLOSE_WRITE, a file moved away as IN_MOVED_FROM.
 * Names starting with "." (temp files, the lock file) are ignored. The
 * value of a SET is read when the event is handled, so it may already be
 * a later value of the key (docs/backends/file.md, "Watch").
 *
 * SPDX-License-Identifier: MIT
 */
#include "file.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/inotify.h>
#include <unistd.h>
#include <uthash.h>

/* The key behind a hashed-form name: once the file is gone its key can no
 * longer be read, so the watch remembers the long keys it has seen. */
typedef struct long_name {
    char name[KVF_NAME_HASHED_LEN + 1];
    char *key; /* owned */
    UT_hash_handle hh;
} long_name;

typedef struct kvf_watch {
    kvf_bucket *bucket;  /* borrowed: watches stop before buckets close */
    char *prefix;        /* owned */
    size_t plen;
    kvstore_watch_fn fn;
    void *payload;
    int ifd;             /* inotify */
    int efd;             /* eventfd: stop request */
    pthread_t thread;
    long_name *names;    /* owned, used only by the thread after start */
} kvf_watch;

static void remember(kvf_watch *w, const char *name, const char *key,
                     size_t klen)
{
    long_name *ln;
    HASH_FIND_STR(w->names, name, ln);
    if (ln != NULL)
        return;
    if ((ln = calloc(1, sizeof *ln)) == NULL ||
        (ln->key = strndup(key, klen)) == NULL) {
        free(ln);
        return; /* only the DELETE of this long key would be missed */
    }
    memcpy(ln->name, name, KVF_NAME_HASHED_LEN + 1);
    HASH_ADD_STR(w->names, name, ln);
}

static void on_set(kvf_watch *w, const char *name)
{
    char key[KVSTORE_KEY_MAX + 1];
    size_t klen;
    bool hashed = kvf_name_is_hashed(name);

    klen = hashed ? kvf_record_key(w->bucket, name, key)
                  : kvf_name_decode(name, key);
    if (klen == 0 || klen < w->plen || memcmp(key, w->prefix, w->plen) != 0)
        return;
    if (hashed)
        remember(w, name, key, klen);
    kvf_record rec;
    /* NOTFOUND: deleted since; its DELETE event follows. */
    if (kvf_record_read(w->bucket, name, key, klen, true, &rec) != KVSTORE_OK)
        return;
    w->fn(w->payload, KVSTORE_EVENT_SET, key, rec.value, rec.len);
    kvstore_free(rec.value);
}

static void on_delete(kvf_watch *w, const char *name)
{
    char key[KVSTORE_KEY_MAX + 1];
    size_t klen;

    if (kvf_name_is_hashed(name)) {
        long_name *ln;
        HASH_FIND_STR(w->names, name, ln);
        if (ln == NULL)
            return;
        HASH_DEL(w->names, ln);
        klen = strlen(ln->key);
        memcpy(key, ln->key, klen + 1);
        free(ln->key);
        free(ln);
    } else {
        klen = kvf_name_decode(name, key);
    }
    if (klen == 0 || klen < w->plen || memcmp(key, w->prefix, w->plen) != 0)
        return;
    w->fn(w->payload, KVSTORE_EVENT_DELETE, key, NULL, 0);
}

static void *watch_main(void *arg)
{
    kvf_watch *w = arg;
    char buf[64 * 1024]
        __attribute__((aligned(__alignof__(struct inotify_event))));

    for (;;) {
        struct pollfd p[2] = {{w->ifd, POLLIN, 0}, {w->efd, POLLIN, 0}};
        if (poll(p, 2, -1) < 0) {
            if (errno == EINTR)
                continue;
            break;
        }
        if (p[1].revents)
            break; /* watch_stop */
        ssize_t n = read(w->ifd, buf, sizeof buf);
        if (n <= 0) {
            if (n < 0 && (errno == EINTR || errno == EAGAIN))
                continue;
            break;
        }
        for (char *p2 = buf; p2 < buf + n;) {
            struct inotify_event *ev = (struct inotify_event *)p2;
            p2 += sizeof *ev + ev->len;
            if (ev->len == 0 || ev->name[0] == '.' || (ev->mask & IN_ISDIR))
                continue;
            if (ev->mask & (IN_MOVED_TO | IN_CLOSE_WRITE))
                on_set(w, ev->name);
            else if (ev->mask & (IN_DELETE | IN_MOVED_FROM))
                on_delete(w, ev->name);
        }
    }
    return NULL;
}

/* Learns the long keys already present, so their deletes can be named. */
static void learn_long_names(kvf_watch *w)
{
    int fd = openat(w->bucket->dfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    DIR *dir = fd < 0 ? NULL : fdopendir(fd);
    if (dir == NULL) {
        if (fd >= 0)
            close(fd);
        return;
    }
    struct dirent *de;
    while ((de = readdir(dir)) != NULL) {
        char key[KVSTORE_KEY_MAX + 1];
        if (!kvf_name_is_hashed(de->d_name))
            continue;
        size_t klen = kvf_record_key(w->bucket, de->d_name, key);
        if (klen >= w->plen && klen > 0 &&
            memcmp(key, w->prefix, w->plen) == 0)
            remember(w, de->d_name, key, klen);
    }
    closedir(dir);
}

static void watch_free(kvf_watch *w)
{
    long_name *ln, *tmp;
    HASH_ITER(hh, w->names, ln, tmp) {
        HASH_DEL(w->names, ln);
        free(ln->key);
        free(ln);
    }
    if (w->ifd >= 0)
        close(w->ifd);
    if (w->efd >= 0)
        close(w->efd);
    free(w->prefix);
    free(w);
}

int kvf_watch_start(void **out, void *bucket, const char *prefix,
                    kvstore_watch_fn fn, void *payload)
{
    kvf_bucket *b = bucket;
    kvf_watch *w = calloc(1, sizeof *w);
    char path[64];
    int rc;

    *out = NULL;
    if (w == NULL)
        return kvstore_set_error(KVSTORE_ENOMEM, "file: out of memory");
    w->ifd = w->efd = -1;
    w->bucket = b;
    w->fn = fn;
    w->payload = payload;
    w->plen = strlen(prefix);
    if ((w->prefix = strdup(prefix)) == NULL) {
        watch_free(w);
        return kvstore_set_error(KVSTORE_ENOMEM, "file: out of memory");
    }
    w->ifd = inotify_init1(IN_CLOEXEC | IN_NONBLOCK);
    w->efd = eventfd(0, EFD_CLOEXEC);
    if (w->ifd < 0 || w->efd < 0) {
        rc = kvf_errno(errno, "start watch", b->name);
        watch_free(w);
        return rc;
    }
    /* The held descriptor, not a path: the watch follows the very
     * directory the bucket opened, wherever the process's cwd is. */
    snprintf(path, sizeof path, "/proc/self/fd/%d", b->dfd);
    if (inotify_add_watch(w->ifd, path,
                          IN_CLOSE_WRITE | IN_MOVED_TO | IN_MOVED_FROM |
                              IN_DELETE | IN_ONLYDIR) < 0) {
        rc = kvf_errno(errno, "inotify_add_watch", b->name);
        watch_free(w);
        return rc;
    }
    learn_long_names(w);
    if ((errno = pthread_create(&w->thread, NULL, watch_main, w)) != 0) {
        rc = kvf_errno(errno, "start watch thread", b->name);
        watch_free(w);
        return rc;
    }
    *out = w;
    return KVSTORE_OK;
}

void kvf_watch_stop(void *handle)
{
    kvf_watch *w = handle;
    if (w == NULL)
        return;
    uint64_t one = 1;
    while (write(w->efd, &one, sizeof one) < 0 && errno == EINTR)
        ;
    pthread_join(w->thread, NULL);
    watch_free(w);
}

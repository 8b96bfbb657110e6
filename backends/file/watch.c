/*
 * libkvstore - file backend: watch via inotify.
 *
 * One library thread per watch polls an inotify descriptor on the bucket
 * directory and an eventfd that watch_stop uses to wake it; watch_stop
 * joins the thread, so the callback is never called after it returns.
 *
 * Every write ends with a rename of a temp file onto the key's name
 * (IN_MOVED_FROM ".tmp.X" + IN_MOVED_TO name, paired by a cookie), a
 * delete is an unlink (IN_DELETE). A file written in place by another tool
 * shows up as IN_CLOSE_WRITE, a file moved away as IN_MOVED_FROM.
 *
 * Values: by the time an event is handled, the file may already hold a
 * later value or be gone. So writers in this process hand each watch on
 * the same directory a copy of what they write, keyed by temp file name,
 * before the rename (kvf_watch_note); the rename's cookie names the temp
 * file, and the event carries exactly that write's value. Writes by other
 * processes are read from the file when the event is handled
 * (docs/backends/file.md, "Watch").
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

/* A write by this process, not yet seen as an event. */
typedef struct pending {
    char tmp[KVF_TEMP_NAME_BUF];
    char *key;   /* owned, NUL-terminated */
    void *value; /* owned, never NULL */
    size_t len;
    UT_hash_handle hh;
} pending;

/* Renames seen as IN_MOVED_FROM, waiting for their IN_MOVED_TO. */
#define MOVES 16

typedef struct kvf_watch kvf_watch;
struct kvf_watch {
    kvf_bucket *bucket;  /* borrowed: watches stop before buckets close */
    char *prefix;        /* owned */
    size_t plen;
    kvstore_watch_fn fn;
    void *payload;
    int ifd;             /* inotify */
    int efd;             /* eventfd: stop request */
    pthread_t thread;
    long_name *names;    /* owned, used only by the thread after start */
    struct {
        uint32_t cookie;
        char tmp[KVF_TEMP_NAME_BUF];
    } moves[MOVES];      /* thread only; a small ring */
    unsigned nmoves;
    pthread_mutex_t mu;  /* guards `pend` */
    pending *pend;       /* owned */
    kvf_watch *next;     /* in the registry */
};

/* Every running watch of the process, so writers can find the watches of
 * their directory. */
static pthread_mutex_t registry_mu = PTHREAD_MUTEX_INITIALIZER;
static kvf_watch *registry;
static atomic_int registry_size;

static bool matches(const kvf_watch *w, const char *key, size_t klen)
{
    return klen >= w->plen && memcmp(key, w->prefix, w->plen) == 0;
}

static void pending_free(pending *p)
{
    free(p->key);
    free(p->value);
    free(p);
}

void kvf_watch_note(kvf_bucket *b, const char *tmp, const char *key,
                    size_t klen, const void *value, size_t len)
{
    if (atomic_load(&registry_size) == 0)
        return; /* the common case costs one atomic load */
    pthread_mutex_lock(&registry_mu);
    for (kvf_watch *w = registry; w; w = w->next) {
        kvf_bucket *wb = w->bucket;
        if (wb->dev != b->dev || wb->ino != b->ino || !matches(w, key, klen))
            continue;
        /* Without a copy (out of memory) the event falls back to reading
         * the file. */
        pending *p = calloc(1, sizeof *p);
        if (p == NULL)
            continue;
        p->key = strndup(key, klen);
        p->value = malloc(len ? len : 1);
        if (p->key == NULL || p->value == NULL) {
            pending_free(p);
            continue;
        }
        memcpy(p->value, value, len);
        p->len = len;
        snprintf(p->tmp, sizeof p->tmp, "%s", tmp);
        pthread_mutex_lock(&w->mu);
        HASH_ADD_STR(w->pend, tmp, p);
        pthread_mutex_unlock(&w->mu);
    }
    pthread_mutex_unlock(&registry_mu);
}

static pending *take_pending(kvf_watch *w, const char *tmp)
{
    pending *p;
    pthread_mutex_lock(&w->mu);
    HASH_FIND_STR(w->pend, tmp, p);
    if (p != NULL)
        HASH_DEL(w->pend, p);
    pthread_mutex_unlock(&w->mu);
    return p;
}

void kvf_watch_forget(kvf_bucket *b, const char *tmp)
{
    if (atomic_load(&registry_size) == 0)
        return;
    pthread_mutex_lock(&registry_mu);
    for (kvf_watch *w = registry; w; w = w->next) {
        if (w->bucket->dev != b->dev || w->bucket->ino != b->ino)
            continue;
        pending *p = take_pending(w, tmp);
        if (p != NULL)
            pending_free(p);
    }
    pthread_mutex_unlock(&registry_mu);
}

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

/* A SET whose value is read from the file now. */
static void on_set_read(kvf_watch *w, const char *name)
{
    char key[KVSTORE_KEY_MAX + 1];
    size_t klen;
    bool hashed = kvf_name_is_hashed(name);

    klen = hashed ? kvf_record_key(w->bucket, name, key, NULL)
                  : kvf_name_decode(name, key);
    if (klen == 0 || !matches(w, key, klen))
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

static void on_moved_to(kvf_watch *w, const char *name, uint32_t cookie)
{
    pending *p = NULL;
    for (unsigned i = 0; cookie != 0 && i < MOVES; i++) {
        if (w->moves[i].cookie == cookie) {
            w->moves[i].cookie = 0;
            p = take_pending(w, w->moves[i].tmp);
            break;
        }
    }
    if (p == NULL) {
        on_set_read(w, name); /* another process, or a tool */
        return;
    }
    /* Our own write: the exact value, named by the key it was written
     * for (the name is that key's encoding by construction). */
    if (kvf_name_is_hashed(name))
        remember(w, name, p->key, strlen(p->key));
    w->fn(w->payload, KVSTORE_EVENT_SET, p->key, p->value, p->len);
    pending_free(p);
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
    if (klen == 0 || !matches(w, key, klen))
        return;
    w->fn(w->payload, KVSTORE_EVENT_DELETE, key, NULL, 0);
}

static void on_event(kvf_watch *w, const struct inotify_event *ev)
{
    if (ev->mask & IN_Q_OVERFLOW) {
        /* Lost events: copies that will never be matched would pile up. */
        pthread_mutex_lock(&w->mu);
        pending *p, *tmp;
        HASH_ITER(hh, w->pend, p, tmp) {
            HASH_DEL(w->pend, p);
            pending_free(p);
        }
        pthread_mutex_unlock(&w->mu);
        return;
    }
    if (ev->len == 0 || (ev->mask & IN_ISDIR))
        return;
    if (ev->name[0] == '.') {
        /* A temp file renamed away: remember which, for the MOVED_TO. */
        if ((ev->mask & IN_MOVED_FROM) && ev->cookie != 0 &&
            strlen(ev->name) < KVF_TEMP_NAME_BUF) {
            unsigned i = w->nmoves++ % MOVES;
            w->moves[i].cookie = ev->cookie;
            memcpy(w->moves[i].tmp, ev->name, strlen(ev->name) + 1);
        }
        return;
    }
    if (ev->mask & IN_MOVED_TO)
        on_moved_to(w, ev->name, ev->cookie);
    else if (ev->mask & IN_CLOSE_WRITE)
        on_set_read(w, ev->name);
    else if (ev->mask & (IN_DELETE | IN_MOVED_FROM))
        on_delete(w, ev->name);
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
        for (char *q = buf; q < buf + n;) {
            const struct inotify_event *ev = (const struct inotify_event *)q;
            q += sizeof *ev + ev->len;
            on_event(w, ev);
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
        size_t klen = kvf_record_key(w->bucket, de->d_name, key, NULL);
        if (klen > 0 && matches(w, key, klen))
            remember(w, de->d_name, key, klen);
    }
    closedir(dir);
}

static void watch_free(void *watch)
{
    kvf_watch *w = watch;
    long_name *ln, *ltmp;
    HASH_ITER(hh, w->names, ln, ltmp) {
        HASH_DEL(w->names, ln);
        free(ln->key);
        free(ln);
    }
    pending *p, *ptmp;
    HASH_ITER(hh, w->pend, p, ptmp) {
        HASH_DEL(w->pend, p);
        pending_free(p);
    }
    if (w->ifd >= 0)
        close(w->ifd);
    if (w->efd >= 0)
        close(w->efd);
    pthread_mutex_destroy(&w->mu);
    free(w->prefix);
    free(w);
}

static void registry_add(kvf_watch *w)
{
    pthread_mutex_lock(&registry_mu);
    w->next = registry;
    registry = w;
    atomic_fetch_add(&registry_size, 1);
    pthread_mutex_unlock(&registry_mu);
}

static void registry_remove(kvf_watch *w)
{
    pthread_mutex_lock(&registry_mu);
    for (kvf_watch **pp = &registry; *pp; pp = &(*pp)->next) {
        if (*pp == w) {
            *pp = w->next;
            atomic_fetch_sub(&registry_size, 1);
            break;
        }
    }
    pthread_mutex_unlock(&registry_mu);
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
    pthread_mutex_init(&w->mu, NULL);
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
    /* Registered before the thread runs and before we return: every write
     * after watch_start leaves its copy for this watch. */
    registry_add(w);
    rc = KVSTORE_OK;
    if ((errno = pthread_create(&w->thread, NULL, watch_main, w)) != 0) {
        rc = kvf_errno(errno, "start watch thread", b->name);
        registry_remove(w);
    }
    return kvstore_hand_over(rc, out, w, watch_free);
}

void kvf_watch_stop(void *handle)
{
    kvf_watch *w = handle;
    /* Out of the registry first: once this returns no writer touches
     * w->pend any more. */
    registry_remove(w);
    uint64_t one = 1;
    while (write(w->efd, &one, sizeof one) < 0 && errno == EINTR)
        ;
    pthread_join(w->thread, NULL);
    watch_free(w);
}

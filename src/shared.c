/*
 * The process-wide registry of objects that backends share per file
 * (kvstore_shared_*): one list under one lock, since a process opens few
 * files and opens them rarely.
 *
 * An open runs without the lock: opening a SQLite database may wait for
 * another process's lock for as long as its timeout_ms, and under the
 * registry's lock that wait held up every open of every other file of
 * the process. The entry is in the list while it opens (`opening`), so
 * that a second open of the same file waits for that one and gets its
 * object; the others pass it by.
 *
 * SPDX-License-Identifier: MIT
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "internal.h"

typedef struct shared {
    const char *kind; /* the caller's string: a backend's static name */
    dev_t dev;
    ino_t ino;
    pid_t pid; /* a child of fork() must not use its parent's objects */
    unsigned refs;
    bool opening; /* open_fn runs: obj is not there yet */
    void *obj;
    struct shared *next;
} shared;

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t opened = PTHREAD_COND_INITIALIZER; /* an open ended */
static shared *objects;

static shared *find(const struct stat *st, pid_t pid, const char *kind)
{
    shared *s = objects;
    while (s != NULL && !(s->dev == st->st_dev && s->ino == st->st_ino &&
                          s->pid == pid && strcmp(s->kind, kind) == 0))
        s = s->next;
    return s;
}

static void unlink_entry(shared *gone)
{
    shared **p = &objects;
    while (*p != gone)
        p = &(*p)->next;
    *p = gone->next;
}

int kvstore_shared_get(void **out, const char *kind, const char *path,
                       kvstore_shared_open_fn open_fn, void *ctx)
{
    struct stat st;
    if (out == NULL || kind == NULL || path == NULL || open_fn == NULL)
        return kvstore_set_error(KVSTORE_EINVAL, "an argument is NULL");
    *out = NULL;
    if (stat(path, &st) != 0)
        return kvstore_set_error(errno == ENOENT || errno == ENOTDIR
                                     ? KVSTORE_ENOSTORE
                                     : errno == EACCES ? KVSTORE_EACCESS
                                                       : KVSTORE_EIO,
                                 "%s: cannot open '%s': %s", kind, path,
                                 strerror(errno));
    pid_t me = getpid();
    int rc = KVSTORE_OK;
    pthread_mutex_lock(&lock);
    shared *s;
    /* An open of this file in progress: its object, or, if it fails,
     * this caller's own attempt (with its own error). */
    while ((s = find(&st, me, kind)) != NULL && s->opening)
        pthread_cond_wait(&opened, &lock);
    if (s != NULL) {
        s->refs++;
    } else if ((s = calloc(1, sizeof *s)) == NULL) {
        rc = kvstore_set_error(KVSTORE_ENOMEM, "%s: out of memory", kind);
    } else {
        *s = (shared){ kind, st.st_dev, st.st_ino, me, 1, true, NULL,
                       objects };
        objects = s;
        pthread_mutex_unlock(&lock);
        void *obj = NULL;
        rc = open_fn(&obj, ctx);
        pthread_mutex_lock(&lock);
        s->opening = false;
        s->obj = obj;
        if (rc != KVSTORE_OK) {
            unlink_entry(s);
            free(s);
            s = NULL;
        }
        pthread_cond_broadcast(&opened);
    }
    if (s != NULL)
        *out = s->obj;
    pthread_mutex_unlock(&lock);
    return rc;
}

void kvstore_shared_ref(void *obj)
{
    if (obj == NULL) /* would match an entry still opening */
        return;
    pthread_mutex_lock(&lock);
    for (shared *s = objects; s != NULL; s = s->next)
        if (s->obj == obj)
            s->refs++;
    pthread_mutex_unlock(&lock);
}

void kvstore_shared_put(void *obj, void (*free_fn)(void *obj))
{
    if (obj == NULL) /* would match an entry still opening */
        return;
    pthread_mutex_lock(&lock);
    shared **p = &objects;
    while (*p != NULL && (*p)->obj != obj)
        p = &(*p)->next;
    shared *s = *p;
    if (s != NULL && --s->refs == 0) {
        *p = s->next;
        /* Under the lock: a new open of the file must not overlap the
         * close of the old object (closing a file drops every fcntl lock
         * the process holds on it, the new object's too). */
        free_fn(obj);
        free(s);
    }
    pthread_mutex_unlock(&lock);
}

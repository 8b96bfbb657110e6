/*
 * The process-wide registry of objects that backends share per file
 * (kvstore_shared_*): one list under one lock, since a process opens few
 * files and opens them rarely.
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
    void *obj;
    struct shared *next;
} shared;

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static shared *objects;

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
    shared *s = objects;
    while (s != NULL && !(s->dev == st.st_dev && s->ino == st.st_ino &&
                          s->pid == me && strcmp(s->kind, kind) == 0))
        s = s->next;
    if (s != NULL) {
        s->refs++;
    } else if ((s = calloc(1, sizeof *s)) == NULL) {
        rc = kvstore_set_error(KVSTORE_ENOMEM, "%s: out of memory", kind);
    } else if ((rc = open_fn(&s->obj, ctx)) != KVSTORE_OK) {
        free(s);
        s = NULL;
    } else {
        *s = (shared){kind, st.st_dev, st.st_ino, me, 1, s->obj, objects};
        objects = s;
    }
    if (s != NULL)
        *out = s->obj;
    pthread_mutex_unlock(&lock);
    return rc;
}

void kvstore_shared_ref(void *obj)
{
    pthread_mutex_lock(&lock);
    for (shared *s = objects; s != NULL; s = s->next)
        if (s->obj == obj)
            s->refs++;
    pthread_mutex_unlock(&lock);
}

void kvstore_shared_put(void *obj, void (*free_fn)(void *obj))
{
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

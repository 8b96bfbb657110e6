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
#include <stdio.h>
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

/* A path or URI as a message shows it: one longer than MSG_PATH bytes
 * keeps only its end, after "...", so that the reason after it always fits
 * the 1024-byte message (a path may be 4095 bytes). */
#define MSG_PATH 160
typedef char msg_path[MSG_PATH + 1];

static const char *shorten(const char *s, msg_path buf)
{
    size_t n = strlen(s);
    if (n <= MSG_PATH)
        return s;
    const char *tail = s + n - (MSG_PATH - 3);
    while ((*tail & 0xC0) == 0x80)
        tail++; /* start on a whole UTF-8 character */
    snprintf(buf, sizeof(msg_path), "...%s", tail);
    return buf;
}

static int store_error(int err, const char *what, const char *path)
{
    int code = err == EACCES || err == EPERM || err == EROFS
                   ? KVSTORE_EACCESS
                   : KVSTORE_EIO;
    msg_path buf;
    return kvstore_set_error(code, "file: %s store directory '%s': %s", what,
                             shorten(path, buf), strerror(err));
}

int kvf_store_open(void **out, const kvstore_uri *uri)
{
    const char *path;
    bool sync, create;
    msg_path buf;

    *out = NULL;
    int rc = kvstore_uri_local(uri, "dir", &path, &sync, &create);
    if (rc != KVSTORE_OK)
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
                                     "directory '%s'", shorten(path, buf));
        return store_error(errno, "cannot open", path);
    }

    /* The walks: the helper's defaults, up to 16 walks, 256 MiB of
     * snapshots, 5 minutes idle. */
    kvf_store *s = calloc(1, sizeof *s);
    if (s == NULL || (s->walks = kvstore_walks_new(0, 0, 0)) == NULL) {
        close(fd);
        free(s);
        return kvstore_set_error(KVSTORE_ENOMEM, "file: out of memory");
    }
    s->rootfd = fd;
    s->sync = sync;
    if (getrandom(&s->seed, sizeof s->seed, 0) != sizeof s->seed)
        s->seed = (uint64_t)time(NULL) * 0x9E3779B97F4A7C15ull ^
                  (uint64_t)(uintptr_t)s; /* ids stay unique per process */
    atomic_init(&s->counter, 0);
    *out = s;
    return KVSTORE_OK;
}

void kvf_store_close(void *store)
{
    kvf_store *s = store;
    kvstore_walks_free(s->walks);
    close(s->rootfd);
    free(s);
}

static const char *const file_options[] = {"sync", NULL};

/* No get_many and no get_with: the core serves them with get. Watches of other processes' writes come
 * from inotify and read the file after the event, so a value may be newer
 * than its event. */
const kvstore_backend kvstore_builtin_file = {
    .version = KVSTORE_BACKEND_VERSION,
    .name = "file",
    .options = file_options,
    .caps = KVSTORE_CAP_WATCH_LATE_VALUES | KVSTORE_CAP_WATCH_CROSS_PROCESS |
            KVSTORE_CAP_TTL,
    KVSTORE_SLOTS_REQUIRED(kvf),
    .set_many = kvf_set_many,
    .delete_many = kvf_delete_many,
    KVSTORE_SLOTS_ATOMICS(kvf),
    KVSTORE_SLOTS_WATCH(kvf),
    KVSTORE_SLOTS_TTL(kvf),
    KVSTORE_SLOTS_BUCKETS(kvf),
};

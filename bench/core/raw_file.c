/*
 * bench-core - the raw file baseline: one file per key in one directory,
 * written the crash-safe way (temp file, write, fsync, rename, directory
 * fsync) and read with open/fstat/read/close. It uses openat() on a
 * directory descriptor kept open for the run and a fixed temp name per
 * key: the cheapest honest version of the sequence, so the ratio shows
 * everything the backend adds on top.
 *
 * SPDX-License-Identifier: MIT
 */
#include "workload.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

void raw_file_open(raw_file *f, const char *dir, bool sync)
{
    f->dirfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (f->dirfd < 0)
        bench_die("open %s: %s", dir, strerror(errno));
    f->sync = sync;
}

void raw_file_close(raw_file *f)
{
    if (f->dirfd >= 0)
        close(f->dirfd);
    f->dirfd = -1;
}

static void write_all(int fd, const unsigned char *p, size_t len)
{
    while (len > 0) {
        ssize_t n = write(fd, p, len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            bench_die("raw write: %s", strerror(errno));
        p += n;
        len -= (size_t)n;
    }
}

void raw_file_set_range(work *w, size_t from, size_t to)
{
    raw_file *f = w->file;
    char tmp[300];
    for (size_t i = from; i < to; i++) {
        snprintf(tmp, sizeof tmp, ".tmp-%s", w->keys[i]);
        int fd = openat(f->dirfd, tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC,
                        0644);
        if (fd < 0)
            bench_die("raw open %s: %s", tmp, strerror(errno));
        write_all(fd, w->value, w->vlen);
        if (f->sync && fsync(fd) != 0)
            bench_die("raw fsync: %s", strerror(errno));
        if (close(fd) != 0)
            bench_die("raw close: %s", strerror(errno));
        if (renameat(f->dirfd, tmp, f->dirfd, w->keys[i]) != 0)
            bench_die("raw rename: %s", strerror(errno));
        if (f->sync && fsync(f->dirfd) != 0)
            bench_die("raw directory fsync: %s", strerror(errno));
    }
}

void raw_file_get_range(work *w, size_t from, size_t to)
{
    raw_file *f = w->file;
    for (size_t i = from; i < to; i++) {
        int fd = openat(f->dirfd, w->keys[i], O_RDONLY | O_CLOEXEC);
        if (fd < 0)
            bench_die("raw open %s: %s", w->keys[i], strerror(errno));
        /* The size is needed to return the value in one buffer, as a get
         * must; fstat is how a reader learns it. */
        struct stat st;
        if (fstat(fd, &st) != 0)
            bench_die("raw fstat: %s", strerror(errno));
        size_t len = (size_t)st.st_size, got = 0;
        unsigned char *buf = bench_xmalloc(len);
        while (got < len) {
            ssize_t n = read(fd, buf + got, len - got);
            if (n < 0 && errno == EINTR)
                continue;
            if (n <= 0)
                bench_die("raw read %s: short", w->keys[i]);
            got += (size_t)n;
        }
        close(fd);
        if (len != w->vlen || (len > 0 && buf[len - 1] != w->value[len - 1]))
            bench_die("raw get %s: wrong value", w->keys[i]);
        free(buf);
    }
}

void raw_file_delete_range(work *w, size_t from, size_t to)
{
    raw_file *f = w->file;
    for (size_t i = from; i < to; i++) {
        if (unlinkat(f->dirfd, w->keys[i], 0) != 0 && errno != ENOENT)
            bench_die("raw unlink: %s", strerror(errno));
        if (f->sync && fsync(f->dirfd) != 0)
            bench_die("raw directory fsync: %s", strerror(errno));
    }
}

size_t raw_file_walk(work *w)
{
    DIR *d = opendir(w->dir);
    if (!d)
        bench_die("opendir %s: %s", w->dir, strerror(errno));
    size_t n = 0, cap = 1024;
    char **names = bench_xmalloc(cap * sizeof *names);
    struct dirent *de;
    while ((de = readdir(d)) != NULL) {
        if (de->d_name[0] == '.')
            continue;
        if (n == cap) {
            cap *= 2;
            names = bench_xrealloc(names, cap * sizeof *names);
        }
        names[n++] = bench_xstrdup(de->d_name);
    }
    closedir(d);
    bench_free_strings(names, n);
    return n;
}

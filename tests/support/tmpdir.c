/*
 * Temporary directories (see tmpdir.h).
 *
 * SPDX-License-Identifier: MIT
 */
#include "tmpdir.h"

#include <errno.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

char *ts_mkdtemp(const char *tag)
{
    const char *base = getenv("TMPDIR");
    size_t n;
    char *dir;

    if (base == NULL || base[0] == '\0')
        base = "/tmp";
    n = strlen(base) + strlen(tag) + sizeof "/-XXXXXX";
    dir = malloc(n);
    if (dir == NULL)
        return NULL;
    snprintf(dir, n, "%s/%s-XXXXXX", base, tag);
    if (mkdtemp(dir) == NULL) {
        int e = errno;
        free(dir);
        errno = e;
        return NULL;
    }
    return dir;
}

static int rm_one(const char *path, const struct stat *st, int flag,
                  struct FTW *ftw)
{
    (void)st; (void)flag; (void)ftw;
    remove(path);
    return 0;
}

void ts_rmtree(const char *dir)
{
    if (dir != NULL)
        nftw(dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

static char *process_dir;

static void remove_process_dir(void)
{
    ts_rmtree(process_dir);
    free(process_dir);
    process_dir = NULL;
}

const char *ts_process_tmpdir(const char *tag)
{
    if (process_dir == NULL && (process_dir = ts_mkdtemp(tag)) != NULL)
        atexit(remove_process_dir);
    return process_dir;
}

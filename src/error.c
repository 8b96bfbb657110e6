/*
 * Status texts and the thread-local error message.
 *
 * SPDX-License-Identifier: MIT
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"
#include "kvstore-config.h"

/* Messages are formatted into a fixed thread-local buffer so that
 * reporting a failure, including out of memory, never allocates. */
static _Thread_local char err_text[1024];
static _Thread_local bool err_set;
static _Thread_local unsigned err_generation;

const char *kvstore_version(void)
{
    return KVSTORE_VERSION_STRING;
}

const char *kvstore_strerror(int status)
{
    switch (status) {
    case KVSTORE_OK: return "success";
    case KVSTORE_NOTFOUND: return "key not found";
    case KVSTORE_EINVAL: return "invalid argument";
    case KVSTORE_ENOSTORE: return "no such store or bucket";
    case KVSTORE_EACCESS: return "access denied";
    case KVSTORE_EUNAVAILABLE: return "backend unavailable";
    case KVSTORE_ECONFLICT: return "compare-and-swap conflict";
    case KVSTORE_ENOTSUP: return "operation not supported by this backend";
    case KVSTORE_ETOOBIG: return "key or value too large";
    case KVSTORE_ENOMEM: return "out of memory";
    case KVSTORE_EEXISTS: return "backend already registered";
    case KVSTORE_EUNCERTAIN: return "write outcome uncertain";
    case KVSTORE_EIO: return "backend or I/O failure";
    default: return "unknown status";
    }
}

const char *kvstore_errmsg(void)
{
    return err_set ? err_text : "no error";
}

int kvstore_set_error(int code, const char *fmt, ...)
{
    /* Formatted aside first: a backend wrapping a lower layer's failure
     * passes kvstore_errmsg() itself as an argument, and formatting
     * err_text into itself would garble it (overlapping vsnprintf). */
    char text[sizeof err_text];
    va_list ap;

    if (fmt == NULL) {
        snprintf(text, sizeof text, "%s", kvstore_strerror(code));
    } else {
        va_start(ap, fmt);
        vsnprintf(text, sizeof text, fmt, ap);
        va_end(ap);
    }
    memcpy(err_text, text, strlen(text) + 1);
    err_set = true;
    err_generation++;
    return code;
}

unsigned kvs_error_mark(void)
{
    return err_generation;
}

/* The failure side of kvs_error_finish (internal.h): rc < 0. */
int kvs_error_explain(int rc, unsigned mark, const char *op)
{
    if (rc < KVSTORE_EIO) {
        kvstore_set_error(KVSTORE_EIO, "%s: backend returned unknown status %d",
                          op, rc);
        return KVSTORE_EIO;
    }
    if (err_generation == mark)
        kvstore_set_error(rc, "%s: %s", op, kvstore_strerror(rc));
    return rc;
}

void kvstore_free(void *p)
{
    free(p);
}

void *kvstore_malloc(size_t size)
{
    /* Never NULL for 0 bytes: an empty value is still a non-NULL pointer. */
    return malloc(size ? size : 1);
}

void *kvstore_realloc(void *p, size_t size)
{
    return realloc(p, size ? size : 1);
}

void *kvstore_memdup(const void *p, size_t len)
{
    char *copy;

    if (len == SIZE_MAX)
        return NULL;
    copy = malloc(len + 1);
    if (copy == NULL)
        return NULL;
    if (len)
        memcpy(copy, p, len);
    copy[len] = '\0';
    return copy;
}

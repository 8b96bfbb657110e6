/*
 * libkvstore - common definitions: export macro, version, status codes,
 * error reporting and memory release.
 *
 * SPDX-License-Identifier: MIT
 */
#ifndef KVSTORE_COMMON_H
#define KVSTORE_COMMON_H

#include <stddef.h>
#include <stdint.h>
#include <stdbool.h>

#ifdef __cplusplus
#define KVSTORE_BEGIN_DECLS extern "C" {
#define KVSTORE_END_DECLS }
#else
#define KVSTORE_BEGIN_DECLS
#define KVSTORE_END_DECLS
#endif

/* Every exported declaration carries KVSTORE_API; the library is built with
 * hidden visibility, so nothing without it leaves the shared object. */
#if defined(__GNUC__) || defined(__clang__)
#define KVSTORE_API __attribute__((visibility("default")))
#define KVSTORE_PRINTF(fmt, args) __attribute__((format(printf, fmt, args)))
#else
#define KVSTORE_API
#define KVSTORE_PRINTF(fmt, args)
#endif

#define KVSTORE_VERSION_MAJOR 1
#define KVSTORE_VERSION_MINOR 0
#define KVSTORE_VERSION_PATCH 0

/* Limits of the contract (docs/api.md). */
#define KVSTORE_KEY_MAX 1024         /* bytes, excluding the terminating NUL */
#define KVSTORE_BUCKET_NAME_MAX 64   /* bytes, [A-Za-z0-9_-] */
#define KVSTORE_PAGE_MAX 1000        /* keys per list_keys page, at most */
#define KVSTORE_CURSOR_MAX 4096      /* bytes of a cursor string, at most */

KVSTORE_BEGIN_DECLS

/** Status codes. Success is 0, KVSTORE_NOTFOUND is positive and not an
 * error, every failure is negative. */
enum {
    KVSTORE_OK = 0,
    KVSTORE_NOTFOUND = 1,      /* the key is absent (get, cas_current) */
    KVSTORE_EINVAL = -1,       /* bad argument: NULL, key, bucket, URI, cursor */
    KVSTORE_ENOSTORE = -2,     /* no such bucket or store, or unknown scheme */
    KVSTORE_EACCESS = -3,      /* credentials or operation refused */
    KVSTORE_EUNAVAILABLE = -4, /* backend unreachable; a retry may succeed */
    KVSTORE_ECONFLICT = -5,    /* compare-and-swap lost to a concurrent write */
    KVSTORE_ENOTSUP = -6,      /* operation not supported by this backend */
    KVSTORE_ETOOBIG = -7,      /* key or value above the backend's limit */
    KVSTORE_ENOMEM = -8,       /* out of memory */
    KVSTORE_EEXISTS = -9,      /* a backend of that name is registered */
    KVSTORE_EUNCERTAIN = -10,  /* write sent, outcome unknown */
    KVSTORE_EIO = -11          /* any other backend or I/O failure */
};

/** Returns the library version at run time, e.g. "1.0.0". Never NULL. */
KVSTORE_API const char *kvstore_version(void);

/** Returns a static, human-readable text for a status code; unknown codes
 * give "unknown status". Never NULL. Thread-safe. */
KVSTORE_API const char *kvstore_strerror(int status);

/** Describes the most recent failure of a kvstore_ call on the calling
 * thread. Never NULL ("no error" before any failure). Never contains a
 * password or token from a URI. The string is thread-local and stays valid
 * until the next kvstore_ call on the same thread. */
KVSTORE_API const char *kvstore_errmsg(void);

/** Releases memory the library handed to the caller (values from get,
 * get_many). Passing NULL is a harmless no-op. */
KVSTORE_API void kvstore_free(void *p);

KVSTORE_END_DECLS

#endif /* KVSTORE_COMMON_H */

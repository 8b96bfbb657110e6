/*
 * The URI check shared by the backends whose store is a local file or
 * directory (file, lmdb, sqlite), so that they refuse the same URIs with
 * the same advice.
 *
 * SPDX-License-Identifier: MIT
 */
#include <stdio.h>
#include <string.h>

#include "internal.h"

/* A URI may be 8 KiB but a message only 1 KiB: a long one keeps only its
 * end, after "...", so that the advice after it always fits. */
#define SHOWN_MAX 160

static const char *shown(const char *s, char buf[SHOWN_MAX + 1])
{
    size_t n = strlen(s);
    if (n <= SHOWN_MAX)
        return s;
    const char *tail = s + n - (SHOWN_MAX - 3);
    while ((*tail & 0xC0) == 0x80)
        tail++; /* start on a whole UTF-8 character */
    snprintf(buf, SHOWN_MAX + 1, "...%s", tail);
    return buf;
}

int kvstore_uri_local(const kvstore_uri *uri, const char *example,
                      const char **path, bool *sync, bool *create)
{
    const char *scheme = kvstore_uri_scheme(uri);
    const char *hosts = kvstore_uri_hosts(uri);
    const char *why = NULL;
    char buf[SHOWN_MAX + 1];

    if (path == NULL || sync == NULL || create == NULL || example == NULL)
        return kvstore_set_error(KVSTORE_EINVAL, "an argument is NULL");
    *path = kvstore_uri_path(uri);
    if (hosts != NULL && hosts[0] != '\0')
        why = "names a host";
    else if (kvstore_uri_user(uri) != NULL)
        /* Refused rather than ignored: a password the store cannot check
         * must not look as if it protected anything. */
        return kvstore_set_error(KVSTORE_EINVAL, "%s: '%s' carries "
                                 "credentials, which a local store cannot "
                                 "check; remove them", scheme,
                                 shown(kvstore_uri_redacted(uri), buf));
    else if ((*path)[0] == '\0')
        why = "has no path";
    if (why != NULL)
        return kvstore_set_error(KVSTORE_EINVAL, "%s: '%s' %s; use "
                                 "%s:///abs/%s or %s:rel/%s", scheme,
                                 shown(kvstore_uri_redacted(uri), buf), why,
                                 scheme, example, scheme, example);
    int rc = kvstore_uri_param_bool(uri, "sync", true, sync);
    return rc != KVSTORE_OK
               ? rc
               : kvstore_uri_param_bool(uri, "create", true, create);
}

/*
 * The URI check shared by the backends whose store is a local file or
 * directory (file, lmdb, sqlite), so that they refuse the same URIs with
 * the same advice.
 *
 * SPDX-License-Identifier: MIT
 */
#include "internal.h"

int kvstore_uri_local(const kvstore_uri *uri, const char *example,
                      const char **path, bool *sync, bool *create)
{
    const char *scheme = kvstore_uri_scheme(uri);
    const char *hosts = kvstore_uri_hosts(uri);
    const char *why = NULL;

    if (path == NULL || sync == NULL || create == NULL || example == NULL)
        return kvstore_set_error(KVSTORE_EINVAL, "an argument is NULL");
    *path = kvstore_uri_path(uri);
    /* The URI comes last in each message: a URI may be 8 KiB and a
     * message 1 KiB, and the reason and advice must not be cut off. */
    if (kvstore_uri_user(uri) != NULL)
        /* Refused rather than ignored: a password the store cannot check
         * must not look as if it protected anything. */
        return kvstore_set_error(KVSTORE_EINVAL, "%s: a local store cannot "
                                 "check credentials; remove them from '%s'",
                                 scheme, kvstore_uri_redacted(uri));
    if (hosts != NULL && hosts[0] != '\0')
        why = "names a host";
    else if ((*path)[0] == '\0')
        why = "has no path";
    if (why != NULL)
        return kvstore_set_error(KVSTORE_EINVAL, "%s: the URI %s; use "
                                 "%s:///abs/%s or %s:rel/%s, not '%s'",
                                 scheme, why, scheme, example, scheme,
                                 example, kvstore_uri_redacted(uri));
    int rc = kvstore_uri_param_bool(uri, "sync", true, sync);
    return rc != KVSTORE_OK
               ? rc
               : kvstore_uri_param_bool(uri, "create", true, create);
}

/*
 * kvstore-nats: the store (one NATS connection and JetStream context),
 * deadlines and the mapping of NATS failures to kvstore status codes.
 *
 * SPDX-License-Identifier: MIT
 */
#include "nats.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

int64_t nk_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

bool nk_transient(natsStatus s, jsErrCode ec)
{
    switch (s) {
    case NATS_NO_RESPONDERS:          /* no stream leader right now */
    case NATS_NOT_YET_CONNECTED:
        return true;
    default:
        break;
    }
    /* JetStream answered but could not act yet (leader election). */
    return ec == JSClusterNotAvailErr || ec == JSClusterNotLeaderErr ||
           ec == JSStreamOfflineErr || ec == JSClusterNotAssignedErr;
}

int nk_fail(const nk_bucket *b, const char *what, nk_kind kind, natsStatus s,
            jsErrCode ec)
{
    const char *bn = b ? b->name : "-";
    const char *txt = natsStatus_GetText(s);

    if (ec == JSStreamWrongLastSequenceErr)
        return kvstore_set_error(KVSTORE_ECONFLICT,
                                 "nats: %s in bucket %s: key changed since "
                                 "the snapshot", what, bn);
    if (ec == JSStreamNotFoundErr)
        return kvstore_set_error(KVSTORE_ENOSTORE,
                                 "nats: %s: bucket %s no longer exists",
                                 what, bn);
    if (ec == JSStreamMessageExceedsMaximumErr || s == NATS_MAX_PAYLOAD)
        return kvstore_set_error(KVSTORE_ETOOBIG,
                                 "nats: %s in bucket %s: value exceeds the "
                                 "server's max_payload of %lld bytes",
                                 what, bn,
                                 b ? (long long)b->st->max_payload : 0LL);
    switch (s) {
    case NATS_CONNECTION_AUTH_FAILED:
    case NATS_NOT_PERMITTED:
        return kvstore_set_error(KVSTORE_EACCESS, "nats: %s in bucket %s: "
                                 "permission denied (%s)", what, bn, txt);
    case NATS_NO_MEMORY:
        return kvstore_set_error(KVSTORE_ENOMEM, "nats: %s: out of memory",
                                 what);
    case NATS_TIMEOUT:
    case NATS_CONNECTION_DISCONNECTED:
    case NATS_CONNECTION_CLOSED:
    case NATS_IO_ERROR:
    case NATS_STALE_CONNECTION:
        if (kind == NK_WRITE)
            return kvstore_set_error(KVSTORE_EUNCERTAIN,
                                     "nats: %s in bucket %s: %s after the "
                                     "write was sent; it may or may not have "
                                     "been applied", what, bn, txt);
        return kvstore_set_error(KVSTORE_EUNAVAILABLE, "nats: %s in bucket "
                                 "%s: %s", what, bn, txt);
    default:
        break;
    }
    if (nk_transient(s, ec))
        return kvstore_set_error(KVSTORE_EUNAVAILABLE,
                                 "nats: %s in bucket %s: JetStream "
                                 "unavailable within timeout (%s)", what, bn,
                                 txt);
    if (ec != 0)
        return kvstore_set_error(KVSTORE_EIO, "nats: %s in bucket %s: %s "
                                 "(JetStream error %d)", what, bn, txt,
                                 (int)ec);
    return kvstore_set_error(KVSTORE_EIO, "nats: %s in bucket %s: %s", what,
                             bn, txt);
}

int nk_wait_connected(const nk_store *st, int64_t deadline)
{
    for (;;) {
        natsConnStatus cs = natsConnection_Status(st->nc);
        if (cs == NATS_CONN_STATUS_CONNECTED)
            return KVSTORE_OK;
        if (cs == NATS_CONN_STATUS_CLOSED || nk_now_ms() >= deadline)
            return kvstore_set_error(KVSTORE_EUNAVAILABLE,
                                     "nats: not connected to %s within %lld "
                                     "ms", st->redacted,
                                     (long long)st->timeout_ms);
        nats_Sleep(10);
    }
}

int64_t nk_left_ms(int64_t deadline)
{
    int64_t l = deadline - nk_now_ms();
    return l > 0 ? l : 1;
}

int nk_attempt_start(const nk_store *st, int64_t deadline, jsOptions *o)
{
    int rc = nk_wait_connected(st, deadline);
    if (rc == KVSTORE_OK) {
        jsOptions_Init(o);
        o->Wait = nk_left_ms(deadline);
    }
    return rc;
}

bool nk_backoff(int attempt, int64_t deadline)
{
    int64_t left = deadline - nk_now_ms();
    int64_t wait = attempt < 5 ? 25LL << attempt : 500;
    if (left <= 0)
        return false;
    nats_Sleep(wait < left ? wait : left);
    return true;
}

/* Splits "h1:4222,h2" into "nats://h1:4222", "nats://h2" (or tls://).
 * Rejects characters that would let a host smuggle URL syntax. */
static int server_list(const char *hosts, bool tls, char ***out, int *n)
{
    size_t cap = 1;
    for (const char *p = hosts; *p; p++)
        cap += *p == ',';
    char **v = calloc(cap, sizeof *v);
    if (!v)
        return KVSTORE_ENOMEM;
    int k = 0;
    const char *p = hosts;
    for (;;) {
        size_t len = strcspn(p, ",");
        if (len == 0 || len > 255 || strcspn(p, "/@?#\\ \t\r\n") < len) {
            for (int i = 0; i < k; i++)
                free(v[i]);
            free(v);
            return KVSTORE_EINVAL;
        }
        v[k] = malloc(len + 8);
        if (!v[k]) {
            for (int i = 0; i < k; i++)
                free(v[i]);
            free(v);
            return KVSTORE_ENOMEM;
        }
        snprintf(v[k], len + 8, "%s%.*s", tls ? "tls://" : "nats://",
                 (int)len, p);
        k++;
        if (p[len] == '\0')
            break;
        p += len + 1;
    }
    *out = v;
    *n = k;
    return KVSTORE_OK;
}

static void free_list(char **v, int n)
{
    for (int i = 0; i < n; i++)
        free(v[i]);
    free(v);
}

/* Applies the URI to fresh natsOptions. Secrets go only into nats.c. */
static int make_options(natsOptions **out, const kvstore_uri *uri,
                        int64_t timeout_ms, const char *red)
{
    const char *scheme = kvstore_uri_scheme(uri);
    const char *hosts = kvstore_uri_hosts(uri);
    const char *path = kvstore_uri_path(uri);
    const char *user = kvstore_uri_user(uri);
    const char *pass = kvstore_uri_password(uri);
    const char *creds = kvstore_uri_param(uri, "creds");
    const char *ca = kvstore_uri_param(uri, "ca");
    bool tls = strcmp(scheme, "nats+tls") == 0;
    char **servers = NULL;
    int nserv = 0, rc;
    natsOptions *o = NULL;
    natsStatus s;

    if (!hosts || !*hosts)
        return kvstore_set_error(KVSTORE_EINVAL, "nats: URI needs a host: "
                                 "%s", red);
    if (path && *path && strcmp(path, "/") != 0)
        return kvstore_set_error(KVSTORE_EINVAL, "nats: URI takes no path "
                                 "(buckets are opened by name): %s", red);
    if ((creds && !*creds) || (ca && !*ca))
        return kvstore_set_error(KVSTORE_EINVAL, "nats: empty file name "
                                 "in %s", red);
    if (creds && user)
        return kvstore_set_error(KVSTORE_EINVAL, "nats: give either "
                                 "userinfo or creds, not both: %s", red);
    /* nats.c reads these files only when it needs them: check now so a
     * typo is a clear EINVAL rather than a later connection error. */
    if ((creds && access(creds, R_OK) != 0) || (ca && access(ca, R_OK) != 0))
        return kvstore_set_error(KVSTORE_EINVAL, "nats: cannot read the %s "
                                 "file named in %s", creds && access(creds,
                                 R_OK) != 0 ? "creds" : "ca", red);
    if (ca && !tls)
        return kvstore_set_error(KVSTORE_EINVAL, "nats: ca= needs the "
                                 "nats+tls scheme: %s", red);
    rc = server_list(hosts, tls, &servers, &nserv);
    if (rc == KVSTORE_ENOMEM)
        return kvstore_set_error(rc, "nats: out of memory");
    if (rc != KVSTORE_OK)
        return kvstore_set_error(rc, "nats: bad host list in %s", red);

    s = natsOptions_Create(&o);
    if (s == NATS_OK)
        s = natsOptions_SetServers(o, (const char **)servers, nserv);
    free_list(servers, nserv);
    if (s == NATS_OK && user && pass)
        s = natsOptions_SetUserInfo(o, user, pass);
    else if (s == NATS_OK && user)
        s = natsOptions_SetToken(o, user);
    if (s == NATS_OK && creds)
        s = natsOptions_SetUserCredentialsFromFiles(o, creds, NULL);
    if (s == NATS_OK && tls)
        s = natsOptions_SetSecure(o, true);
    if (s == NATS_OK && ca)
        s = natsOptions_LoadCATrustedCertificates(o, ca);
    if (s == NATS_OK)
        s = natsOptions_SetTimeout(o, timeout_ms);
    if (s == NATS_OK)
        s = natsOptions_SetName(o, "libkvstore");
    /* Reconnect for as long as the store is open: calls fail with
     * EUNAVAILABLE during an outage and work again afterwards. */
    if (s == NATS_OK)
        s = natsOptions_SetMaxReconnect(o, INT_MAX);
    if (s == NATS_OK)
        s = natsOptions_SetReconnectWait(o, 100);
    if (s == NATS_OK)
        s = natsOptions_SetReconnectJitter(o, 50, 200);
    /* Requests pending when the link drops end at once instead of at the
     * timeout. */
    if (s == NATS_OK)
        s = natsOptions_SetFailRequestsOnDisconnect(o, true);
    if (s != NATS_OK) {
        natsOptions_Destroy(o);
        if (s == NATS_NO_MEMORY)
            return kvstore_set_error(KVSTORE_ENOMEM, "nats: out of memory");
        /* Most likely an unreadable creds or CA file: name the option, not
         * its contents. */
        return kvstore_set_error(KVSTORE_EINVAL, "nats: cannot apply the "
                                 "options of %s (%s)", red,
                                 natsStatus_GetText(s));
    }
    *out = o;
    return KVSTORE_OK;
}

int nk_store_open(void **out, const kvstore_uri *uri)
{
    const char *red = kvstore_uri_redacted(uri);
    int64_t timeout_ms, replicas, ttl_ms, history;
    natsOptions *o = NULL;
    natsStatus s;
    int rc;

    rc = kvstore_uri_param_int(uri, "timeout_ms", 1, 3600000, 5000,
                               &timeout_ms);
    if (rc == KVSTORE_OK)
        rc = kvstore_uri_param_int(uri, "replicas", 1, 5, 1, &replicas);
    /* JetStream keeps max age in ns: bound it so that it cannot overflow
     * (about 292 years). */
    if (rc == KVSTORE_OK)
        rc = kvstore_uri_param_int(uri, "ttl", 0, INT64_MAX / 1000000, 0,
                                   &ttl_ms);
    if (rc == KVSTORE_OK)
        rc = kvstore_uri_param_int(uri, "history", 1, NK_HISTORY, NK_HISTORY,
                                   &history);
    if (rc != KVSTORE_OK)
        return rc;
    rc = make_options(&o, uri, timeout_ms, red);
    if (rc != KVSTORE_OK)
        return rc;

    nk_store *st = calloc(1, sizeof *st);
    /* Listing snapshots: 64 walks per store, 5 minutes idle, the helper's
     * default byte bound. */
    if (!st || !(st->redacted = strdup(red)) ||
        !(st->walks = kvstore_walks_new(64, 0, 5 * 60 * 1000))) {
        nk_store_close(st);
        natsOptions_Destroy(o);
        return kvstore_set_error(KVSTORE_ENOMEM, "nats: out of memory");
    }
    st->timeout_ms = timeout_ms;
    st->replicas = (int)replicas;
    st->ttl_ms = ttl_ms;
    st->history = (int)history;

    s = natsConnection_Connect(&st->nc, o);
    natsOptions_Destroy(o);
    if (s != NATS_OK && kvstore_uri_param(uri, "creds") &&
        (s == NATS_ERR || s == NATS_INVALID_ARG)) {
        /* nats.c could not parse the user JWT or seed */
        rc = kvstore_set_error(KVSTORE_EINVAL, "nats: cannot use the creds "
                               "file named in %s", red);
        nk_store_close(st);
        return rc;
    }
    if (s != NATS_OK) {
        int code = (s == NATS_CONNECTION_AUTH_FAILED ||
                    s == NATS_NOT_PERMITTED) ? KVSTORE_EACCESS
                   : s == NATS_NO_MEMORY ? KVSTORE_ENOMEM
                   : KVSTORE_EUNAVAILABLE;
        /* Only the static status text: nats.c's detailed error may echo
         * connection details. */
        rc = kvstore_set_error(code, "nats: cannot connect to %s: %s", red,
                               code == KVSTORE_EACCESS
                                   ? "authentication failed"
                                   : natsStatus_GetText(s));
        nk_store_close(st);
        return rc;
    }
    jsOptions jo;
    jsOptions_Init(&jo);
    jo.Wait = timeout_ms;
    s = natsConnection_JetStream(&st->js, st->nc, &jo);
    if (s != NATS_OK) {
        nk_store_close(st);
        return kvstore_set_error(KVSTORE_ENOMEM, "nats: out of memory");
    }
    st->max_payload = natsConnection_GetMaxPayload(st->nc);
    *out = st;
    return KVSTORE_OK;
}

/* Also frees a store that nk_store_open left half built: each member may
 * still be NULL, which every call below accepts. */
void nk_store_close(void *store)
{
    nk_store *st = store;
    if (!st)
        return;
    kvstore_walks_free(st->walks);
    jsCtx_Destroy(st->js);
    natsConnection_Close(st->nc);
    natsConnection_Destroy(st->nc);
    free(st->redacted);
    free(st);
}

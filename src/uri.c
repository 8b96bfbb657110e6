/*
 * URI parsing: scheme ":" ["//" [userinfo "@"] hosts] path ["?" params].
 * URIs come from untrusted guests, so the parser is strict, allocates its
 * copies up front and keeps a redacted form for every message.
 *
 * SPDX-License-Identifier: MIT
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "internal.h"

#define URI_MAX 8192

struct uri_param {
    char *name;
    char *value;
};

struct kvstore_uri {
    char *scheme;
    char *user;
    char *password;
    char *hosts;
    char *path;
    char *redacted;
    struct uri_param *params;
    size_t nparams;
};

static int hexval(char c)
{
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

/* Percent-decodes [s, s+len) into a new string; NULL with *rc set on a
 * bad escape, an escaped NUL or out of memory. */
static char *decode(const char *s, size_t len, int *rc, const char *what)
{
    char *out = malloc(len + 1);
    size_t o = 0;

    if (out == NULL) {
        *rc = kvstore_set_error(KVSTORE_ENOMEM, "out of memory parsing URI");
        return NULL;
    }
    for (size_t i = 0; i < len; i++) {
        if (s[i] != '%') {
            out[o++] = s[i];
            continue;
        }
        if (i + 2 >= len) {
            free(out);
            *rc = kvstore_set_error(KVSTORE_EINVAL,
                                    "URI %s has a truncated %%-escape", what);
            return NULL;
        }
        int hi = hexval(s[i + 1]), lo = hexval(s[i + 2]);
        /* Escaped control characters would smuggle NULs and line breaks
         * into paths, credentials and messages. */
        if (hi < 0 || lo < 0 || hi * 16 + lo < 0x20 || hi * 16 + lo == 0x7F) {
            free(out);
            *rc = kvstore_set_error(KVSTORE_EINVAL,
                                    "URI %s has an invalid %%-escape or an "
                                    "escaped control character", what);
            return NULL;
        }
        out[o++] = (char)(hi * 16 + lo);
        i += 2;
    }
    out[o] = '\0';
    return out;
}

void kvs_uri_free(kvstore_uri *uri)
{
    if (uri == NULL)
        return;
    free(uri->scheme);
    free(uri->user);
    if (uri->password) {
        /* Do not leave the secret lying in freed heap memory. */
        volatile char *p = uri->password;
        while (*p)
            *p++ = 0;
        free(uri->password);
    }
    free(uri->hosts);
    free(uri->path);
    free(uri->redacted);
    for (size_t i = 0; i < uri->nparams; i++) {
        free(uri->params[i].name);
        free(uri->params[i].value);
    }
    free(uri->params);
    free(uri);
}

static int parse_query(kvstore_uri *uri, const char *q, size_t len)
{
    size_t count = 1;
    const char *end = q + len;
    int rc = KVSTORE_OK;

    for (size_t i = 0; i < len; i++)
        if (q[i] == '&')
            count++;
    uri->params = calloc(count, sizeof *uri->params);
    if (uri->params == NULL)
        return kvstore_set_error(KVSTORE_ENOMEM, "out of memory parsing URI");

    while (q < end) {
        const char *amp = memchr(q, '&', (size_t)(end - q));
        const char *seg_end = amp ? amp : end;
        const char *eq = memchr(q, '=', (size_t)(seg_end - q));
        const char *name_end = eq ? eq : seg_end;
        struct uri_param *p = &uri->params[uri->nparams];

        if (name_end == q)
            return kvstore_set_error(KVSTORE_EINVAL,
                                     "URI has an empty query parameter name");
        p->name = decode(q, (size_t)(name_end - q), &rc, "parameter name");
        if (p->name == NULL)
            return rc;
        p->value = eq ? decode(eq + 1, (size_t)(seg_end - eq - 1), &rc,
                               "parameter value")
                      : decode("", 0, &rc, "parameter value");
        uri->nparams++;
        if (p->value == NULL)
            return rc;
        for (size_t i = 0; i + 1 < uri->nparams; i++) {
            if (strcmp(uri->params[i].name, p->name) == 0)
                return kvstore_set_error(KVSTORE_EINVAL,
                                         "URI parameter '%.64s' is given "
                                         "twice", p->name);
        }
        q = amp ? amp + 1 : end;
        if (amp && q == end)
            return kvstore_set_error(KVSTORE_EINVAL,
                                     "URI query ends with '&'");
    }
    return KVSTORE_OK;
}

/* scheme ":" ["//" ("***@" | user ":***@")] hosts path ["?" query] */
static int build_redacted(kvstore_uri *uri, const char *user_raw,
                          size_t user_len, const char *path_raw,
                          size_t path_len, const char *query, size_t qlen)
{
    size_t cap = strlen(uri->scheme) + 3 + user_len
                 + 5 + (uri->hosts ? strlen(uri->hosts) : 0) + path_len
                 + qlen + 2;
    char *r = malloc(cap);
    int n;

    if (r == NULL)
        return kvstore_set_error(KVSTORE_ENOMEM, "out of memory parsing URI");
    n = snprintf(r, cap, "%s:", uri->scheme);
    if (uri->hosts) {
        n += snprintf(r + n, cap - (size_t)n, "//");
        /* Without a password the user part may itself be a token. */
        if (uri->user && uri->password)
            n += snprintf(r + n, cap - (size_t)n, "%.*s:***@",
                          (int)user_len, user_raw);
        else if (uri->user)
            n += snprintf(r + n, cap - (size_t)n, "***@");
        n += snprintf(r + n, cap - (size_t)n, "%s", uri->hosts);
    }
    n += snprintf(r + n, cap - (size_t)n, "%.*s", (int)path_len, path_raw);
    if (query)
        snprintf(r + n, cap - (size_t)n, "?%.*s", (int)qlen, query);
    uri->redacted = r;
    return KVSTORE_OK;
}

/* Backend names are at most 32 bytes (kvs_scheme_valid). A longer scheme
 * made of scheme characters gets its own message: "no valid scheme" would
 * send the user looking for a typo. */
#define SCHEME_MAX 32

static bool scheme_shaped(const char *s, size_t len)
{
    if (!((s[0] >= 'a' && s[0] <= 'z') || (s[0] >= 'A' && s[0] <= 'Z')))
        return false;
    for (size_t i = 1; i < len; i++)
        if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= 'A' && s[i] <= 'Z') ||
              (s[i] >= '0' && s[i] <= '9') || s[i] == '+' || s[i] == '-' ||
              s[i] == '.'))
            return false;
    return true;
}

static int parse(kvstore_uri *uri, const char *text)
{
    size_t len = strnlen(text, URI_MAX + 1);
    const char *colon, *rest, *query, *end;
    const char *path_raw, *user_raw = NULL;
    size_t path_len, qlen = 0, user_len = 0;
    int rc = KVSTORE_OK;

    if (len == 0)
        return kvstore_set_error(KVSTORE_EINVAL, "URI is empty");
    if (len > URI_MAX)
        return kvstore_set_error(KVSTORE_EINVAL,
                                 "URI is longer than %d bytes", URI_MAX);
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)text[i];
        if (c < 0x20 || c == 0x7F)
            return kvstore_set_error(KVSTORE_EINVAL,
                                     "URI contains a control character");
        if (c == '#')
            return kvstore_set_error(KVSTORE_EINVAL,
                                     "URI fragments ('#') are not allowed");
    }
    colon = memchr(text, ':', len);
    if (colon != NULL && colon - text > SCHEME_MAX &&
        scheme_shaped(text, (size_t)(colon - text)))
        return kvstore_set_error(KVSTORE_EINVAL,
                                 "URI scheme is longer than %d bytes (no "
                                 "backend has such a name)", SCHEME_MAX);
    if (colon == NULL || !kvs_scheme_valid(text, (size_t)(colon - text)))
        return kvstore_set_error(KVSTORE_EINVAL,
                                 "URI has no valid scheme (expected "
                                 "scheme:..., e.g. memory: or file:///dir)");
    uri->scheme = decode(text, (size_t)(colon - text), &rc, "scheme");
    if (uri->scheme == NULL)
        return rc;
    for (char *s = uri->scheme; *s; s++)
        if (*s >= 'A' && *s <= 'Z')
            *s = (char)(*s - 'A' + 'a');

    rest = colon + 1;
    end = text + len;
    query = memchr(rest, '?', (size_t)(end - rest));
    if (query) {
        qlen = (size_t)(end - query - 1);
        end = query;
    }

    if (end - rest >= 2 && rest[0] == '/' && rest[1] == '/') {
        const char *auth = rest + 2;
        const char *slash = memchr(auth, '/', (size_t)(end - auth));
        const char *auth_end = slash ? slash : end;
        const char *at = NULL;

        for (const char *p = auth; p < auth_end; p++)
            if (*p == '@')
                at = p;
        if (at) {
            const char *pc = memchr(auth, ':', (size_t)(at - auth));
            const char *user_end = pc ? pc : at;
            user_raw = auth;
            user_len = (size_t)(user_end - auth);
            uri->user = decode(auth, (size_t)(user_end - auth), &rc,
                               "user name");
            if (uri->user == NULL)
                return rc;
            if (pc) {
                uri->password = decode(pc + 1, (size_t)(at - pc - 1), &rc,
                                       "password");
                if (uri->password == NULL)
                    return rc;
            }
            auth = at + 1;
        }
        uri->hosts = strndup(auth, (size_t)(auth_end - auth));
        if (uri->hosts == NULL)
            return kvstore_set_error(KVSTORE_ENOMEM,
                                     "out of memory parsing URI");
        rest = auth_end;
    }
    path_raw = rest;
    path_len = (size_t)(end - rest);
    uri->path = decode(path_raw, path_len, &rc, "path");
    if (uri->path == NULL)
        return rc;
    if (query && qlen == 0)
        return kvstore_set_error(KVSTORE_EINVAL, "URI has an empty query");
    if (query) {
        rc = parse_query(uri, query + 1, qlen);
        if (rc != KVSTORE_OK)
            return rc;
    }
    return build_redacted(uri, user_raw, user_len, path_raw, path_len, query ? query + 1 : NULL,
                          qlen);
}

int kvs_uri_parse(kvstore_uri **out, const char *text)
{
    kvstore_uri *uri;
    int rc;

    *out = NULL;
    if (text == NULL)
        return kvstore_set_error(KVSTORE_EINVAL, "URI is NULL");
    uri = calloc(1, sizeof *uri);
    if (uri == NULL)
        return kvstore_set_error(KVSTORE_ENOMEM, "out of memory parsing URI");
    rc = parse(uri, text);
    if (rc != KVSTORE_OK) {
        kvs_uri_free(uri);
        return rc;
    }
    *out = uri;
    return KVSTORE_OK;
}

size_t kvs_uri_param_count(const kvstore_uri *uri)
{
    return uri->nparams;
}

const char *kvs_uri_param_name(const kvstore_uri *uri, size_t i)
{
    return i < uri->nparams ? uri->params[i].name : NULL;
}

const char *kvstore_uri_scheme(const kvstore_uri *uri)
{
    return uri ? uri->scheme : "";
}

const char *kvstore_uri_user(const kvstore_uri *uri)
{
    return uri ? uri->user : NULL;
}

const char *kvstore_uri_password(const kvstore_uri *uri)
{
    return uri ? uri->password : NULL;
}

const char *kvstore_uri_hosts(const kvstore_uri *uri)
{
    return uri ? uri->hosts : NULL;
}

const char *kvstore_uri_path(const kvstore_uri *uri)
{
    return uri ? uri->path : "";
}

const char *kvstore_uri_redacted(const kvstore_uri *uri)
{
    return uri && uri->redacted ? uri->redacted : "";
}

const char *kvstore_uri_param(const kvstore_uri *uri, const char *name)
{
    if (uri == NULL || name == NULL)
        return NULL;
    for (size_t i = 0; i < uri->nparams; i++)
        if (strcmp(uri->params[i].name, name) == 0)
            return uri->params[i].value;
    return NULL;
}

int kvstore_uri_param_int(const kvstore_uri *uri, const char *name,
                          int64_t min, int64_t max, int64_t dflt,
                          int64_t *out)
{
    const char *v = kvstore_uri_param(uri, name);
    int64_t n;

    if (out == NULL)
        return kvstore_set_error(KVSTORE_EINVAL, "out is NULL");
    if (v == NULL) {
        *out = dflt;
        return KVSTORE_OK;
    }
    if (kvstore_counter_parse(v, strlen(v), &n) != KVSTORE_OK || n < min || n > max)
        return kvstore_set_error(KVSTORE_EINVAL,
                                 "URI parameter '%s' must be an integer from "
                                 "%lld to %lld", name, (long long)min,
                                 (long long)max);
    *out = n;
    return KVSTORE_OK;
}

int kvstore_uri_param_bool(const kvstore_uri *uri, const char *name,
                           bool dflt, bool *out)
{
    const char *v = kvstore_uri_param(uri, name);

    if (out == NULL)
        return kvstore_set_error(KVSTORE_EINVAL, "out is NULL");
    if (v == NULL) {
        *out = dflt;
        return KVSTORE_OK;
    }
    if (!strcasecmp(v, "true") || !strcmp(v, "1") || !strcasecmp(v, "yes")) {
        *out = true;
        return KVSTORE_OK;
    }
    if (!strcasecmp(v, "false") || !strcmp(v, "0") || !strcasecmp(v, "no")) {
        *out = false;
        return KVSTORE_OK;
    }
    return kvstore_set_error(KVSTORE_EINVAL,
                             "URI parameter '%s' must be true or false", name);
}

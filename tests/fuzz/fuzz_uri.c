/* URI parsing: any bytes give a parsed URI or KVSTORE_EINVAL, never a
 * crash; a parsed URI's redacted form never contains its password, and
 * neither does the message of a URI that fails to parse. */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The last '@' of the authority that starts at `auth` and ends before the
 * first of `stops`, or NULL: where its userinfo ends. */
static const char *userinfo_at(const char *auth, const char *stops)
{
    const char *end = auth + strcspn(auth, stops), *at = NULL;
    for (const char *p = auth; p < end; p++)
        if (*p == '@')
            at = p;
    return at;
}

/* Written apart from src/uri.c: the input with the userinfo's password
 * (or, without a password, the whole userinfo, which may be a token)
 * replaced by "***". */
static const char *expected_redaction(const char *text)
{
    static char out[16384];
    const char *colon = strchr(text, ':');
    const char *auth, *at, *pc;

    if (colon[1] != '/' || colon[2] != '/') {
        snprintf(out, sizeof out, "%s", text);
        goto scheme;
    }
    auth = colon + 3;
    at = userinfo_at(auth, "/?");
    if (at == NULL) {
        snprintf(out, sizeof out, "%s", text);
        goto scheme;
    }
    pc = memchr(auth, ':', (size_t)(at - auth));
    if (pc)
        snprintf(out, sizeof out, "%.*s:***%s", (int)(pc - text), text, at);
    else
        snprintf(out, sizeof out, "%.*s***%s", (int)(auth - text), text, at);
scheme: /* schemes are case-insensitive and reported in lower case */
    for (char *p = out; *p != ':'; p++)
        *p = (char)tolower((unsigned char)*p);
    return out;
}

/* For a URI that fails to parse: the password of its userinfo, when it
 * is distinctive enough to be searched for in the message (6+ bytes of
 * [a-z0-9] with a letter and a digit, found nowhere else in the text, and
 * no '%' outside the userinfo that could decode to it), else NULL. */
static const char *distinct_password(const char *text, char *buf, size_t cap)
{
    const char *colon = strchr(text, ':'), *auth, *at, *pc;
    size_t n;
    bool digit = false, alpha = false;

    if (colon == NULL || strncmp(colon, "://", 3) != 0)
        return NULL;
    auth = colon + 3;
    at = userinfo_at(auth, "/?#");
    if (at == NULL || (pc = memchr(auth, ':', (size_t)(at - auth))) == NULL)
        return NULL;
    n = (size_t)(at - pc - 1);
    if (n < 6 || n >= cap || strchr(at, '%') || memchr(text, '%', (size_t)(auth - text)))
        return NULL;
    for (size_t i = 0; i < n; i++) {
        char c = pc[1 + i];
        digit |= c >= '0' && c <= '9';
        alpha |= c >= 'a' && c <= 'z';
        if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z')))
            return NULL;
    }
    if (!digit || !alpha)
        return NULL;
    memcpy(buf, pc + 1, n);
    buf[n] = '\0';
    if (strstr(text, buf) != pc + 1 || strstr(pc + 1 + n, buf))
        return NULL;
    return buf;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = malloc(size + 1);
    kvstore_uri *uri = NULL;
    int rc;

    if (text == NULL)
        return 0;
    memcpy(text, data, size);
    text[size] = '\0';
    rc = kvs_uri_parse(&uri, text);
    if (rc == KVSTORE_OK) {
        const char *red = kvstore_uri_redacted(uri);
        int64_t n;
        bool b;

        if (strcmp(red, expected_redaction(text)) != 0)
            abort(); /* the secret part was not (exactly) replaced */
        for (size_t i = 0; i < kvs_uri_param_count(uri); i++)
            (void)kvstore_uri_param(uri, kvs_uri_param_name(uri, i));
        (void)kvstore_uri_param_int(uri, "timeout_ms", 0, 1000, 5, &n);
        (void)kvstore_uri_param_bool(uri, "create", true, &b);
        (void)kvstore_uri_hosts(uri);
        (void)kvstore_uri_path(uri);
        kvs_uri_free(uri);
    } else if (rc != KVSTORE_EINVAL && rc != KVSTORE_ENOMEM) {
        abort();
    } else {
        char pw[4096];
        const char *secret = distinct_password(text, pw, sizeof pw);
        if (secret && strstr(kvstore_errmsg(), secret))
            abort(); /* a parse error message shows the password */
    }
    free(text);
    return 0;
}

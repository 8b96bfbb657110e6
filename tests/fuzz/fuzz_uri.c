/* URI parsing: any bytes give a parsed URI or KVSTORE_EINVAL, never a
 * crash; a parsed URI's redacted form never contains its password. */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Written apart from src/uri.c: the input with the userinfo's password
 * (or, without a password, the whole userinfo, which may be a token)
 * replaced by "***". */
static const char *expected_redaction(const char *text)
{
    static char out[16384];
    const char *colon = strchr(text, ':');
    const char *auth, *end, *at = NULL, *pc;

    if (colon[1] != '/' || colon[2] != '/') {
        snprintf(out, sizeof out, "%s", text);
        goto scheme;
    }
    auth = colon + 3;
    end = auth + strcspn(auth, "/?");
    for (const char *p = auth; p < end; p++)
        if (*p == '@')
            at = p;
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
    }
    free(text);
    return 0;
}

/* URI parsing: any bytes give a parsed URI or KVSTORE_EINVAL, never a
 * crash; a parsed URI's redacted form never contains its password. */
#include <stdlib.h>
#include <string.h>

#include "internal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

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
        const char *pw = kvstore_uri_password(uri);
        const char *red = kvstore_uri_redacted(uri);
        int64_t n;
        bool b;

        if (pw && strlen(pw) >= 4 && strstr(red, pw) && !strstr(text, "***"))
            abort(); /* password leaked into the redacted form */
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

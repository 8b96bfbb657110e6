/* Key and bucket-name validation, checked against a slow reference UTF-8
 * decoder written independently of src/validate.c. */
#include <stdlib.h>
#include <string.h>

#include "internal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static bool reference_utf8(const uint8_t *s, size_t n)
{
    size_t i = 0;

    while (i < n) {
        uint32_t cp;
        size_t len;

        if (s[i] < 0x80) { i++; continue; }
        else if ((s[i] & 0xE0) == 0xC0) { len = 2; cp = s[i] & 0x1F; }
        else if ((s[i] & 0xF0) == 0xE0) { len = 3; cp = s[i] & 0x0F; }
        else if ((s[i] & 0xF8) == 0xF0) { len = 4; cp = s[i] & 0x07; }
        else return false;
        if (i + len > n)
            return false;
        for (size_t k = 1; k < len; k++) {
            if ((s[i + k] & 0xC0) != 0x80)
                return false;
            cp = cp << 6 | (s[i + k] & 0x3F);
        }
        if ((len == 2 && cp < 0x80) || (len == 3 && cp < 0x800) ||
            (len == 4 && cp < 0x10000) || cp > 0x10FFFF ||
            (cp >= 0xD800 && cp <= 0xDFFF))
            return false;
        i += len;
    }
    return true;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *key = malloc(size + 1);
    size_t len;
    bool expect;

    if (key == NULL)
        return 0;
    memcpy(key, data, size);
    key[size] = '\0';
    len = strlen(key);
    if (kvstore_utf8_valid((const char *)data, size) != reference_utf8(data, size))
        abort();
    expect = len >= 1 && len <= KVSTORE_KEY_MAX && reference_utf8(data, len);
    if ((kvstore_key_check(key) == KVSTORE_OK) != expect)
        abort();
    (void)kvstore_bucket_name_check(key);
    free(key);
    return 0;
}

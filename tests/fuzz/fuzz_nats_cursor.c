/* The nats module's list cursor (backends/nats/cursor.c, compiled into
 * the target: its functions are hidden in the module), against the state
 * documented there: "W", NK_TOKEN_LEN lowercase hex digits (the walk's
 * token), then the last key returned (no NUL, at most KVSTORE_KEY_MAX
 * bytes, possibly empty). The parser copies into fixed buffers, so
 * `token` and `last` are heap buffers of exactly the documented sizes:
 * ASan sees any write past them.
 *
 *  - The input as the state inside a valid envelope for bucket "b": the
 *    parser accepts it exactly when the grammar does; then token and last
 *    are the input's fields, nk_cursor_make gives back the same cursor
 *    string, and the cursor is refused for bucket "c".
 *  - The input as a raw cursor string: refused (KVSTORE_EINVAL), or its
 *    fields obey the grammar and nk_cursor_make rebuilds exactly that
 *    string (one cursor per state).
 */
#include <stdlib.h>
#include <string.h>

#include "nats.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char *token, *last;

static bool accept(const uint8_t *s, size_t n)
{
    if (n < 1 + NK_TOKEN_LEN || n > 1 + NK_TOKEN_LEN + KVSTORE_KEY_MAX ||
        s[0] != 'W')
        return false;
    for (size_t i = 1; i <= NK_TOKEN_LEN; i++)
        if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
            return false;
    return memchr(s + 1 + NK_TOKEN_LEN, '\0', n - 1 - NK_TOKEN_LEN) == NULL;
}

/* Parses `cursor` for bucket "b"; on success checks the fields and that
 * they encode back to `cursor`. Returns whether it parsed. */
static bool check(const char *cursor)
{
    int rc = -12345;
    char *again = NULL;

    if (!nk_cursor_parse("b", cursor, token, last, &rc)) {
        if (rc == KVSTORE_OK || rc == -12345)
            abort();
        return false;
    }
    if (rc != KVSTORE_OK || strlen(token) != NK_TOKEN_LEN ||
        strlen(last) > KVSTORE_KEY_MAX)
        abort();
    for (size_t i = 0; i < NK_TOKEN_LEN; i++)
        if (!((token[i] >= '0' && token[i] <= '9') ||
              (token[i] >= 'a' && token[i] <= 'f')))
            abort();
    if (nk_cursor_make(&again, "b", token, last) != KVSTORE_OK ||
        strcmp(again, cursor) != 0)
        abort();
    kvstore_free(again);
    return true;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *enc = NULL, *raw;
    int rc;

    if (token == NULL) {
        token = malloc(NK_TOKEN_LEN + 1);
        last = malloc(KVSTORE_KEY_MAX + 1);
        if (token == NULL || last == NULL)
            abort();
    }
    if (size <= KVSTORE_CURSOR_STATE_MAX) {
        if (kvstore_cursor_encode(&enc, "b", data, size) != KVSTORE_OK)
            abort();
        if (check(enc) != accept(data, size))
            abort();
        if (accept(data, size) &&
            (memcmp(token, data + 1, NK_TOKEN_LEN) != 0 ||
             strlen(last) != size - 1 - NK_TOKEN_LEN ||
             memcmp(last, data + 1 + NK_TOKEN_LEN, strlen(last)) != 0))
            abort();
        /* Bound to its bucket. */
        if (nk_cursor_parse("c", enc, token, last, &rc))
            abort();
        kvstore_free(enc);
    }
    raw = malloc(size + 1);
    if (raw == NULL)
        return 0;
    memcpy(raw, data, size);
    raw[size] = '\0';
    check(raw);
    free(raw);
    return 0;
}

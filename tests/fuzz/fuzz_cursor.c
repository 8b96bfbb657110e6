/* The cursor envelope: any string decodes to KVSTORE_EINVAL or to a state
 * that re-encodes to exactly the same cursor (so no two cursors share a
 * state), and never reads past its input. */
#include <stdlib.h>
#include <string.h>

#include "internal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *cursor = malloc(size + 1);
    unsigned char state[KVSTORE_CURSOR_STATE_MAX];
    size_t n = 0;

    if (cursor == NULL)
        return 0;
    memcpy(cursor, data, size);
    cursor[size] = '\0';
    if (kvstore_cursor_decode(cursor, "bucket", state, sizeof state, &n) ==
        KVSTORE_OK) {
        char *again = NULL;
        if (kvstore_cursor_encode(&again, "bucket", state, n) != KVSTORE_OK ||
            strcmp(again, cursor) != 0)
            abort();
        if (kvstore_cursor_decode(cursor, "other", state, sizeof state, &n) ==
            KVSTORE_OK)
            abort(); /* bound to its bucket */
        kvstore_free(again);
    }
    free(cursor);
    return 0;
}

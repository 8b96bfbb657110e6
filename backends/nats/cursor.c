/*
 * kvstore-nats: the list cursor's state, "W" + token + last key.
 *
 * token is the NK_TOKEN_LEN lowercase hex name of a cached walk
 * (list.c), last the key the page ended on (no NUL, at most
 * KVSTORE_KEY_MAX bytes; empty before the first key). The state rides in
 * kvstore_cursor_encode's envelope, whose checksum is no secret: a guest
 * can forge any state, so it is parsed strictly. Kept apart from
 * list.c so that tests/fuzz/fuzz_nats_cursor.c can run it without a
 * server.
 *
 * SPDX-License-Identifier: MIT
 */
#include "nats.h"

#include <string.h>

int nk_cursor_make(char **out, const char *bucket, const char *token,
                   const char *last)
{
    char state[1 + NK_TOKEN_LEN + KVSTORE_KEY_MAX];
    size_t klen = strlen(last);

    state[0] = 'W';
    memcpy(state + 1, token, NK_TOKEN_LEN);
    memcpy(state + 1 + NK_TOKEN_LEN, last, klen);
    return kvstore_cursor_encode(out, bucket, state, 1 + NK_TOKEN_LEN + klen);
}

bool nk_cursor_parse(const char *bucket, const char *cursor, char *token,
                     char *last, int *rc)
{
    char state[1 + NK_TOKEN_LEN + KVSTORE_KEY_MAX];
    size_t len = 0;

    *rc = kvstore_cursor_decode(cursor, bucket, state, sizeof state, &len);
    if (*rc != KVSTORE_OK)
        return false;
    if (len < 1 + NK_TOKEN_LEN || state[0] != 'W' ||
        memchr(state + 1 + NK_TOKEN_LEN, '\0', len - 1 - NK_TOKEN_LEN)) {
        *rc = kvstore_set_error(KVSTORE_EINVAL, "nats: malformed cursor");
        return false;
    }
    for (size_t i = 0; i < NK_TOKEN_LEN; i++) {
        char c = state[1 + i];
        if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) {
            *rc = kvstore_set_error(KVSTORE_EINVAL, "nats: malformed cursor");
            return false;
        }
    }
    memcpy(token, state + 1, NK_TOKEN_LEN);
    token[NK_TOKEN_LEN] = '\0';
    memcpy(last, state + 1 + NK_TOKEN_LEN, len - 1 - NK_TOKEN_LEN);
    last[len - 1 - NK_TOKEN_LEN] = '\0';
    return true;
}

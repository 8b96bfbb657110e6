/* The walk helper's state parser and page cutter (src/walk.c): any state
 * string and prefix give KVSTORE_EINVAL or a page of at most the limit,
 * in strictly increasing order, of keys of the scope the call names that
 * start with the prefix; never a key of the other scope. Input: byte 0
 * picks the limit and whether the state reuses the token of a walk cached
 * at start-up (so the cached path is reached too); then the prefix up to
 * the first NUL byte, then the state (or, with the token, the state's key
 * part). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <kvstore/backend.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

static kvstore_walks *walks;
static char token_state[32]; /* "w1" + 16 hex + ":" of the cached walk */

static int fill(void *ctx, const char *prefix, const char *after,
                kvstore_walk_sink *sink)
{
    const char *tag = ctx;
    char key[64];

    (void)prefix;
    (void)after;
    for (int i = 0; i < 40; i++) {
        int n = snprintf(key, sizeof key, "%s/%02d%s", tag, (i * 17) % 40,
                         i % 3 ? "" : "\xc3\xa9");
        if (kvstore_walk_add(sink, key, (size_t)n) != KVSTORE_OK)
            abort();
    }
    return KVSTORE_OK;
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    kvstore_keys *page = NULL;

    (void)argc;
    (void)argv;
    walks = kvstore_walks_new(4, 0, 0);
    if (!walks ||
        kvstore_walk_page(walks, "A", "", NULL, 3, fill, "a", &page) !=
            KVSTORE_OK ||
        !page->cursor)
        abort();
    memcpy(token_state, page->cursor, 19);
    token_state[19] = '\0';
    kvstore_keys_free(page);
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    size_t limit = (size_t)(data[0] >> 2) % 50 + 1;
    bool with_token = data[0] & 1;
    /* Bit 1: through kvstore_walk_page_at with a fixed key-space version,
     * so snapshots are also shared between walks. */
    uint64_t version = data[0] & 2 ? 5 : 0;
    const char *rest = (const char *)data + 1;
    size_t rlen = size - 1;
    const char *nul = memchr(rest, '\0', rlen);
    size_t plen = nul ? (size_t)(nul - rest) : rlen;
    char *prefix = strndup(rest, plen);
    size_t slen = nul ? rlen - plen - 1 : 0;
    char *state = malloc(19 + slen + 1);
    kvstore_keys *page = NULL;

    if (!prefix || !state)
        abort();
    if (with_token) {
        memcpy(state, token_state, 19);
        memcpy(state + 19, nul ? nul + 1 : "", slen);
        state[19 + slen] = '\0';
    } else {
        memcpy(state, nul ? nul + 1 : "", slen);
        state[slen] = '\0';
    }
    /* A state is a NUL-terminated string: cut at an inner NUL. */
    int rc = kvstore_walk_page_at(walks, "A", prefix, nul ? state : NULL,
                                  limit, version, fill, "a", &page);
    if (rc == KVSTORE_OK) {
        if (page->count > limit)
            abort();
        for (size_t i = 0; i < page->count; i++) {
            if (strncmp(page->keys[i], "a/", 2) != 0 ||
                strncmp(page->keys[i], prefix, strlen(prefix)) != 0)
                abort();
            if (i > 0 && strcmp(page->keys[i - 1], page->keys[i]) >= 0)
                abort();
        }
        kvstore_keys_free(page);
    } else if (rc != KVSTORE_EINVAL || page != NULL) {
        abort();
    }
    /* The cached walk of scope A is never served to scope B. */
    if (with_token && nul) {
        rc = kvstore_walk_page_at(walks, "B", prefix, state, limit, version,
                                  fill, "b", &page);
        if (rc == KVSTORE_OK) {
            for (size_t i = 0; i < page->count; i++)
                if (strncmp(page->keys[i], "b/", 2) != 0)
                    abort();
            kvstore_keys_free(page);
        }
    }
    free(prefix);
    free(state);
    return 0;
}

/* The cursor state of the core's walk helper (src/walk.c, the listing of
 * the file and nats backends and of memory), as a guest can forge it: the
 * core's envelope checksum is public, so any bytes reach
 * kvstore_walk_page as `state`. Oracle, written from backend.h's grammar:
 * "w1", 16 lower-case hex digits (a token), ":", then the last key
 * returned, which must be a valid key (1..1024 bytes of UTF-8, checked
 * here with kvstore_key_check).
 *
 *  - The input, up to its first NUL, is the state of a page of scope "s"
 *    with prefix "k" over a fixed key set: KVSTORE_EINVAL with *out NULL
 *    exactly when the grammar refuses it; else the page holds exactly the
 *    fixed keys of that prefix sorting after the state's key, in order,
 *    at most `limit` of them (the first input byte picks 1..16), and
 *    never a key of scope "t" (whose fill adds other keys).
 *  - Then a real walk of scope "t" is cached and the input's key is put
 *    after that walk's own token: the cached snapshot of "t" must not
 *    serve scope "s" (same answer as above).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <kvstore/backend.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *const s_keys[] = {
    "k", "k0", "k1", "k10", "k2", "kz", "k\xc3\xa9", "k\xf0\x9f\x98\x80",
    "ka/b", "kb", "l", "j", "k~", "k\x7f",
};
static const char *const t_keys[] = {"kt0", "kt1", "kt2", "kt3", "kt4"};
#define N_S (sizeof s_keys / sizeof *s_keys)
#define N_T (sizeof t_keys / sizeof *t_keys)

static kvstore_walks *walks;

static int fill(void *ctx, const char *prefix, const char *after,
                kvstore_walk_sink *sink)
{
    const char *const *keys = ctx == (void *)s_keys ? s_keys : t_keys;
    size_t n = ctx == (void *)s_keys ? N_S : N_T;
    (void)prefix;
    (void)after; /* the helper filters prefix and position itself */
    for (size_t i = 0; i < n; i++) {
        int rc = kvstore_walk_add(sink, keys[i], strlen(keys[i]));
        if (rc != KVSTORE_OK)
            return rc;
    }
    return KVSTORE_OK;
}

static bool grammar(const char *s)
{
    size_t n = strlen(s);
    if (n < 19 || s[0] != 'w' || s[1] != '1' || s[18] != ':')
        return false;
    for (size_t i = 2; i < 18; i++)
        if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
            return false;
    return kvstore_key_check(s + 19) == KVSTORE_OK;
}

static int cmp(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Checks one page of scope "s" from `state` against the oracle. */
static void check(const char *state, size_t limit)
{
    kvstore_keys *page = (kvstore_keys *)&page;
    int rc = kvstore_walk_page(walks, "s", "k", state, limit, fill,
                               (void *)s_keys, &page);
    if (!grammar(state)) {
        if (rc != KVSTORE_EINVAL || page != NULL)
            abort();
        return;
    }
    if (rc != KVSTORE_OK || page == NULL)
        abort();
    const char *after = state + 19;
    const char *want[N_S];
    size_t nw = 0;
    for (size_t i = 0; i < N_S; i++)
        if (s_keys[i][0] == 'k' && strcmp(s_keys[i], after) > 0)
            want[nw++] = s_keys[i];
    qsort(want, nw, sizeof *want, cmp);
    size_t expect = nw < limit ? nw : limit;
    if (page->count != expect)
        abort();
    for (size_t i = 0; i < expect; i++)
        if (strcmp(page->keys[i], want[i]) != 0)
            abort();
    if ((page->cursor != NULL) != (nw > limit))
        abort();
    kvstore_keys_free(page);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (walks == NULL && (walks = kvstore_walks_new(4, 0, 0)) == NULL)
        abort();
    size_t limit = size ? (size_t)(data[0] % 16) + 1 : 1;
    char *state = malloc(size + 1);
    if (state == NULL)
        return 0;
    memcpy(state, data, size);
    state[size] = '\0'; /* a state is a string: up to the first NUL */
    check(state, limit);

    /* A live walk of scope "t", its token with the input's tail. */
    kvstore_keys *page = NULL;
    if (kvstore_walk_page(walks, "t", "k", NULL, 1, fill, (void *)t_keys,
                          &page) != KVSTORE_OK || page->cursor == NULL)
        abort();
    size_t tail = strlen(state) > 19 ? strlen(state) - 19 : 0;
    char *forged = malloc(19 + tail + 1);
    if (forged != NULL) {
        memcpy(forged, page->cursor, 19);
        memcpy(forged + 19, state + strlen(state) - tail, tail + 1);
        check(forged, limit);
        free(forged);
    }
    kvstore_keys_free(page);
    free(state);
    return 0;
}

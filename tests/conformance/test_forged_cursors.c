/*
 * Cursors forged to reach another bucket or store. The envelope's
 * checksum (src/cursor.c) is public, not a secret: anyone can wrap any
 * state for any bucket name with kvstore_cursor_encode. So the test takes
 * a real cursor of a walk in bucket "theirs", re-wraps its state for
 * bucket "mine", and also replays it in another store that has a bucket
 * named "theirs": every answer must be EINVAL or a page of the bucket the
 * call was made on. Run for every built-in backend.
 *
 * SPDX-License-Identifier: MIT
 */
#include "net.h"
#include "uri_arg.h"

#define NKEYS 50

/* Makes net.h speak the envelope of `cursor` for the store at `uri`:
 * version 2 ("c2") binds the backend (the scheme) and the store identity
 * (here: the URI without parameters); version 1 only the bucket. (nonnull:
 * the URIs come from the test's state, and gcc's -Wformat-truncation
 * under UBSan would otherwise follow a NULL path into snprintf.) */
__attribute__((nonnull))
static void bind_like(const char *uri, const char *cursor)
{
    char scheme[64], id[4200];

    if (strncmp(cursor, "c2", 2) != 0) {
        net_bind(NULL, NULL);
        return;
    }
    snprintf(scheme, sizeof scheme, "%.*s", (int)strcspn(uri, ":"), uri);
    snprintf(id, sizeof id, "%.*s", (int)strcspn(uri, "?"), uri);
    net_bind(scheme, id);
}

/* Re-wraps a cursor of bucket `from` of the store at `from_uri` for
 * bucket `to` of the store at `to_uri`, optionally with its last key
 * replaced by `after`: the key follows a 9-byte header in the version 1
 * memory and file states, and the 19-byte "w1<token>:" of the core's walk
 * helper (kvstore_walks) in version 2 states. */
static char *rewrap(const char *from_uri, const char *to_uri,
                    const char *cursor, const char *from, const char *to,
                    const char *after)
{
    unsigned char state[KVSTORE_CURSOR_STATE_MAX];
    size_t len = 0;
    bool v2 = strncmp(cursor, "c2", 2) == 0;
    size_t at = v2 ? 19 : 9;

    bind_like(from_uri, cursor);
    assert_int_equal(net_unwrap(cursor, from, state, sizeof state, &len),
                     KVSTORE_OK);
    if (after && len >= at && (!v2 || memcmp(state, "w1", 2) == 0)) {
        assert_true(at + strlen(after) <= sizeof state);
        memcpy(state + at, after, strlen(after));
        len = at + strlen(after);
    }
    bind_like(to_uri, cursor);
    return net_wrap(to, state, len);
}

static void check_backend(const char *uri1, const char *uri2)
{
    kvstore_store *s1 = open_uri(uri1), *s2 = open_uri(uri2);
    kvstore_bucket *mine = open_bucket(s1, "mine");
    kvstore_bucket *theirs = open_bucket(s1, "theirs");
    kvstore_bucket *twin = open_bucket(s2, "theirs"); /* same name */

    fill_tagged(mine, "mine", NKEYS);
    fill_tagged(theirs, "theirs", NKEYS);
    fill_tagged(twin, "twin", NKEYS);

    /* Their live walk, re-wrapped for my bucket: my keys or EINVAL. */
    char *theirs_cur = net_first_cursor(theirs);
    char *forged = rewrap(uri1, uri1, theirs_cur, "theirs", "mine", NULL);
    int n = walk_tagged(mine, NULL, forged, "mine");
    assert_true(n == -1 || n <= NKEYS);
    n = walk_tagged(mine, "theirs/", forged, "mine");
    assert_true(n == -1 || n == 0);
    free(forged);
    /* Positioned before every key, it lists all of mine, no more. Both
     * built-in backends accept the forged state (a foreign walk id is
     * just not found, so the walk restarts after the cursor's key in this
     * bucket): this is the path where isolation must come from the
     * backend, not from the envelope. */
    forged = rewrap(uri1, uri1, theirs_cur, "theirs", "mine", "a");
    n = walk_tagged(mine, NULL, forged, "mine");
    assert_int_equal(n, NKEYS);
    free(forged);

    /* The same cursor in another store whose bucket has the same name:
     * the envelope is valid there, the walk it names is not. */
    n = walk_tagged(twin, NULL, theirs_cur, "twin");
    assert_true(n == -1 || n <= NKEYS);
    /* Re-wrapped for that store (version 2 binds the store too), their
     * walk's token is only a position among the twin's own keys. */
    forged = rewrap(uri1, uri2, theirs_cur, "theirs", "theirs", "a");
    n = walk_tagged(twin, NULL, forged, "twin");
    assert_true(n == -1 || n == NKEYS);
    free(forged);

    /* And the real walk still works and sees only its own keys. */
    n = walk_tagged(theirs, NULL, theirs_cur, "theirs");
    assert_int_equal(n, NKEYS - 7);
    free(theirs_cur);

    kvstore_bucket_close(twin);
    kvstore_bucket_close(theirs);
    kvstore_bucket_close(mine);
    kvstore_close(s2);
    kvstore_close(s1);
}

/* Two stores of one backend, given to check_backend: "{tmpdir}" is one
 * directory for the run, removed at exit (uri_arg.h). */
static void foreign_cursors(void **state)
{
    const char *const *uris = *state;
    check_backend(test_uri_expand(uris[0]), test_uri_expand(uris[1]));
}

#define PAIR_TEST(name_, uri1, uri2)                                      \
    { .name = (name_), .test_func = foreign_cursors,                      \
      .initial_state = (void *)(const char *const[2]){ (uri1), (uri2) } }

int main(void)
{
    const struct CMUnitTest tests[] = {
        PAIR_TEST("memory_foreign_cursors", "memory:", "memory:"),
        PAIR_TEST("memory_named_foreign_cursors", "memory:sec-cursor-a",
                  "memory:sec-cursor-b"),
        PAIR_TEST("file_foreign_cursors", "file://{tmpdir}/one?sync=false",
                  "file://{tmpdir}/two?sync=false"),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

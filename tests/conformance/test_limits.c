/*
 * Conformance: hostile sizes and forged cursors (docs/security.md), on
 * every backend.
 *  - A value length of SIZE_MAX (or just past any limit) is ETOOBIG on
 *    every write path before a byte of it is read (the buffer passed is
 *    16 bytes: ASan would report a read past it) and is not written.
 *  - (test_list.c, list_limit_size_max: a walk asked for SIZE_MAX keys a
 *    page gets pages of at most KVSTORE_PAGE_MAX, every key once.)
 *  - A real cursor of bucket "theirs" re-wrapped for bucket "mine" (the
 *    version 1 envelope's checksum is public: anyone can wrap any state)
 *    gives EINVAL or keys of "mine" only; replayed in another store's
 *    bucket of the same name, EINVAL or that bucket's keys only.
 *
 * SPDX-License-Identifier: MIT
 */
#include "harness.h"
#include "net.h"

#include <kvstore/backend.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char small[16] = "0123456789abcdef";

void test_value_huge_lengths(void **state)
{
    conf_ctx *c = *state;
    static const size_t lens[] = { SIZE_MAX, SIZE_MAX / 2 + 1,
                                   (size_t)1 << 40 };
    for (size_t i = 0; i < sizeof lens / sizeof *lens; i++) {
        assert_fails(kvstore_set(c->bucket, "huge", small, lens[i]),
                     KVSTORE_ETOOBIG);
        assert_absent(c->bucket, "huge");

        /* A batch with one oversized value fails and does not write it
         * (set_many is not atomic: the key before it may be written). */
        const char *keys[2] = { "batch-a", "batch-b" };
        const void *vals[2] = { small, small };
        size_t vlens[2] = { 1, lens[i] };
        assert_fails(kvstore_set_many(c->bucket, keys, vals, vlens, 2),
                     KVSTORE_ETOOBIG);
        assert_absent(c->bucket, "batch-b");

        kvstore_cas *cas = NULL;
        int rc = kvstore_cas_open(&cas, c->bucket, "huge");
        if (rc == KVSTORE_ENOTSUP)
            continue;
        assert_int_equal(rc, KVSTORE_OK);
        assert_fails(kvstore_cas_swap(cas, small, lens[i]), KVSTORE_ETOOBIG);
        kvstore_cas_free(cas);
        assert_absent(c->bucket, "huge");
    }
}

/* ---- forged cursors -------------------------------------------------- */

#define NKEYS 50

void test_list_cursor_rewrapped(void **state)
{
    conf_ctx *c = *state;
    char theirs_name[KVSTORE_BUCKET_NAME_MAX + 1];
    unsigned char st[KVSTORE_CURSOR_STATE_MAX];
    size_t len = 0;
    kvstore_bucket *theirs = conf_bucket_new(c->store, theirs_name);
    fill_tagged(c->bucket, "mine", NKEYS);
    fill_tagged(theirs, "theirs", NKEYS);
    char *cur = conf_first_cursor(theirs, NULL, 7);

    /* A version 2 cursor is bound to backend, store and bucket; a version
     * 1 table's names the bucket (if it uses kvstore_cursor_encode at
     * all: else there is nothing to re-wrap). */
    bool v2 = strncmp(cur, "c2", 2) == 0;
    if (v2)
        net_bind_uri(conf_uri);
    else
        net_bind(NULL, NULL);
    int rc = net_unwrap(cur, theirs_name, st, sizeof st, &len);
    if (v2 && rc != KVSTORE_OK)
        fail_msg("cannot re-derive the binding of %s: %s", conf_uri, cur);
    if (rc == KVSTORE_OK) {
        char *forged = net_wrap(c->name, st, len);
        int n = walk_tagged(c->bucket, NULL, forged, "mine");
        assert_true(n == -1 || n <= NKEYS);
        n = walk_tagged(c->bucket, "theirs/", forged, "mine");
        assert_true(n == -1 || n == 0);
        free(forged);
    }

    /* Another store with a bucket of the same name: there the cursor names
     * a walk it never started. Only a private store is another store. */
    if (conf_private) {
        kvstore_store *s2 = open_uri(conf_uri);
        kvstore_bucket *twin = open_bucket(s2, theirs_name);
        fill_tagged(twin, "twin", NKEYS);
        int n = walk_tagged(twin, NULL, cur, "twin");
        assert_true(n == -1 || n <= NKEYS);
        kvstore_bucket_close(twin);
        kvstore_close(s2);
    }

    /* The real walk still works and sees only its own keys: the rest
     * after a first page of at most 7. */
    int n = walk_tagged(theirs, NULL, cur, "theirs");
    assert_true(n >= NKEYS - 7);
    if (!conf_list_repeats)
        assert_true(n < NKEYS);
    free(cur);
    conf_drop_bucket(theirs);
}

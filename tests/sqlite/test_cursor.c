/*
 * sqlite backend: forged cursor states. The core binds a cursor to the
 * backend, store and bucket with a checksum that is not a secret, so a
 * guest can build a cursor around any state it likes. This test does
 * exactly that (the envelope format of src/cursor.c, re-derived in
 * tests/support/net.h and checked first against a real cursor) and asserts that every forged
 * state gives KVSTORE_EINVAL or a valid page of the bucket it was bound
 * to: never a crash, never a key of another bucket.
 *
 * SPDX-License-Identifier: MIT
 */
#include "net.h"
#include "util.h"

/* A cursor around `state` (a string) for `binding` (a bucket name, or
 * the bucket list's) of the store `store_id`: tests/support/net.h. */
static char *forge(const char *store_id, const char *binding,
                   const char *state)
{
    net_bind("sqlite", store_id);
    return net_wrap(binding, state, strlen(state));
}

#define BUCKET_LIST_BINDING "\x01" "buckets"

typedef struct ctx {
    tmp_store t;         /* t.b: bucket "a" */
    kvstore_bucket *b;   /* bucket "b" */
    char id[4400];       /* the store identity: the URI without query */
} ctx;

static int setup(void **state)
{
    ctx *c = calloc(1, sizeof *c);
    assert_non_null(c);
    c->t = tmp_store_open("sqlite://{dir}/kv.db", "a");
    db_uri(c->id, sizeof c->id, c->t.dir, NULL);
    c->b = open_bucket(c->t.s, "b");
    /* Bucket "a" holds a00..a09 and x-1, x-2; bucket "b" holds b00..b09,
     * a05b and zz: keys that sort among and after a's. */
    char key[16];
    for (int i = 0; i < 10; i++) {
        snprintf(key, sizeof key, "a%02d", i);
        set_str(c->t.b, key, "A");
        snprintf(key, sizeof key, "b%02d", i);
        set_str(c->b, key, "B");
    }
    set_str(c->t.b, "x-1", "A");
    set_str(c->t.b, "x-2", "A");
    set_str(c->b, "a05b", "B");
    set_str(c->b, "zz", "B");
    *state = c;
    return 0;
}

static int teardown(void **state)
{
    ctx *c = *state;
    kvstore_bucket_close(c->b);
    tmp_store_close(&c->t);
    free(c);
    return 0;
}

/* What a walk of bucket a from a forged state may list: only a's keys
 * (each reads back from a as "A"), in order, after the state. */
typedef struct forged_walk {
    kvstore_bucket *a;
    const char *state;
    walk_order order;
} forged_walk;

static void only_after_state(void *arg, const char *key)
{
    forged_walk *w = arg;
    void *v = NULL;
    size_t len = 0;
    assert_int_equal(kvstore_get(w->a, key, &v, &len), KVSTORE_OK);
    assert_int_equal(len, 1);
    assert_memory_equal(v, "A", 1);
    kvstore_free(v);
    assert_true(strcmp(key, w->state) > 0);
    walk_ordered(&w->order, key);
}

/* Lists bucket `a` from a forged `state` under `prefix` to the end, in
 * pages of 3 (walk_foreign checks their size and the prefix): EINVAL if
 * the forged cursor is refused, else KVSTORE_OK with the number of keys
 * in *count. */
static int walk_forged(ctx *c, const char *prefix, const char *state,
                       size_t *count)
{
    char *cur = forge(c->id, "a", state);
    forged_walk w = { .a = c->t.b, .state = state };
    long pages = walk_foreign(c->t.b, prefix, cur, 3, only_after_state, &w);
    free(cur);
    *count = w.order.keys;
    return pages < 0 ? KVSTORE_EINVAL : KVSTORE_OK;
}

static void test_forge_matches_real_cursor(void **state)
{
    ctx *c = *state;
    kvstore_keys *page = NULL;
    assert_int_equal(kvstore_list_keys(c->t.b, "", NULL, 3, &page),
                     KVSTORE_OK);
    assert_non_null(page->cursor);
    /* The state is the last key of the page. */
    char *mine = forge(c->id, "a", page->keys[2]);
    assert_string_equal(mine, page->cursor);
    free(mine);
    kvstore_keys_free(page);
}

static void test_forged_positions_stay_in_bucket(void **state)
{
    ctx *c = *state;
    size_t n;
    /* Another bucket's key as the position: a's keys after it. */
    assert_int_equal(walk_forged(c, "", "a05b", &n), KVSTORE_OK);
    assert_int_equal(n, 6); /* a06..a09, x-1, x-2 */
    assert_int_equal(walk_forged(c, "", "b00", &n), KVSTORE_OK);
    assert_int_equal(n, 2);
    /* Past every key. */
    assert_int_equal(walk_forged(c, "", "zzzz", &n), KVSTORE_OK);
    assert_int_equal(n, 0);
    /* Text that would matter if it reached SQL as SQL. */
    assert_int_equal(walk_forged(c, "", "' OR 1=1 --", &n), KVSTORE_OK);
    assert_int_equal(n, 12);
    assert_int_equal(walk_forged(c, "", "a\"; DROP TABLE spin_key_value; --",
                                 &n), KVSTORE_OK);
    assert_int_equal(n, 12); /* '"' sorts before '0' */
    /* Under a prefix: a position inside the prefix. */
    assert_int_equal(walk_forged(c, "x-", "x-1", &n), KVSTORE_OK);
    assert_int_equal(n, 1);
    /* The data is untouched. */
    expect_str(c->b, "zz", "B");
}

static void test_forged_states_refused(void **state)
{
    ctx *c = *state;
    size_t n;
    /* Not under the listing's prefix. */
    assert_int_equal(walk_forged(c, "x-", "a05", &n), KVSTORE_EINVAL);
    /* Not valid UTF-8, or too long to be a key. */
    assert_int_equal(walk_forged(c, "", "\xff\xfe", &n), KVSTORE_EINVAL);
    assert_int_equal(walk_forged(c, "", "a\xc0\xaf", &n), KVSTORE_EINVAL);
    char *big = malloc(1500);
    memset(big, 'k', 1499);
    big[1499] = '\0';
    assert_int_equal(walk_forged(c, "", big, &n), KVSTORE_EINVAL);
    free(big);
    /* A cursor bound to bucket b is refused by the core for a. */
    char *cur = forge(c->id, "b", "b00");
    cursor_refused(c->t.b, "", cur, "bucket b's");
    free(cur);
}

static void test_forged_bucket_list_states(void **state)
{
    ctx *c = *state;
    kvstore_keys *page = NULL;
    /* A valid name as the position: the buckets after it. */
    char *cur = forge(c->id, BUCKET_LIST_BINDING, "a-");
    assert_int_equal(kvstore_bucket_list(c->t.s, cur, 10, &page), KVSTORE_OK);
    free(cur);
    assert_int_equal(page->count, 1);
    assert_string_equal(page->keys[0], "b");
    kvstore_keys_free(page);
    /* Not a bucket name. */
    const char *bad[] = { "no/such name", "' OR 1=1" };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        cur = forge(c->id, BUCKET_LIST_BINDING, bad[i]);
        bucket_list_refused(c->t.s, cur, bad[i]);
        free(cur);
    }
}

int main(void)
{
#define T(test) cmocka_unit_test_setup_teardown(test, setup, teardown)
    const struct CMUnitTest tests[] = {
        T(test_forge_matches_real_cursor),
        T(test_forged_positions_stay_in_bucket),
        T(test_forged_states_refused),
        T(test_forged_bucket_list_states),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

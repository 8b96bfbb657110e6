/*
 * kvstore_get_with: a get that lends the value to a callback. A backend
 * with a get_with slot lends it from its own memory; any other is served
 * by its get, the callback and kvstore_free, so every backend supports
 * the call and only the copy differs.
 *
 * The backend never sees the user's callback: it calls lend(), which runs
 * it once and records its result, so the core can tell the callback's
 * codes (returned unchanged) from the backend's (checked and given a
 * message as every other call's).
 *
 * SPDX-License-Identifier: MIT
 */
#include "internal.h"

struct lending {
    kvstore_value_fn fn;
    void *ctx;
    int result;  /* fn's */
    bool called;
    size_t len;  /* for the observer */
};

static int lend(void *p, const void *value, size_t len)
{
    struct lending *l = p;

    if (l->called) /* a backend bug; the user was promised one call */
        return l->result;
    l->called = true;
    l->len = len;
    l->result = l->fn(l->ctx, value != NULL ? value : "", len);
    return l->result;
}

/* The fallback: the backend's copy, lent, then freed. */
static int lend_a_copy(const kvstore_bucket *b, const char *key,
                       struct lending *l)
{
    void *value = NULL;
    size_t len = 0;
    int rc = b->be->get(b->state, key, &value, &len);

    if (rc == KVSTORE_OK)
        rc = lend(l, value, len);
    /* Also what a failing backend may have handed out anyway. */
    kvstore_free(value);
    return rc;
}

static int get_with_impl(kvstore_bucket *b, const char *key,
                         struct lending *l)
{
    unsigned mark;
    int rc;

    if (b == NULL || l->fn == NULL)
        return kvstore_set_error(KVSTORE_EINVAL, "%s is NULL",
                                 b == NULL ? "bucket" : "fn");
    rc = kvstore_key_check(key);
    if (rc != KVSTORE_OK)
        return rc;
    mark = kvs_error_mark();
    rc = b->be->get_with != NULL ? b->be->get_with(b->state, key, lend, l)
                                 : lend_a_copy(b, key, l);
    if (l->called) {
        /* The value was delivered: the callback's word is the result. */
        if (l->result != 0)
            kvstore_set_error(l->result, "get_with: the value callback "
                                         "returned %d", l->result);
        return l->result;
    }
    if (rc == KVSTORE_OK)
        return kvstore_set_error(KVSTORE_EIO, "get_with: backend '%s' "
                                 "found the key but lent no value",
                                 b->be->name);
    return rc < 0 ? kvs_error_finish(rc, mark, "get") : rc;
}

int kvstore_get_with(kvstore_bucket *b, const char *key, kvstore_value_fn fn,
                     void *ctx)
{
    struct lending l = { .fn = fn, .ctx = ctx };
    struct kvs_obs_call c;
    int rc;

    if (b == NULL || !kvs_obs_begin(&c, b->store))
        return get_with_impl(b, key, &l);
    rc = get_with_impl(b, key, &l);
    kvs_obs_end(&c, KVSTORE_OP_GET, b->name, 1, 0, l.called ? l.len : 0, rc);
    return rc;
}

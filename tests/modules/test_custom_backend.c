/*
 * A backend registered from the program itself with
 * kvstore_backend_register() and used through kvstore_open(): the
 * registry's rules, and the core's fallbacks for optional slots left NULL
 * (batch as a loop, increment over CAS, ENOTSUP without CAS or watch).
 *
 * SPDX-License-Identifier: MIT
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "arraystore.h"
#include "fx_conformance.h"
#include "fx_memory.h"

/* Required slots and CAS: increment and batch come from the core. */
static const kvstore_backend arr_cas = {
    .version = KVSTORE_BACKEND_VERSION,
    .name = "arr",
    ARRAYSTORE_REQUIRED_SLOTS,
    ARRAYSTORE_CAS_SLOTS,
};

/* Required slots only. */
static const kvstore_backend arr_bare = {
    .version = KVSTORE_BACKEND_VERSION,
    .name = "arrbare",
    ARRAYSTORE_REQUIRED_SLOTS,
};

/* Every slot but watch: the core must call the native ones. */
static const kvstore_backend arr_native = {
    .version = KVSTORE_BACKEND_VERSION,
    .name = "arrnative",
    ARRAYSTORE_REQUIRED_SLOTS,
    ARRAYSTORE_CAS_SLOTS,
    .get_many = arraystore_get_many,
    .set_many = arraystore_set_many,
    .delete_many = arraystore_delete_many,
    .increment = arraystore_increment,
};

static int failing_store_open(void **out, const kvstore_uri *uri)
{
    (void)out; (void)uri;
    return kvstore_set_error(KVSTORE_EIO, "the impostor was called");
}


static void register_ok(const kvstore_backend *be)
{
    int rc = kvstore_backend_register(be);
    if (rc != KVSTORE_OK)
        fail_msg("register(%s) = %d: %s", be->name, rc, kvstore_errmsg());
}

/* A cmocka fixture: registers the table given as the test's initial
 * state (TABLE_TEST), opens "<name>:" and its bucket "b" as a tmp_store
 * (its directory is not used) and resets the call counts; the test reads
 * the tmp_store from *state, store_teardown closes it. */
static int table_setup(void **state)
{
    const kvstore_backend *be = *state;
    char uri[64];
    tmp_store *t = malloc(sizeof *t);
    assert_non_null(t);
    register_ok(be);
    snprintf(uri, sizeof uri, "%s:", be->name);
    *t = tmp_store_open(uri, "b");
    *state = t;
    arraystore_calls_reset();
    return 0;
}

#define TABLE_TEST(test, table) \
    cmocka_unit_test_prestate_setup_teardown(test, table_setup, \
                                             store_teardown, (void *)(table))

static void test_register_and_open(void **state)
{
    tmp_store *t = *state;
    assert_int_equal(kvstore_set(t->b, "k", "v", 1), KVSTORE_OK);
    expect_str(t->b, "k", "v");
    assert_int_equal(arraystore_calls(AS_SET), 1);
    assert_int_equal(arraystore_calls(AS_GET), 1);
    /* Registering the same table again is harmless. */
    assert_int_equal(kvstore_backend_register(&arr_cas), KVSTORE_OK);
    assert_int_equal(kvstore_backend_register(&arr_cas), KVSTORE_OK);
    /* The scheme is case-insensitive in URIs; backends are named in
     * lower case. */
    kvstore_store *s = NULL;
    assert_int_equal(kvstore_open(&s, "ARR:"), KVSTORE_OK);
    kvstore_close(s);
}

static void test_register_duplicate(void **state)
{
    (void)state;
    register_ok(&arr_cas);
    /* Another table with the taken name. */
    kvstore_backend impostor = arr_bare;
    impostor.name = "arr";
    impostor.store_open = failing_store_open;
    assert_int_equal(kvstore_backend_register(&impostor), KVSTORE_EEXISTS);
    assert_non_null(strstr(kvstore_errmsg(), "arr"));
    /* The first table still serves the scheme. */
    kvstore_store *s = NULL;
    assert_int_equal(kvstore_open(&s, "arr:"), KVSTORE_OK);
    kvstore_close(s);
    /* Built-in names are taken too, before any built-in was used. */
    static const kvstore_backend fake_memory = {
        .version = KVSTORE_BACKEND_VERSION,
        .name = "memory",
        ARRAYSTORE_REQUIRED_SLOTS,
    };
    int rc = kvstore_backend_register(&fake_memory);
    if (rc == KVSTORE_OK) {
        /* Only acceptable if this build has no memory backend. */
        kvstore_store *m = NULL;
        arraystore_calls_reset();
        assert_int_equal(kvstore_open(&m, "memory:"), KVSTORE_OK);
        kvstore_close(m);
        assert_int_equal(arraystore_calls(AS_STORE_OPEN), 1);
        print_message("no built-in memory backend in this build\n");
    } else {
        assert_int_equal(rc, KVSTORE_EEXISTS);
    }
}

static void test_register_invalid(void **state)
{
    (void)state;
    assert_int_equal(kvstore_backend_register(NULL), KVSTORE_EINVAL);

    kvstore_backend t = arr_bare;
    t.name = "badversion";
    t.version = 0;
    assert_int_equal(kvstore_backend_register(&t), KVSTORE_EINVAL);
    t.version = KVSTORE_BACKEND_VERSION + 1;
    assert_int_equal(kvstore_backend_register(&t), KVSTORE_EINVAL);
    assert_non_null(strstr(kvstore_errmsg(), "version"));

    static const char *const bad_names[] = {
        "", "Upper", "1abc", "a b", "a/b", "a:b", "a_b", "-a",
        "abcdefghijklmnopqrstuvwxyzabcdefg", /* 33 bytes */
    };
    for (size_t i = 0; i < sizeof bad_names / sizeof bad_names[0]; i++) {
        t = arr_bare;
        t.name = bad_names[i];
        if (kvstore_backend_register(&t) != KVSTORE_EINVAL)
            fail_msg("backend name \"%s\" accepted", bad_names[i]);
    }
    t = arr_bare;
    t.name = NULL;
    assert_int_equal(kvstore_backend_register(&t), KVSTORE_EINVAL);
    /* 32 bytes with every allowed character class is fine. */
    t = arr_bare;
    t.name = "abcdefghijklmnopqrstuvwxyz0+.-ab";
    assert_int_equal(strlen(t.name), 32);
    static kvstore_backend longname; /* must outlive the registry */
    longname = t;
    assert_int_equal(kvstore_backend_register(&longname), KVSTORE_OK);

    /* Each required slot, missing in turn. */
    static const size_t required[] = {
        offsetof(kvstore_backend, store_open),
        offsetof(kvstore_backend, store_close),
        offsetof(kvstore_backend, bucket_open),
        offsetof(kvstore_backend, bucket_close),
        offsetof(kvstore_backend, get),
        offsetof(kvstore_backend, set),
        offsetof(kvstore_backend, del),
        offsetof(kvstore_backend, exists),
        offsetof(kvstore_backend, list_keys),
    };
    for (size_t i = 0; i < sizeof required / sizeof required[0]; i++) {
        t = arr_bare;
        t.name = "missingslot";
        memset((char *)&t + required[i], 0, sizeof(void (*)(void)));
        if (kvstore_backend_register(&t) != KVSTORE_EINVAL)
            fail_msg("table without required slot #%zu accepted", i);
    }
    /* CAS is all three slots or none; watch both or none. */
    t = arr_bare;
    t.name = "halfcas";
    t.cas_open = arraystore_cas_open;
    assert_int_equal(kvstore_backend_register(&t), KVSTORE_EINVAL);
    t.cas_swap = arraystore_cas_swap;
    assert_int_equal(kvstore_backend_register(&t), KVSTORE_EINVAL);

    /* None of the rejected tables serves its scheme. */
    static const char *const unserved[] = {
        "badversion:", "missingslot:", "halfcas:",
    };
    for (size_t i = 0; i < 3; i++) {
        kvstore_store *s = NULL;
        assert_int_equal(kvstore_open(&s, unserved[i]), KVSTORE_ENOSTORE);
    }
}

static void test_fallback_batch_loops(void **state)
{
    tmp_store *t = *state;
    const char *keys[] = { "a", "b", "c" };
    const void *vals[] = { "1", "22", "" };
    const size_t lens[] = { 1, 2, 0 };
    assert_int_equal(kvstore_set_many(t->b, keys, vals, lens, 3),
                     KVSTORE_OK);
    assert_int_equal(arraystore_calls(AS_SET), 3);
    assert_int_equal(arraystore_calls(AS_SET_MANY), 0);
    const char *q[] = { "a", "missing", "b", "c" };
    void *out[4];
    size_t outl[4];
    assert_int_equal(kvstore_get_many(t->b, q, 4, out, outl), KVSTORE_OK);
    assert_int_equal(arraystore_calls(AS_GET), 4);
    expect_many(out, outl, (const char *const[]){ "1", NULL, "22", "" }, 4);
    assert_int_equal(kvstore_delete_many(t->b, q, 4), KVSTORE_OK);
    assert_int_equal(arraystore_calls(AS_DEL), 4);
    bool e = true;
    assert_int_equal(kvstore_exists(t->b, "b", &e), KVSTORE_OK);
    assert_false(e);
    /* An invalid key is caught before the loop starts. */
    arraystore_calls_reset();
    const char *bad[] = { "ok", "\xff" };
    assert_int_equal(kvstore_set_many(t->b, bad, vals, lens, 2),
                     KVSTORE_EINVAL);
    assert_int_equal(arraystore_calls(AS_SET), 0);
}

static void test_native_slots_used(void **state)
{
    tmp_store *t = *state;
    const char *keys[] = { "a", "b", "c" };
    const void *vals[] = { "1", "2", "3" };
    const size_t lens[] = { 1, 1, 1 };
    void *out[3];
    size_t outl[3];
    assert_int_equal(kvstore_set_many(t->b, keys, vals, lens, 3),
                     KVSTORE_OK);
    assert_int_equal(kvstore_get_many(t->b, keys, 3, out, outl),
                     KVSTORE_OK);
    for (int i = 0; i < 3; i++)
        kvstore_free(out[i]);
    assert_int_equal(kvstore_delete_many(t->b, keys, 3), KVSTORE_OK);
    int64_t r = 0;
    assert_int_equal(kvstore_increment(t->b, "n", 2, &r), KVSTORE_OK);
    assert_int_equal(r, 2);
    assert_int_equal(arraystore_calls(AS_SET_MANY), 1);
    assert_int_equal(arraystore_calls(AS_GET_MANY), 1);
    assert_int_equal(arraystore_calls(AS_DELETE_MANY), 1);
    assert_int_equal(arraystore_calls(AS_INCREMENT), 1);
    assert_int_equal(arraystore_calls(AS_SET), 0);
    assert_int_equal(arraystore_calls(AS_GET), 0);
    assert_int_equal(arraystore_calls(AS_DEL), 0);
    assert_int_equal(arraystore_calls(AS_CAS_OPEN), 0);
}

static void test_fallback_increment_via_cas(void **state)
{
    tmp_store *t = *state;
    int64_t r = 0;
    assert_int_equal(kvstore_increment(t->b, "n", 5, &r), KVSTORE_OK);
    assert_int_equal(r, 5);
    assert_int_equal(kvstore_increment(t->b, "n", -8, &r), KVSTORE_OK);
    assert_int_equal(r, -3);
    assert_true(arraystore_calls(AS_CAS_OPEN) >= 2);
    assert_true(arraystore_calls(AS_CAS_SWAP) >= 2);
    expect_str(t->b, "n", "-3");
    /* The fallback enforces the same rules as a native increment. */
    assert_int_equal(kvstore_set(t->b, "s", "abc", 3), KVSTORE_OK);
    assert_int_equal(kvstore_increment(t->b, "s", 1, &r), KVSTORE_EINVAL);
    expect_str(t->b, "s", "abc");
    assert_int_equal(kvstore_set(t->b, "m", "9223372036854775807", 19),
                     KVSTORE_OK);
    assert_int_equal(kvstore_increment(t->b, "m", 1, NULL),
                     KVSTORE_EINVAL);
    expect_str(t->b, "m", "9223372036854775807");
}

static void *cas_incr_thread(void *arg)
{
    kvstore_bucket *b = *(kvstore_bucket **)arg;
    for (int i = 0; i < 500; i++)
        if (kvstore_increment(b, "ctr", 1, NULL) != KVSTORE_OK)
            return (void *)1;
    return NULL;
}

static void test_fallback_increment_concurrent(void **state)
{
    /* The CAS loop must retry on conflict, never lose an update. */
    tmp_store *t = *state;
    kvstore_bucket *b[4] = { t->b, t->b, t->b, t->b };
    threads_run(4, cas_incr_thread, b, sizeof b[0]);
    expect_str(t->b, "ctr", "2000");
}

static void test_bare_not_supported(void **state)
{
    tmp_store *t = *state;
    int64_t r = 0;
    assert_int_equal(kvstore_set(t->b, "n", "1", 1), KVSTORE_OK);
    assert_int_equal(kvstore_increment(t->b, "n", 1, &r),
                     KVSTORE_ENOTSUP);
    assert_true(strlen(kvstore_errmsg()) > 0);
    expect_str(t->b, "n", "1");
    kvstore_cas *cas = NULL;
    assert_int_equal(kvstore_cas_open(&cas, t->b, "n"), KVSTORE_ENOTSUP);
    assert_null(cas);
    /* Batch still works, as a loop over the required slots. */
    const char *keys[] = { "x", "y" };
    const void *vals[] = { "1", "2" };
    const size_t lens[] = { 1, 1 };
    assert_int_equal(kvstore_set_many(t->b, keys, vals, lens, 2),
                     KVSTORE_OK);
    expect_str(t->b, "y", "2");
}

static void test_value_limit_reported(void **state)
{
    /* A backend's ETOOBIG and its message reach the caller unchanged. */
    tmp_store *t = *state;
    size_t n = ARRAYSTORE_VALUE_MAX + 1;
    char *big = calloc(1, n);
    assert_non_null(big);
    assert_int_equal(kvstore_set(t->b, "big", big, n), KVSTORE_ETOOBIG);
    char limit[32];
    snprintf(limit, sizeof limit, "%u", ARRAYSTORE_VALUE_MAX);
    assert_non_null(strstr(kvstore_errmsg(), limit));
    assert_int_equal(kvstore_set(t->b, "big", big, n - 1), KVSTORE_OK);
    free(big);
}

static void on_event(void *payload, kvstore_event event, const char *key,
                     const void *value, size_t len)
{
    (void)payload; (void)event; (void)key; (void)value; (void)len;
}

static void test_no_watch(void **state)
{
    tmp_store *t = *state;
    kvstore_watch *w = NULL;
    assert_int_equal(kvstore_watch_start(&w, t->b, "", on_event, NULL),
                     KVSTORE_ENOTSUP);
    assert_null(w);
}

static void test_uri_params_for_custom(void **state)
{
    (void)state;
    register_ok(&arr_cas);
    kvstore_store *s = NULL;
    /* arr lists no options: anything but "create" is unknown. */
    assert_int_equal(kvstore_open(&s, "arr:?label=x"), KVSTORE_EINVAL);
    assert_int_equal(kvstore_open(&s, "arr:?create=false"), KVSTORE_OK);
    kvstore_bucket *b = NULL;
    /* create=false reaches bucket_open: a missing bucket stays missing. */
    assert_int_equal(kvstore_bucket_open(&b, s, "nope"), KVSTORE_ENOSTORE);
    assert_non_null(strstr(kvstore_errmsg(), "arraystore"));
    kvstore_close(s);
}

/* Threads racing to register: one table many times, and two tables with
 * one name (exactly one wins). */
static const kvstore_backend race_a = {
    .version = KVSTORE_BACKEND_VERSION, .name = "race",
    ARRAYSTORE_REQUIRED_SLOTS,
};
static const kvstore_backend race_b = {
    .version = KVSTORE_BACKEND_VERSION, .name = "race",
    ARRAYSTORE_REQUIRED_SLOTS,
};

static void *register_thread(void *arg)
{
    const kvstore_backend *be = arg;
    int rc = KVSTORE_OK;
    for (int i = 0; i < 100 && rc == KVSTORE_OK; i++)
        rc = kvstore_backend_register(be);
    return (void *)(intptr_t)rc;
}

static void test_register_threads(void **state)
{
    (void)state;
    pthread_t t[8];
    for (int i = 0; i < 8; i++)
        assert_int_equal(pthread_create(&t[i], NULL, register_thread,
                                        (void *)(i % 2 ? &race_a : &race_b)),
                         0);
    int ok_a = 0, ok_b = 0, exists = 0;
    for (int i = 0; i < 8; i++) {
        void *ret;
        pthread_join(t[i], &ret);
        int rc = (int)(intptr_t)ret;
        if (rc == KVSTORE_OK && i % 2)
            ok_a++;
        else if (rc == KVSTORE_OK)
            ok_b++;
        else if (rc == KVSTORE_EEXISTS)
            exists++;
        else
            fail_msg("register from a thread = %d", rc);
    }
    /* All threads of the winning table succeed, all of the other fail. */
    assert_true((ok_a == 4 && ok_b == 0) || (ok_a == 0 && ok_b == 4));
    assert_int_equal(exists, 4);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        TABLE_TEST(test_register_and_open, &arr_cas),
        cmocka_unit_test(test_register_duplicate),
        cmocka_unit_test(test_register_invalid),
        TABLE_TEST(test_fallback_batch_loops, &arr_cas),
        TABLE_TEST(test_native_slots_used, &arr_native),
        TABLE_TEST(test_fallback_increment_via_cas, &arr_cas),
        TABLE_TEST(test_fallback_increment_concurrent, &arr_cas),
        TABLE_TEST(test_bare_not_supported, &arr_bare),
        TABLE_TEST(test_value_limit_reported, &arr_cas),
        TABLE_TEST(test_no_watch, &arr_cas),
        cmocka_unit_test(test_uri_params_for_custom),
        cmocka_unit_test(test_register_threads),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

/*
 * Backend modules built in this tree: loaded by path with
 * kvstore_backend_load() and found by scheme through KVSTORE_BACKEND_PATH;
 * modules with a wrong ABI, no entry symbol or a bad table are refused
 * with a clear message.
 *
 * MODULE_DIR (the build directory of these modules) and SOURCE_DIR come
 * from meson.
 *
 * SPDX-License-Identifier: MIT
 */
#include "fx_conformance.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <kvstore/backend.h>

#define MOD(name) MODULE_DIR "/" name

/* A set and get through the module: the value the module allocated with
 * kvstore_malloc is freed by the library's kvstore_free. */
static void roundtrip(const char *uri)
{
    store_roundtrip(uri, "b", "module");
}

static bool contains_ci(const char *hay, const char *needle)
{
    for (; *hay; hay++)
        if (strncasecmp(hay, needle, strlen(needle)) == 0)
            return true;
    return false;
}

static void test_scheme_lookup(void **state)
{
    (void)state;
    /* Nothing registered "testmod": the core finds kvstore-testmod.so in
     * KVSTORE_BACKEND_PATH (after a missing and an empty entry). */
    roundtrip("testmod:");
    /* The module's own option is accepted, unknown ones are not. */
    roundtrip("testmod:?label=x");
    kvstore_store *s = NULL;
    assert_int_equal(kvstore_open(&s, "testmod:?bogus=1"), KVSTORE_EINVAL);
    /* Loading the module again by path is harmless. */
    assert_int_equal(kvstore_backend_load(MOD("kvstore-testmod.so")),
                     KVSTORE_OK);
    roundtrip("testmod:");
}

static void test_load_by_path(void **state)
{
    (void)state;
    /* pathmod.so is not named kvstore-<scheme>.so: only a load by path
     * makes its scheme known. */
    kvstore_store *s = NULL;
    assert_int_equal(kvstore_open(&s, "pathmod:"), KVSTORE_ENOSTORE);
    int rc = kvstore_backend_load(MOD("pathmod.so"));
    if (rc != KVSTORE_OK)
        fail_msg("load(pathmod.so) = %d: %s", rc, kvstore_errmsg());
    roundtrip("pathmod:");
    assert_int_equal(kvstore_backend_load(MOD("pathmod.so")), KVSTORE_OK);
    roundtrip("pathmod:");
}

static void test_module_errors_reach_caller(void **state)
{
    (void)state;
    /* A module sets errors through the same library: the message it set
     * is the caller's kvstore_errmsg(). */
    kvstore_store *s = NULL;
    kvstore_bucket *b = NULL;
    assert_int_equal(kvstore_open(&s, "testmod:?create=false"), KVSTORE_OK);
    assert_int_equal(kvstore_bucket_open(&b, s, "missing"), KVSTORE_ENOSTORE);
    assert_non_null(strstr(kvstore_errmsg(), "arraystore: no bucket"));
    kvstore_close(s);
}

/* Loading `file` fails with `code` and a message naming the module and
 * containing `why` (case-insensitive); its scheme stays unserved. */
static void refused(const char *file, int code, const char *why,
                    const char *scheme_uri)
{
    int rc = kvstore_backend_load(file);
    if (rc != code)
        fail_msg("load(%s) = %d (%s), expected %d", file, rc,
                 kvstore_errmsg(), code);
    const char *m = kvstore_errmsg();
    if (!contains_ci(m, why))
        fail_msg("load(%s): message \"%s\" does not mention \"%s\"", file, m,
                 why);
    if (scheme_uri != NULL) {
        kvstore_store *s = NULL;
        rc = kvstore_open(&s, scheme_uri);
        if (rc == KVSTORE_OK)
            kvstore_close(s);
        assert_int_equal(rc, KVSTORE_ENOSTORE);
        /* Found by scheme, the refusal keeps its reason. */
        if (!contains_ci(kvstore_errmsg(), why))
            fail_msg("open(%s): message \"%s\" does not mention \"%s\"",
                     scheme_uri, kvstore_errmsg(), why);
    }
}

static void test_wrong_descriptor_version(void **state)
{
    (void)state;
    refused(MOD("kvstore-badmajor.so"), KVSTORE_EINVAL, "descriptor",
            "badmajor:");
    refused(MOD("kvstore-badmajor.so"), KVSTORE_EINVAL, "badmajor", NULL);
    /* The message says which version the module has. */
    char want[32];
    snprintf(want, sizeof want, "version %d", KVSTORE_MODULE_VERSION + 1);
    refused(MOD("kvstore-badmajor.so"), KVSTORE_EINVAL, want, NULL);
}

/* The descriptor's second field was the module ABI minor in 1.0; table
 * versions carry compatibility now, so the loader ignores it. */
static void test_reserved_field_ignored(void **state)
{
    (void)state;
    roundtrip("badminor:");
}

static void test_no_entry_symbol(void **state)
{
    (void)state;
    refused(MOD("kvstore-noentry.so"), KVSTORE_EINVAL,
            KVSTORE_MODULE_ENTRY_NAME, "noentry:");
}

static void test_null_descriptor(void **state)
{
    (void)state;
    refused(MOD("kvstore-nullentry.so"), KVSTORE_EINVAL, "nullentry",
            "nullentry:");
}

static void test_bad_table_version(void **state)
{
    (void)state;
    refused(MOD("kvstore-badtable.so"), KVSTORE_EINVAL, "version",
            "badtable:");
}

static void test_unloadable_paths(void **state)
{
    (void)state;
    assert_int_equal(kvstore_backend_load(NULL), KVSTORE_EINVAL);
    assert_int_equal(kvstore_backend_load(""), KVSTORE_EINVAL);
    refused(MOD("does-not-exist.so"), KVSTORE_ENOSTORE, "does-not-exist",
            NULL);
    /* A file that is not a shared object at all. */
    refused(SOURCE_DIR "/testmod.c", KVSTORE_ENOSTORE, "testmod.c", NULL);
    refused("/nonexistent-dir/kvstore-x.so", KVSTORE_ENOSTORE, "kvstore-x",
            NULL);
}

static void test_unknown_scheme_message(void **state)
{
    (void)state;
    kvstore_store *s = NULL;
    assert_int_equal(kvstore_open(&s, "nomodule:"), KVSTORE_ENOSTORE);
    assert_null(s);
    assert_non_null(strstr(kvstore_errmsg(), "nomodule"));
}

int main(void)
{
    /* A missing directory and an empty entry before the real one: the
     * search must skip both. */
    setenv("KVSTORE_BACKEND_PATH", "/nonexistent-kvstore-dir::" MODULE_DIR,
           1);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_scheme_lookup),
        cmocka_unit_test(test_load_by_path),
        cmocka_unit_test(test_module_errors_reach_caller),
        cmocka_unit_test(test_wrong_descriptor_version),
        cmocka_unit_test(test_reserved_field_ignored),
        cmocka_unit_test(test_no_entry_symbol),
        cmocka_unit_test(test_null_descriptor),
        cmocka_unit_test(test_bad_table_version),
        cmocka_unit_test(test_unloadable_paths),
        cmocka_unit_test(test_unknown_scheme_message),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

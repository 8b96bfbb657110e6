/*
 * KNOWN BUGS of backends/file, owned by another branch: each test here
 * FAILS until the bug is fixed, and is registered with should_fail in
 * meson.build. When a fix lands, the test passes, meson reports an
 * unexpected pass, and whoever fixed it moves the test to
 * test_file_paths.c and drops should_fail. docs/security.md lists them.
 *
 * 1. kvf_name_decode (backends/file/encode.c, the loop's
 *    `if (i >= KVF_NAME_DIRECT_MAX)` check) only looks at the index where
 *    an escape starts, so a 201- or 202-byte name whose last "%XX"
 *    straddles the 200-byte limit decodes to a key, although the encoder
 *    stores that key under its hashed name "~<sha256>". The name is not
 *    canonical: a file planted (or left by another tool) under it is
 *    listed as a key that get/exists/delete then cannot see, and the same
 *    key can be listed twice. Found by tests/fuzz/fuzz_file_name.c.
 *    Fix: reject names longer than KVF_NAME_DIRECT_MAX up front
 *    (strnlen(name, KVF_NAME_DIRECT_MAX + 1) > KVF_NAME_DIRECT_MAX).
 *
 * SPDX-License-Identifier: MIT
 */
#include "util.h"

static void long_noncanonical_name_not_listed(void **state)
{
    (void)state;
    char *dir = tmp_new();
    kvstore_store *s = open_file_store(dir);
    kvstore_bucket *b = open_bucket(s, "b");
    char name[256], path[4400];

    /* 198 'a' + "%2E" = 201 bytes; the key "aaa...a." (199 bytes) is
     * stored under a hashed name, never under this one. */
    memset(name, 'a', 198);
    strcpy(name + 198, "%2E");
    snprintf(path, sizeof path, "%s/b/%s", dir, name);
    write_small(path, "");

    kvstore_keys *page = NULL;
    int rc = kvstore_list_keys(b, NULL, NULL, 0, &page);
    size_t listed = rc == KVSTORE_OK ? page->count : 0;
    kvstore_keys_free(page);
    kvstore_bucket_close(b);
    kvstore_close(s);
    tmp_free(dir);
    /* Everything is freed first: the failure must not be a leak too
     * (valgrind's exit code would turn an expected failure into an
     * error). */
    assert_int_equal(rc, KVSTORE_OK);
    assert_int_equal(listed, 0); /* fails today: the key is listed */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(long_noncanonical_name_not_listed),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

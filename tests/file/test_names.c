/*
 * File backend names that the encoder never writes must not be read as
 * keys. kvf_name_decode once checked the 200-byte limit only where an
 * escape started, so a 201- or 202-byte name whose last "%XX" straddled
 * it (198 x 'a' + "%2E") decoded to a key that the encoder stores under
 * its hashed name: a file planted under it was listed as a key that
 * get/exists/delete could not see. Found by review and fuzz-file-name.
 *
 * SPDX-License-Identifier: MIT
 */
#include "support.h"

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
    assert_int_equal(listed, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(long_noncanonical_name_not_listed),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

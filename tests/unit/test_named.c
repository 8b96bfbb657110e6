/*
 * Named stores: kvstore_open("@name") through the store config file.
 *
 * SPDX-License-Identifier: MIT
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <kvstore/kvstore.h>

#include "tmpdir.h"

static char *dir;
static char conf[4200];

static void write_conf(mode_t mode, const char *text)
{
    FILE *f = fopen(conf, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
    assert_int_equal(chmod(conf, mode), 0);
}

static int fixture_up(void **state)
{
    (void)state;
    dir = ts_mkdtemp("kvstore-named");
    if (dir == NULL)
        return -1;
    snprintf(conf, sizeof conf, "%s/stores.conf", dir);
    setenv("KVSTORE_CONFIG", conf, 1);
    return 0;
}

static int fixture_down(void **state)
{
    (void)state;
    ts_rmtree(dir);
    free(dir);
    return 0;
}

static void expect_open(const char *uri, int code, const char *needle)
{
    kvstore_store *s = (kvstore_store *)1;
    int rc = kvstore_open(&s, uri);
    if (rc != code)
        fail_msg("open(%s) = %d (%s), expected %d", uri, rc, kvstore_errmsg(),
                 code);
    if (code != KVSTORE_OK) {
        assert_null(s);
        if (needle && strstr(kvstore_errmsg(), needle) == NULL)
            fail_msg("open(%s): \"%s\" lacks \"%s\"", uri, kvstore_errmsg(),
                     needle);
        if (strstr(kvstore_errmsg(), "s3cret") != NULL)
            fail_msg("message shows the password: %s", kvstore_errmsg());
    }
    kvstore_close(code == KVSTORE_OK ? s : NULL);
}

static void test_named_opens_the_uri(void **state)
{
    char text[600];
    (void)state;
    /* The data lands where the named URI says: read it back directly. */
    snprintf(text, sizeof text,
             "# stores\n\n  cache = file://%s/data  \n"
             "other=memory:\n", dir);
    write_conf(0644, text);
    kvstore_store *s = NULL;
    kvstore_bucket *b = NULL;
    assert_int_equal(kvstore_open(&s, "@cache"), KVSTORE_OK);
    assert_int_equal(kvstore_bucket_open(&b, s, "b"), KVSTORE_OK);
    assert_int_equal(kvstore_set(b, "k", "named", 5), KVSTORE_OK);
    kvstore_bucket_close(b);
    kvstore_close(s);

    char uri[300];
    snprintf(uri, sizeof uri, "file://%s/data", dir);
    assert_int_equal(kvstore_open(&s, uri), KVSTORE_OK);
    assert_int_equal(kvstore_bucket_open(&b, s, "b"), KVSTORE_OK);
    void *v = NULL;
    size_t n = 0;
    assert_int_equal(kvstore_get(b, "k", &v, &n), KVSTORE_OK);
    assert_int_equal(n, 5);
    assert_memory_equal(v, "named", 5);
    kvstore_free(v);
    kvstore_bucket_close(b);
    kvstore_close(s);
    expect_open("@other", KVSTORE_OK, NULL);
}

static void test_named_missing(void **state)
{
    (void)state;
    write_conf(0600, "a = memory:\n");
    expect_open("@nosuch", KVSTORE_ENOSTORE, "nosuch");
    unlink(conf);
    expect_open("@a", KVSTORE_ENOSTORE, conf);
}

static void test_named_bad_names_and_lines(void **state)
{
    (void)state;
    write_conf(0600, "a = memory:\n");
    expect_open("@", KVSTORE_EINVAL, "store name");
    expect_open("@a/b", KVSTORE_EINVAL, "store name");
    expect_open("@../etc", KVSTORE_EINVAL, "store name");
    write_conf(0600, "a memory:\n");
    expect_open("@a", KVSTORE_EINVAL, ":1:");
    write_conf(0600, "ok = memory:\nb@d = memory:\n");
    expect_open("@ok", KVSTORE_EINVAL, ":2:");
    write_conf(0600, "a = @b\nb = memory:\n");
    expect_open("@a", KVSTORE_EINVAL, "another @name");
    write_conf(0600, "a = memory:\na = file:///tmp/x\n");
    expect_open("@a", KVSTORE_EINVAL, "twice");
    write_conf(0600, "a =\n");
    expect_open("@a", KVSTORE_EINVAL, "needs a URI");
}

static void test_named_long_line(void **state)
{
    (void)state;
    char *text = malloc(10000);
    assert_non_null(text);
    memset(text, 'x', 9998);
    text[9998] = '\n';
    text[9999] = '\0';
    write_conf(0600, text);
    free(text);
    expect_open("@a", KVSTORE_EINVAL, "longer than");
}

/* A credential in a file others can read is refused, and the message
 * names the file and the fix but never the password. */
static void test_named_credentials_need_private_file(void **state)
{
    (void)state;
    write_conf(0644, "r = redis://user:s3cret@127.0.0.1:1/0\n");
    expect_open("@r", KVSTORE_EACCESS, "chmod 600");
    write_conf(0640, "r = nats://t0ken-s3cret@127.0.0.1:1\n");
    expect_open("@r", KVSTORE_EACCESS, conf);
    write_conf(0602, "r = redis://user:s3cret@127.0.0.1:1/0\n");
    expect_open("@r", KVSTORE_EACCESS, "0602");
    /* Private: the open goes on to the URI (nothing listens on port 1, so
     * it fails there, not on the file). */
    write_conf(0600, "r = redis://user:s3cret@127.0.0.1:1/0?timeout_ms=200\n");
    kvstore_store *s = NULL;
    int rc = kvstore_open(&s, "@r");
    assert_int_not_equal(rc, KVSTORE_EACCESS);
    assert_null(strstr(kvstore_errmsg(), "s3cret"));
    kvstore_close(s);
    /* No credential: a world-readable file is fine. */
    write_conf(0644, "m = memory:\n");
    expect_open("@m", KVSTORE_OK, NULL);
}

static void test_named_not_a_regular_file(void **state)
{
    (void)state;
    setenv("KVSTORE_CONFIG", dir, 1);
    expect_open("@a", KVSTORE_EINVAL, "not a regular file");
    setenv("KVSTORE_CONFIG", conf, 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_named_opens_the_uri),
        cmocka_unit_test(test_named_missing),
        cmocka_unit_test(test_named_bad_names_and_lines),
        cmocka_unit_test(test_named_long_line),
        cmocka_unit_test(test_named_credentials_need_private_file),
        cmocka_unit_test(test_named_not_a_regular_file),
    };
    return cmocka_run_group_tests(tests, fixture_up, fixture_down);
}

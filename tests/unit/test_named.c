/*
 * Named stores: kvstore_open("@name") through the store config file.
 *
 * SPDX-License-Identifier: MIT
 */
#include "support.h"

#include <sys/stat.h>
#include <unistd.h>

static char *dir;
static char conf[4200];

static void write_conf(mode_t mode, const char *text)
{
    write_small(conf, text);
    assert_int_equal(chmod(conf, mode), 0);
}

static int fixture_up(void **state)
{
    (void)state;
    dir = tmp_new();
    snprintf(conf, sizeof conf, "%s/stores.conf", dir);
    setenv("KVSTORE_CONFIG", conf, 1);
    return 0;
}

static int fixture_down(void **state)
{
    (void)state;
    tmp_free(dir);
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

/* With a config file of `text` (permissions `mode`), opening `name` gives
 * `code` and a message holding `needle` (expect_open). */
static void open_with_conf(mode_t mode, const char *text, const char *name,
                           int code, const char *needle)
{
    write_conf(mode, text);
    expect_open(name, code, needle);
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
    kvstore_store *s = open_uri("@cache");
    kvstore_bucket *b = open_bucket(s, "b");
    set_str(b, "k", "named");
    kvstore_bucket_close(b);
    kvstore_close(s);

    s = open_urif("file://%s/data", dir);
    b = open_bucket(s, "b");
    expect_str(b, "k", "named");
    kvstore_bucket_close(b);
    kvstore_close(s);
    expect_open("@other", KVSTORE_OK, NULL);
}

static void test_named_missing(void **state)
{
    (void)state;
    open_with_conf(0600, "a = memory:\n", "@nosuch", KVSTORE_ENOSTORE,
                   "nosuch");
    unlink(conf);
    expect_open("@a", KVSTORE_ENOSTORE, conf);
}

static void test_named_bad_names_and_lines(void **state)
{
    static const struct {
        const char *conf, *name, *needle;
    } cases[] = {
        { "a = memory:\n", "@", "store name" },
        { "a = memory:\n", "@a/b", "store name" },
        { "a = memory:\n", "@../etc", "store name" },
        { "a memory:\n", "@a", ":1:" },
        { "ok = memory:\nb@d = memory:\n", "@ok", ":2:" },
        { "a = @b\nb = memory:\n", "@a", "another @name" },
        { "a = memory:\na = file:///tmp/x\n", "@a", "twice" },
        { "a =\n", "@a", "needs a URI" },
    };

    (void)state;
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        open_with_conf(0600, cases[i].conf, cases[i].name, KVSTORE_EINVAL,
                       cases[i].needle);
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
    open_with_conf(0644, "r = redis://user:s3cret@127.0.0.1:1/0\n", "@r",
                   KVSTORE_EACCESS, "chmod 600");
    open_with_conf(0640, "r = nats://t0ken-s3cret@127.0.0.1:1\n", "@r",
                   KVSTORE_EACCESS, conf);
    open_with_conf(0602, "r = redis://user:s3cret@127.0.0.1:1/0\n", "@r",
                   KVSTORE_EACCESS, "0602");
    /* Private: the open goes on to the URI (nothing listens on port 1, so
     * it fails there, not on the file). */
    write_conf(0600, "r = redis://user:s3cret@127.0.0.1:1/0?timeout_ms=200\n");
    kvstore_store *s = NULL;
    int rc = kvstore_open(&s, "@r");
    assert_int_not_equal(rc, KVSTORE_EACCESS);
    assert_null(strstr(kvstore_errmsg(), "s3cret"));
    kvstore_close(s);
    /* No credential: a world-readable file is fine. */
    open_with_conf(0644, "m = memory:\n", "@m", KVSTORE_OK, NULL);
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

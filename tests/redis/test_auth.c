/*
 * Redis backend: authentication (requirepass and ACL users), and the
 * rule that no password ever appears in an error message. Also checks
 * that watch never changes the server's notify-keyspace-events unless the
 * URI says ?watch_config=auto, and that without the setting (or without
 * CONFIG permission to read it) watching is KVSTORE_ENOTSUP naming it.
 *
 * SPDX-License-Identifier: MIT
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <kvstore/kvstore.h>

#include "fx_servers.h"
#include "group.h"

#define PASSWORD "p@ss:w rd"        /* requirepass, needs %-encoding */
#define PASSWORD_ENC "p%40ss%3Aw%20rd"

static rs_server srv;

static const char *const server_args[] = {
    "--requirepass", PASSWORD,
    "--user", "alice", "on", ">alice-pw", "~*", "&*", "+@all",
    "--user", "bob", "on", ">bob-pw", "~*", "&*", "+@all", "-config",
    NULL,
};

/* Opens `fmt` with the group's placeholders ("{port}", "{sock}") and
 * "{arg}" replaced by `arg` (a password kept out of printf formats). */
static int open_fmt(kvstore_store **s, const char *fmt, const char *arg)
{
    fx_define("arg", arg);
    *s = NULL;
    return kvstore_open(s, fx_expand(fmt));
}

static void roundtrip(kvstore_store *s)
{
    kvstore_bucket *b = open_bucket(s, "auth");

    set_str(b, "k", "v");
    expect_str(b, "k", "v");
    kvstore_bucket_close(b);
}

static void assert_refused(const char *fmt, const char *arg,
                           const char *secret)
{
    kvstore_store *s = (kvstore_store *)1;
    int rc = open_fmt(&s, fmt, arg);

    if (rc != KVSTORE_EACCESS)
        fail_msg("%s with %s = %d, expected EACCESS: %s", fmt, arg, rc,
                 kvstore_errmsg());
    assert_null(s);
    if (secret != NULL && strstr(kvstore_errmsg(), secret) != NULL)
        fail_msg("the message leaks the password: %s", kvstore_errmsg());
}

static void test_requirepass(void **state)
{
    (void)state;
    kvstore_store *s = NULL;

    assert_int_equal(open_fmt(&s, "redis://:{arg}@127.0.0.1:{port}",
                              PASSWORD_ENC), KVSTORE_OK);
    roundtrip(s);
    kvstore_close(s);
}

static void test_requirepass_unix(void **state)
{
    (void)state;
    kvstore_store *s = NULL;

    assert_int_equal(open_fmt(&s, "redis+unix://:{arg}@{sock}", PASSWORD_ENC),
                     KVSTORE_OK);
    roundtrip(s);
    kvstore_close(s);
    assert_refused("redis+unix://:{arg}@{sock}", "unix-secret-9",
                   "unix-secret-9");
}

static void test_no_password(void **state)
{
    (void)state;
    assert_refused("redis://127.0.0.1:{port}", "", NULL);
}

static void test_wrong_password(void **state)
{
    (void)state;
    assert_refused("redis://:{arg}@127.0.0.1:{port}", "wrong-secret-1",
                   "wrong-secret-1");
    /* The real password, mis-encoded, is still refused and not shown. */
    assert_refused("redis://:{arg}@127.0.0.1:{port}", "p%40ss", "p@ss");
}

static void test_acl_user(void **state)
{
    (void)state;
    kvstore_store *s = NULL;

    assert_int_equal(open_fmt(&s, "redis://alice:{arg}@127.0.0.1:{port}",
                              "alice-pw"), KVSTORE_OK);
    roundtrip(s);
    kvstore_close(s);
    assert_refused("redis://alice:{arg}@127.0.0.1:{port}", "nope-secret-2",
                   "nope-secret-2");
    assert_refused("redis://mallory:{arg}@127.0.0.1:{port}", "pw-secret-3",
                   "pw-secret-3");
    /* The default user's password is not alice's. */
    assert_refused("redis://alice:{arg}@127.0.0.1:{port}", PASSWORD_ENC,
                   PASSWORD);
}

/* The server's notify-keyspace-events, read as alice. */
static void notify_flags(char *out, size_t cap)
{
    assert_int_equal(rs_cli_words(&srv, out, cap, "--user", "alice", "--pass",
                                  "alice-pw", "--no-auth-warning", "CONFIG",
                                  "GET", "notify-keyspace-events",
                                  (const char *)NULL), 0);
}

/* Opens bucket "auth" as `user` (password "<user>-pw") with the URI
 * parameters `query` and starts a watch on it; returns what
 * kvstore_watch_start said, its message in `msg`, with the watch stopped
 * and the bucket and store closed again. */
static int try_watch(const char *user, const char *query, char *msg,
                     size_t cap)
{
    char uri[128], pw[32];
    server_store t;
    kvstore_watch *w = NULL;
    int rc;

    snprintf(uri, sizeof uri, "redis://%s:{arg}@127.0.0.1:{port}%s", user,
             query);
    snprintf(pw, sizeof pw, "%s-pw", user);
    fx_define("arg", pw);
    t = server_store_open(uri, "auth");
    rc = kvstore_watch_start(&w, t.b, "", fx_ignore_event, NULL);
    snprintf(msg, cap, "%s", kvstore_errmsg());
    if (rc == KVSTORE_OK)
        kvstore_watch_stop(w);
    else
        assert_null(w);
    server_store_close(&t);
    return rc;
}

static void test_watch_needs_config(void **state)
{
    (void)state;
    kvstore_store *s = NULL;
    char out[128], msg[1024];

    RS_CLI(&srv, out, "--user", "alice", "--pass", "alice-pw",
           "--no-auth-warning", "CONFIG", "SET", "notify-keyspace-events",
           "");

    /* Without CONFIG permission the setting cannot even be read. */
    assert_int_equal(try_watch("bob", "?watch_config=auto", msg, sizeof msg),
                     KVSTORE_ENOTSUP);
    assert_non_null(strstr(msg, "notify-keyspace-events"));
    assert_null(strstr(msg, "bob-pw"));

    /* Allowed to change it, but not asked to: the server is left alone
     * and the message says what to enable, and how to opt in. */
    assert_int_equal(try_watch("alice", "", msg, sizeof msg),
                     KVSTORE_ENOTSUP);
    assert_non_null(strstr(msg, "notify-keyspace-events"));
    assert_non_null(strstr(msg, "watch_config=auto"));
    assert_null(strstr(msg, "alice-pw"));
    notify_flags(out, sizeof out);
    assert_string_equal(out, "notify-keyspace-events\n");

    /* Opted in: the backend turns the missing flags on by itself. */
    assert_int_equal(try_watch("alice", "?watch_config=auto", msg,
                               sizeof msg), KVSTORE_OK);
    notify_flags(out, sizeof out);
    assert_non_null(strchr(out + strlen("notify-keyspace-events\n"), 'K'));

    /* Once the server has it, checking is enough. */
    assert_int_equal(try_watch("alice", "?watch_config=check", msg,
                               sizeof msg), KVSTORE_OK);

    /* Any other value is refused at open. */
    assert_int_equal(open_fmt(&s, "redis://alice:{arg}@127.0.0.1:{port}"
                              "?watch_config=yes", "alice-pw"),
                     KVSTORE_EINVAL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_requirepass),
        cmocka_unit_test(test_requirepass_unix),
        cmocka_unit_test(test_no_password),
        cmocka_unit_test(test_wrong_password),
        cmocka_unit_test(test_acl_user),
        cmocka_unit_test(test_watch_needs_config),
    };
    return RS_RUN_GROUP(tests, .srv = &srv, .args = server_args);
}

/*
 * Unit tests: URI parsing and the accessors a backend sees. A recording
 * backend ("rec") is registered; its store_open runs the current
 * inspection against the lent URI, so every check goes through
 * kvstore_open() exactly as a real backend would see it.
 *
 * SPDX-License-Identifier: MIT
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include <kvstore/backend.h>

/* What store_open saw, copied out of the lent URI. */
typedef struct seen {
    int calls;
    char scheme[64], user[64], password[64], hosts[128], path[128];
    bool has_user, has_password, has_hosts;
    char redacted[512];
} seen;

static seen last;
static void (*inspect)(const kvstore_uri *uri);
static int open_rc;

static void copy(char *dst, size_t cap, const char *src, bool *present)
{
    if (present)
        *present = src != NULL;
    snprintf(dst, cap, "%s", src ? src : "");
}

static int rec_store_open(void **out, const kvstore_uri *uri)
{
    memset(&last, 0, sizeof last);
    last.calls = 1;
    copy(last.scheme, sizeof last.scheme, kvstore_uri_scheme(uri), NULL);
    copy(last.user, sizeof last.user, kvstore_uri_user(uri), &last.has_user);
    copy(last.password, sizeof last.password, kvstore_uri_password(uri),
         &last.has_password);
    copy(last.hosts, sizeof last.hosts, kvstore_uri_hosts(uri),
         &last.has_hosts);
    copy(last.path, sizeof last.path, kvstore_uri_path(uri), NULL);
    copy(last.redacted, sizeof last.redacted, kvstore_uri_redacted(uri),
         NULL);
    if (inspect)
        inspect(uri);
    *out = &last;
    return open_rc;
}

static void rec_store_close(void *s) { (void)s; }
static bool create_seen;
static int rec_bucket_open(void **out, void *s, const char *name,
                           bool create)
{
    (void)name;
    create_seen = create;
    *out = s;
    return KVSTORE_OK;
}
static void rec_bucket_close(void *b) { (void)b; }
static int rec_get(void *b, const char *k, void **v, size_t *l)
{ (void)b; (void)k; *v = NULL; *l = 0; return KVSTORE_NOTFOUND; }
static int rec_set(void *b, const char *k, const void *v, size_t l)
{ (void)b; (void)k; (void)v; (void)l; return KVSTORE_OK; }
static int rec_del(void *b, const char *k) { (void)b; (void)k; return 0; }
static int rec_exists(void *b, const char *k, bool *e)
{ (void)b; (void)k; *e = false; return KVSTORE_OK; }
static int rec_list(void *b, const char *p, const char *c, size_t l,
                    kvstore_keys **out)
{
    (void)b; (void)p; (void)c; (void)l;
    *out = kvstore_keys_new();
    return *out ? KVSTORE_OK : KVSTORE_ENOMEM;
}

static const char *const rec_options[] = { "opt1", "flag", "n", "b", "sync",
                                           NULL };

static const kvstore_backend rec_backend = {
    .version = KVSTORE_BACKEND_VERSION,
    .name = "rec",
    .options = rec_options,
    .store_open = rec_store_open,
    .store_close = rec_store_close,
    .bucket_open = rec_bucket_open,
    .bucket_close = rec_bucket_close,
    .get = rec_get,
    .set = rec_set,
    .del = rec_del,
    .exists = rec_exists,
    .list_keys = rec_list,
};

/* Opens `uri` through the recording backend; returns kvstore_open's code. */
static int open_uri(const char *uri)
{
    kvstore_store *s = NULL;
    memset(&last, 0, sizeof last);
    int rc = kvstore_open(&s, uri);
    kvstore_close(s);
    return rc;
}

static int setup(void **state)
{
    (void)state;
    inspect = NULL;
    open_rc = KVSTORE_OK;
    return kvstore_backend_register(&rec_backend) == KVSTORE_OK ? 0 : -1;
}

static void test_full_uri(void **state)
{
    (void)state;
    assert_int_equal(open_uri("rec://alice:p%40ss%3Aw@h1:1,h2:2/some%20path"
                              "?opt1=a%26b&flag"), KVSTORE_OK);
    assert_int_equal(last.calls, 1);
    assert_string_equal(last.scheme, "rec");
    assert_string_equal(last.user, "alice");
    assert_string_equal(last.password, "p@ss:w");
    assert_string_equal(last.hosts, "h1:1,h2:2");
    assert_string_equal(last.path, "/some path");
    /* The redacted form keeps everything but the password. */
    assert_null(strstr(last.redacted, "p@ss"));
    assert_null(strstr(last.redacted, "p%40ss"));
    assert_non_null(strstr(last.redacted, "***"));
    assert_non_null(strstr(last.redacted, "alice"));
    assert_non_null(strstr(last.redacted, "h1:1,h2:2"));
    assert_true(strncmp(last.redacted, "rec://", 6) == 0);
}

static void check_params(const kvstore_uri *uri)
{
    assert_string_equal(kvstore_uri_param(uri, "opt1"), "a&b=c");
    assert_string_equal(kvstore_uri_param(uri, "flag"), "");
    assert_null(kvstore_uri_param(uri, "n"));
    assert_null(kvstore_uri_param(uri, "absent"));
}

static void test_params_decoded(void **state)
{
    (void)state;
    inspect = check_params;
    assert_int_equal(open_uri("rec:?opt1=a%26b%3Dc&flag"), KVSTORE_OK);
    assert_int_equal(last.calls, 1);
}

static void test_shapes(void **state)
{
    (void)state;
    /* scheme:rel/path has no authority. */
    assert_int_equal(open_uri("rec:rel/dir"), KVSTORE_OK);
    assert_false(last.has_hosts);
    assert_false(last.has_user);
    assert_false(last.has_password);
    assert_string_equal(last.path, "rel/dir");
    /* scheme:///abs has an empty authority. */
    assert_int_equal(open_uri("rec:///abs/dir"), KVSTORE_OK);
    assert_true(last.has_hosts);
    assert_string_equal(last.hosts, "");
    assert_string_equal(last.path, "/abs/dir");
    /* Upper-case schemes are lower-cased. */
    assert_int_equal(open_uri("REC://h/0"), KVSTORE_OK);
    assert_string_equal(last.scheme, "rec");
    assert_string_equal(last.hosts, "h");
    assert_string_equal(last.path, "/0");
    /* A token alone is a user without password, and is redacted too. */
    assert_int_equal(open_uri("rec://t0ken@h"), KVSTORE_OK);
    assert_string_equal(last.user, "t0ken");
    assert_false(last.has_password);
    assert_null(strstr(last.redacted, "t0ken"));
    /* IPv6 hosts stay raw. */
    assert_int_equal(open_uri("rec://[::1]:6379/2"), KVSTORE_OK);
    assert_string_equal(last.hosts, "[::1]:6379");
    assert_string_equal(last.path, "/2");
    /* An empty password is still a password. */
    assert_int_equal(open_uri("rec://u:@h"), KVSTORE_OK);
    assert_true(last.has_password);
    assert_string_equal(last.password, "");
    /* Nothing at all after the scheme. */
    assert_int_equal(open_uri("rec:"), KVSTORE_OK);
    assert_string_equal(last.path, "");
}

static void rejected(const char *uri)
{
    int rc = open_uri(uri);
    if (rc != KVSTORE_EINVAL)
        fail_msg("open(\"%s\") = %d, expected EINVAL", uri, rc);
    /* The backend never saw it. */
    assert_int_equal(last.calls, 0);
    assert_true(strlen(kvstore_errmsg()) > 0);
}

static void test_rejected(void **state)
{
    (void)state;
    rejected("rec:?unknown=1");
    rejected("rec:?opt1=1&opt1=2");
    rejected("rec:?opt1=1&opt1");
    rejected("rec:?create=maybe");
    rejected("rec:/x%00y");       /* escaped NUL */
    rejected("rec://u%00:p@h");
    rejected("rec://u:p%00@h");
    rejected("rec:/x%0Ay");        /* escaped line break */
    rejected("rec://u%0d:p@h");
    rejected("rec:/x?a=%7F");      /* escaped DEL */
    rejected("rec:?opt1=%00");
    rejected("rec:?%00=1");
    rejected("rec:/x%4");          /* truncated escape */
    rejected("rec:/x%");
    rejected("rec:/x%G1");         /* bad hex */
    rejected("rec:?=1");           /* empty name */
    rejected("rec:?");             /* empty query */
    rejected("rec:?opt1=1&");
    rejected("rec:/x#frag");
    rejected("rec:/x\ny");
    rejected("rec:/x\x7f");
}

/* A scheme longer than any backend name says so; a string with no scheme
 * shape before its colon still has "no valid scheme". */
static void test_long_scheme(void **state)
{
    (void)state;
    rejected("abcdefghijabcdefghijabcdefghijabc:/x"); /* 33 bytes */
    assert_non_null(strstr(kvstore_errmsg(), "longer than 32 bytes"));
    rejected("Abcdefghij+bcdefghij.bcdefghij-bcdefghij:");
    assert_non_null(strstr(kvstore_errmsg(), "longer than 32 bytes"));
    rejected("/some/path/that/is/longer/than/32/bytes:x");
    assert_non_null(strstr(kvstore_errmsg(), "no valid scheme"));
    rejected("1bcdefghijabcdefghijabcdefghijabc:/x");
    assert_non_null(strstr(kvstore_errmsg(), "no valid scheme"));
    /* 32 bytes is a valid scheme: not registered, but not EINVAL */
    assert_int_equal(open_uri("abcdefghijabcdefghijabcdefghijab:/x"),
                     KVSTORE_ENOSTORE);
}

static void test_create_param(void **state)
{
    (void)state;
    kvstore_store *s = NULL;
    kvstore_bucket *b = NULL;
    static const struct { const char *uri; bool create; } t[] = {
        { "rec:", true }, { "rec:?create=true", true },
        { "rec:?create=false", false }, { "rec:?create=0", false },
        { "rec:?create=no", false }, { "rec:?create=1", true },
    };
    for (size_t i = 0; i < sizeof t / sizeof t[0]; i++) {
        assert_int_equal(kvstore_open(&s, t[i].uri), KVSTORE_OK);
        create_seen = !t[i].create;
        assert_int_equal(kvstore_bucket_open(&b, s, "b"), KVSTORE_OK);
        if (create_seen != t[i].create)
            fail_msg("%s: bucket_open saw create=%d", t[i].uri, create_seen);
        kvstore_bucket_close(b);
        kvstore_close(s);
    }
}

/* What the current param inspection read: its status and its value. */
static int param_rc;
static int64_t param_out;

/* Opens `uri` with `read` as the inspection and asserts that it read
 * `rc` and, on success, `v`; `what` names the accessor in a failure. */
static void expect_param(void (*read)(const kvstore_uri *), const char *what,
                         const char *uri, int rc, int64_t v)
{
    inspect = read;
    assert_int_equal(open_uri(uri), KVSTORE_OK);
    if (param_rc != rc)
        fail_msg("%s: %s = %d, expected %d", uri, what, param_rc, rc);
    if (rc == KVSTORE_OK && param_out != v)
        fail_msg("%s: %s read %lld, expected %lld", uri, what,
                 (long long)param_out, (long long)v);
}

static void read_int(const kvstore_uri *uri)
{
    param_out = -999;
    param_rc = kvstore_uri_param_int(uri, "n", -5, 100, 7, &param_out);
}

static void test_param_int(void **state)
{
    (void)state;
    static const struct { const char *uri; int rc; int64_t v; } t[] = {
        { "rec:", KVSTORE_OK, 7 },
        { "rec:?n=42", KVSTORE_OK, 42 },
        { "rec:?n=100", KVSTORE_OK, 100 },
        { "rec:?n=-5", KVSTORE_OK, -5 },
        { "rec:?n=101", KVSTORE_EINVAL, 0 },
        { "rec:?n=-6", KVSTORE_EINVAL, 0 },
        { "rec:?n=", KVSTORE_EINVAL, 0 },
        { "rec:?n", KVSTORE_EINVAL, 0 },
        { "rec:?n=abc", KVSTORE_EINVAL, 0 },
        { "rec:?n=1x", KVSTORE_EINVAL, 0 },
        { "rec:?n=1.5", KVSTORE_EINVAL, 0 },
        { "rec:?n=%2042", KVSTORE_EINVAL, 0 },
        { "rec:?n=99999999999999999999", KVSTORE_EINVAL, 0 },
    };
    for (size_t i = 0; i < sizeof t / sizeof t[0]; i++)
        expect_param(read_int, "param_int", t[i].uri, t[i].rc, t[i].v);
}

static void read_bool(const kvstore_uri *uri)
{
    bool v = false;
    param_rc = kvstore_uri_param_bool(uri, "b", true, &v);
    param_out = v;
}

static void test_param_bool(void **state)
{
    (void)state;
    static const struct { const char *uri; int rc; bool v; } t[] = {
        { "rec:", KVSTORE_OK, true },
        { "rec:?b=true", KVSTORE_OK, true },
        { "rec:?b=1", KVSTORE_OK, true },
        { "rec:?b=yes", KVSTORE_OK, true },
        { "rec:?b=false", KVSTORE_OK, false },
        { "rec:?b=0", KVSTORE_OK, false },
        { "rec:?b=no", KVSTORE_OK, false },
        { "rec:?b=maybe", KVSTORE_EINVAL, false },
        { "rec:?b=2", KVSTORE_EINVAL, false },
        { "rec:?b=", KVSTORE_EINVAL, false },
        { "rec:?b", KVSTORE_EINVAL, false },
        { "rec:?b=truex", KVSTORE_EINVAL, false },
    };
    for (size_t i = 0; i < sizeof t / sizeof t[0]; i++)
        expect_param(read_bool, "param_bool", t[i].uri, t[i].rc, t[i].v);
}

static void test_failed_open_message_redacted(void **state)
{
    (void)state;
    /* A backend that fails without a message: the core's message may
     * name the URI, but only in redacted form. */
    open_rc = KVSTORE_EACCESS;
    assert_int_equal(open_uri("rec://bob:hunter2@db:1/x"), KVSTORE_EACCESS);
    const char *m = kvstore_errmsg();
    assert_true(strlen(m) > 0);
    assert_null(strstr(m, "hunter2"));
    assert_int_equal(open_uri("rec://sekrit-token@db:1/x"), KVSTORE_EACCESS);
    assert_null(strstr(kvstore_errmsg(), "sekrit-token"));
    open_rc = KVSTORE_OK;
}

/* What kvstore_uri_local made of the current URI. */
static struct {
    int rc;
    char path[128], msg[1024];
    bool sync, create;
} local;

static void read_local(const kvstore_uri *uri)
{
    const char *path = NULL;
    local.sync = local.create = false;
    local.rc = kvstore_uri_local(uri, "thing", &path, &local.sync,
                                 &local.create);
    snprintf(local.path, sizeof local.path, "%s", path ? path : "(null)");
    snprintf(local.msg, sizeof local.msg, "%s",
             local.rc == KVSTORE_OK ? "" : kvstore_errmsg());
}

/* Asserts that `uri` is refused with a message that starts with the
 * scheme and holds `want`, never the password. */
static void local_refused(const char *uri, const char *want)
{
    inspect = read_local;
    assert_int_equal(open_uri(uri), KVSTORE_OK);
    if (local.rc != KVSTORE_EINVAL || strstr(local.msg, want) == NULL ||
        strncmp(local.msg, "rec: ", 5) != 0 || strstr(local.msg, "pw9"))
        fail_msg("%s: rc %d, message '%s'", uri, local.rc, local.msg);
}

static void test_uri_local(void **state)
{
    (void)state;
    inspect = read_local;
    assert_int_equal(open_uri("rec:///abs/d?sync=false"), KVSTORE_OK);
    assert_int_equal(local.rc, KVSTORE_OK);
    assert_string_equal(local.path, "/abs/d");
    assert_false(local.sync);
    assert_true(local.create);
    assert_int_equal(open_uri("rec:rel/d?create=no"), KVSTORE_OK);
    assert_int_equal(local.rc, KVSTORE_OK);
    assert_string_equal(local.path, "rel/d");
    assert_true(local.sync);
    assert_false(local.create);
    /* A bad parameter is the parameter's own EINVAL. */
    assert_int_equal(open_uri("rec:rel/d?sync=maybe"), KVSTORE_OK);
    assert_int_equal(local.rc, KVSTORE_EINVAL);
    assert_non_null(strstr(local.msg, "sync"));

    local_refused("rec://host/d", "the URI names a host; use rec:///abs/thing "
                                  "or rec:rel/thing, not 'rec://host/d'");
    local_refused("rec:", "the URI has no path; use rec:///abs/thing or "
                          "rec:rel/thing, not 'rec:'");
    local_refused("rec://", "has no path");
    local_refused("rec://u:pw9@/abs/d", "cannot check credentials");
    local_refused("rec://u@/abs/d", "cannot check credentials");

    /* A long URI is cut at the message's end, never the advice. */
    char uri[4200];
    int n = snprintf(uri, sizeof uri, "rec://h/");
    memset(uri + n, 'x', 4000);
    snprintf(uri + n + 4000, sizeof uri - (size_t)n - 4000, "END");
    local_refused(uri, "names a host; use rec:///abs/thing or rec:rel/thing, "
                       "not 'rec://h/xxxx");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(test_full_uri, setup),
        cmocka_unit_test_setup(test_params_decoded, setup),
        cmocka_unit_test_setup(test_shapes, setup),
        cmocka_unit_test_setup(test_rejected, setup),
        cmocka_unit_test_setup(test_long_scheme, setup),
        cmocka_unit_test_setup(test_create_param, setup),
        cmocka_unit_test_setup(test_param_int, setup),
        cmocka_unit_test_setup(test_param_bool, setup),
        cmocka_unit_test_setup(test_failed_open_message_redacted, setup),
        cmocka_unit_test_setup(test_uri_local, setup),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

/*
 * Security checks of the nats module against a private nats-server with
 * JetStream and a user/password (tests/nats/harness.c): cursors forged to
 * reach another bucket's cached walk, streams of other applications under
 * a bucket's stream name or subjects, SIZE_MAX value lengths, and the
 * password in every failure message (bad options in both userinfo forms,
 * wrong password, unreachable, hung server, an operation on a hung
 * server) and on the CLI's command line. Subject wildcards, empty tokens
 * and encoding collisions are in tests/nats/test_keys.c, test_backend.c
 * and fuzz-nats-key; docs/security.md maps them. argv[1], if given, is
 * the kvstore CLI.
 *
 * SPDX-License-Identifier: MIT
 */
#include <nats/nats.h>

#include "net.h"
#include "fx_servers.h"
#include "group.h"

#define PW "n4tss3cretpw"

static nh_server srv;

/* `cursor` of bucket `from` with its last key replaced by `last`, wrapped
 * for bucket `to`. The state is the core walk helper's "w1" + 16 hex
 * digits of a token + ":" + last key. */
static char *with_last(const char *cursor, const char *from, const char *to,
                       const char *last)
{
    unsigned char st[KVSTORE_CURSOR_STATE_MAX];
    size_t len = 0;

    assert_int_equal(net_unwrap(cursor, from, st, sizeof st, &len),
                     KVSTORE_OK);
    assert_true(len >= 19 && memcmp(st, "w1", 2) == 0 && st[18] == ':');
    memcpy(st + 19, last, strlen(last));
    return net_wrap(to, st, 19 + strlen(last));
}

static void foreign_cursors(void **state)
{
    (void)state;
    kvstore_store *s = open_uri(fx_net.uri), *s2 = open_uri(fx_net.uri);
    kvstore_bucket *mine = open_bucket(s, "mine");
    kvstore_bucket *theirs = open_bucket(s, "theirs");

    net_fill(mine, "mine");
    net_fill(theirs, "theirs");
    /* Their cursor re-wrapped for my bucket as it is: conformance-nats
     * (test_list_cursor_rewrapped). */
    /* Their walk's token, positioned before every key, in my bucket: the
     * store's walk cache must not serve their walk (the lookup is by
     * token, bucket and prefix), so all of mine and nothing else. Also
     * from a second store, where the token is unknown. */
    char *cur = net_first_cursor(theirs);
    char *forged = with_last(cur, "theirs", "mine", "a");
    assert_int_equal(net_walk(mine, "mine", NULL, forged, "mine"), NET_NKEYS);
    kvstore_bucket *mine2 = open_bucket(s2, "mine");
    assert_int_equal(net_walk(mine2, "mine", NULL, forged, "mine"),
                     NET_NKEYS);
    /* Same bucket, another prefix: the cached walk is not reused. */
    char *same = with_last(cur, "theirs", "theirs", "a");
    assert_int_equal(net_walk(theirs, "theirs", "theirs/1", same, "theirs"),
                     10);
    free(same);
    free(forged);
    free(cur);
    kvstore_bucket_close(mine2);
    kvstore_bucket_close(theirs);
    kvstore_bucket_close(mine);
    kvstore_close(s2);
    kvstore_close(s);
}

/* Adds a plain stream `name` on `subject` through a raw connection. */
static void add_stream(jsCtx *js, const char *name, const char *subject)
{
    jsStreamConfig sc;
    jsErrCode ec = 0;
    const char *subjects[] = { subject };

    jsStreamConfig_Init(&sc);
    sc.Name = name;
    sc.Subjects = subjects;
    sc.SubjectsLen = 1;
    sc.Storage = js_MemoryStorage;
    assert_int_equal(js_AddStream(NULL, js, &sc, NULL, &ec), NATS_OK);
}

static void foreign_streams(void **state)
{
    natsConnection *nc = NULL;
    jsCtx *js = NULL;
    kvstore_bucket *b = NULL;
    (void)state;

    assert_int_equal(natsConnection_ConnectTo(&nc, fx_net.uri), NATS_OK);
    assert_int_equal(natsConnection_JetStream(&js, nc, NULL), NATS_OK);
    /* A stream that has the bucket's stream name but is not a KV bucket
     * (another application's): refused, never written to. */
    add_stream(js, "KV_squat", "squat.>");
    /* Another stream owning the subjects a bucket would use. */
    add_stream(js, "grabber", "$KV.grab.>");
    kvstore_store *s = open_uri(fx_net.uri);
    assert_int_equal(kvstore_bucket_open(&b, s, "squat"), KVSTORE_EIO);
    assert_null(b);
    assert_non_null(strstr(kvstore_errmsg(), "not a key-value bucket"));
    int rc = kvstore_bucket_open(&b, s, "grab");
    if (rc == KVSTORE_OK)
        fail_msg("bucket 'grab' opened over another stream's subjects");
    assert_null(b);
    net_no_secret(kvstore_errmsg(), PW, NULL, "bucket over a foreign stream");
    kvstore_close(s);
    jsCtx_Destroy(js);
    natsConnection_Destroy(nc);
}

static void password_never_shown(void **state)
{
    char uri[600];
    (void)state;
    static const char *const bad[] = {
        "?bogus=1", "?timeout_ms=0", "?timeout_ms=x", "?replicas=9",
        "/somepath", "?ca=/x.pem", "?creds=/no/such/user.creds",
    };
    fx_options_refused(fx_net.uri, bad, sizeof bad / sizeof *bad);
    /* A token userinfo: the whole of it is the secret. */
    fx_options_refused(fx_expand("nats://" PW "@127.0.0.1:{port}"), bad,
                       sizeof bad / sizeof *bad);
    net_open_fails(fx_expand("nats://alice:wr0ng" PW "@127.0.0.1:{port}"),
                   KVSTORE_EACCESS, PW, NULL);
    net_open_fails(fx_expand("nats://" PW "@127.0.0.1:{port}"),
                   KVSTORE_EACCESS, PW, NULL);
    snprintf(uri, sizeof uri, "nats://alice:" PW "@127.0.0.1:%d"
             "?timeout_ms=300", nh_free_port());
    net_open_fails(uri, KVSTORE_EUNAVAILABLE, PW, NULL);

    /* A hung server: the open times out, and so does an operation of a
     * store opened before. */
    snprintf(uri, sizeof uri, "%s?timeout_ms=500", fx_net.uri);
    net_hung_server(srv.pid, uri, PW);
}

int main(int argc, char **argv)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(foreign_cursors),
        cmocka_unit_test(foreign_streams),
        cmocka_unit_test(password_never_shown),
        FX_NET_TESTS,
    };

    /* nats-server's default max_payload is the limit, read from the
     * server. */
    fx_net_init("nats://alice:" PW "@127.0.0.1:{port}", PW, "1048576",
                argc, argv);
    return NH_RUN_GROUP(tests, .srv = &srv,
                        .auth = "authorization { users: [ { user: alice, "
                                "password: " PW " } ] }",
                        .started = fx_net_started);
}

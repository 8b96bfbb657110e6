/*
 * Security checks of the redis module against a private redis-server
 * (tests/redis/server.c) with a password: cursors forged to reach another
 * bucket or database, SIZE_MAX value lengths, and the password in every
 * failure message (bad options, unreachable, hung server, operation on a
 * hung server) and on the CLI's command line. Glob injection, separator
 * collisions and large listings are in tests/redis/test_interop.c;
 * docs/security.md maps them. argv[1], if given, is the kvstore CLI.
 *
 * SPDX-License-Identifier: MIT
 */
#include "net.h"
#include "fx_servers.h"
#include "group.h"

#define PW "rd5ecr3tpw"

static rs_server srv;

static void foreign_cursors(void **state)
{
    (void)state;
    kvstore_store *s = open_uri(fx_net.uri);
    kvstore_store *s2 = fx_open("redis+unix://:" PW "@{sock}?db=1");
    kvstore_bucket *mine = open_bucket(s, "mine");
    kvstore_bucket *theirs = open_bucket(s, "theirs");
    kvstore_bucket *twin = open_bucket(s2, "theirs"); /* another db */

    net_fill(mine, "mine");
    net_fill(theirs, "theirs");
    net_fill(twin, "twin");
    /* Their cursor re-wrapped for my bucket: conformance-redis
     * (test_list_cursor_rewrapped). */
    /* The same cursor in another database's bucket of the same name. */
    char *cur = net_first_cursor(theirs);
    int n = net_walk(twin, "theirs", NULL, cur, "twin");
    assert_true(n == -1 || n <= NET_NKEYS);
    free(cur);

    /* States of the attacker's choosing: SCAN positions anywhere in the
     * keyspace (the MATCH pattern still holds the walk in "mine"), and a
     * split batch resumed at any cursor. */
    static const char *const states[] = {
        "C1", "C7", "C123", "C4096", "C18446744073709551615",
        "R1 10 0\xffmine/03", "R5 10000 0\xffzzz",
    };
    static const size_t lens[] = { 2, 2, 4, 5, 21, 15, 13 };
    for (size_t i = 0; i < sizeof states / sizeof *states; i++) {
        char *c = net_wrap("mine", states[i], lens[i]);
        n = net_walk(mine, "mine", NULL, c, "mine");
        assert_true(n == -1 || n <= NET_NKEYS);
        free(c);
    }
    kvstore_bucket_close(twin);
    kvstore_bucket_close(theirs);
    kvstore_bucket_close(mine);
    kvstore_close(s2);
    kvstore_close(s);
}

static void password_never_shown(void **state)
{
    (void)state;
    /* Options the module refuses, each with the password in the URI. */
    static const char *const bad[] = {
        "?pool=0", "?pool=999999", "?bogus=1", "?timeout_ms=x",
        "?timeout_ms=0", "?db=1", "/abc", "/1/2",
    };
    fx_options_refused(fx_net.uri, bad, sizeof bad / sizeof *bad);
    fx_options_refused(fx_expand("redis://kvuser:" PW "@127.0.0.1:{port}"),
                       bad, sizeof bad / sizeof *bad);
    /* Wrong passwords and users: the refused one is not shown either. */
    net_open_fails(fx_expand("redis://:wr0ng" PW "@127.0.0.1:{port}"),
                   KVSTORE_EACCESS, PW, NULL);
    net_open_fails(fx_expand("redis://mallory:" PW "@127.0.0.1:{port}"),
                   KVSTORE_EACCESS, PW, NULL);
    /* Nobody listening; no socket. */
    net_open_fails("redis://:" PW "@127.0.0.1:1?timeout_ms=300",
                   KVSTORE_EUNAVAILABLE, PW, NULL);
    net_open_fails("redis+unix://:" PW "@/nonexistent/r.sock",
                   KVSTORE_EUNAVAILABLE, PW, NULL);

    /* A hung server: the open times out, and so does an operation of a
     * store opened before. */
    net_hung_server(srv.pid,
                    fx_expand("redis://:" PW "@127.0.0.1:{port}"
                              "?timeout_ms=300&pool=1"), PW);
}

int main(int argc, char **argv)
{
    static const char *const args[] = { "--requirepass", PW, NULL };
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(foreign_cursors),
        cmocka_unit_test(password_never_shown),
        FX_NET_TESTS,
    };

    fx_net_init("redis://:" PW "@127.0.0.1:{port}", PW, "512 MiB",
                argc, argv);
    return RS_RUN_GROUP(tests, .srv = &srv,
                        .args = args,
                        .started = fx_net_started);
}

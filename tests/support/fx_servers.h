/*
 * Fixtures of the tests that run against servers (tests/redis,
 * tests/nats): a test's own store and bucket on the servers its program
 * started, named by a URI with the runners' placeholders ("{port}",
 * "{url}", ... as in tests/support/run.h), so a test needs neither the
 * open nor the close lines and a failing test still closes its store.
 * Link test_support.
 *
 * SPDX-License-Identifier: MIT
 */
#ifndef KVS_TEST_FX_SERVERS_H
#define KVS_TEST_FX_SERVERS_H

#include "net.h"
#include "support.h"

/* The group fixture of a server program (tests/redis/group.h,
 * tests/nats/group.h build theirs on it): before the first test `start`
 * starts the servers (0 = ok; on failure it removes what it started,
 * as cmocka then runs no teardown) and defines their placeholders, then
 * the program's `started` hook runs (may be NULL; 0 = ok); after the
 * last test its `stopping` hook (may be NULL), then `stop`. */
typedef struct fx_group {
    const char *name;
    int (*start)(void);
    void (*stop)(void);
    int (*started)(void);
    void (*stopping)(void);
} fx_group;
/* Runs `tests` as one group with the fixture g; returns what cmocka
 * returns (the number of failed tests). */
int fx_run_group(const fx_group *g, const struct CMUnitTest *tests,
                 size_t n);
/* FX_RUN_GROUP(run, type, tests, fields...): run(&(type){ fields },
 * tests, the size of the array tests), for a module's RUN_GROUP macro. */
#define FX_RUN_GROUP(run, type, tests, ...) \
    run(&(type){ __VA_ARGS__ }, (tests), sizeof (tests) / sizeof *(tests))

/* Defines "{name}" as `value` (both copied; a second call replaces it)
 * for the URIs of SERVER_TEST and fx_expand: the group set-up of a
 * program calls it once its servers answer. At most 16 names. */
void fx_define(const char *name, const char *value);
/* fx_define with a number (a port). */
void fx_define_int(const char *name, long value);
/* `uri` with every defined placeholder replaced, in a buffer that lives
 * until the next call. */
const char *fx_expand(const char *uri);
/* open_uri of fx_expand(uri). */
kvstore_store *fx_open(const char *uri);

/* A store on the running servers and one of its buckets. */
typedef struct server_store {
    kvstore_store *s;
    kvstore_bucket *b;   /* NULL without a bucket */
    const char *name;    /* the bucket's name (not copied), or NULL */
    const char *uri;     /* the store's URI, placeholders unexpanded */
} server_store;
/* Opens a store of `uri` (expanded as fx_expand) and its bucket `bucket`
 * (NULL: none); fails the test on an error, after closing what it had
 * opened. server_store_close closes both. */
server_store server_store_open(const char *uri, const char *bucket);
void server_store_close(server_store *t);
/* The cmocka fixture: SERVER_TEST(test, "redis://127.0.0.1:{port}", "b")
 * (the URI and bucket as for server_store_open) and the test reads its
 * server_store from *state: the set-up opens it in place, the teardown
 * closes it. */
int server_store_setup(void **state);
int server_store_teardown(void **state);
#define SERVER_TEST(test, uri_, bucket_)                                 \
    cmocka_unit_test_prestate_setup_teardown(test, server_store_setup,   \
        server_store_teardown,                                           \
        (&(server_store){ .uri = (uri_), .name = (bucket_) }))

/* walk_fn callbacks (walk_all of support.h). walk_mark marks a key
 * "<prefix><i>" (decimal, i < n) in seen[i] and counts in `distinct` the
 * keys it had not marked before (a listing may repeat some); it fails the
 * test on any other key. walk_collect keeps every key, in the order the
 * walk gave them (strdup'd; key_list_free frees them). */
typedef struct key_marks {
    const char *prefix;
    unsigned char *seen;
    size_t n;
    size_t distinct;
} key_marks;
void walk_mark(void *arg, const char *key);
typedef struct key_list {
    char **keys;
    size_t n;
} key_list;
void walk_collect(void *arg, const char *key);
void key_list_free(key_list *l);

/* The checks every network backend's security test makes against its
 * password-protected server (net.h), on the target the program fills in
 * (main) and fx_net_uri completes. */
typedef struct net_target {
    const char *uri_fmt;   /* a store URI with the password in it and the
                            * servers' placeholders */
    char uri[256];         /* uri_fmt expanded (fx_net_uri) */
    const char *secret;    /* the password */
    const char *limit;     /* the value limit, as a refusal names it */
    char visible[64];      /* uri_fmt from its '@' to the port's ':',
                            * which the CLI leaves on its command line */
    const char *cli;       /* the kvstore CLI (the program's argv[1]), or
                            * NULL: fx_cli_masks_password is skipped */
} net_target;
extern net_target fx_net;
/* Sets fx_net for a program whose argv[1], if given, is the CLI. */
void fx_net_init(const char *uri_fmt, const char *secret, const char *limit,
                 int argc, char **argv);
/* fx_net's checks, for the program's table of tests. */
#define FX_NET_TESTS                                                     \
    cmocka_unit_test(fx_huge_lengths), cmocka_unit_test(fx_cli_masks_password)
/* Expands fx_net.uri_fmt into fx_net.uri once the servers run, and
 * returns it. */
const char *fx_net_uri(void);
/* The group's started hook of a security program: fx_net_uri, and
 * net.h's cursor envelopes bound to that store (the modules' tables are
 * version 2: the core binds cursors to the store's identity, the URI
 * without credentials). Inline: net.h's binding is a static of each
 * file that includes it, here the program's. */
static inline int fx_net_started(void)
{
    net_bind_uri(fx_net_uri());
    return 0;
}
/* cmocka tests: net_huge_lengths and net_cli_masks on fx_net. */
void fx_huge_lengths(void **state);
void fx_cli_masks_password(void **state);
/* `base` with each of the `n` `options` appended must be refused as
 * KVSTORE_EINVAL, without fx_net.secret in the message. */
void fx_options_refused(const char *base, const char *const *options,
                        size_t n);

/* A watch callback for a watch whose events do not matter. */
void fx_ignore_event(void *arg, kvstore_event event, const char *key,
                     const void *value, size_t len);

#endif /* KVS_TEST_FX_SERVERS_H */

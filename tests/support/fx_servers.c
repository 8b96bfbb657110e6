/*
 * Fixtures of the server tests (see fx_servers.h).
 *
 * SPDX-License-Identifier: MIT
 */
#include "fx_servers.h"
#include "net.h"
#include "run.h"

#define FX_NAMES 16

/* The placeholders of the running servers: one program runs one set.
 * The copies (and fx_expand's last result) belong to this file and live
 * until the program exits. */
static char *names[FX_NAMES], *values[FX_NAMES];
static size_t defined;

/* cmocka gives a group setup no argument of the caller's: the one group
 * a program runs is kept here. */
static const fx_group *group;

static int fx_group_setup(void **state)
{
    (void)state;
    if (group->start() != 0)
        return -1;
    return group->started ? group->started() : 0;
}

static int fx_group_teardown(void **state)
{
    (void)state;
    if (group->stopping)
        group->stopping();
    group->stop();
    return 0;
}

int fx_run_group(const fx_group *g, const struct CMUnitTest *tests,
                 size_t n)
{
    group = g;
    return _cmocka_run_group_tests(g->name, tests, n, fx_group_setup,
                                   fx_group_teardown);
}

void fx_define(const char *name, const char *value)
{
    size_t i = 0;

    while (i < defined && strcmp(names[i], name) != 0)
        i++;
    if (i == defined) {
        assert_true(defined < FX_NAMES);
        names[defined++] = strdup(name);
    } else {
        free(values[i]);
    }
    values[i] = strdup(value);
    assert_non_null(names[i]);
    assert_non_null(values[i]);
}

void fx_define_int(const char *name, long value)
{
    char text[24];

    snprintf(text, sizeof text, "%ld", value);
    fx_define(name, text);
}

const char *fx_expand(const char *uri)
{
    static char *last;
    ts_placeholder ph[FX_NAMES];

    for (size_t i = 0; i < defined; i++)
        ph[i] = (ts_placeholder){ names[i], values[i] };
    free(last);
    last = ts_substitute(uri, ph, defined);
    assert_non_null(last);
    return last;
}

kvstore_store *fx_open(const char *uri)
{
    return open_uri(fx_expand(uri));
}

/* Opens t's store of t->uri and its bucket t->name; on an error closes
 * what it opened and says why on stderr. */
static int server_store_try(server_store *t)
{
    const char *full = fx_expand(t->uri);
    int rc = kvstore_open(&t->s, full);

    t->b = NULL;
    if (rc == KVSTORE_OK && t->name)
        rc = kvstore_bucket_open(&t->b, t->s, t->name);
    if (rc != KVSTORE_OK) {
        print_error("open %s, bucket %s: %d %s\n", full,
                    t->name ? t->name : "(none)", rc, kvstore_errmsg());
        kvstore_close(t->s);
        t->s = NULL;
    }
    return rc;
}

server_store server_store_open(const char *uri, const char *bucket)
{
    server_store t = { .uri = uri, .name = bucket };

    if (server_store_try(&t) != KVSTORE_OK)
        fail_msg("cannot open %s", uri);
    return t;
}

void server_store_close(server_store *t)
{
    kvstore_bucket_close(t->b);
    kvstore_close(t->s);
    t->b = NULL;
    t->s = NULL;
}

/* cmocka runs neither the test nor its teardown after a failed set-up:
 * server_store_try leaves nothing open when it fails. */
int server_store_setup(void **state)
{
    return server_store_try(*state) == KVSTORE_OK ? 0 : -1;
}

int server_store_teardown(void **state)
{
    server_store_close(*state);
    return 0;
}

void walk_mark(void *arg, const char *key)
{
    key_marks *m = arg;
    size_t plen = strlen(m->prefix);
    char *end = NULL;
    unsigned long i;

    if (strncmp(key, m->prefix, plen) != 0 || key[plen] < '0' ||
        key[plen] > '9')
        fail_msg("'%s' listed: not %s<number>", key, m->prefix);
    i = strtoul(key + plen, &end, 10);
    if (*end != '\0' || i >= m->n)
        fail_msg("'%s' listed: not %s<number below %zu>", key, m->prefix,
                 m->n);
    m->distinct += m->seen[i] == 0;
    m->seen[i] = 1;
}

void walk_collect(void *arg, const char *key)
{
    key_list *l = arg;
    char **grown = realloc(l->keys, (l->n + 1) * sizeof *l->keys);

    assert_non_null(grown);
    l->keys = grown;
    l->keys[l->n] = strdup(key);
    assert_non_null(l->keys[l->n]);
    l->n++;
}

void key_list_free(key_list *l)
{
    for (size_t i = 0; i < l->n; i++)
        free(l->keys[i]);
    free(l->keys);
    l->keys = NULL;
    l->n = 0;
}

net_target fx_net;

void fx_net_init(const char *uri_fmt, const char *secret, const char *limit,
                 int argc, char **argv)
{
    const char *at = strchr(uri_fmt, '@');

    assert_non_null(at);
    fx_net = (net_target){ .uri_fmt = uri_fmt, .secret = secret,
                           .limit = limit,
                           .cli = argc > 1 ? argv[1] : NULL };
    snprintf(fx_net.visible, sizeof fx_net.visible, "%.*s",
             (int)strcspn(at, ":"), at);
}

const char *fx_net_uri(void)
{
    const char *uri = fx_expand(fx_net.uri_fmt);

    assert_true(strlen(uri) < sizeof fx_net.uri);
    strcpy(fx_net.uri, uri);
    return fx_net.uri;
}

void fx_huge_lengths(void **state)
{
    (void)state;
    net_huge_lengths(fx_net.uri, fx_net.limit);
}

void fx_cli_masks_password(void **state)
{
    (void)state;
    if (fx_net.cli == NULL)
        skip();
    net_cli_masks(fx_net.cli, fx_net.uri, fx_net.secret, fx_net.visible);
}

void fx_options_refused(const char *base, const char *const *options,
                        size_t n)
{
    char uri[512];

    for (size_t i = 0; i < n; i++) {
        snprintf(uri, sizeof uri, "%s%s", base, options[i]);
        net_open_fails(uri, KVSTORE_EINVAL, fx_net.secret, NULL);
    }
}

void fx_ignore_event(void *arg, kvstore_event event, const char *key,
                     const void *value, size_t len)
{
    (void)arg;
    (void)event;
    (void)key;
    (void)value;
    (void)len;
}

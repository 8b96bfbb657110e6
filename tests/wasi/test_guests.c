/*
 * Runs the guests through libkvstore-wasi and the wasm2c binding of
 * examples/wasm-host, in-process against memory: and file: stores, and
 * checks both what they printed and what they left in the store, read
 * back through the libkvstore API.
 *
 * SPDX-License-Identifier: MIT
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "runner.h"
#include "support.h"

/* Prefix for bucket names, extra config pairs, the WIT to claim (0: by
 * the guest's name) and watcher events to wait for, in the next
 * run_guest calls. */
static const char *bucket_prefix = "";
static const char *const *extra_config;
static kvstore_wasi_wit guest_wit;
static size_t guest_events;

/* Runs the guest called `guest` (allowed to open only the comma-separated
 * identifiers `allow`, or any bucket for NULL) and returns what it
 * printed (free()). */
static char *run_guest(kvstore_store *store, const char *guest,
                       const char *allow, size_t page, int *status)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    assert_non_null(f);
    wh_options o = {.store = store, .prefix = bucket_prefix, .allow = allow,
                    .page_size = page, .config = extra_config,
                    .wit = guest_wit, .events = guest_events, .out = f};
    const wh_guest *g = wh_guest_find(guest);
    assert_non_null(g);
    *status = wh_run(g, &o);
    fclose(f);
    return buf;
}

static void assert_has(const char *out, const char *line)
{
    if (!out || !strstr(out, line))
        fail_msg("output lacks \"%s\":\n%s", line, out ? out : "(none)");
}

static void assert_value(kvstore_store *s, const char *bucket,
                         const char *key, const char *want)
{
    char *got = get_str(s, bucket, key);
    if (!want) {
        if (got)
            fail_msg("%s/%s = \"%s\", expected absent", bucket, key, got);
        return;
    }
    if (!got)
        fail_msg("%s/%s is absent, expected \"%s\"", bucket, key, want);
    assert_string_equal(got, want);
    free(got);
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

typedef struct key_list {
    char **keys;
    size_t n;
} key_list;

static void collect_key(void *arg, const char *key)
{
    key_list *l = arg;
    char **grown = realloc(l->keys, (l->n + 1) * sizeof(*l->keys));
    assert_non_null(grown);
    l->keys = grown;
    l->keys[l->n] = strdup(key);
    assert_non_null(l->keys[l->n]);
    l->n++;
}

/* Every key=value of a bucket, sorted, as one string (free()). */
static char *snapshot(kvstore_store *s, const char *bucket)
{
    kvstore_bucket *b = open_bucket(s, bucket);
    key_list l = {NULL, 0};
    walk_all(b, NULL, NULL, 0, collect_key, &l);
    char **keys = l.keys;
    size_t n = l.n;
    if (n)
        qsort(keys, n, sizeof(*keys), cmp_str);
    char *out = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&out, &len);
    for (size_t i = 0; i < n; i++) {
        void *v;
        size_t vlen;
        assert_int_equal(kvstore_get(b, keys[i], &v, &vlen), KVSTORE_OK);
        fprintf(f, "%s=%.*s\n", keys[i], (int)vlen, (const char *)v);
        kvstore_free(v);
        free(keys[i]);
    }
    fclose(f);
    free(keys);
    kvstore_bucket_close(b);
    return out;
}

static size_t count_keys(kvstore_store *s, const char *bucket)
{
    char *snap = snapshot(s, bucket);
    size_t n = 0;
    for (const char *p = snap; *p; p++)
        n += *p == '\n';
    free(snap);
    return n;
}

/* Runs `guest` in `s` and checks its exit status and that its output
 * holds each of the NULL-terminated `lines`. */
static void expect_run(kvstore_store *s, const char *guest, const char *allow,
                       size_t page, int status, const char *const *lines)
{
    int st;
    char *out = run_guest(s, guest, allow, page, &st);
    assert_int_equal(st, status);
    for (; lines && *lines; lines++)
        assert_has(out, *lines);
    free(out);
}

#define LINES(...) ((const char *const[]){__VA_ARGS__, NULL})

/* One guest run in a fresh store: what it must say, then what it must
 * leave behind. */
typedef struct guest_case {
    const char *uri, *guest, *allow;
    size_t page;
    const char *const *config; /* extra config pairs, NULL-terminated */
    size_t events;             /* watcher events to wait for */
    int status;
    const char *says[10]; /* NULL after the last */
    struct {
        const char *bucket, *key, *value; /* value NULL: absent */
    } leaves[8];
    size_t demo_keys; /* keys left in "demo" (0: not checked) */
} guest_case;

static const char *const watch_events[] = {"watch=events", NULL};

static const guest_case draft = {
    .uri = "memory:", .guest = "draft", .page = 10,
    .says = {"draft: visit #1\n",
             "draft: get user:007 = {\"id\":7,\"name\":\"user-7\","
             "\"since_visit\":1,\"draft\":\"0.2.0-draft\"}\n",
             "draft: get user:999 -> none\n",
             /* 25 users + visits, in pages of at most 10 */
             "draft: listed 26 keys (25 user records) in 3 pages\n",
             "draft: get-many batch:1=one batch:3=three none\n",
             "draft: exists batch:2 -> false\n",
             "draft: exists user:025 -> false\n",
             "draft: done\n"},
    .leaves = {{"demo", "visits", "1"},
               {"demo", "user:001",
                "{\"id\":1,\"name\":\"user-1\",\"since_visit\":1,"
                "\"draft\":\"0.2.0-draft\"}"},
               {"demo", "user:025", NULL},
               {"demo", "batch:1", "one"},
               {"demo", "batch:2", NULL},
               {"demo", "batch:5", "five"}},
    /* 24 users, visits, batch:1,3,5 */
    .demo_keys = 28,
};

static const guest_case draft2 = {
    .uri = "memory:", .guest = "draft2", .page = 5,
    .says = {"draft2: visit #1\n",
             "draft2: balance -250\n",
             /* 12 orders + visits + balance, pages of at most 5 */
             "draft2: listed 14 keys (12 order records) in 3 pages\n",
             "draft2: get-many cart:a=\"apple\" none cart:c=\"\" cart:b=\"bread\"\n",
             "draft2: cas.current hello\n",
             "draft2: swap lost the race (cas-failed), retrying\n",
             "draft2: cas.current raced\n",
             "draft2: get motd = hello, world\n"},
    .leaves = {{"demo", "balance", "-250"},
               {"demo", "motd", "hello, world"},
               {"demo", "cart:a", NULL},
               {"demo", "order:0012",
                "{\"order\":12,\"items\":1,\"draft\":\"0.2.0-draft2\"}"}},
    .demo_keys = 15,
};

static const guest_case access_denied = {
    .uri = "memory:", .guest = "draft", .allow = "other", .page = 16,
    .status = 1,
    .says = {"draft: open demo failed: error access-denied\n"},
};

static const guest_case no_such_store = {
    .uri = "memory:?create=false", .guest = "draft2", .page = 16,
    .status = 1,
    .says = {"draft2: open demo failed: error no-such-store\n"},
};

/* Spin's get-many shape: the guest built against it reads its results
 * right when the layer is told (wit spin), and the "" identifier opens
 * the default bucket. */
static const guest_case spin = {
    .uri = "memory:", .guest = "spin", .page = 16,
    .says = {"spin: get-many fruit:a=\"apple\" fruit:b=none "
             "fruit:c=\"cherry\" fruit:d=none fruit:e=\"\"\n",
             "spin: done\n"},
    .leaves = {{"default", "fruit:c", "cherry"}},
};

/* The watcher guest: the host watches "events" (config watch=events),
 * pumps what the guest's own run wrote into its on-set / on-delete
 * exports, each with a bucket handle the guest uses and drops. */
static const guest_case watcher = {
    .uri = "memory:", .guest = "watcher", .page = 16,
    .config = watch_events, .events = 4,
    .says = {"host: delivered 4 events, dropped 0\n",
             /* Delivered after run(): the state is final when the guest
              * looks. */
             "watcher: on-set w1=one (gone now)\n",
             "watcher: on-set w2=two (exists now)\n",
             "watcher: on-delete w1 (gone now)\n",
             "watcher: on-set w3=three (exists now)\n",
             "watcher: 3 sets, 1 deletes\n"},
};

static void test_case(void **state)
{
    const guest_case *c = *state;
    kvstore_store *s = open_uri(c->uri);
    extra_config = c->config;
    guest_events = c->events;
    expect_run(s, c->guest, c->allow, c->page, c->status, c->says);
    extra_config = NULL;
    guest_events = 0;
    for (size_t i = 0; i < sizeof(c->leaves) / sizeof(c->leaves[0]) &&
                       c->leaves[i].bucket; i++)
        assert_value(s, c->leaves[i].bucket, c->leaves[i].key,
                     c->leaves[i].value);
    if (c->demo_keys)
        assert_int_equal(count_keys(s, "demo"), c->demo_keys);
    kvstore_close(s);
}

/* One store, both import sets: the counter is shared. */
static void test_drafts_share_store(void **state)
{
    (void)state;
    kvstore_store *s = open_uri("memory:");
    expect_run(s, "draft", NULL, 16, 0, NULL);
    expect_run(s, "draft2", NULL, 16, 0,
               LINES("draft2: visit #2\n",
                     /* 28 from draft, then balance + 12 orders before
                      * the listing */
                     "draft2: listed 41 keys (12 order records) in 3 pages\n"));
    expect_run(s, "draft", NULL, 1, 0, LINES("draft: visit #3\n"));
    assert_value(s, "demo", "visits", "3");
    kvstore_close(s);
}

/* The draft's u64 result cannot carry a negative counter: an error, and
 * the guest carries on. */
static void test_draft_negative_counter(void **state)
{
    (void)state;
    kvstore_store *s = open_uri("memory:");
    kvstore_bucket *b;
    assert_int_equal(kvstore_bucket_open(&b, s, "demo"), KVSTORE_OK);
    assert_int_equal(kvstore_set(b, "visits", "-5", 2), KVSTORE_OK);
    kvstore_bucket_close(b);
    expect_run(s, "draft", NULL, 16, 1,
               LINES("draft: increment failed: error other(counter is -4, "
                     "which a u64 result cannot carry)\n",
                     "draft: done\n"));
    kvstore_close(s);
}

/* Identifiers map to PREFIX + identifier; one too long for a bucket name
 * once prefixed is an error, not a truncated name. */
static void test_prefix(void **state)
{
    (void)state;
    kvstore_store *s = open_uri("memory:");
    bucket_prefix = "tenant1-";
    expect_run(s, "draft", NULL, 16, 0, NULL);
    bucket_prefix = "a-prefix-of-sixty-two-bytes-leaves-no-room-for-the-id-00000000";
    expect_run(s, "draft", NULL, 16, 1,
               LINES("draft: open demo failed: error other(bucket identifier "
                     "is not a bucket name)\n"));
    bucket_prefix = "";
    assert_value(s, "tenant1-demo", "visits", "1");
    assert_int_equal(count_keys(s, "demo"), 0);
    kvstore_close(s);
}

/* A file: store keeps the counter across host runs (store reopened). */
static void test_file_store(void **state)
{
    (void)state;
    char *dir = ts_mkdtemp("wasm-host-test");
    assert_non_null(dir);
    char uri[4200];
    snprintf(uri, sizeof(uri), "file://%s", dir);
    for (int run = 1; run <= 2; run++) {
        kvstore_store *s = open_uri(uri);
        /* draft2 counts visits too: the second run starts at 3, and also
         * lists the 17 keys draft2 left the first time. */
        expect_run(s, "draft", NULL, 7, 0,
                   run == 1
                       ? LINES("draft: visit #1\n",
                               "draft: listed 26 keys (25 user records) in 4 pages\n")
                       : LINES("draft: visit #3\n",
                               "draft: listed 43 keys (25 user records) in 7 pages\n"));
        expect_run(s, "draft2", NULL, 7, 0, NULL);
        kvstore_close(s);
    }
    kvstore_store *s = open_uri(uri);
    assert_value(s, "demo", "visits", "4");
    assert_value(s, "demo", "balance", "-500");
    assert_value(s, "demo", "motd", "hello, world");
    kvstore_close(s);
    ts_rmtree(dir);
    free(dir);
}

/* What each attack must end in. */
static const struct {
    int n;
    const char *expect;
} attacks[] = {
    {1, "host: hostile trapped: range 0xfffffff0+32 is outside guest memory"},
    {2, "host: hostile trapped: range 0x400+4294967295 is outside guest memory"},
    {3, "is outside guest memory"},
    {4, "not valid UTF-8"},
    {5, "not valid UTF-8"},
    {6, "-> error other(key contains a NUL byte)\nhostile:   exists a -> false"},
    {7, "-> error other(key of 1048577 bytes is longer than 1024 bytes)"},
    {8, "-> error other(unknown or expired cursor 12345)"},
    {9, "-> error other("},
    {10, "-> error other(invalid cursor)"},
    {11, "host: hostile trapped: bad option discriminant 7"},
    {12, "host: hostile trapped: unknown bucket handle 42"},
    {13, "host: hostile trapped: unknown bucket handle 0"},
    {14, "host: hostile trapped: unknown bucket handle 1"},
    {15, "host: hostile trapped: unknown bucket handle 1"},
    {16, "host: hostile trapped: unknown bucket handle 2"},
    {17, "-> ok\nhostile:   exists cas-after-drop -> true"},
    {18, "host: hostile trapped: range 0xfffffff0+16 is outside guest memory"},
    {19, "exists retptr-probe -> false"},
    {20, "is not aligned to 4"},
    {21, "host: hostile trapped: range 0xffffff00+5 is outside guest memory"},
    {22, "host: hostile trapped: import called from inside cabi_realloc"},
    {23, "-> error other(delta 9223372036854775808 is above INT64_MAX"},
    {24, "overflows"},
    {25, "open demo -> error access-denied"},
    {26, "set demo:visits -> ok"},
    {27, "is outside guest memory"},
    {28, "-> error other(batch of 1001 keys is above the host's limit of 1000)"},
    {29, "opened 1023 more handles, then error other(more than 1024 open handles)\n"
         "hostile:   opened 1023 in all"},
    {30, "new handle has a new number\nhost: hostile trapped: unknown bucket handle 2"},
    {31, "listed 5000 first pages\nhostile:   -> error other(unknown or expired cursor 1)"},
    {32, "-> ok\nhostile:   value value"},
};

/* Each attack ends in a trap or an error, the host carries on to the
 * next, and the demo bucket is exactly as it was. */
static void test_hostile(void **state)
{
    (void)state;
    kvstore_store *s = open_uri("memory:");
    expect_run(s, "draft", NULL, 16, 0, NULL);
    char *before = snapshot(s, "demo");

    int st;
    char *out = run_guest(s, "hostile", "hostile", 16, &st);
    assert_int_equal(st, 0);
    size_t n = sizeof(attacks) / sizeof(attacks[0]);
    for (size_t i = 0; i < n; i++) {
        /* The attack's section runs from its header to the next one. */
        char head[64];
        snprintf(head, sizeof(head), "hostile: attack %d:", attacks[i].n);
        const char *sec = strstr(out, head);
        if (!sec)
            fail_msg("no attack %d in:\n%s", attacks[i].n, out);
        snprintf(head, sizeof(head), "hostile: attack %d:", attacks[i].n + 1);
        const char *end = strstr(out, head);
        size_t len = end ? (size_t)(end - sec) : strlen(sec);
        char *part = strndup(sec, len);
        if (!strstr(part, attacks[i].expect))
            fail_msg("attack %d: expected \"%s\" in:\n%s", attacks[i].n,
                     attacks[i].expect, part);
        free(part);
    }
    assert_null(strstr(out, "hostile: attack 33:"));
    free(out);

    char *after = snapshot(s, "demo");
    assert_string_equal(before, after);
    free(before);
    free(after);
    /* Only what the attacks that returned ok wrote, in their own bucket. */
    char *mine = snapshot(s, "hostile");
    assert_string_equal(mine,
                        ".=666\n"
                        "..=666\n"
                        "../demo/visits=666\n"
                        "/etc/passwd=666\n"
                        "big=9223372036854775807\n"
                        "cas-after-drop=still-fine\n"
                        "demo:visits=666\n"
                        "k1=value\n");
    free(mine);
    kvstore_close(s);
}

/* The same guest with the layer told the wrong WIT (draft2's shape):
 * the elements land at other offsets and the guest misreads them,
 * which is why the layer must be told. */
static void test_spin_needs_its_wit(void **state)
{
    (void)state;
    kvstore_store *s = open_uri("memory:");
    int st;
    guest_wit = KVSTORE_WASI_DRAFT2;
    char *out = run_guest(s, "spin", NULL, 16, &st);
    guest_wit = 0;
    assert_non_null(out);
    assert_null(strstr(out, "spin: get-many fruit:a=\"apple\" fruit:b=none"));
    free(out);
    kvstore_close(s);
}

/* A watcher flood through a real guest: the queue holds 2 events, the
 * rest are dropped and counted, every event is accounted for, and the
 * guest sees only what was delivered. */
static void test_watcher_flood(void **state)
{
    (void)state;
    static const char *const cfg[] = {"watch=events", "watch_queue=2", NULL};
    kvstore_store *s = open_uri("memory:");
    kvstore_bucket *b;
    assert_int_equal(kvstore_bucket_open(&b, s, "events"), KVSTORE_OK);
    int st;
    extra_config = cfg;
    guest_events = 4;
    char *out = run_guest(s, "watcher", NULL, 16, &st);
    extra_config = NULL;
    guest_events = 0;
    assert_int_equal(st, 0);
    /* delivered + dropped == 4, whatever the threads' timing */
    const char *line = strstr(out, "host: delivered ");
    assert_non_null(line);
    unsigned delivered, dropped;
    assert_int_equal(sscanf(line, "host: delivered %u events, dropped %u",
                            &delivered, &dropped), 2);
    assert_int_equal(delivered + dropped, 4);
    assert_true(delivered >= 2);
    char want[64];
    snprintf(want, sizeof(want), "watcher: %u sets, %u deletes", delivered - 
             (strstr(out, "on-delete") ? 1 : 0), strstr(out, "on-delete") ? 1u : 0u);
    assert_has(out, want);
    free(out);
    kvstore_bucket_close(b);
    kvstore_close(s);
}

static int setup(void **state)
{
    (void)state;
    wh_runtime_init();
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    wh_runtime_free();
    return 0;
}

/* Every test starts from the default run options, whatever the one
 * before it left when it failed. */
static int default_options(void **state)
{
    (void)state;
    bucket_prefix = "";
    extra_config = NULL;
    guest_wit = 0;
    guest_events = 0;
    return 0;
}

/* A guest_case as a test named after it. */
#define CASE(c) {"test_" #c, test_case, default_options, NULL, (void *)&(c)}
#define TEST(f) cmocka_unit_test_setup(f, default_options)

int main(void)
{
    const struct CMUnitTest tests[] = {
        CASE(draft),
        CASE(draft2),
        TEST(test_drafts_share_store),
        TEST(test_draft_negative_counter),
        CASE(access_denied),
        CASE(no_such_store),
        TEST(test_prefix),
        TEST(test_file_store),
        TEST(test_hostile),
        CASE(spin),
        TEST(test_spin_needs_its_wit),
        CASE(watcher),
        TEST(test_watcher_flood),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}

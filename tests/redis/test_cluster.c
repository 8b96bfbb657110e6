/*
 * redis+cluster against a real 3-master, 3-replica cluster on loopback
 * (cluster.c), checked against the nodes themselves with hiredis:
 * keys of one bucket land on every master; batches across slots; a walk
 * over every master; buckets across masters; a slot migrated by hand
 * (ASK while it moves, MOVED after) with a CAS snapshot taken before the
 * move; forged list states; watch without and with notifications on
 * every master; a write to a stopped master (EUNCERTAIN, run once); and a
 * master SIGKILLed under load, after which the promoted replica serves,
 * a walk and a watch from before the kill carry on, and so does the
 * store.
 *
 * SPDX-License-Identifier: MIT
 */
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <hiredis/hiredis.h>
#include <kvstore/kvstore.h>

#include "fx_servers.h"
#include "group.h"
#include "net.h"
#include "redis.h"

#define N_KEYS 300

static rs_cluster cl;

/* The URI of a test's store (SERVER_TEST): the masters as seeds, with
 * the parameters `query`. */
#define SEEDS(query) "redis+cluster://{seeds}" query

/* One command on a node's unix socket (argv form: exact bytes). */
static redisReply *node_cmd(const rs_server *n, int argc, const char **argv)
{
    struct timeval tv = { 5, 0 };
    redisContext *c = redisConnectUnixWithTimeout(n->sock, tv);
    redisReply *r;

    assert_non_null(c);
    assert_int_equal(c->err, 0);
    r = redisCommandArgv(c, argc, argv, NULL);
    redisFree(c);
    assert_non_null(r);
    return r;
}

static void node_ok(const rs_server *n, int argc, const char **argv)
{
    redisReply *r = node_cmd(n, argc, argv);

    if (r->type == REDIS_REPLY_ERROR)
        fail_msg("%s on :%d: %s", argv[0], n->port, r->str);
    freeReplyObject(r);
}

static int is_master(const rs_server *n)
{
    const char *argv[] = { "ROLE" };
    redisReply *r;
    int master;

    if (n->pid <= 0)
        return 0;
    r = node_cmd(n, 1, argv);
    master = r->type == REDIS_REPLY_ARRAY && r->elements > 0 &&
             strcmp(r->element[0]->str, "master") == 0;
    freeReplyObject(r);
    return master;
}

/* The master serving `slot`, from CLUSTER SLOTS of a live node. */
static rs_server *owner_of(unsigned slot)
{
    const char *argv[] = { "CLUSTER", "SLOTS" };
    rs_server *live = NULL, *owner = NULL;
    redisReply *r;

    for (int i = 0; i < cl.n && live == NULL; i++)
        if (cl.node[i].pid > 0)
            live = &cl.node[i];
    r = node_cmd(live, 2, argv);
    for (size_t i = 0; i < r->elements; i++) {
        redisReply *e = r->element[i];

        if ((unsigned)e->element[0]->integer <= slot &&
            slot <= (unsigned)e->element[1]->integer)
            owner = rs_cluster_node(&cl,
                                    (int)e->element[2]->element[1]->integer);
    }
    freeReplyObject(r);
    assert_non_null(owner);
    return owner;
}

static void node_id(const rs_server *n, char *id, size_t cap)
{
    const char *argv[] = { "CLUSTER", "MYID" };
    redisReply *r = node_cmd(n, 2, argv);

    assert_int_equal(r->type, REDIS_REPLY_STRING);
    snprintf(id, cap, "%s", r->str);
    freeReplyObject(r);
}

/* Keys of bucket `b` on node `n`: "b:?*" (the marker "b:" excluded). */
static size_t keys_on(const rs_server *n, const char *b)
{
    char pattern[80], cursor[32] = "0";
    size_t count = 0;

    snprintf(pattern, sizeof pattern, "%s:?*", b);
    do {
        const char *argv[] = { "SCAN", cursor, "MATCH", pattern, "COUNT",
                               "1000" };
        redisReply *r = node_cmd(n, 6, argv);

        assert_int_equal(r->type, REDIS_REPLY_ARRAY);
        snprintf(cursor, sizeof cursor, "%s", r->element[0]->str);
        count += r->element[1]->elements;
        freeReplyObject(r);
    } while (strcmp(cursor, "0") != 0);
    return count;
}

static size_t keys_on_masters(const char *b, int *masters_with_keys)
{
    size_t total = 0;

    *masters_with_keys = 0;
    for (int i = 0; i < cl.n; i++) {
        size_t k;

        if (!is_master(&cl.node[i]))
            continue;
        k = keys_on(&cl.node[i], b);
        total += k;
        *masters_with_keys += k > 0;
    }
    return total;
}

/* N_KEYS keys "k<i>" = "v<i>" in one set_many. */
static void fill(kvstore_bucket *b, size_t n)
{
    static char kbuf[N_KEYS][16], vbuf[N_KEYS][16];
    const char *keys[N_KEYS];
    const void *values[N_KEYS];
    size_t lens[N_KEYS];

    for (size_t i = 0; i < n; i++) {
        snprintf(kbuf[i], sizeof kbuf[i], "k%zu", i);
        lens[i] = (size_t)snprintf(vbuf[i], sizeof vbuf[i], "v%zu", i);
        keys[i] = kbuf[i];
        values[i] = vbuf[i];
    }
    assert_int_equal(kvstore_set_many(b, keys, values, lens, n), KVSTORE_OK);
}

static void test_slots_match_the_server(void **state)
{
    const char *keys[] = { "123456789", "{user1000}.following", "foo{}{bar}",
                           "bucket:key", "\xc3\xa9t\xc3\xa9" };

    (void)state;
    for (size_t i = 0; i < sizeof keys / sizeof *keys; i++) {
        const char *argv[] = { "CLUSTER", "KEYSLOT", keys[i] };
        redisReply *r = node_cmd(&cl.node[0], 3, argv);

        assert_int_equal(r->type, REDIS_REPLY_INTEGER);
        assert_int_equal(rd_key_slot(keys[i], strlen(keys[i])),
                         (unsigned)r->integer);
        freeReplyObject(r);
    }
}

static void test_bucket_spreads_and_batches_split(void **state)
{
    kvstore_bucket *b = ((server_store *)*state)->b;
    const char *keys[N_KEYS + 2];
    char kbuf[N_KEYS][16];
    void *values[N_KEYS + 2];
    size_t lens[N_KEYS + 2];
    int masters = 0;

    fill(b, N_KEYS);
    /* Layout B:K: the keys of one bucket are spread over every master. */
    assert_int_equal(keys_on_masters("spread", &masters), N_KEYS);
    assert_int_equal(masters, 3);

    /* get_many across slots, reversed, with two missing keys. */
    for (size_t i = 0; i < N_KEYS; i++) {
        snprintf(kbuf[i], sizeof kbuf[i], "k%zu", N_KEYS - 1 - i);
        keys[i] = kbuf[i];
    }
    keys[N_KEYS] = "missing-1";
    keys[N_KEYS + 1] = "missing-2";
    assert_int_equal(kvstore_get_many(b, keys, N_KEYS + 2, values, lens),
                     KVSTORE_OK);
    for (size_t i = 0; i < N_KEYS; i++) {
        char want[16];
        size_t wl = (size_t)snprintf(want, sizeof want, "v%zu",
                                     N_KEYS - 1 - i);

        assert_int_equal(lens[i], wl);
        assert_memory_equal(values[i], want, wl);
        kvstore_free(values[i]);
    }
    assert_null(values[N_KEYS]);
    assert_null(values[N_KEYS + 1]);

    /* delete_many of every other key, across slots. */
    for (size_t i = 0; i < N_KEYS / 2; i++) {
        snprintf(kbuf[i], sizeof kbuf[i], "k%zu", 2 * i);
        keys[i] = kbuf[i];
    }
    assert_int_equal(kvstore_delete_many(b, keys, N_KEYS / 2), KVSTORE_OK);
    assert_int_equal(keys_on_masters("spread", &masters), N_KEYS / 2);
}

/* Lists the "k" keys of `b` from `cursor` (NULL: the start; freed here)
 * to the end in pages of `limit` (walk_all), marking keys "k<i>" in seen;
 * returns how many were new and counts the pages. */
static size_t walk_rest(kvstore_bucket *b, char *cursor, size_t limit,
                        unsigned char *seen, size_t *pages)
{
    key_marks m = { "k", seen, N_KEYS, 0 };

    *pages += walk_all(b, "k", cursor, limit, walk_mark, &m);
    free(cursor);
    return m.distinct;
}

static void test_walk_covers_every_master(void **state)
{
    kvstore_bucket *b = ((server_store *)*state)->b;
    unsigned char seen[N_KEYS] = { 0 };
    size_t distinct, pages = 0;

    fill(b, N_KEYS);
    distinct = walk_rest(b, NULL, 7, seen, &pages);
    assert_int_equal(distinct, N_KEYS);
    assert_true(pages >= N_KEYS / 7);

    /* A small bucket comes in one page although it spans the masters. */
    {
        kvstore_keys *page = NULL;

        assert_int_equal(kvstore_list_keys(b, "k1", NULL, 1000, &page),
                         KVSTORE_OK);
        /* k1, k10..k19, k100..k199 */
        assert_int_equal(page->count, 1 + 10 + 100);
        assert_null(page->cursor);
        kvstore_keys_free(page);
    }
}

static void test_buckets_across_masters(void **state)
{
    kvstore_store *s = ((server_store *)*state)->s;
    const char *names[] = { "ba", "bb", "bc", "bd", "be", "bf" };
    kvstore_bucket_stat info = { .version = KVSTORE_BUCKET_STAT_VERSION };
    kvstore_keys *page = NULL;
    int masters = 0, found = 0;

    for (size_t i = 0; i < 6; i++) {
        kvstore_bucket *b = NULL;

        assert_int_equal(kvstore_bucket_open(&b, s, names[i]), KVSTORE_OK);
        fill(b, 40);
        kvstore_bucket_close(b);
    }
    assert_int_equal(kvstore_bucket_list(s, NULL, 0, &page), KVSTORE_OK);
    for (size_t i = 0; i < page->count; i++)
        for (size_t j = 0; j < 6; j++)
            found += strcmp(page->keys[i], names[j]) == 0;
    assert_int_equal(found, 6);
    kvstore_keys_free(page);
    assert_int_equal(kvstore_bucket_info(s, "bc", &info), KVSTORE_OK);

    /* Removal deletes the keys on every master. */
    assert_int_equal(keys_on_masters("bc", &masters), 40);
    assert_int_equal(masters, 3);
    assert_int_equal(kvstore_bucket_remove(s, "bc"), KVSTORE_OK);
    assert_int_equal(keys_on_masters("bc", &masters), 0);
    assert_int_equal(kvstore_bucket_info(s, "bc", &info), KVSTORE_ENOSTORE);
}

/* The slot of the hash tag "mv" is moved by hand from its master to
 * another, the way redis-cli --cluster reshard does it. */
static void test_migration_ask_then_moved(void **state)
{
    kvstore_bucket *b = ((server_store *)*state)->b;
    kvstore_cas *cas = NULL, *cas2 = NULL;
    unsigned slot = rd_key_slot("mv", 2);
    rs_server *src = owner_of(slot), *dst = NULL;
    char slot_s[8], src_id[64], dst_id[64], dst_port[8];
    int64_t n = 0;
    int rc;

    for (int i = 0; i < cl.n && dst == NULL; i++)
        if (&cl.node[i] != src && is_master(&cl.node[i]))
            dst = &cl.node[i];
    assert_non_null(dst);
    node_id(src, src_id, sizeof src_id);
    node_id(dst, dst_id, sizeof dst_id);
    snprintf(slot_s, sizeof slot_s, "%u", slot);
    snprintf(dst_port, sizeof dst_port, "%d", dst->port);

    assert_int_equal(kvstore_set(b, "a{mv}", "1", 1), KVSTORE_OK);
    assert_int_equal(kvstore_set(b, "b{mv}", "2", 1), KVSTORE_OK);
    /* A snapshot pinned to the source, swapped after the move. */
    assert_int_equal(kvstore_cas_open(&cas, b, "b{mv}"), KVSTORE_OK);

    {
        const char *imp[] = { "CLUSTER", "SETSLOT", slot_s, "IMPORTING",
                              src_id };
        const char *mig[] = { "CLUSTER", "SETSLOT", slot_s, "MIGRATING",
                              dst_id };
        const char *move_a[] = { "MIGRATE", "127.0.0.1", dst_port,
                                 "mig:a{mv}", "0", "5000" };

        node_ok(dst, 5, imp);
        node_ok(src, 5, mig);
        node_ok(src, 6, move_a);
    }
    /* Migrating: a{mv} has left (ASK), b{mv} has not, c{mv} is new (ASK:
     * written on the target). */
    expect_str(b, "a{mv}", "1");
    expect_str(b, "b{mv}", "2");
    assert_int_equal(kvstore_set(b, "c{mv}", "3", 1), KVSTORE_OK);
    assert_int_equal(kvstore_increment(b, "n{mv}", 5, &n), KVSTORE_OK);
    assert_int_equal(n, 5);
    {
        /* Batches: the slot's one key per command is redirected (ASK)
         * inside the pipelined batch, the other slots' keys are not. */
        const char *keys[3] = { "a{mv}", "other", "d{mv}" };
        const void *vals[3] = { "A", "O", "D" };
        size_t lens[3] = { 1, 1, 1 };
        void *got[3] = { NULL };
        size_t got_len[3];
        const char *read[2] = { "a{mv}", "other" };

        assert_int_equal(kvstore_get_many(b, read, 2, got, got_len),
                         KVSTORE_OK);
        assert_int_equal(got_len[0], 1);
        assert_memory_equal(got[0], "1", 1);
        assert_null(got[1]);
        kvstore_free(got[0]);
        /* d{mv} is new: written on the target through ASK. */
        assert_int_equal(kvstore_set_many(b, keys + 1, vals + 1, lens + 1,
                                          2), KVSTORE_OK);
    }

    {
        const char *move_b[] = { "MIGRATE", "127.0.0.1", dst_port,
                                 "mig:b{mv}", "0", "5000" };
        const char *mv_marker_and_rest[] = { "CLUSTER", "SETSLOT", slot_s,
                                             "NODE", dst_id };

        node_ok(src, 6, move_b);
        node_ok(dst, 5, mv_marker_and_rest);
        node_ok(src, 5, mv_marker_and_rest);
        for (int i = 0; i < cl.n; i++)
            if (&cl.node[i] != src && &cl.node[i] != dst &&
                is_master(&cl.node[i]))
                node_ok(&cl.node[i], 5, mv_marker_and_rest);
    }
    /* The snapshot's node no longer serves the key: never a swap. */
    rc = kvstore_cas_swap(cas, "X", 1);
    assert_true(rc == KVSTORE_ECONFLICT || rc == KVSTORE_EUNAVAILABLE);
    kvstore_cas_free(cas);

    /* Moved: a batch follows MOVED (the map has not seen the move yet)
     * and the store then uses the new owner. */
    {
        const char *keys[5] = { "a{mv}", "b{mv}", "c{mv}", "d{mv}",
                                "other" };
        const char *want[5] = { "1", "2", "3", "D", "O" };
        void *got[5] = { NULL };
        size_t got_len[5];

        assert_int_equal(kvstore_get_many(b, keys, 5, got, got_len),
                         KVSTORE_OK);
        for (int i = 0; i < 5; i++) {
            assert_int_equal(got_len[i], 1);
            assert_memory_equal(got[i], want[i], 1);
            kvstore_free(got[i]);
        }
    }
    expect_str(b, "b{mv}", "2");
    expect_str(b, "c{mv}", "3");
    assert_int_equal(owner_of(slot), dst);
    {
        const char *get_c[] = { "GET", "mig:c{mv}" };
        redisReply *r = node_cmd(dst, 2, get_c);

        assert_int_equal(r->type, REDIS_REPLY_STRING);
        assert_string_equal(r->str, "3");
        freeReplyObject(r);
    }
    assert_int_equal(kvstore_cas_open(&cas2, b, "b{mv}"), KVSTORE_OK);
    assert_int_equal(kvstore_cas_swap(cas2, "4", 1), KVSTORE_OK);
    kvstore_cas_free(cas2);
    expect_str(b, "b{mv}", "4");
    assert_int_equal(kvstore_increment(b, "n{mv}", 1, &n), KVSTORE_OK);
    assert_int_equal(n, 6);
}

/* The lowest slot of the master a walk's cursor of bucket `bucket`
 * stands on ("N<low>.<fp>.<inner>"). */
static unsigned cursor_low(const char *cursor, const char *bucket)
{
    char st[KVSTORE_CURSOR_STATE_MAX + 1];
    size_t len = 0;

    assert_int_equal(net_unwrap(cursor, bucket, (unsigned char *)st,
                                sizeof st - 1, &len), KVSTORE_OK);
    st[len] = '\0';
    assert_int_equal(st[0], 'N');
    return (unsigned)strtoul(st + 1, NULL, 10);
}

/* A slot migrating from a master the walk has not reached to one it has
 * finished: the keys MIGRATE moves in between must still be listed,
 * although the map does not change until the migration ends. */
static void test_walk_during_migration(void **state)
{
    kvstore_bucket *b = ((server_store *)*state)->b;
    unsigned char seen[N_KEYS] = { 0 };
    rs_server *walked = owner_of(0), *pending = owner_of(RD_SLOTS_N - 1);
    char slot_s[8], walked_id[64], pending_id[64], port_s[8], key[32];
    char *cursor = NULL;
    size_t distinct = 0, pages = 0, moved = N_KEYS;
    unsigned slot = 0;

    assert_ptr_not_equal(walked, pending);
    /* The store has no parameters, so that the test can read the
     * cursors' states. */
    net_bind("redis+cluster", fx_expand(SEEDS("")));
    fill(b, N_KEYS);
    /* Pages until the walk has finished the first master. */
    do {
        kvstore_keys *page = NULL;

        assert_int_equal(kvstore_list_keys(b, "k", cursor, 7, &page),
                         KVSTORE_OK);
        for (size_t i = 0; i < page->count; i++) {
            unsigned long k = strtoul(page->keys[i] + 1, NULL, 10);

            distinct += seen[k] == 0;
            seen[k] = 1;
        }
        free(cursor);
        assert_non_null(page->cursor);
        cursor = strdup(page->cursor);
        kvstore_keys_free(page);
    } while (cursor_low(cursor, "lm") == 0);
    /* Standing on the middle master: the last is untouched. */
    assert_ptr_not_equal(owner_of(cursor_low(cursor, "lm")), pending);
    for (size_t i = 0; i < N_KEYS && moved == N_KEYS; i++) {
        snprintf(key, sizeof key, "lm:k%zu", i);
        slot = rd_key_slot(key, strlen(key));
        if (!seen[i] && owner_of(slot) == pending)
            moved = i;
    }
    assert_true(moved < N_KEYS);
    node_id(walked, walked_id, sizeof walked_id);
    node_id(pending, pending_id, sizeof pending_id);
    snprintf(slot_s, sizeof slot_s, "%u", slot);
    {
        const char *imp[] = { "CLUSTER", "SETSLOT", slot_s, "IMPORTING",
                              pending_id };
        const char *mig[] = { "CLUSTER", "SETSLOT", slot_s, "MIGRATING",
                              walked_id };
        const char *move[] = { "MIGRATE", "127.0.0.1", port_s, key, "0",
                               "5000" };

        node_ok(walked, 5, imp);
        node_ok(pending, 5, mig);
        snprintf(port_s, sizeof port_s, "%d", walked->port);
        node_ok(pending, 6, move);
    }
    distinct += walk_rest(b, cursor, 7, seen, &pages);
    assert_true(seen[moved]);
    assert_int_equal(distinct, N_KEYS);
    {
        /* Back where it was, the slot stable again (a migrating source
         * would answer ASK to the RESTORE; an importing node still takes
         * MIGRATE of its open slot). */
        const char *back[] = { "MIGRATE", "127.0.0.1", port_s, key, "0",
                               "5000" };
        const char *stable[] = { "CLUSTER", "SETSLOT", slot_s, "STABLE" };

        snprintf(port_s, sizeof port_s, "%d", pending->port);
        node_ok(pending, 4, stable);
        node_ok(walked, 6, back);
        node_ok(walked, 4, stable);
    }
    {
        char want[16];

        snprintf(want, sizeof want, "v%zu", moved);
        expect_str(b, key + 3, want);
    }
    net_bind(NULL, NULL);
}

/* Lists `mine` from a forged state: EINVAL or a page of keys `mine`
 * holds, never a crash nor another bucket's key. */
static int forged_lists_only_mine(kvstore_bucket *mine, const char *state,
                                  size_t len)
{
    char *c = net_wrap("mine", state, len);
    kvstore_keys *page = NULL;
    int rc = kvstore_list_keys(mine, NULL, c, 50, &page);

    free(c);
    assert_true(rc == KVSTORE_OK || rc == KVSTORE_EINVAL);
    for (size_t i = 0; rc == KVSTORE_OK && i < page->count; i++) {
        bool ex = false;

        assert_int_equal(kvstore_exists(mine, page->keys[i], &ex),
                         KVSTORE_OK);
        if (!ex)
            fail_msg("'%s' listed in 'mine', which does not hold it",
                     page->keys[i]);
    }
    kvstore_keys_free(page);
    return rc;
}

/* The cluster state "N<low>.<fp>.<inner>" is untrusted like the others:
 * the envelope's checksum is public. */
static void test_forged_cluster_states(void **state)
{
    char real[KVSTORE_CURSOR_STATE_MAX + 1];
    kvstore_store *s = ((server_store *)*state)->s;
    kvstore_bucket *mine = open_bucket(s, "mine");
    kvstore_bucket *theirs = open_bucket(s, "theirs");
    kvstore_keys *page = NULL;
    size_t len = 0;
    const char *dot;

    /* No parameters: the store's identity is its scheme and hosts. */
    net_bind("redis+cluster", fx_expand(SEEDS("")));
    fill(mine, 40);
    assert_int_equal(kvstore_set(theirs, "t1", "x", 1), KVSTORE_OK);

    /* A real state, to learn the map's fingerprint. */
    assert_int_equal(kvstore_list_keys(mine, NULL, NULL, 3, &page),
                     KVSTORE_OK);
    assert_non_null(page->cursor);
    assert_int_equal(net_unwrap(page->cursor, "mine", (unsigned char *)real,
                                sizeof real - 1, &len), KVSTORE_OK);
    kvstore_keys_free(page);
    real[len] = '\0';
    assert_int_equal(real[0], 'N');
    dot = strchr(strchr(real, '.') + 1, '.');
    assert_non_null(dot);

    assert_int_equal(forged_lists_only_mine(mine, "N16384.0.", 9),
                     KVSTORE_EINVAL);
    assert_int_equal(forged_lists_only_mine(mine, "N01.0.", 6),
                     KVSTORE_EINVAL);
    assert_int_equal(forged_lists_only_mine(mine, "N", 1), KVSTORE_EINVAL);
    assert_int_equal(forged_lists_only_mine(mine, "N0.99999999999.", 15),
                     KVSTORE_EINVAL);
    assert_int_equal(forged_lists_only_mine(mine, "C5", 2), KVSTORE_EINVAL);
    /* A stale fingerprint restarts the walk (repeats, no error). */
    assert_int_equal(forged_lists_only_mine(mine, "N0.7.C5", 7), KVSTORE_OK);
    assert_int_equal(forged_lists_only_mine(mine, "I18446744073709551615.7.",
                                            24), KVSTORE_OK);
    assert_int_equal(forged_lists_only_mine(mine, "I18446744073709551616.7.",
                                            24), KVSTORE_EINVAL);
    {
        /* Well-formed, the real fingerprint, owing a key of "theirs". */
        char forged[128];
        int n = snprintf(forged, sizeof forged, "%.*sS0\xfft1\xffk1",
                         (int)(dot - real + 1), real);

        /* It reaches the owed-key filter: OK, without "t1". */
        assert_int_equal(forged_lists_only_mine(mine, forged, (size_t)n),
                         KVSTORE_OK);
        n = snprintf(forged, sizeof forged, "%.*sC18446744073709551615",
                     (int)(dot - real + 1), real);
        (void)forged_lists_only_mine(mine, forged, (size_t)n);
        /* The pass over importing nodes, none importing: a last page. */
        n = snprintf(forged, sizeof forged, "I7%.*sC5",
                     (int)(dot - strchr(real, '.') + 1), strchr(real, '.'));
        assert_int_equal(forged_lists_only_mine(mine, forged, (size_t)n),
                         KVSTORE_OK);
    }
    net_bind(NULL, NULL);
    kvstore_bucket_close(theirs);
    kvstore_bucket_close(mine);
}

/* The test cluster's nodes have keyspace notifications off: without
 * ?watch_config=auto a watch says which setting to enable. Runs before
 * any test that lets the backend turn them on. */
static void test_watch_needs_config(void **state)
{
    kvstore_bucket *b = ((server_store *)*state)->b;
    kvstore_watch *w = NULL;

    assert_int_equal(kvstore_watch_start(&w, b, "", fx_ignore_event, NULL),
                     KVSTORE_ENOTSUP);
    assert_null(w);
    assert_non_null(strstr(kvstore_errmsg(), "notify-keyspace-events"));
}

/* What a watch saw: set and delete events of "k<i>" keys. */
typedef struct seen_events {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    unsigned char set[N_KEYS], del[N_KEYS];
    int sets, dels, bad;
} seen_events;

static void count_event(void *payload, kvstore_event event, const char *key,
                        const void *value, size_t len)
{
    seen_events *e = payload;
    unsigned long k = strtoul(key + 1, NULL, 10);

    pthread_mutex_lock(&e->mu);
    if (key[0] != 'k' || k >= N_KEYS)
        e->bad++;
    else if (event == KVSTORE_EVENT_SET) {
        /* fill() writes "v<i>"; a late value may only be NULL (gone). */
        char want[16];
        size_t wl = (size_t)snprintf(want, sizeof want, "v%lu", k);

        if (value != NULL && (len != wl || memcmp(value, want, wl) != 0))
            e->bad++;
        e->sets += e->set[k]++ == 0;
    } else {
        e->dels += e->del[k]++ == 0;
    }
    pthread_cond_broadcast(&e->cv);
    pthread_mutex_unlock(&e->mu);
}

static int count_now(seen_events *e, const int *counter)
{
    int got;

    pthread_mutex_lock(&e->mu);
    got = *counter;
    pthread_mutex_unlock(&e->mu);
    return got;
}

/* Waits up to 10 s until *counter reaches want. */
static int wait_count(seen_events *e, const int *counter, int want)
{
    struct timespec until;
    int got;

    clock_gettime(CLOCK_REALTIME, &until);
    until.tv_sec += 10;
    pthread_mutex_lock(&e->mu);
    while (*counter < want &&
           pthread_cond_timedwait(&e->cv, &e->mu, &until) == 0)
        ;
    got = *counter;
    pthread_mutex_unlock(&e->mu);
    return got;
}

/* One watch sees the writes on every master (keyspace notifications are
 * per node). */
static void test_watch_every_master(void **state)
{
    kvstore_bucket *b = ((server_store *)*state)->b;
    kvstore_watch *w = NULL;
    seen_events e = { .sets = 0 };
    const char *keys[N_KEYS];
    char kbuf[N_KEYS][16];
    int masters = 0;

    pthread_mutex_init(&e.mu, NULL);
    pthread_cond_init(&e.cv, NULL);
    assert_int_equal(kvstore_watch_start(&w, b, "k", count_event, &e),
                     KVSTORE_OK);
    fill(b, N_KEYS);
    assert_int_equal(keys_on_masters("wt", &masters), N_KEYS);
    assert_int_equal(masters, 3);
    assert_int_equal(wait_count(&e, &e.sets, N_KEYS), N_KEYS);
    for (size_t i = 0; i < N_KEYS; i++) {
        snprintf(kbuf[i], sizeof kbuf[i], "k%zu", i);
        keys[i] = kbuf[i];
    }
    assert_int_equal(kvstore_delete_many(b, keys, N_KEYS), KVSTORE_OK);
    assert_int_equal(wait_count(&e, &e.dels, N_KEYS), N_KEYS);
    kvstore_watch_stop(w);
    assert_int_equal(e.bad, 0);
    pthread_cond_destroy(&e.cv);
    pthread_mutex_destroy(&e.mu);
}

/* A write sent to a master that stopped answering is KVSTORE_EUNCERTAIN
 * and is never resent, on another node or after a map refresh: when the
 * master wakes it has run it exactly once. The stop is far shorter than
 * cluster-node-timeout, so no failover happens meanwhile. */
static void test_uncertain_write_sent_once(void **state)
{
    kvstore_bucket *b = ((server_store *)*state)->b;
    rs_server *victim = owner_of(rd_key_slot("un:x", 4));
    long before;
    int rc;

    assert_int_equal(kvstore_set(b, "x", "0", 1), KVSTORE_OK);
    before = rs_calls_of(victim, "set");
    assert_true(before >= 0);
    kill(victim->pid, SIGSTOP);
    assert_true(net_wait_state(victim->pid, 'T'));
    rc = kvstore_set(b, "x", "1", 1);
    kill(victim->pid, SIGCONT);
    assert_true(net_wait_state(victim->pid, 0));
    assert_int_equal(rc, KVSTORE_EUNCERTAIN);
    for (int i = 0; i < 100 && rs_calls_of(victim, "set") == before; i++)
        rs_sleep_ms(20);
    rs_sleep_ms(300);
    assert_int_equal(rs_calls_of(victim, "set"), before + 1);
    expect_str(b, "x", "1");
}

/* A batch across every master with one of them stopped: every node's
 * pipeline is sent before any reply is read, so the batch is
 * KVSTORE_EUNCERTAIN, the other masters have applied their share, the
 * stopped one applies its own when it wakes (never resent), and the
 * store goes on working. */
static void test_uncertain_batch_all_nodes(void **state)
{
    kvstore_bucket *b = ((server_store *)*state)->b;
    rs_server *victim = owner_of(rd_key_slot("ub:k0", 5));
    const char *keys[30];
    const void *vals[30];
    size_t lens[30];
    char kbuf[30][8];
    void *got[30];
    size_t got_len[30];
    int masters = 0, rc;

    for (int i = 0; i < 30; i++) {
        snprintf(kbuf[i], sizeof kbuf[i], "k%d", i);
        keys[i] = kbuf[i];
        vals[i] = "new";
        lens[i] = 3;
    }
    /* A connection to every master before the stop (none of the keys
     * exists yet). */
    assert_int_equal(kvstore_get_many(b, keys, 30, got, got_len), KVSTORE_OK);
    for (int i = 0; i < 30; i++)
        assert_null(got[i]);
    kill(victim->pid, SIGSTOP);
    assert_true(net_wait_state(victim->pid, 'T'));
    rc = kvstore_set_many(b, keys, vals, lens, 30);
    kill(victim->pid, SIGCONT);
    assert_true(net_wait_state(victim->pid, 0));
    assert_int_equal(rc, KVSTORE_EUNCERTAIN);
    /* Its share ran once it woke: all 30 keys, spread over 3 masters. */
    for (int i = 0; i < 100 && keys_on_masters("ub", &masters) < 30; i++)
        rs_sleep_ms(20);
    assert_int_equal(keys_on_masters("ub", &masters), 30);
    assert_int_equal(masters, 3);
    assert_int_equal(kvstore_get_many(b, keys, 30, got, got_len), KVSTORE_OK);
    for (int i = 0; i < 30; i++) {
        assert_int_equal(got_len[i], 3);
        assert_memory_equal(got[i], "new", 3);
        kvstore_free(got[i]);
    }
}

/* The load: set then get k<i> over all slots; every status recorded. */
typedef struct load {
    kvstore_bucket *b;
    atomic_int done;
    atomic_int stop;
    int bad;               /* a status no write or read may have here */
    int uncertain;         /* sets that may or may not have landed */
    int ok_after_stop;     /* round trips that worked after `stop` */
    char why[160];
} load;

static void *load_run(void *arg)
{
    load *l = arg;

    for (int i = 0; !(atomic_load(&l->stop) && l->ok_after_stop >= 100);
         i++) {
        char key[16], val[16];
        size_t vl = (size_t)snprintf(val, sizeof val, "%d", i);
        void *v = NULL;
        size_t len = 0;
        int rc;

        snprintf(key, sizeof key, "k%d", i % N_KEYS);
        rc = kvstore_set(l->b, key, val, vl);
        if (rc == KVSTORE_EUNCERTAIN) {
            l->uncertain++;
        } else if (rc != KVSTORE_OK) {
            l->bad++;
            snprintf(l->why, sizeof l->why, "set: %s", kvstore_errmsg());
        } else {
            rc = kvstore_get(l->b, key, &v, &len);
            if (rc != KVSTORE_OK) {
                l->bad++;
                snprintf(l->why, sizeof l->why, "get: %s", kvstore_errmsg());
            } else if (atomic_load(&l->stop)) {
                l->ok_after_stop++;
            }
            kvstore_free(v);
        }
        atomic_store(&l->done, i + 1);
        if (l->bad > 0)
            break;
    }
    return NULL;
}

static void test_master_killed_under_load(void **state)
{
    server_store *fx = *state;
    kvstore_store *s = fx->s;
    kvstore_bucket *b = fx->b;
    kvstore_bucket *w = NULL, *wb = NULL;
    kvstore_watch *watch = NULL;
    seen_events e = { .sets = 0 };
    load l = { 0 };
    pthread_t t;
    unsigned slot = rd_key_slot("fo:k0", 5);
    rs_server *victim = owner_of(slot), *promoted;
    unsigned char seen[N_KEYS] = { 0 };
    kvstore_keys *first = NULL;
    char *cursor;
    size_t distinct, pages = 0;

    /* A walk begun before the kill and finished across the failover. */
    assert_int_equal(kvstore_bucket_open(&w, s, "fowalk"), KVSTORE_OK);
    fill(w, N_KEYS);
    rs_sleep_ms(500);  /* replication is asynchronous; loopback is fast */
    assert_int_equal(kvstore_list_keys(w, "k", NULL, 50, &first),
                     KVSTORE_OK);
    assert_non_null(first->cursor);
    for (size_t i = 0; i < first->count; i++)
        seen[strtoul(first->keys[i] + 1, NULL, 10)] = 1;
    distinct = first->count;
    cursor = strdup(first->cursor);
    kvstore_keys_free(first);

    /* A watch from before the kill, over every master. */
    pthread_mutex_init(&e.mu, NULL);
    pthread_cond_init(&e.cv, NULL);
    assert_int_equal(kvstore_bucket_open(&wb, s, "fowatched"), KVSTORE_OK);
    assert_int_equal(kvstore_watch_start(&watch, wb, "k", count_event, &e),
                     KVSTORE_OK);

    l.b = b;
    assert_int_equal(pthread_create(&t, NULL, load_run, &l), 0);
    while (atomic_load(&l.done) < 200)
        sched_yield();
    rs_signal(victim, SIGKILL);
    atomic_store(&l.stop, 1);
    distinct += walk_rest(w, cursor, 50, seen, &pages);
    pthread_join(t, NULL);
    if (l.bad > 0)
        fail_msg("after SIGKILL of :%d: %s", victim->port, l.why);
    assert_int_equal(l.ok_after_stop, 100);
    /* Every key, though the walk crossed the failover (some repeat). */
    assert_int_equal(distinct, N_KEYS);
    /* The replica took the victim's slots. */
    assert_int_equal(rs_cluster_wait_ok(&cl, 20000), 0);
    promoted = owner_of(slot);
    assert_true(promoted != victim);
    assert_true(is_master(promoted));
    print_message("master :%d killed after %d ops; %d uncertain sets; "
                  ":%d promoted\n", victim->port, 200, l.uncertain,
                  promoted->port);
    assert_int_equal(kvstore_set(b, "k0", "after", 5), KVSTORE_OK);
    expect_str(b, "k0", "after");

    /* The watch follows the promotion (its map check runs every
     * second): a key on the promoted master is seen again, then every
     * key of a fresh fill. Events before the resubscription are lost. */
    {
        const char *victim_key = NULL;
        char kbuf[16];

        for (int i = 0; i < N_KEYS && victim_key == NULL; i++) {
            char full[32];
            int n = snprintf(full, sizeof full, "fowatched:k%d", i);

            if (owner_of(rd_key_slot(full, (size_t)n)) == promoted) {
                snprintf(kbuf, sizeof kbuf, "k%d", i);
                victim_key = kbuf;
            }
        }
        assert_non_null(victim_key);
        for (int tries = 0; tries < 50 && count_now(&e, &e.sets) == 0;
             tries++) {
            char v[16];
            size_t vl = (size_t)snprintf(v, sizeof v, "v%s", victim_key + 1);

            assert_int_equal(kvstore_set(wb, victim_key, v, vl), KVSTORE_OK);
            rs_sleep_ms(200);
        }
        assert_int_equal(wait_count(&e, &e.sets, 1), 1);
        fill(wb, N_KEYS);
        assert_int_equal(wait_count(&e, &e.sets, N_KEYS), N_KEYS);
    }
    kvstore_watch_stop(watch);
    assert_int_equal(e.bad, 0);
    pthread_cond_destroy(&e.cv);
    pthread_mutex_destroy(&e.mu);
    kvstore_bucket_close(wb);
    kvstore_bucket_close(w);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_slots_match_the_server),
        SERVER_TEST(test_bucket_spreads_and_batches_split,
                    SEEDS("?timeout_ms=10000"), "spread"),
        SERVER_TEST(test_walk_covers_every_master,
                    SEEDS("?timeout_ms=10000"), "walk"),
        SERVER_TEST(test_buckets_across_masters,
                    SEEDS("?timeout_ms=10000"), NULL),
        SERVER_TEST(test_migration_ask_then_moved,
                    SEEDS("?timeout_ms=10000"), "mig"),
        SERVER_TEST(test_walk_during_migration, SEEDS(""), "lm"),
        SERVER_TEST(test_forged_cluster_states, SEEDS(""), NULL),
        SERVER_TEST(test_watch_needs_config,
                    SEEDS("?timeout_ms=10000"), "w"),
        SERVER_TEST(test_watch_every_master,
                    SEEDS("?timeout_ms=10000&watch_config=auto"), "wt"),
        SERVER_TEST(test_uncertain_write_sent_once,
                    SEEDS("?timeout_ms=200"), "un"),
        SERVER_TEST(test_uncertain_batch_all_nodes,
                    SEEDS("?timeout_ms=200"), "ub"),
        /* Last: it kills a master. */
        SERVER_TEST(test_master_killed_under_load,
                    SEEDS("?timeout_ms=20000&watch_config=auto"), "fo"),
    };
    return RS_RUN_GROUP(tests, .cluster = &cl);
}

/*
 * nats backend on a 3-node JetStream cluster (routes, server_name,
 * cluster name, one store_dir each), buckets with replicas=3:
 *
 *  - failover: 5,000 keys, SIGKILL of the stream leader, 2,000 more keys
 *    written while it is down (bounded retries through the election), all
 *    7,000 read back, and again after the node restarts and catches up;
 *  - read your writes: 1,000 rounds of set-then-get and 1,000 of
 *    set-then-list through one handle with zero stale reads, on a bucket
 *    created the way `nats kv add --replicas 3` does it (direct get
 *    allowed, the nats-server issue 6557 setup).
 *
 * SPDX-License-Identifier: MIT
 */
#include <signal.h>

#include "fx_servers.h"
#include "group.h"

static nh_server cl[3];

/* The stores of the tests: every node, buckets with three replicas. */
#define CLUSTER_URI "nats://{urls}?replicas=3&timeout_ms=20000"

/* A raw connection to a live node (nats.c 3.4.1's natsOptions_SetURL
 * fails on comma-separated lists, so pick one). */
static void raw_any(raw_nats *r)
{
    char u[64];
    for (int i = 0; i < 3; i++) {
        if (cl[i].pid > 0) {
            raw_open(r, nh_url(&cl[i], u, sizeof u));
            return;
        }
    }
    fail_msg("no live node");
}

static jsStreamInfo *stream_info(raw_nats *r, const char *bucket)
{
    char stream[80];
    jsStreamInfo *si = NULL;
    jsOptions o;
    jsOptions_Init(&o);
    o.Wait = 5000;
    snprintf(stream, sizeof stream, "KV_%s", bucket);
    for (int i = 0; i < 100; i++) {
        if (js_GetStreamInfo(&si, r->js, stream, &o, NULL) == NATS_OK &&
            si->Cluster && si->Cluster->Leader)
            return si;
        jsStreamInfo_Destroy(si);
        si = NULL;
        sleep_ms(200);
    }
    fail_msg("no stream info for %s", stream);
    return NULL;
}

/* set with bounded retries: failures are expected only while a leader is
 * being elected */
static void set_retry(kvstore_bucket *b, const char *key, const char *val,
                      int *retries)
{
    for (int attempt = 0;; attempt++) {
        int rc = kvstore_set(b, key, val, strlen(val));
        if (rc == KVSTORE_OK)
            return;
        if ((rc != KVSTORE_EUNAVAILABLE && rc != KVSTORE_EUNCERTAIN) ||
            attempt >= 10)
            fail_msg("set %s: %d %s", key, rc, kvstore_errmsg());
        (*retries)++;
        sleep_ms(200);
    }
}

static void read_all(kvstore_bucket *b, int n)
{
    char kb[100][16];
    const char *keys[100];
    void *vals[100];
    size_t lens[100];
    for (int i = 0; i < n; i += 100) {
        int m = n - i < 100 ? n - i : 100;
        for (int j = 0; j < m; j++) {
            snprintf(kb[j], sizeof kb[j], "key.%d", i + j);
            keys[j] = kb[j];
        }
        KV_OK(kvstore_get_many(b, keys, (size_t)m, vals, lens));
        for (int j = 0; j < m; j++) {
            char want[24];
            snprintf(want, sizeof want, "val-%d", i + j);
            if (!vals[j])
                fail_msg("%s lost", keys[j]);
            assert_int_equal(lens[j], strlen(want));
            assert_memory_equal(vals[j], want, lens[j]);
            kvstore_free(vals[j]);
        }
    }
}

static void failover(void **state)
{
    server_store *fx = *state;
    kvstore_bucket *b = fx->b;
    const char *name = fx->name;
    char key[32], val[32];
    raw_nats r;
    int retries = 0, leader = 0;
    bool found = false;

    for (int i = 0; i < 5000; i++) {
        snprintf(key, sizeof key, "key.%d", i);
        snprintf(val, sizeof val, "val-%d", i);
        set_retry(b, key, val, &retries);
    }
    raw_any(&r);
    jsStreamInfo *si = stream_info(&r, name);
    assert_int_equal(si->Config->Replicas, 3);
    for (int i = 0; i < 3; i++)
        if (strcmp(si->Cluster->Leader, cl[i].name) == 0) {
            leader = i;
            found = true;
        }
    jsStreamInfo_Destroy(si);
    raw_close(&r);
    assert_true(found);

    nh_kill(&cl[leader], SIGKILL);
    for (int i = 5000; i < 7000; i++) {
        snprintf(key, sizeof key, "key.%d", i);
        snprintf(val, sizeof val, "val-%d", i);
        set_retry(b, key, val, &retries);
    }
    read_all(b, 7000);

    assert_int_equal(nh_restart(&cl[leader]), 0);
    raw_any(&r);
    bool current = false;
    for (int t = 0; t < 150 && !current; t++) {   /* up to 30 s */
        si = stream_info(&r, name);
        current = si->Cluster->ReplicasLen == 2;
        for (int i = 0; i < si->Cluster->ReplicasLen; i++)
            current &= si->Cluster->Replicas[i]->Current &&
                       !si->Cluster->Replicas[i]->Offline;
        jsStreamInfo_Destroy(si);
        if (!current)
            sleep_ms(200);
    }
    raw_close(&r);
    assert_true(current);
    read_all(b, 7000);
    print_message("failover: %d retried writes during the election\n",
                  retries);
}

static void read_your_writes(void **state)
{
    char name[64], key[32], val[32];
    raw_nats r;
    int stale = 0;
    (void)state;

    /* the bucket as nats.c 3.4 / nats CLI 2.9 create it: direct get on */
    run_bucket(name, sizeof name, "ryw");
    kv_stream ks;
    kv_stream_init(&ks, name, true);
    ks.config.Replicas = 3;
    raw_any(&r);
    jsOptions o;
    jsOptions_Init(&o);
    o.Wait = 20000;
    assert_int_equal(js_AddStream(NULL, r.js, &ks.config, &o, NULL), NATS_OK);
    raw_close(&r);

    server_store t = server_store_open(CLUSTER_URI, name);
    kvstore_bucket *b = t.b;
    for (int i = 0; i < 1000; i++) {
        void *v = NULL;
        size_t len = 0;
        snprintf(val, sizeof val, "v%d", i);
        KV_OK(kvstore_set(b, "k", val, strlen(val)));
        KV_OK(kvstore_get(b, "k", &v, &len));
        if (len != strlen(val) || memcmp(v, val, len) != 0) {
            print_error("stale get in round %d\n", i);
            stale++;
        }
        kvstore_free(v);
    }
    for (int i = 0; i < 1000; i++) {
        kvstore_keys *pg = NULL;
        char prefix[32];
        snprintf(prefix, sizeof prefix, "l.%d.", i);
        snprintf(key, sizeof key, "l.%d.k", i);
        KV_OK(kvstore_set(b, key, "x", 1));
        KV_OK(kvstore_list_keys(b, prefix, NULL, 10, &pg));
        if (pg->count != 1 || strcmp(pg->keys[0], key) != 0) {
            print_error("stale list in round %d: %zu keys\n", i, pg->count);
            stale++;
        }
        kvstore_keys_free(pg);
    }
    assert_int_equal(stale, 0);
    server_store_close(&t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(read_your_writes),
        SERVER_TEST(failover, CLUSTER_URI, "fo"),
    };
    return NH_RUN_GROUP(tests, .cluster = cl);
}

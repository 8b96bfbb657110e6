/*
 * Redis backend: Redis Cluster (redis+cluster://seed1,seed2,...), the slot
 * map and routing.
 *
 * The map says which master serves each of the 16384 slots; it is read
 * from CLUSTER SLOTS at open, refreshed whole after a MOVED and when a
 * node cannot be reached (a failover: the promoted replica is named by
 * the others). Each node has its own pools (rd_node); nodes are created
 * when the map first names them and live until the store closes, so a
 * node pointer taken under the lock stays valid after it is released.
 *
 * Redirections: MOVED (the slot has a new owner) updates that slot at
 * once and refreshes the map, then the command goes to the new owner;
 * ASK (the slot is being migrated and this key has left) sends ASKING
 * and the command to the named node once, map unchanged. A redirected
 * command was not applied, so a write may be sent again; a write sent
 * with no reply stays KVSTORE_EUNCERTAIN (rd_run) and is never resent.
 *
 * SPDX-License-Identifier: MIT
 */
#include <errno.h>
#include <inttypes.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "redis.h"

/* Redirections followed for one command before giving up. */
#define RD_REDIRECTS_MAX 16
/* Pause before retrying while a failover or migration settles. */
#define RD_SETTLE_MS 100
/* After a MOVED the whole map is read again, at most this often: each
 * MOVED already fixes its own slot, and a batch after a resharding may
 * meet many. */
#define RD_MOVED_REFRESH_MS 100

struct rd_cluster {
    pthread_rwlock_t lock;       /* guards owner, nodes, n_nodes, fp */
    pthread_mutex_t refreshing;  /* one CLUSTER SLOTS at a time */
    rd_node *nodes[RD_NODES_MAX];
    size_t n_nodes;
    uint16_t owner[RD_SLOTS_N];  /* index into nodes + 1; 0: unserved */
    uint32_t fp;                 /* fingerprint of owner (rd_map_fp) */
    /* The masters of `owner` by lowest slot, kept with it (rd_map_set):
     * every page of a walk asks for them. */
    rd_master masters[RD_NODES_MAX];
    size_t n_masters;
    size_t pool_max;
    _Atomic int64_t refreshed_ms;  /* when the last map was installed */
    size_t n_seeds;
    char **seed_host;            /* the URI's hosts, tried after nodes */
    int *seed_port;
};

static void rd_sleep_ms(int ms)
{
    struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000L };

    while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
        ;
}

/* The node at host:port, created if new. Caller holds the write lock. */
static rd_node *rd_node_get(rd_store *s, const char *host, size_t host_len,
                            int port)
{
    rd_cluster *c = s->cluster;
    rd_node *n;
    char *h;

    for (size_t i = 0; i < c->n_nodes; i++) {
        const rd_pool *p = &c->nodes[i]->pool;

        if (p->port == port && strlen(p->host) == host_len &&
            memcmp(p->host, host, host_len) == 0)
            return c->nodes[i];
    }
    if (c->n_nodes == RD_NODES_MAX)
        return NULL;
    n = calloc(1, sizeof *n);
    h = strndup(host, host_len);
    if (n == NULL || h == NULL)
        goto fail;
    if (rd_pool_init(&n->pool, c->pool_max) != KVSTORE_OK)
        goto fail;
    if (rd_pool_init(&n->pins, RD_PINS_MAX) != KVSTORE_OK) {
        rd_pool_destroy(&n->pool);
        goto fail;
    }
    if (rd_pool_target(&n->pool, h, port) != KVSTORE_OK ||
        rd_pool_target(&n->pins, h, port) != KVSTORE_OK) {
        rd_pool_destroy(&n->pins);
        rd_pool_destroy(&n->pool);
        goto fail;
    }
    free(h);
    c->nodes[c->n_nodes++] = n;
    return n;
fail:
    free(h);
    free(n);
    return NULL;
}

rd_node *rd_cluster_node(rd_store *s, const char *host, size_t host_len,
                         int port)
{
    rd_node *n;

    pthread_rwlock_wrlock(&s->cluster->lock);
    n = rd_node_get(s, host, host_len, port);
    pthread_rwlock_unlock(&s->cluster->lock);
    return n;
}

uint64_t rd_node_tag(const rd_node *n)
{
    char buf[320];
    int len = snprintf(buf, sizeof buf, "%s:%d", n->pool.host, n->pool.port);
    uint64_t h = 14695981039346656037u;

    for (int i = 0; i < len && i < (int)sizeof buf; i++) {
        h ^= (unsigned char)buf[i];
        h *= 1099511628211u;
    }
    return h;
}

static size_t rd_node_index(const rd_cluster *c, const rd_node *n)
{
    for (size_t i = 0; i < c->n_nodes; i++)
        if (c->nodes[i] == n)
            return i;
    return c->n_nodes;
}

/* FNV-1a over each run of slots with one owner (first slot, owner's
 * address): equal maps, equal fingerprints, whatever the reply order. */
static uint32_t rd_map_fp(const rd_cluster *c)
{
    uint32_t h = 2166136261u;
    unsigned prev = (unsigned)-1;

    for (unsigned slot = 0; slot < RD_SLOTS_N; slot++) {
        char buf[320];
        int n;

        if (c->owner[slot] == prev)
            continue;
        prev = c->owner[slot];
        n = snprintf(buf, sizeof buf, "%u %s:%d|", slot,
                     prev ? c->nodes[prev - 1]->pool.host : "-",
                     prev ? c->nodes[prev - 1]->pool.port : 0);
        for (int i = 0; i < n && i < (int)sizeof buf; i++) {
            h ^= (unsigned char)buf[i];
            h *= 16777619u;
        }
    }
    return h;
}

/* After `owner` changed (write lock held): its fingerprint and masters. */
static void rd_map_set(rd_cluster *c)
{
    bool seen[RD_NODES_MAX] = { false };

    c->fp = rd_map_fp(c);
    c->n_masters = 0;
    for (unsigned slot = 0; slot < RD_SLOTS_N; slot++) {
        unsigned o = c->owner[slot];

        if (o != 0 && !seen[o - 1]) {
            seen[o - 1] = true;
            c->masters[c->n_masters].node = c->nodes[o - 1];
            c->masters[c->n_masters++].low = slot;
        }
    }
}

static bool rd_int_in(const redisReply *r, long long lo, long long hi)
{
    return r->type == REDIS_REPLY_INTEGER && r->integer >= lo &&
           r->integer <= hi;
}

/* Installs a CLUSTER SLOTS reply: [[start, end, [host, port, id, ...],
 * replica...], ...]. An empty host ("" or "?") means the host we asked
 * (the port is the reply's). */
static int rd_map_apply(rd_store *s, const redisReply *r, const char *asked)
{
    rd_cluster *c = s->cluster;
    uint16_t *owner = calloc(RD_SLOTS_N, sizeof *owner);
    int rc = KVSTORE_OK;

    if (owner == NULL)
        return kvstore_set_error(KVSTORE_ENOMEM, "redis: out of memory");
    if (r->type != REDIS_REPLY_ARRAY) {
        free(owner);
        return rd_unexpected(s, "CLUSTER SLOTS", r);
    }
    pthread_rwlock_wrlock(&c->lock);
    for (size_t i = 0; i < r->elements && rc == KVSTORE_OK; i++) {
        const redisReply *e = r->element[i], *m;
        const char *host;
        size_t host_len;
        rd_node *n;

        if (e->type != REDIS_REPLY_ARRAY || e->elements < 3 ||
            !rd_int_in(e->element[0], 0, RD_SLOTS_N - 1) ||
            !rd_int_in(e->element[1], e->element[0]->integer,
                       RD_SLOTS_N - 1) ||
            (m = e->element[2])->type != REDIS_REPLY_ARRAY ||
            m->elements < 2 || m->element[0]->type != REDIS_REPLY_STRING ||
            !rd_int_in(m->element[1], 1, 65535)) {
            rc = rd_unexpected(s, "CLUSTER SLOTS", e);
            break;
        }
        host = m->element[0]->str;
        host_len = (size_t)m->element[0]->len;
        if (host_len == 0 || (host_len == 1 && host[0] == '?')) {
            host = asked;
            host_len = strlen(asked);
        }
        n = rd_node_get(s, host, host_len, (int)m->element[1]->integer);
        if (n == NULL) {
            rc = kvstore_set_error(KVSTORE_ENOMEM, "redis: %s names too "
                                   "many nodes or memory ran out",
                                   s->cfg.label);
            break;
        }
        {
            uint16_t o = (uint16_t)(rd_node_index(c, n) + 1);

            for (long long slot = e->element[0]->integer;
                 slot <= e->element[1]->integer; slot++)
                owner[slot] = o;
        }
    }
    if (rc == KVSTORE_OK) {
        memcpy(c->owner, owner, sizeof c->owner);
        rd_map_set(c);
        atomic_store(&c->refreshed_ms, rd_now_ms());
    }
    pthread_rwlock_unlock(&c->lock);
    free(owner);
    return rc;
}

/* CLUSTER SLOTS on one pool; KVSTORE_OK once a map is installed. */
static int rd_map_from(rd_store *s, rd_pool *p)
{
    const char *argv[2] = { "CLUSTER", "SLOTS" };
    size_t lens[2] = { 7, 5 };
    redisReply *r = NULL;
    int rc = rd_call_on(s, p, RD_RETRY, 2, argv, lens, &r);

    if (rc == KVSTORE_OK) {
        rc = rd_map_apply(s, r, p->host);
        rd_reply_free(r);
    }
    return rc;
}

/* A seed on a connection of its own (no pool: it may never be a node). */
static int rd_map_from_seed(rd_store *s, size_t i)
{
    rd_cluster *c = s->cluster;
    const char *argv[2] = { "CLUSTER", "SLOTS" };
    size_t lens[2] = { 7, 5 };
    rd_link *ctx = NULL;
    redisReply *r = NULL;
    int rc = rd_connect_to(&s->cfg, c->seed_host[i], c->seed_port[i], &ctx);

    if (rc == KVSTORE_OK)
        rc = rd_command(&s->cfg, ctx, 2, argv, lens, &r);
    if (ctx != NULL)
        rd_link_close(ctx);
    if (rc != KVSTORE_OK)
        return rc;
    if (r->type == REDIS_REPLY_ERROR) {
        if (strstr(r->str, "cluster support disabled") != NULL)
            rc = kvstore_set_error(KVSTORE_EINVAL, "redis: %s: the server "
                                   "at %.100s:%d is not a cluster node (use "
                                   "redis://)", s->cfg.label,
                                   c->seed_host[i], c->seed_port[i]);
        else
            rc = rd_reply_error(s, "CLUSTER SLOTS", r);
    } else {
        rc = rd_map_apply(s, r, c->seed_host[i]);
    }
    rd_reply_free(r);
    return rc;
}

int rd_cluster_refresh(rd_store *s)
{
    rd_cluster *c = s->cluster;
    rd_node *known[RD_NODES_MAX];
    bool serves[RD_NODES_MAX] = { false };
    size_t n;
    int rc = KVSTORE_EUNAVAILABLE;

    pthread_mutex_lock(&c->refreshing);
    pthread_rwlock_rdlock(&c->lock);
    /* The masters of the current map first, then nodes it no longer
     * names (a dead master stays known: asking it first would cost a
     * timeout on every refresh). */
    for (size_t i = 0; i < c->n_masters; i++) {
        known[i] = c->masters[i].node;
        serves[rd_node_index(c, known[i])] = true;
    }
    n = c->n_masters;
    for (size_t i = 0; i < c->n_nodes; i++)
        if (!serves[i])
            known[n++] = c->nodes[i];
    pthread_rwlock_unlock(&c->lock);
    /* Known nodes, on their pooled connections; then the seeds. An
     * authentication or protocol failure is final: another node would
     * answer the same. */
    for (size_t i = 0; i < n; i++) {
        rc = rd_map_from(s, &known[i]->pool);
        if (rc != KVSTORE_EUNAVAILABLE)
            goto done;
    }
    for (size_t i = 0; i < c->n_seeds; i++) {
        rc = rd_map_from_seed(s, i);
        if (rc != KVSTORE_EUNAVAILABLE)
            goto done;
    }
done:
    pthread_mutex_unlock(&c->refreshing);
    return rc;
}

rd_node *rd_cluster_route(rd_store *s, unsigned slot)
{
    rd_cluster *c = s->cluster;
    rd_node *n = NULL;

    pthread_rwlock_rdlock(&c->lock);
    if (c->owner[slot] != 0)
        n = c->nodes[c->owner[slot] - 1];
    pthread_rwlock_unlock(&c->lock);
    return n;
}

/* Parses "MOVED <slot> <host>:<port>" or "ASK ..." (the host may be an
 * IPv6 address: the port follows the last ':'). */
static bool rd_redirect_parse(const redisReply *r, unsigned *slot,
                              const char **host, size_t *host_len, int *port)
{
    const char *sp1 = memchr(r->str, ' ', (size_t)r->len), *sp2, *colon,
               *end = r->str + r->len;
    uint64_t v;

    if (sp1 == NULL)
        return false;
    sp2 = memchr(sp1 + 1, ' ', (size_t)(end - sp1 - 1));
    if (sp2 == NULL || !rd_u64(sp1 + 1, (size_t)(sp2 - sp1 - 1), &v) ||
        v >= RD_SLOTS_N)
        return false;
    *slot = (unsigned)v;
    colon = NULL;
    for (const char *p = sp2 + 1; p < end; p++)
        if (*p == ':')
            colon = p;
    if (colon == NULL || colon == sp2 + 1 ||
        !rd_u64(colon + 1, (size_t)(end - colon - 1), &v) || v == 0 ||
        v > 65535)
        return false;
    *host = sp2 + 1;
    *host_len = (size_t)(colon - sp2 - 1);
    *port = (int)v;
    return true;
}

rd_redirect rd_cluster_redirect(rd_store *s, const redisReply *r,
                                rd_node **ask)
{
    rd_cluster *c = s->cluster;
    bool moved;
    unsigned slot;
    const char *host;
    size_t host_len;
    int port;
    rd_node *n;

    if (r->type != REDIS_REPLY_ERROR || r->str == NULL)
        return RD_REDIRECT_NONE;
    if (strncmp(r->str, "TRYAGAIN", 8) == 0 ||
        strncmp(r->str, "CLUSTERDOWN", 11) == 0)
        return RD_REDIRECT_SETTLE;
    moved = strncmp(r->str, "MOVED ", 6) == 0;
    if (!moved && strncmp(r->str, "ASK ", 4) != 0)
        return RD_REDIRECT_NONE;
    if (!rd_redirect_parse(r, &slot, &host, &host_len, &port))
        return RD_REDIRECT_NONE;
    pthread_rwlock_wrlock(&c->lock);
    n = rd_node_get(s, host, host_len, port);
    if (n != NULL && moved) {
        c->owner[slot] = (uint16_t)(rd_node_index(c, n) + 1);
        rd_map_set(c);
    }
    pthread_rwlock_unlock(&c->lock);
    if (n == NULL)
        return RD_REDIRECT_NONE;
    if (!moved) {
        *ask = n;
        return RD_REDIRECT_ASK;
    }
    /* One slot moved: others probably did too (a resharding). */
    if (rd_now_ms() - atomic_load(&c->refreshed_ms) >= RD_MOVED_REFRESH_MS)
        (void)rd_cluster_refresh(s);
    return RD_REDIRECT_MOVED;
}

int64_t rd_cluster_deadline(const rd_store *s)
{
    return rd_now_ms() + s->cfg.timeout_ms;
}

bool rd_cluster_wait(rd_store *s, int64_t deadline)
{
    if (rd_now_ms() >= deadline)
        return false;
    rd_sleep_ms(RD_SETTLE_MS);
    (void)rd_cluster_refresh(s);
    return true;
}

/* The command once on `n`, after ASKING when `asking`; *out raw. */
static int rd_send_to(rd_store *s, rd_node *n, bool asking, unsigned flags,
                      int argc, const char **argv, const size_t *lens,
                      redisReply **out)
{
    const char *asking_argv[1] = { "ASKING" };
    size_t asking_lens[1] = { 6 };
    rd_cmd cmds[2] = { { 1, asking_argv, asking_lens },
                       { argc, argv, lens } };
    redisReply *r[2] = { NULL, NULL };
    int rc;

    *out = NULL;
    if (!asking)
        return rd_exec(s, &n->pool, flags, 1, &cmds[1], out);
    rc = rd_exec(s, &n->pool, flags, 2, cmds, r);
    if (rc == KVSTORE_OK) {
        rd_reply_free(r[0]);
        *out = r[1];
    }
    return rc;
}

int rd_cluster_call(rd_store *s, unsigned flags, int argc, const char **argv,
                    const size_t *lens, redisReply **out)
{
    /* Keyless commands (PING) go to the owner of slot 0. */
    unsigned slot = argc >= 2 ? rd_key_slot(argv[1], lens[1]) : 0;
    int64_t deadline = rd_cluster_deadline(s);
    rd_node *ask = NULL;
    int redirects = 0;

    *out = NULL;
    for (;;) {
        rd_node *n = ask != NULL ? ask : rd_cluster_route(s, slot);
        bool asking = ask != NULL;
        rd_redirect kind;
        int rc;

        ask = NULL;
        if (n == NULL)
            rc = kvstore_set_error(KVSTORE_EUNAVAILABLE, "redis: %s on %s: "
                                   "no node serves slot %u", argv[0],
                                   s->cfg.label, slot);
        else
            rc = rd_send_to(s, n, asking, flags | RD_RAW_ERRORS, argc, argv,
                            lens, out);
        if (rc == KVSTORE_OK) {
            kind = rd_cluster_redirect(s, *out, &ask);
            if (kind == RD_REDIRECT_NONE) {
                if ((*out)->type == REDIS_REPLY_ERROR &&
                    !(flags & RD_RAW_ERRORS)) {
                    rc = rd_reply_error(s, argv[0], *out);
                    rd_reply_free(*out);
                    *out = NULL;
                }
                return rc;
            }
            /* A redirect is followed at once; TRYAGAIN, CLUSTERDOWN and
             * endless redirects wait for the map to settle. */
            if ((kind != RD_REDIRECT_SETTLE &&
                 ++redirects <= RD_REDIRECTS_MAX) ||
                rd_cluster_wait(s, deadline)) {
                rd_reply_free(*out);
                *out = NULL;
                continue;
            }
            rc = rd_reply_error(s, argv[0], *out);
            rd_reply_free(*out);
            *out = NULL;
            return rc;
        }
        /* The node is down or the cluster is failing over: nothing was
         * applied (KVSTORE_EUNCERTAIN, above all, is never resent), so
         * wait a little, learn the new map from the nodes still up, and
         * try again until timeout_ms is spent. */
        if (rc != KVSTORE_EUNAVAILABLE || !rd_cluster_wait(s, deadline))
            return rc;
    }
}

/* One node's share of a batch: cmds[at[from .. from + n)] on `node`. */
typedef struct rd_share {
    rd_node *node;
    size_t from, n;
    rd_conn conn;
    rd_fail fail;
    int rc;
} rd_share;

static int rd_share_cmp(const void *a, const void *b)
{
    uintptr_t x = (uintptr_t)((const rd_share *)a)->node,
              y = (uintptr_t)((const rd_share *)b)->node;

    return (x > y) - (x < y);
}

/* Groups the routed commands by node: share[0..*n_share), each share's
 * commands at[from..from+n) in the caller's order, sub[] their copies.
 * The shares are sorted by node address, the order connections are taken
 * in: two threads never wait for each other's connections. */
static void rd_shares_build(size_t n, const rd_cmd *cmds, rd_node *const *node,
                            rd_share *share, size_t *n_share, size_t *at,
                            rd_cmd *sub, bool *taken)
{
    size_t m = 0;

    *n_share = 0;
    for (size_t i = 0; i < n; i++) {
        rd_share *sh;

        if (node[i] == NULL || taken[i])
            continue;
        sh = &share[(*n_share)++];
        memset(sh, 0, sizeof *sh);
        sh->node = node[i];
        sh->from = m;
        for (size_t j = i; j < n; j++)
            if (node[j] == node[i] && !taken[j]) {
                taken[j] = true;
                sub[m] = cmds[j];
                at[m++] = j;
            }
        sh->n = m - sh->from;
    }
    qsort(share, *n_share, sizeof *share, rd_share_cmp);
}

/* Takes a connection of the share's node and sends its pipeline; a
 * write checks a pooled connection first, as rd_exec does. */
static int rd_share_send(rd_store *s, unsigned flags, rd_share *sh,
                         const rd_cmd *sub)
{
    rd_pool *p = &sh->node->pool;
    bool retry;
    int rc = rd_acquire(s, p, &sh->conn);

    if (rc == KVSTORE_OK && (flags & RD_ONCE) && sh->conn.reused &&
        !rd_alive(sh->conn.ctx)) {
        rd_release(&sh->conn, false);
        rd_drop_idle(p);
        rc = rd_acquire(s, p, &sh->conn);
    }
    if (rc == KVSTORE_OK)
        rc = rd_run_send(s, &sh->conn, flags, sh->n, sub + sh->from,
                         &sh->fail, &retry);
    return rc;
}

int rd_cluster_run_many(rd_store *s, unsigned flags, size_t n,
                        const rd_cmd *cmds, redisReply **replies)
{
    rd_node **node = calloc(n, sizeof *node);
    rd_cmd *sub = calloc(n, sizeof *sub);
    size_t *at = calloc(n, sizeof *at), n_share = 0;
    redisReply **got = calloc(n, sizeof *got);
    rd_share *share = calloc(n, sizeof *share);
    bool *taken = calloc(n, sizeof *taken);
    char why[256] = "";
    int rc = KVSTORE_OK;

    for (size_t i = 0; i < n; i++)
        replies[i] = NULL;
    if (!node || !sub || !at || !got || !share || !taken) {
        rc = kvstore_set_error(KVSTORE_ENOMEM, "redis: out of memory");
        goto done;
    }
    for (size_t i = 0; i < n; i++)
        node[i] = rd_cluster_route(s, cmds[i].argc >= 2
                                          ? rd_key_slot(cmds[i].argv[1],
                                                        cmds[i].lens[1])
                                          : 0);
    /* One pipeline per node, every one sent before any is read, so the
     * nodes work at the same time: one round trip in all. */
    rd_shares_build(n, cmds, node, share, &n_share, at, sub, taken);
    for (size_t g = 0; g < n_share; g++)
        share[g].rc = rd_share_send(s, flags, &share[g], sub);
    for (size_t g = 0; g < n_share; g++) {
        rd_share *sh = &share[g];
        bool retry;

        if (sh->rc == KVSTORE_OK) {
            sh->rc = rd_run_recv(s, &sh->conn, flags, sh->n, sub + sh->from,
                                 got + sh->from, &sh->fail, &retry);
            if (sh->rc == KVSTORE_OK)
                rd_release(&sh->conn, true);
        }
        if (sh->rc == KVSTORE_OK) {
            for (size_t k = sh->from; k < sh->from + sh->n; k++)
                replies[at[k]] = got[k];
        } else if (sh->rc == KVSTORE_EUNAVAILABLE) {
            /* Nothing applied there: those go one by one below, which
             * follows a failover. */
            for (size_t k = sh->from; k < sh->from + sh->n; k++)
                node[at[k]] = NULL;
        } else if (rc == KVSTORE_OK) {
            /* The batch fails with the first such error, but every other
             * node's replies are still read (or its connection dropped). */
            rc = sh->rc;
            snprintf(why, sizeof why, "%s", kvstore_errmsg());
        }
    }
    if (rc != KVSTORE_OK) {
        kvstore_set_error(rc, "%s", why);
        goto done;
    }
    /* Redirected, unrouted or failed-over commands: one at a time, with
     * the redirections followed. */
    for (size_t i = 0; i < n && rc == KVSTORE_OK; i++) {
        rd_node *ask = NULL;

        if (replies[i] != NULL &&
            rd_cluster_redirect(s, replies[i], &ask) == RD_REDIRECT_NONE)
            continue;
        rd_reply_free(replies[i]);
        replies[i] = NULL;
        rc = rd_cluster_call(s, flags | RD_RAW_ERRORS, cmds[i].argc,
                             cmds[i].argv, cmds[i].lens, &replies[i]);
    }
done:
    if (rc != KVSTORE_OK)
        for (size_t i = 0; i < n; i++) {
            rd_reply_free(replies[i]);
            replies[i] = NULL;
        }
    free(node);
    free(sub);
    free(at);
    free(got);
    free(share);
    free(taken);
    return rc;
}

int rd_cluster_masters(rd_store *s, rd_master *out, size_t *n, uint32_t *fp)
{
    rd_cluster *c = s->cluster;

    pthread_rwlock_rdlock(&c->lock);
    *n = c->n_masters;
    memcpy(out, c->masters, *n * sizeof *out);
    *fp = c->fp;
    pthread_rwlock_unlock(&c->lock);
    if (*n == 0)
        return kvstore_set_error(KVSTORE_EUNAVAILABLE, "redis: no node of "
                                 "%s serves any slot", s->cfg.label);
    return KVSTORE_OK;
}

rd_pool *rd_cluster_pins(rd_store *s, const char *key, size_t len)
{
    rd_node *n = rd_cluster_route(s, rd_key_slot(key, len));

    return n != NULL ? &n->pins : NULL;
}

/* The seeds: "host[:port]" separated by ',' (rd_host_port each). */
static int rd_seeds_parse(rd_store *s, const char *hosts)
{
    rd_cluster *c = s->cluster;
    size_t n = 1;

    for (const char *p = hosts; *p; p++)
        n += *p == ',';
    c->seed_host = calloc(n, sizeof *c->seed_host);
    c->seed_port = calloc(n, sizeof *c->seed_port);
    if (c->seed_host == NULL || c->seed_port == NULL)
        return kvstore_set_error(KVSTORE_ENOMEM, "redis: out of memory");
    for (const char *p = hosts;;) {
        const char *comma = strchr(p, ',');
        size_t len = comma ? (size_t)(comma - p) : strlen(p);
        char *tok = strndup(p, len);
        int rc;

        if (tok == NULL)
            return kvstore_set_error(KVSTORE_ENOMEM, "redis: out of memory");
        rc = len == 0 ? kvstore_set_error(KVSTORE_EINVAL, "redis: %s: an "
                                          "empty host in the seed list",
                                          s->cfg.label)
                      : rd_host_port(&s->cfg, tok,
                                     &c->seed_host[c->n_seeds],
                                     &c->seed_port[c->n_seeds]);
        free(tok);
        if (rc != KVSTORE_OK)
            return rc;
        c->n_seeds++;
        if (comma == NULL)
            return KVSTORE_OK;
        p = comma + 1;
    }
}

int rd_cluster_open(rd_store *s, const char *hosts, size_t pool)
{
    rd_cluster *c = calloc(1, sizeof *c);
    int rc;

    if (c == NULL)
        return kvstore_set_error(KVSTORE_ENOMEM, "redis: out of memory");
    c->pool_max = pool;
    pthread_rwlock_init(&c->lock, NULL);
    pthread_mutex_init(&c->refreshing, NULL);
    s->cluster = c;
    rc = rd_seeds_parse(s, hosts);
    if (rc == KVSTORE_OK)
        rc = rd_cluster_refresh(s);
    if (rc != KVSTORE_OK)
        rd_cluster_close(s);
    return rc;
}

void rd_cluster_close(rd_store *s)
{
    rd_cluster *c = s->cluster;

    if (c == NULL)
        return;
    for (size_t i = 0; i < c->n_nodes; i++) {
        rd_pool_destroy(&c->nodes[i]->pins);
        rd_pool_destroy(&c->nodes[i]->pool);
        free(c->nodes[i]);
    }
    for (size_t i = 0; i < c->n_seeds; i++)
        free(c->seed_host[i]);
    free(c->seed_host);
    free(c->seed_port);
    pthread_mutex_destroy(&c->refreshing);
    pthread_rwlock_destroy(&c->lock);
    free(c);
    s->cluster = NULL;
}

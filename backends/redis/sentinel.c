/*
 * Redis backend: Redis Sentinel, finding the master and following a
 * failover.
 *
 *   redis+sentinel://[user:password@]host1[:port],host2[:port],.../MASTER[/db]
 *   rediss+sentinel://...   the same with TLS to the sentinels and the
 *                           master (tls_* options as for rediss://)
 *   options: wait=N (0..16), wait_timeout_ms (1..timeout_ms-1)
 *
 * The sentinels (port 26379 by default) are asked, in order, for
 * SENTINEL get-master-addr-by-name MASTER; the first that answers moves to
 * the front. Every new connection to the master is checked with ROLE
 * (after AUTH): a server that is not a master, or that cannot be reached,
 * makes us ask the sentinels again, once per connect. READONLY from a
 * pooled connection (an old master demoted to replica) forgets the
 * address and drops the idle connections (rd_sentinel_lost); conn.c then
 * retries the refused command once, as it was not applied.
 *
 * The user and password are the master's; the sentinels are asked
 * without AUTH.
 *
 * SPDX-License-Identifier: MIT
 */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "redis.h"

#define RD_SENTINEL_PORT 26379
#define RD_SENTINELS_MAX 16
#define RD_WAIT_MAX 16

struct rd_sentinel {
    pthread_mutex_t lock;   /* guards order, host, port */
    char *master;           /* the master's name at the sentinels */
    size_t n;
    char *hosts[RD_SENTINELS_MAX];
    int ports[RD_SENTINELS_MAX];
    size_t order[RD_SENTINELS_MAX]; /* asking order: last to answer first */
    char *host;             /* the master's address; NULL = ask */
    int port;
};

void rd_sentinel_free(rd_sentinel *st)
{
    if (st == NULL)
        return;
    for (size_t i = 0; i < st->n; i++)
        free(st->hosts[i]);
    free(st->master);
    free(st->host);
    pthread_mutex_destroy(&st->lock);
    free(st);
}

/* "host", "host:port", "[v6]", "[v6]:port" of length len. */
static int rd_sentinel_host(rd_config *c, const char *h, size_t len,
                            char **host, int *port)
{
    const char *end = h + len, *colon = NULL;
    long p = RD_SENTINEL_PORT;

    if (len > 0 && h[0] == '[') {
        const char *close = memchr(h, ']', len);

        if (close == NULL || (close + 1 != end && close[1] != ':'))
            return kvstore_set_error(KVSTORE_EINVAL, "redis: malformed IPv6 "
                                     "sentinel in %s", c->label);
        colon = close + 1 != end ? close + 1 : NULL;
        *host = strndup(h + 1, (size_t)(close - h - 1));
    } else {
        colon = memchr(h, ':', len);
        *host = strndup(h, (size_t)((colon ? colon : end) - h));
    }
    if (*host == NULL)
        return kvstore_set_error(KVSTORE_ENOMEM, "redis: out of memory");
    if (**host == '\0')
        return kvstore_set_error(KVSTORE_EINVAL, "redis: %s: an empty "
                                 "sentinel host", c->label);
    if (colon != NULL) {
        char digits[8];
        size_t n = (size_t)(end - colon - 1);
        char *stop;

        if (n == 0 || n >= sizeof digits)
            return kvstore_set_error(KVSTORE_EINVAL, "redis: bad sentinel "
                                     "port in %s", c->label);
        memcpy(digits, colon + 1, n);
        digits[n] = '\0';
        p = strtol(digits, &stop, 10);
        if (*stop != '\0' || digits[0] == '0' || p < 1 || p > 65535)
            return kvstore_set_error(KVSTORE_EINVAL, "redis: bad sentinel "
                                     "port in %s", c->label);
    }
    *port = (int)p;
    return KVSTORE_OK;
}

/* "/MASTER" or "/MASTER/db". */
static int rd_sentinel_path(rd_config *c, rd_sentinel *st, const char *path)
{
    const char *name = path[0] == '/' ? path + 1 : NULL;
    const char *slash = name ? strchr(name, '/') : NULL;
    size_t len = name ? (slash ? (size_t)(slash - name) : strlen(name)) : 0;

    if (len == 0 || len > 255)
        return kvstore_set_error(KVSTORE_EINVAL, "redis: %s: the path must "
                                 "name the master (/MASTERNAME[/db])",
                                 c->label);
    for (size_t i = 0; i < len; i++)
        if ((unsigned char)name[i] <= 0x20 || name[i] == 0x7F)
            return kvstore_set_error(KVSTORE_EINVAL, "redis: %s: the master "
                                     "name has a control byte or a space",
                                     c->label);
    st->master = strndup(name, len);
    if (st->master == NULL)
        return kvstore_set_error(KVSTORE_ENOMEM, "redis: out of memory");
    c->db = 0;
    if (slash != NULL && slash[1] != '\0') {
        char *stop;
        long db = strtol(slash + 1, &stop, 10);

        if (*stop != '\0' || slash[1] < '0' || slash[1] > '9' ||
            (slash[1] == '0' && slash[2] != '\0') || db < 0 || db > INT_MAX)
            return kvstore_set_error(KVSTORE_EINVAL, "redis: %s: the "
                                     "database after the master name must "
                                     "be a number (/MASTER/1)", c->label);
        c->db = db;
    }
    return KVSTORE_OK;
}

static int rd_sentinel_wait(rd_config *c, const kvstore_uri *uri)
{
    int64_t v;
    int rc = kvstore_uri_param_int(uri, "wait", 0, RD_WAIT_MAX, 0, &v);

    if (rc != KVSTORE_OK)
        return rc;
    c->wait_replicas = (int)v;
    if (c->timeout_ms < 2)
        return kvstore_set_error(KVSTORE_EINVAL, "redis: %s: timeout_ms "
                                 "must be at least 2 with sentinels",
                                 c->label);
    /* WAIT answers within wait_timeout_ms, which must leave the read of
     * its reply (bounded by timeout_ms) time to get it. */
    rc = kvstore_uri_param_int(uri, "wait_timeout_ms", 1, c->timeout_ms - 1,
                               c->timeout_ms / 2, &v);
    if (rc != KVSTORE_OK)
        return rc;
    c->wait_timeout_ms = (int)v;
    return KVSTORE_OK;
}

int rd_sentinel_config(rd_config *c, const kvstore_uri *uri)
{
    const char *hosts = kvstore_uri_hosts(uri);
    rd_sentinel *st = calloc(1, sizeof *st);
    int rc;

    if (st == NULL)
        return kvstore_set_error(KVSTORE_ENOMEM, "redis: out of memory");
    if (pthread_mutex_init(&st->lock, NULL) != 0) {
        free(st);
        return kvstore_set_error(KVSTORE_EIO, "redis: pthread_mutex_init");
    }
    c->sentinel = st;   /* freed with the config from here on */
    if (hosts == NULL || *hosts == '\0')
        return kvstore_set_error(KVSTORE_EINVAL, "redis: %s names no "
                                 "sentinel (expected redis+sentinel://"
                                 "host[:port],.../MASTERNAME)", c->label);
    for (const char *h = hosts; h != NULL;) {
        const char *comma = strchr(h, ',');
        size_t len = comma ? (size_t)(comma - h) : strlen(h);

        if (st->n == RD_SENTINELS_MAX)
            return kvstore_set_error(KVSTORE_EINVAL, "redis: %s names more "
                                     "than %d sentinels", c->label,
                                     RD_SENTINELS_MAX);
        rc = rd_sentinel_host(c, h, len, &st->hosts[st->n],
                              &st->ports[st->n]);
        st->n++;   /* so that the host is freed even on failure */
        if (rc != KVSTORE_OK)
            return rc;
        st->order[st->n - 1] = st->n - 1;
        h = comma ? comma + 1 : NULL;
    }
    rc = rd_sentinel_path(c, st, kvstore_uri_path(uri));
    if (rc == KVSTORE_OK)
        rc = rd_sentinel_wait(c, uri);
    return rc;
}

/* A host name or address as a sentinel may give it: 1..255 bytes, no
 * space, control byte or NUL (it goes into connects and messages). */
static bool rd_host_ok(const char *h, size_t len)
{
    if (len == 0 || len > 255)
        return false;
    for (size_t i = 0; i < len; i++)
        if ((unsigned char)h[i] <= 0x20 || h[i] == 0x7F)
            return false;
    return true;
}

/* SENTINEL get-master-addr-by-name on one sentinel: KVSTORE_OK with the
 * address, KVSTORE_NOTFOUND if it does not know the master, or an error
 * (message set). */
static int rd_sentinel_ask(const rd_config *cfg, const char *host, int port,
                           char **mhost, int *mport)
{
    const rd_sentinel *st = cfg->sentinel;
    const char *argv[3] = { "SENTINEL", "get-master-addr-by-name",
                            st->master };
    size_t lens[3] = { 8, 23, strlen(st->master) };
    rd_link *l = NULL;
    redisReply *r = NULL;
    int rc = rd_link_open(cfg, host, port, NULL,
                          cfg->tls_sni ? cfg->tls_sni : host, &l);

    if (rc == KVSTORE_OK)
        rc = rd_command(cfg, l, 3, argv, lens, &r);
    rd_link_close(l);
    if (rc != KVSTORE_OK)
        return rc;
    if (r->type == REDIS_REPLY_NIL) {
        rc = KVSTORE_NOTFOUND;
    } else if (r->type != REDIS_REPLY_ARRAY || r->elements != 2 ||
               r->element[0]->type != REDIS_REPLY_STRING ||
               r->element[1]->type != REDIS_REPLY_STRING) {
        rc = kvstore_set_error(KVSTORE_EIO, "redis: the sentinel %s:%d "
                               "gave %s an answer that is not an address",
                               host, port, cfg->label);
    } else {
        char *stop;
        long p = strtol(r->element[1]->str, &stop, 10);

        if (*stop != '\0' || p < 1 || p > 65535 ||
            !rd_host_ok(r->element[0]->str, r->element[0]->len)) {
            rc = kvstore_set_error(KVSTORE_EIO, "redis: the sentinel %s:%d "
                                   "gave %s a bad master address", host,
                                   port, cfg->label);
        } else {
            *mhost = strdup(r->element[0]->str);
            *mport = (int)p;
            if (*mhost == NULL)
                rc = kvstore_set_error(KVSTORE_ENOMEM, "redis: out of "
                                       "memory");
        }
    }
    rd_reply_free(r);
    return rc;
}

/* Asks the sentinels in turn and stores the master's address. */
static int rd_sentinel_resolve(const rd_config *cfg)
{
    rd_sentinel *st = cfg->sentinel;
    size_t order[RD_SENTINELS_MAX];
    int rc = KVSTORE_NOTFOUND;

    pthread_mutex_lock(&st->lock);
    memcpy(order, st->order, st->n * sizeof *order);
    pthread_mutex_unlock(&st->lock);
    for (size_t k = 0; k < st->n; k++) {
        size_t i = order[k];
        char *host = NULL;
        int port = 0;

        rc = rd_sentinel_ask(cfg, st->hosts[i], st->ports[i], &host, &port);
        if (rc == KVSTORE_ENOMEM)
            return rc;
        if (rc != KVSTORE_OK)
            continue;
        pthread_mutex_lock(&st->lock);
        free(st->host);
        st->host = host;
        st->port = port;
        /* Ask the one that answered first next time. */
        for (size_t j = 0; j < st->n; j++)
            if (st->order[j] == i) {
                memmove(st->order + 1, st->order, j * sizeof *st->order);
                st->order[0] = i;
                break;
            }
        pthread_mutex_unlock(&st->lock);
        return KVSTORE_OK;
    }
    if (rc == KVSTORE_NOTFOUND)
        return kvstore_set_error(KVSTORE_EUNAVAILABLE, "redis: no sentinel "
                                 "of %s knows a master named '%s'",
                                 cfg->label, st->master);
    {
        /* The last sentinel's message says what went wrong; copied, as
         * the new message is written where it lives. */
        char last[256];

        snprintf(last, sizeof last, "%s", kvstore_errmsg());
        return kvstore_set_error(KVSTORE_EUNAVAILABLE, "redis: no sentinel "
                                 "of %s answered (the last: %s)", cfg->label,
                                 last);
    }
}

/* ROLE's first element is "master" on a master. */
static int rd_check_master(const rd_config *cfg, rd_link *l, const char *host,
                           int port)
{
    const char *argv[1] = { "ROLE" };
    size_t lens[1] = { 4 };
    redisReply *r = NULL;
    int rc = rd_command(cfg, l, 1, argv, lens, &r);

    if (rc != KVSTORE_OK)
        return rc;
    if (r->type != REDIS_REPLY_ARRAY || r->elements == 0 ||
        r->element[0]->type != REDIS_REPLY_STRING ||
        strcmp(r->element[0]->str, "master") != 0)
        rc = kvstore_set_error(KVSTORE_EUNAVAILABLE, "redis: %s:%d, named "
                               "the master by the sentinels of %s, is not a "
                               "master (a failover is under way?)", host,
                               port, cfg->label);
    rd_reply_free(r);
    return rc;
}

/* Forgets host:port as the master, unless another thread already put a
 * newer address there. */
static void rd_sentinel_forget(rd_sentinel *st, const char *host, int port)
{
    pthread_mutex_lock(&st->lock);
    if (st->host != NULL && strcmp(st->host, host) == 0 && st->port == port) {
        free(st->host);
        st->host = NULL;
    }
    pthread_mutex_unlock(&st->lock);
}

int rd_sentinel_connect(const rd_config *cfg, rd_link **out)
{
    rd_sentinel *st = cfg->sentinel;
    int asked = 0, rc = KVSTORE_OK;

    *out = NULL;
    /* The known address, else the sentinels' answer; a known address
     * that fails gets one fresh answer. */
    for (;;) {
        char *host;
        int port;
        bool tried;

        pthread_mutex_lock(&st->lock);
        host = st->host ? strdup(st->host) : NULL;
        port = st->port;
        pthread_mutex_unlock(&st->lock);
        tried = host != NULL;
        if (tried) {
            rc = rd_connect_to(cfg, host, port, out);
            if (rc == KVSTORE_OK) {
                rc = rd_check_master(cfg, *out, host, port);
                if (rc != KVSTORE_OK) {
                    rd_link_close(*out);
                    *out = NULL;
                }
            }
            /* Refused credentials or memory are not the address' fault. */
            if (rc == KVSTORE_OK || rc == KVSTORE_EACCESS ||
                rc == KVSTORE_ENOMEM || rc == KVSTORE_EINVAL) {
                free(host);
                return rc;
            }
            rd_sentinel_forget(st, host, port);
            free(host);
        }
        if (asked == 2 || (asked == 1 && tried))
            return rc;
        rc = rd_sentinel_resolve(cfg);
        if (rc != KVSTORE_OK)
            return rc;
        asked++;
    }
}

void rd_sentinel_lost(rd_store *s)
{
    rd_sentinel *st = s->cfg.sentinel;

    pthread_mutex_lock(&st->lock);
    free(st->host);
    st->host = NULL;
    pthread_mutex_unlock(&st->lock);
    rd_drop_idle(&s->pool);
    rd_drop_idle(&s->pins);
}

const rd_cmd *rd_wait_cmd(const rd_config *cfg, rd_wait *w)
{
    if (cfg->wait_replicas == 0)
        return NULL;
    w->argv[0] = "WAIT";
    w->argv[1] = w->replicas;
    w->argv[2] = w->ms;
    w->lens[0] = 4;
    w->lens[1] = (size_t)snprintf(w->replicas, sizeof w->replicas, "%d",
                                  cfg->wait_replicas);
    w->lens[2] = (size_t)snprintf(w->ms, sizeof w->ms, "%d",
                                  cfg->wait_timeout_ms);
    w->cmd = (rd_cmd){ 3, w->argv, w->lens };
    return &w->cmd;
}

int rd_wait_check(const rd_store *s, redisReply *const *replies, size_t n,
                  const redisReply *waited, const char *what)
{
    const rd_config *cfg = &s->cfg;

    /* A refused write or an aborted transaction (EXEC's nil) wrote
     * nothing: there is nothing to wait for, the caller reports it. */
    for (size_t i = 0; i < n; i++)
        if (replies[i]->type == REDIS_REPLY_ERROR)
            return KVSTORE_OK;
    if (replies[n - 1]->type == REDIS_REPLY_NIL)
        return KVSTORE_OK;
    if (waited->type != REDIS_REPLY_INTEGER)
        return kvstore_set_error(KVSTORE_EUNCERTAIN, "redis: %s on %s was "
                                 "applied on the master, but WAIT failed, "
                                 "so no replica is known to have it: a "
                                 "failover may lose it", what, cfg->label);
    if (waited->integer < cfg->wait_replicas)
        return kvstore_set_error(KVSTORE_EUNCERTAIN, "redis: %s on %s was "
                                 "applied on the master, but only %lld of "
                                 "the %d replicas asked for (wait=) had it "
                                 "within %d ms: a failover may lose it",
                                 what, cfg->label, waited->integer,
                                 cfg->wait_replicas, cfg->wait_timeout_ms);
    return KVSTORE_OK;
}

/*
 * Redis backend: opening stores (URI parsing, first connection) and
 * buckets (the marker key).
 *
 *   redis://[user[:password]@]host[:port][/db]
 *   rediss://[user[:password]@]host[:port][/db]   (TLS, options in tls.c)
 *   redis+unix://[user[:password]@]/path/to/redis.sock[?db=N]
 *   redis+sentinel://[user[:password]@]h1[:port],h2.../MASTER[/db]
 *                  (and rediss+sentinel://, see sentinel.c)
 *   redis+cluster://[user[:password]@]seed1[:port],seed2[:port],...[/0]
 *     (the seeds are read by cluster.c; only database 0)
 *   rediss+cluster://...   the same with TLS to every node
 *   options: timeout_ms (1..600000, default 5000), pool (1..256, default 4),
 *            watch_config (check, the default, or auto: see watch.c)
 *
 * SPDX-License-Identifier: MIT
 */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/un.h>

#include "redis.h"

static void rd_config_free(rd_config *c)
{
    free(c->host);
    free(c->path);
    free(c->user);
    if (c->password) {
        /* Do not leave the secret in freed heap memory. */
        volatile char *p = c->password;
        while (*p)
            *p++ = 0;
        free(c->password);
    }
    free(c->label);
    free(c->tls_sni);
    SSL_CTX_free(c->tls);
    rd_sentinel_free(c->sentinel);
    memset(c, 0, sizeof *c);
}

/* Parses a canonical decimal in [0, max]: no sign, no leading zeros. */
static bool rd_parse_dec(const char *s, long max, long *out)
{
    long v = 0;

    if (*s == '\0' || (s[0] == '0' && s[1] != '\0'))
        return false;
    for (; *s; s++) {
        if (*s < '0' || *s > '9' || v > (max - (*s - '0')) / 10)
            return false;
        v = v * 10 + (*s - '0');
    }
    *out = v;
    return true;
}

int rd_host_port(const rd_config *cfg, const char *tok, char **host,
                 int *port)
{
    const char *h = tok, *end, *digits = NULL;
    long p = 6379;

    if (*h == '[') {
        end = strchr(h, ']');
        if (end == NULL || (end[1] != '\0' && end[1] != ':'))
            return kvstore_set_error(KVSTORE_EINVAL, "redis: malformed IPv6 "
                                     "host in %s", cfg->label);
        if (end[1] == ':')
            digits = end + 2;
        h++;
    } else {
        end = strchr(h, ':');
        if (end != NULL)
            digits = end + 1;
        else
            end = h + strlen(h);
    }
    if (digits != NULL && (!rd_parse_dec(digits, 65535, &p) || p == 0))
        return kvstore_set_error(KVSTORE_EINVAL, "redis: bad port in %s",
                                 cfg->label);
    *host = end == h ? strdup("127.0.0.1") : strndup(h, (size_t)(end - h));
    if (*host == NULL)
        return kvstore_set_error(KVSTORE_ENOMEM, "redis: out of memory");
    *port = (int)p;
    return KVSTORE_OK;
}

static int rd_parse_uri(rd_config *c, const kvstore_uri *uri)
{
    const char *hosts = kvstore_uri_hosts(uri);
    const char *path = kvstore_uri_path(uri);
    const char *user = kvstore_uri_user(uri);
    const char *password = kvstore_uri_password(uri);
    int64_t v;
    int rc;

    c->label = strdup(kvstore_uri_redacted(uri));
    if (c->label == NULL)
        return kvstore_set_error(KVSTORE_ENOMEM, "redis: out of memory");
    c->unix_socket = strcmp(kvstore_uri_scheme(uri), "redis+unix") == 0;
    c->cluster = strcmp(kvstore_uri_scheme(uri), "redis+cluster") == 0 ||
                 strcmp(kvstore_uri_scheme(uri), "rediss+cluster") == 0;
    if (hosts == NULL)
        return kvstore_set_error(KVSTORE_EINVAL, "redis: %s has no '//' "
                                 "authority (expected %s)", c->label,
                                 c->unix_socket ? "redis+unix:///path/sock"
                                                : "redis://host[:port]");

    rc = kvstore_uri_param_int(uri, "timeout_ms", 1, 600000,
                               RD_DEFAULT_TIMEOUT_MS, &v);
    if (rc != KVSTORE_OK)
        return rc;
    c->timeout_ms = (int)v;
    /* The pool size is read by the caller (it belongs to the store). */
    {
        const char *wc = kvstore_uri_param(uri, "watch_config");

        if (wc != NULL && strcmp(wc, "auto") != 0 &&
            strcmp(wc, "check") != 0)
            return kvstore_set_error(KVSTORE_EINVAL, "redis: %s: "
                                     "watch_config must be 'check' (the "
                                     "default) or 'auto'", c->label);
        c->watch_config_auto = wc != NULL && strcmp(wc, "auto") == 0;
    }

    if (user != NULL && password == NULL)
        return kvstore_set_error(KVSTORE_EINVAL, "redis: %s gives a user "
                                 "without a password; use user:password@ "
                                 "for an ACL user or :password@ for the "
                                 "default user", c->label);
    if (password != NULL) {
        c->password = strdup(password);
        if (user != NULL && *user != '\0')
            c->user = strdup(user);
        if (c->password == NULL || (user && *user && c->user == NULL))
            return kvstore_set_error(KVSTORE_ENOMEM, "redis: out of memory");
    }

    if (c->unix_socket) {
        if (*hosts != '\0')
            return kvstore_set_error(KVSTORE_EINVAL, "redis: %s: a unix "
                                     "socket URI has no host (expected "
                                     "redis+unix:///path/sock)", c->label);
        if (path[0] != '/' || strlen(path) >= sizeof(((struct sockaddr_un *)0)->sun_path))
            return kvstore_set_error(KVSTORE_EINVAL, "redis: %s: the socket "
                                     "path must be absolute and shorter "
                                     "than %zu bytes", c->label,
                                     sizeof(((struct sockaddr_un *)0)->sun_path));
        c->path = strdup(path);
        if (c->path == NULL)
            return kvstore_set_error(KVSTORE_ENOMEM, "redis: out of memory");
        rc = kvstore_uri_param_int(uri, "db", 0, INT_MAX, 0, &v);
        if (rc != KVSTORE_OK)
            return rc;
        c->db = (long)v;
        return KVSTORE_OK;
    }

    if (strncmp(kvstore_uri_scheme(uri), "rediss", 6) == 0) {
        rc = rd_tls_config(c, uri);
        if (rc != KVSTORE_OK)
            return rc;
    }
    if (strstr(kvstore_uri_scheme(uri), "+sentinel") != NULL)
        return rd_sentinel_config(c, uri);
    if (c->cluster) {
        /* The seeds are parsed by cluster.c; a cluster has database 0
         * only. */
        if (path[0] != '\0' && strcmp(path, "/") != 0 &&
            strcmp(path, "/0") != 0)
            return kvstore_set_error(KVSTORE_EINVAL, "redis: %s: a Redis "
                                     "Cluster has only database 0",
                                     c->label);
        return KVSTORE_OK;
    }
    if (strchr(hosts, ',') != NULL)
        return kvstore_set_error(KVSTORE_EINVAL, "redis: %s names several "
                                 "hosts; the redis backend connects to one "
                                 "(redis+cluster:// takes a seed list)",
                                 c->label);
    rc = rd_host_port(c, hosts, &c->host, &c->port);
    if (rc != KVSTORE_OK)
        return rc;
    if (path[0] == '\0' || strcmp(path, "/") == 0)
        c->db = 0;
    else if (path[0] != '/' || !rd_parse_dec(path + 1, INT_MAX, &c->db))
        return kvstore_set_error(KVSTORE_EINVAL, "redis: %s: the path must "
                                 "be a database number (/0, /1, ...)",
                                 c->label);
    return KVSTORE_OK;
}

/* A PING on the first connection, so that a server that wants a password
 * we did not give fails the open (KVSTORE_EACCESS) rather than the first
 * call. */
static int rd_ping(rd_store *s)
{
    const char *argv[1] = { "PING" };
    size_t lens[1] = { 4 };
    redisReply *r = NULL;
    int rc = rd_call(s, RD_RETRY, 1, argv, lens, &r);

    if (rc == KVSTORE_OK)
        rd_reply_free(r);
    return rc;
}

/* The pools and the first contact with the server. On failure only the
 * configuration is left to free. */
static int rd_store_connect(rd_store *s, const kvstore_uri *uri,
                            size_t pool)
{
    int rc = rd_pool_init(&s->pool, pool);

    if (rc != KVSTORE_OK)
        return rc;
    rc = rd_pool_init(&s->pins, RD_PINS_MAX);
    if (rc == KVSTORE_OK) {
        /* A cluster's open reads the slot map, which checks the
         * credentials as the PING does. */
        rc = s->cfg.cluster ? rd_cluster_open(s, kvstore_uri_hosts(uri), pool)
                            : rd_ping(s);
        if (rc != KVSTORE_OK)
            rd_pool_destroy(&s->pins);
    }
    if (rc != KVSTORE_OK)
        rd_pool_destroy(&s->pool);
    return rc;
}

int rd_store_open(void **out, const kvstore_uri *uri)
{
    rd_store *s = calloc(1, sizeof *s);
    int64_t pool;
    int rc;

    *out = NULL;
    if (s == NULL)
        return kvstore_set_error(KVSTORE_ENOMEM, "redis: out of memory");
    rc = rd_parse_uri(&s->cfg, uri);
    if (rc == KVSTORE_OK)
        rc = kvstore_uri_param_int(uri, "pool", 1, RD_POOL_MAX,
                                   RD_DEFAULT_POOL, &pool);
    if (rc == KVSTORE_OK)
        rc = rd_store_connect(s, uri, (size_t)pool);
    if (rc != KVSTORE_OK)
        rd_config_free(&s->cfg);
    return kvstore_hand_over(rc, out, s, free);
}

void rd_store_close(void *store)
{
    rd_store *s = store;
    rd_cluster_close(s);
    rd_pool_destroy(&s->pins);
    rd_pool_destroy(&s->pool);
    rd_config_free(&s->cfg);
    free(s);
}

size_t rd_key(const rd_bucket *b, const char *key, char *buf)
{
    size_t klen = strlen(key);

    memcpy(buf, b->prefix, b->prefix_len);
    memcpy(buf + b->prefix_len, key, klen + 1);
    return b->prefix_len + klen;
}

/* Walks SCAN MATCH "<prefix>*" (prefix = "B:", glob-escaped) over the
 * whole database (SCAN cannot do better), handing each batch's keys of
 * the bucket to `fn` until it returns false or fails. */
typedef int (*rd_batch_fn)(rd_store *s, const redisReply *keys, void *arg,
                           bool *more);

static int rd_scan_node(rd_store *s, rd_pool *pool, const char *prefix,
                        size_t prefix_len, rd_batch_fn fn, void *arg,
                        bool *more)
{
    char pattern[2 * (KVSTORE_BUCKET_NAME_MAX + 2) + 2];
    char cursor[24] = "0";
    size_t plen = rd_glob_escape(pattern, 0, prefix, prefix_len);
    const char *argv[6] = { "SCAN", cursor, "MATCH", pattern, "COUNT",
                            "1000" };
    size_t lens[6] = { 4, 1, 5, 0, 5, 4 };

    pattern[plen++] = '*';
    pattern[plen] = '\0';
    lens[3] = plen;
    do {
        redisReply *r = NULL;
        int rc;

        lens[1] = strlen(cursor);
        rc = rd_call_on(s, pool, RD_RETRY, 6, argv, lens, &r);
        if (rc != KVSTORE_OK)
            return rc;
        if (r->type != REDIS_REPLY_ARRAY || r->elements != 2 ||
            r->element[0]->type != REDIS_REPLY_STRING ||
            r->element[0]->len >= sizeof cursor ||
            r->element[1]->type != REDIS_REPLY_ARRAY) {
            rc = rd_unexpected(s, "SCAN", r);
            rd_reply_free(r);
            return rc;
        }
        memcpy(cursor, r->element[0]->str, (size_t)r->element[0]->len);
        cursor[r->element[0]->len] = '\0';
        rc = fn(s, r->element[1], arg, more);
        rd_reply_free(r);
        if (rc != KVSTORE_OK)
            return rc;
    } while (*more && strcmp(cursor, "0") != 0);
    return KVSTORE_OK;
}

/* The walk over the one server, or over every master of a cluster. */
static int rd_scan_bucket(rd_store *s, const char *prefix, size_t prefix_len,
                          rd_batch_fn fn, void *arg)
{
    rd_master *m;
    size_t n = 0;
    uint32_t fp;
    bool more = true;
    int rc;

    if (s->cluster == NULL)
        return rd_scan_node(s, &s->pool, prefix, prefix_len, fn, arg, &more);
    m = malloc(RD_NODES_MAX * sizeof *m);
    if (m == NULL)
        return kvstore_set_error(KVSTORE_ENOMEM, "redis: out of memory");
    /* A master that cannot be reached may be failing over: the scan of
     * every master starts again on the new map until timeout_ms (what
     * fn saw twice it handles twice: finding a key, deleting keys). */
    for (int64_t deadline = rd_cluster_deadline(s);;) {
        rc = rd_cluster_masters(s, m, &n, &fp);
        for (size_t i = 0; i < n && rc == KVSTORE_OK && more; i++)
            rc = rd_scan_node(s, &m[i].node->pool, prefix, prefix_len, fn,
                              arg, &more);
        if (rc != KVSTORE_EUNAVAILABLE || !rd_cluster_wait(s, deadline))
            break;
    }
    free(m);
    return rc;
}

/* The keys of one SCAN batch that belong to the bucket (not the marker):
 * the pattern says so already; checked again. */
typedef struct rd_found {
    const char *prefix;
    size_t prefix_len;
    bool found;
} rd_found;

static bool rd_in_bucket(const redisReply *k, const char *prefix,
                         size_t prefix_len)
{
    return k->type == REDIS_REPLY_STRING && (size_t)k->len > prefix_len &&
           memcmp(k->str, prefix, prefix_len) == 0;
}

static int rd_find_one(rd_store *s, const redisReply *keys, void *arg,
                       bool *more)
{
    rd_found *f = arg;

    (void)s;
    for (size_t i = 0; i < keys->elements && !f->found; i++)
        f->found = rd_in_bucket(keys->element[i], f->prefix, f->prefix_len);
    *more = !f->found;
    return KVSTORE_OK;
}

/* KVSTORE_OK if bucket `name` ("B:" = prefix) exists: its marker, or
 * without one, any of its keys (only ?create=false opens, bucket_remove
 * and bucket_info of unmarked buckets pay for that walk); else
 * KVSTORE_ENOSTORE with a message. */
static int rd_bucket_require(rd_store *s, const char *name,
                             const char *prefix, size_t prefix_len)
{
    const char *argv[2] = { "EXISTS", prefix };
    size_t lens[2] = { 6, prefix_len };
    redisReply *r = NULL;
    rd_found f = { prefix, prefix_len, false };
    int rc = rd_call(s, RD_RETRY, 2, argv, lens, &r);

    if (rc != KVSTORE_OK)
        return rc;
    if (r->type != REDIS_REPLY_INTEGER)
        rc = rd_unexpected(s, "EXISTS", r);
    else
        f.found = r->integer > 0;
    rd_reply_free(r);
    if (rc == KVSTORE_OK && !f.found)
        rc = rd_scan_bucket(s, prefix, prefix_len, rd_find_one, &f);
    if (rc == KVSTORE_OK && !f.found)
        rc = kvstore_set_error(KVSTORE_ENOSTORE, "redis: bucket '%s' does "
                               "not exist on %s", name, s->cfg.label);
    return rc;
}

int rd_bucket_open(void **out, void *store, const char *name, bool create)
{
    rd_store *s = store;
    rd_bucket *b = calloc(1, sizeof *b);
    size_t nlen = strlen(name);
    redisReply *r = NULL;
    int rc;

    *out = NULL;
    if (b == NULL)
        return kvstore_set_error(KVSTORE_ENOMEM, "redis: out of memory");
    b->store = s;
    memcpy(b->name, name, nlen + 1);
    memcpy(b->prefix, name, nlen);
    b->prefix[nlen] = ':';
    b->prefix[nlen + 1] = '\0';
    b->prefix_len = nlen + 1;

    if (create) {
        /* NX: opening an existing bucket writes nothing, and sending it
         * again after a lost reply cannot overwrite anything, so it is
         * retried like a read. */
        const char *argv[4] = { "SET", b->prefix, RD_MARKER_VALUE, "NX" };
        size_t lens[4] = { 3, b->prefix_len, strlen(RD_MARKER_VALUE), 2 };

        rc = rd_call(s, RD_RETRY, 4, argv, lens, &r);
    } else {
        rc = rd_bucket_require(s, name, b->prefix, b->prefix_len);
    }
    if (r)
        rd_reply_free(r);
    return kvstore_hand_over(rc, out, b, free);
}

void rd_bucket_close(void *bucket)
{
    free(bucket);
}

/* "B:" for a name the core validated; returns the length. */
static size_t rd_marker(const char *name, char *buf)
{
    size_t n = strlen(name);

    memcpy(buf, name, n);
    buf[n] = ':';
    buf[n + 1] = '\0';
    return n + 1;
}

/* Deletes one SCAN batch's keys of the bucket with one DEL. A write, so
 * sent at most once: a lost reply is KVSTORE_EUNCERTAIN. */
static int rd_delete_batch(rd_store *s, const redisReply *keys, void *arg,
                           bool *more)
{
    const rd_found *f = arg;
    const char **argv = malloc((keys->elements + 1) * sizeof *argv);
    size_t *lens = malloc((keys->elements + 1) * sizeof *lens);
    int argc = 1, rc = KVSTORE_OK;

    *more = true;
    if (argv == NULL || lens == NULL) {
        free(argv);
        free(lens);
        return kvstore_set_error(KVSTORE_ENOMEM, "redis: out of memory");
    }
    argv[0] = "DEL";
    lens[0] = 3;
    for (size_t i = 0; i < keys->elements; i++)
        if (rd_in_bucket(keys->element[i], f->prefix, f->prefix_len)) {
            argv[argc] = keys->element[i]->str;
            lens[argc++] = (size_t)keys->element[i]->len;
        }
    if (argc > 1 && s->cluster != NULL)
        /* The keys of one batch sit in many slots: one DEL each. */
        rc = rd_del_each(s, (size_t)argc - 1, argv + 1, lens + 1);
    else if (argc > 1)
        rc = rd_call_expect(s, RD_ONCE, argc, argv, lens,
                            REDIS_REPLY_INTEGER);
    free(argv);
    free(lens);
    return rc;
}

int rd_bucket_remove(void *store, const char *name)
{
    rd_store *s = store;
    char prefix[KVSTORE_BUCKET_NAME_MAX + 2];
    size_t plen = rd_marker(name, prefix);
    rd_found f = { prefix, plen, false };
    const char *argv[2] = { "DEL", prefix };
    size_t lens[2] = { 3, plen };
    int rc = rd_bucket_require(s, name, prefix, plen);

    if (rc != KVSTORE_OK)
        return rc;
    /* Keys first, the marker last: a removal cut short leaves a bucket
     * that still lists and can be removed again. Not atomic: a key
     * written meanwhile may survive (and then keeps the bucket alive). */
    rc = rd_scan_bucket(s, prefix, plen, rd_delete_batch, &f);
    if (rc == KVSTORE_OK)
        rc = rd_call_expect(s, RD_ONCE, 2, argv, lens, REDIS_REPLY_INTEGER);
    return rc;
}

int rd_bucket_info(void *store, const char *name, kvstore_bucket_stat *info)
{
    rd_store *s = store;
    char prefix[KVSTORE_BUCKET_NAME_MAX + 2];
    int rc = rd_bucket_require(s, name, prefix, rd_marker(name, prefix));

    if (rc != KVSTORE_OK)
        return rc;
    /* Counting keys would walk the whole database: keys stays -1. */
    info->max_value = RD_VALUE_MAX;
    return KVSTORE_OK;
}

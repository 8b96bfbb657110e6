/*
 * Redis backend: connections, the connection pool, and running one
 * command with the fault rules of the contract.
 *
 * Every connection is an rd_link (link.c: a blocking socket with
 * timeout_ms on each send and receive, plain or TLS), used by one thread
 * at a time (it is either on the idle stack or held by exactly one
 * caller). hiredis formats the commands and parses the replies; link.c
 * tells us whether any byte of a command left, which decides between
 * KVSTORE_EUNAVAILABLE and KVSTORE_EUNCERTAIN.
 *
 * SPDX-License-Identifier: MIT
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "redis.h"

/* Copies at most cap-1 bytes of a server text, replacing control bytes,
 * so that a hostile or broken server cannot inject into our messages. */
static void rd_text(char *dst, size_t cap, const char *s, size_t len)
{
    size_t n = len < cap - 1 ? len : cap - 1;

    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        dst[i] = (c < 0x20 || c == 0x7F) ? '?' : (char)c;
    }
    dst[n] = '\0';
}

static bool rd_starts(const redisReply *r, const char *word)
{
    size_t n = strlen(word);

    return r->str != NULL && (size_t)r->len >= n &&
           memcmp(r->str, word, n) == 0 &&
           ((size_t)r->len == n || r->str[n] == ' ');
}

int rd_reply_error(const rd_store *s, const char *what, const redisReply *r)
{
    char text[200];
    int code = KVSTORE_EIO;

    rd_text(text, sizeof text, r->str ? r->str : "", r->str ? r->len : 0);
    if (s->cfg.sentinel && rd_starts(r, "READONLY"))
        return kvstore_set_error(KVSTORE_EUNAVAILABLE, "redis: %s on %s: "
                                 "the master became a replica (a failover "
                                 "is under way): %s", what, s->cfg.label,
                                 text);
    if (rd_starts(r, "NOAUTH") || rd_starts(r, "WRONGPASS") ||
        rd_starts(r, "NOPERM") || rd_starts(r, "READONLY"))
        code = KVSTORE_EACCESS;
    else if (rd_starts(r, "LOADING") || rd_starts(r, "BUSY") ||
             rd_starts(r, "MASTERDOWN") || rd_starts(r, "TRYAGAIN") ||
             rd_starts(r, "CLUSTERDOWN"))
        code = KVSTORE_EUNAVAILABLE;
    else if ((rd_starts(r, "MOVED") || rd_starts(r, "ASK")) &&
             s->cluster != NULL)
        /* Only where a redirect cannot be followed (a CAS pinned to the
         * node that owned the key): the command was not applied. */
        return kvstore_set_error(KVSTORE_EUNAVAILABLE,
                                 "redis: %s on %s: the key's slot moved to "
                                 "another node (%s); nothing was written, "
                                 "try again", what, s->cfg.label, text);
    else if (rd_starts(r, "MOVED") || rd_starts(r, "ASK") ||
             rd_starts(r, "CROSSSLOT"))
        return kvstore_set_error(KVSTORE_ENOTSUP,
                                 "redis: %s on %s: the server is a Redis "
                                 "Cluster node; use redis+cluster:// (%s)",
                                 what, s->cfg.label, text);
    else if (rd_starts(r, "WRONGTYPE"))
        return kvstore_set_error(KVSTORE_EIO,
                                 "redis: %s on %s: the key holds a value "
                                 "that is not a string (written by another "
                                 "client)", what, s->cfg.label);
    return kvstore_set_error(code, "redis: %s on %s failed: %s", what,
                             s->cfg.label, text);
}

bool rd_is_readonly(const redisReply *r)
{
    return r != NULL && r->type == REDIS_REPLY_ERROR &&
           rd_starts(r, "READONLY");
}

int rd_unexpected(const rd_store *s, const char *what, const redisReply *r)
{
    return kvstore_set_error(KVSTORE_EIO,
                             "redis: %s on %s: unexpected reply type %d",
                             what, s->cfg.label, r ? r->type : -1);
}

/* Reads `n` replies, then one into *tail if tail is not NULL; on
 * failure frees those read so far. */
static int rd_recv(rd_link *c, size_t n, redisReply **replies,
                   redisReply **tail, rd_fail *f)
{
    for (size_t i = 0; i < n + (tail != NULL); i++) {
        void *reply = NULL;

        if (rd_link_reply(c, &reply, f) != REDIS_OK) {
            for (size_t j = 0; j < i && j < n; j++) {
                rd_reply_free(replies[j]);
                replies[j] = NULL;
            }
            return REDIS_ERR;
        }
        if (i < n)
            replies[i] = reply;
        else
            *tail = reply;
    }
    return REDIS_OK;
}

/* Sends `n` commands (and `tail`, if not NULL, after them) in one write;
 * rd_recv reads their replies. */
static int rd_send(rd_link *c, size_t n, const rd_cmd *cmds,
                   const rd_cmd *tail, rd_fail *f)
{
    size_t total = n + (tail != NULL);
    char *buf = NULL;
    size_t len = 0;
    int rc;

    memset(f, 0, sizeof *f);
    for (size_t i = 0; i < total; i++) {
        /* The sds formatter, as redisCommandArgv uses: the plain one
         * calls sprintf per argument, which costs a batch of 100 keys
         * several microseconds. */
        const rd_cmd *one = i < n ? &cmds[i] : tail;
        sds cmd = NULL;
        int cl = redisFormatSdsCommandArgv(&cmd, one->argc, one->argv,
                                           one->lens);
        char *grown;

        if (cl < 0) {
            free(buf);
            f->nomem = true;
            return REDIS_ERR;
        }
        if (total == 1) {
            /* The common case: send the sds itself, no copy. */
            rc = rd_link_write(c, cmd, (size_t)cl, f);
            redisFreeSdsCommand(cmd);
            return rc;
        }
        grown = realloc(buf, len + (size_t)cl);
        if (grown == NULL) {
            redisFreeSdsCommand(cmd);
            free(buf);
            f->nomem = true;
            return REDIS_ERR;
        }
        buf = grown;
        memcpy(buf + len, cmd, (size_t)cl);
        len += (size_t)cl;
        redisFreeSdsCommand(cmd);
    }
    rc = rd_link_write(c, buf, len, f);
    free(buf);
    return rc;
}

/* rd_send then rd_recv (the tail's reply into *tail_reply). On failure
 * the replies read so far are freed. */
static int rd_pipeline(rd_link *c, size_t n, const rd_cmd *cmds,
                       const rd_cmd *tail, redisReply **replies,
                       redisReply **tail_reply, rd_fail *f)
{
    if (rd_send(c, n, cmds, tail, f) != REDIS_OK)
        return REDIS_ERR;
    return rd_recv(c, n, replies, tail ? tail_reply : NULL, f);
}

int rd_command(const rd_config *cfg, rd_link *c, int argc,
               const char **argv, const size_t *lens, redisReply **out)
{
    rd_cmd cmd = { argc, argv, lens };
    rd_fail f;

    *out = NULL;
    if (rd_pipeline(c, 1, &cmd, NULL, out, NULL, &f) == REDIS_OK)
        return KVSTORE_OK;
    if (f.nomem)
        return kvstore_set_error(KVSTORE_ENOMEM, "redis: out of memory "
                                 "talking to %s", cfg->label);
    return kvstore_set_error(KVSTORE_EUNAVAILABLE, "redis: %s on %s: %s",
                             argv[0], cfg->label, f.why);
}

static int rd_auth(const rd_config *cfg, rd_link *c)
{
    const char *argv[3] = { "AUTH" };
    size_t lens[3] = { 4 };
    int argc = 1, rc;
    redisReply *r = NULL;

    if (cfg->user) {
        argv[argc] = cfg->user;
        lens[argc++] = strlen(cfg->user);
    }
    argv[argc] = cfg->password;
    lens[argc++] = strlen(cfg->password);
    rc = rd_command(cfg, c, argc, argv, lens, &r);
    if (rc != KVSTORE_OK)
        return rc;
    if (r->type == REDIS_REPLY_ERROR) {
        char text[200];

        rd_text(text, sizeof text, r->str, r->len);
        /* Servers do not echo the password, but a message is the one
         * place it must never appear, so check rather than trust. */
        if (strstr(text, cfg->password) != NULL)
            snprintf(text, sizeof text, "(server reply withheld)");
        rd_reply_free(r);
        return kvstore_set_error(KVSTORE_EACCESS,
                                 "redis: authentication to %s failed: %s",
                                 cfg->label, text);
    }
    rd_reply_free(r);
    return KVSTORE_OK;
}

static int rd_select(const rd_config *cfg, rd_link *c)
{
    char db[24];
    const char *argv[2] = { "SELECT", db };
    size_t lens[2] = { 6, 0 };
    redisReply *r = NULL;
    int rc;

    lens[1] = (size_t)snprintf(db, sizeof db, "%ld", cfg->db);
    rc = rd_command(cfg, c, 2, argv, lens, &r);
    if (rc != KVSTORE_OK)
        return rc;
    if (r->type == REDIS_REPLY_ERROR) {
        char text[200];

        rd_text(text, sizeof text, r->str, r->len);
        rc = (strncmp(text, "NOAUTH", 6) == 0 ||
              strncmp(text, "NOPERM", 6) == 0)
                 ? KVSTORE_EACCESS : KVSTORE_EINVAL;
        rd_reply_free(r);
        return kvstore_set_error(rc, "redis: cannot select database %ld "
                                 "on %s: %s", cfg->db, cfg->label, text);
    }
    rd_reply_free(r);
    return KVSTORE_OK;
}

int rd_connect_to(const rd_config *cfg, const char *host, int port,
                  rd_link **out)
{
    bool unix_socket = host == NULL && cfg->unix_socket;
    const char *to = host ? host : cfg->host;
    rd_link *c;
    int rc;

    *out = NULL;
    if (host == NULL && cfg->sentinel)
        return rd_sentinel_connect(cfg, out);
    if (host == NULL && !cfg->unix_socket && cfg->host == NULL)
        /* A cluster store's own address is its seed list: a caller that
         * did not pick a node is a bug, refused rather than crashed. */
        return kvstore_set_error(KVSTORE_EINVAL, "redis: %s: no node "
                                 "chosen for the connection", cfg->label);
    rc = rd_link_open(cfg, unix_socket ? NULL : to, host ? port : cfg->port,
                      cfg->path, cfg->tls_sni ? cfg->tls_sni : to, &c);
    if (rc != KVSTORE_OK)
        return rc;
    if (cfg->password)
        rc = rd_auth(cfg, c);
    if (rc == KVSTORE_OK && cfg->db != 0)
        rc = rd_select(cfg, c);
    if (rc != KVSTORE_OK) {
        rd_link_close(c);
        return rc;
    }
    *out = c;
    return KVSTORE_OK;
}

int rd_connect(const rd_config *cfg, rd_link **out)
{
    return rd_connect_to(cfg, NULL, 0, out);
}

int rd_pool_init(rd_pool *p, size_t max)
{
    pthread_condattr_t attr;

    memset(p, 0, sizeof *p);
    p->max = max;
    p->idle = calloc(max, sizeof *p->idle);
    if (p->idle == NULL)
        return kvstore_set_error(KVSTORE_ENOMEM, "redis: out of memory");
    if (pthread_mutex_init(&p->lock, NULL) != 0) {
        free(p->idle);
        p->idle = NULL;
        return kvstore_set_error(KVSTORE_EIO, "redis: pthread_mutex_init");
    }
    /* Waits for a free connection are bounded by timeout_ms on the
     * monotonic clock, so a clock change cannot stretch them. */
    pthread_condattr_init(&attr);
    pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
    if (pthread_cond_init(&p->released, &attr) != 0) {
        pthread_condattr_destroy(&attr);
        pthread_mutex_destroy(&p->lock);
        free(p->idle);
        p->idle = NULL;
        return kvstore_set_error(KVSTORE_EIO, "redis: pthread_cond_init");
    }
    pthread_condattr_destroy(&attr);
    return KVSTORE_OK;
}

int rd_pool_target(rd_pool *p, const char *host, int port)
{
    free(p->host);
    p->host = strdup(host);
    p->port = port;
    if (p->host == NULL)
        return kvstore_set_error(KVSTORE_ENOMEM, "redis: out of memory");
    return KVSTORE_OK;
}

void rd_pool_destroy(rd_pool *p)
{
    if (p->idle == NULL)
        return;
    for (size_t i = 0; i < p->n_idle; i++)
        rd_link_close(p->idle[i]);
    free(p->idle);
    p->idle = NULL;
    free(p->host);
    p->host = NULL;
    p->n_idle = 0;
    pthread_cond_destroy(&p->released);
    pthread_mutex_destroy(&p->lock);
}

int rd_acquire(rd_store *s, rd_pool *p, rd_conn *out)
{
    struct timespec deadline;
    bool have_deadline = false;
    rd_link *c;
    int rc;

    out->ctx = NULL;
    out->from = p;
    out->reused = false;
    pthread_mutex_lock(&p->lock);
    for (;;) {
        if (p->n_idle > 0) {
            out->ctx = p->idle[--p->n_idle];
            out->reused = true;
            p->n_busy++;
            pthread_mutex_unlock(&p->lock);
            return KVSTORE_OK;
        }
        if (p->n_busy < p->max)
            break;
        if (!have_deadline) {
            clock_gettime(CLOCK_MONOTONIC, &deadline);
            deadline.tv_sec += s->cfg.timeout_ms / 1000;
            deadline.tv_nsec += (long)(s->cfg.timeout_ms % 1000) * 1000000L;
            if (deadline.tv_nsec >= 1000000000L) {
                deadline.tv_sec++;
                deadline.tv_nsec -= 1000000000L;
            }
            have_deadline = true;
        }
        if (pthread_cond_timedwait(&p->released, &p->lock, &deadline) ==
            ETIMEDOUT && p->n_idle == 0 && p->n_busy >= p->max) {
            pthread_mutex_unlock(&p->lock);
            return kvstore_set_error(KVSTORE_EUNAVAILABLE,
                                     "redis: no connection to %s became "
                                     "free within %d ms (%zu in use)",
                                     s->cfg.label, s->cfg.timeout_ms,
                                     p->max);
        }
    }
    /* Reserve the slot, then connect without holding the lock. */
    p->n_busy++;
    pthread_mutex_unlock(&p->lock);
    rc = rd_connect_to(&s->cfg, p->host, p->port, &c);
    if (rc != KVSTORE_OK) {
        pthread_mutex_lock(&p->lock);
        p->n_busy--;
        pthread_cond_signal(&p->released);
        pthread_mutex_unlock(&p->lock);
        return rc;
    }
    out->ctx = c;
    return KVSTORE_OK;
}

void rd_release(rd_conn *c, bool keep)
{
    rd_pool *p = c->from;
    rd_link *drop = NULL;

    if (c->ctx == NULL)
        return;
    pthread_mutex_lock(&p->lock);
    p->n_busy--;
    if (keep && !c->ctx->broken)
        p->idle[p->n_idle++] = c->ctx;
    else
        drop = c->ctx;
    pthread_cond_signal(&p->released);
    pthread_mutex_unlock(&p->lock);
    rd_link_close(drop);
    c->ctx = NULL;
}

/* When one pooled connection died, the server most likely went away or
 * restarted, and every idle connection is dead too: drop them all so the
 * next calls reconnect instead of each tripping over a stale one. */
void rd_drop_idle(rd_pool *p)
{
    rd_link **dead;
    size_t n;

    pthread_mutex_lock(&p->lock);
    n = p->n_idle;
    dead = n ? malloc(n * sizeof *dead) : NULL;
    if (dead != NULL) {
        memcpy(dead, p->idle, n * sizeof *dead);
        p->n_idle = 0;
        pthread_cond_broadcast(&p->released);
    }
    pthread_mutex_unlock(&p->lock);
    /* Out of memory: keep them; each fails and is dropped on its own. */
    for (size_t i = 0; dead != NULL && i < n; i++)
        rd_link_close(dead[i]);
    free(dead);
}

bool rd_alive(rd_link *c)
{
    return rd_link_idle_ok(c);
}

/* rd_run's failure: the connection is dropped, the status says whether
 * anything may have been applied. */
static int rd_run_failed(rd_store *s, rd_conn *c, unsigned flags, size_t n,
                         const rd_cmd *cmds, const rd_fail *f, bool *retry)
{
    /* The connection is in an unknown state: never reuse it. */
    rd_release(c, false);
    if (f->nomem)
        return kvstore_set_error(KVSTORE_ENOMEM, "redis: out of memory "
                                 "running %s", cmds[0].argv[0]);
    if (c->reused)
        rd_drop_idle(c->from);
    /* A stale pooled connection fails at once; a timeout already used up
     * the caller's time budget. */
    *retry = c->reused && !f->timed_out;
    if ((flags & RD_ONCE) && f->sent)
        return kvstore_set_error(KVSTORE_EUNCERTAIN,
                                 "redis: the connection to %s broke after "
                                 "%s was sent (%s): it may or may not have "
                                 "been applied", s->cfg.label,
                                 cmds[n - 1].argv[0], f->why);
    return kvstore_set_error(KVSTORE_EUNAVAILABLE, "redis: %s on %s: %s",
                             cmds[0].argv[0], s->cfg.label, f->why);
}

int rd_run_send(rd_store *s, rd_conn *c, unsigned flags, size_t n,
                const rd_cmd *cmds, rd_fail *f, bool *retry)
{
    rd_wait wait;
    const rd_cmd *tail = (flags & RD_ONCE) ? rd_wait_cmd(&s->cfg, &wait)
                                           : NULL;

    *retry = false;
    if (rd_send(c->ctx, n, cmds, tail, f) == REDIS_OK)
        return KVSTORE_OK;
    return rd_run_failed(s, c, flags, n, cmds, f, retry);
}

int rd_run_recv(rd_store *s, rd_conn *c, unsigned flags, size_t n,
                const rd_cmd *cmds, redisReply **replies, rd_fail *f,
                bool *retry)
{
    rd_wait wait;
    const rd_cmd *tail = (flags & RD_ONCE) ? rd_wait_cmd(&s->cfg, &wait)
                                           : NULL;
    redisReply *waited = NULL;
    int rc = KVSTORE_OK;

    *retry = false;
    if (rd_recv(c->ctx, n, replies, tail ? &waited : NULL, f) != REDIS_OK)
        return rd_run_failed(s, c, flags, n, cmds, f, retry);
    for (size_t i = 0; i < n && s->cfg.sentinel; i++)
        if (rd_is_readonly(replies[i])) {
            /* A demoted master: this connection and the idle ones go
             * to it. */
            c->ctx->broken = true;
            rd_sentinel_lost(s);
        }
    if (tail != NULL) {
        rc = rd_wait_check(s, replies, n, waited, cmds[n - 1].argv[0]);
        rd_reply_free(waited);
    }
    if (rc != KVSTORE_OK) {
        for (size_t i = 0; i < n; i++) {
            rd_reply_free(replies[i]);
            replies[i] = NULL;
        }
        rd_release(c, true);
    }
    return rc;
}

int rd_run(rd_store *s, rd_conn *c, unsigned flags, size_t n,
           const rd_cmd *cmds, redisReply **replies, bool *retry)
{
    rd_fail f;
    int rc = rd_run_send(s, c, flags, n, cmds, &f, retry);

    if (rc != KVSTORE_OK)
        return rc;
    return rd_run_recv(s, c, flags, n, cmds, replies, &f, retry);
}

static bool rd_any_readonly(size_t n, redisReply *const *replies)
{
    for (size_t i = 0; i < n; i++)
        if (rd_is_readonly(replies[i]))
            return true;
    return false;
}

int rd_exec(rd_store *s, rd_pool *p, unsigned flags, size_t n,
            const rd_cmd *cmds, redisReply **replies)
{
    for (int attempt = 0;; attempt++) {
        rd_conn conn;
        bool retry;
        int rc = rd_acquire(s, p, &conn);

        if (rc != KVSTORE_OK)
            return rc;
        if ((flags & RD_ONCE) && conn.reused && !rd_alive(conn.ctx)) {
            /* Found out before sending anything: reconnecting is safe. */
            rd_release(&conn, false);
            rd_drop_idle(p);
            rc = rd_acquire(s, p, &conn);
            if (rc != KVSTORE_OK)
                return rc;
        }
        rc = rd_run(s, &conn, flags, n, cmds, replies, &retry);
        if (rc == KVSTORE_OK && s->cfg.sentinel && attempt == 0 &&
            rd_any_readonly(n, replies)) {
            /* Refused, so not applied: once more, to the new master. */
            rd_release(&conn, false);
            for (size_t i = 0; i < n; i++) {
                rd_reply_free(replies[i]);
                replies[i] = NULL;
            }
            continue;
        }
        if (rc == KVSTORE_OK) {
            rd_release(&conn, true);
            return rc;
        }
        /* An idempotent command gets one more try on a fresh connection. */
        if (!(retry && (flags & RD_RETRY) && attempt == 0))
            return rc;
    }
}

int rd_call_on(rd_store *s, rd_pool *p, unsigned flags, int argc,
               const char **argv, const size_t *lens, redisReply **out)
{
    rd_cmd cmd = { argc, argv, lens };
    int rc;

    *out = NULL;
    rc = rd_exec(s, p, flags, 1, &cmd, out);
    if (rc == KVSTORE_OK && (*out)->type == REDIS_REPLY_ERROR &&
        !(flags & RD_RAW_ERRORS)) {
        rc = rd_reply_error(s, argv[0], *out);
        rd_reply_free(*out);
        *out = NULL;
    }
    return rc;
}

int rd_call(rd_store *s, unsigned flags, int argc, const char **argv,
            const size_t *lens, redisReply **out)
{
    if (s->cluster != NULL)
        return rd_cluster_call(s, flags, argc, argv, lens, out);
    return rd_call_on(s, &s->pool, flags, argc, argv, lens, out);
}

int rd_run_many(rd_store *s, unsigned flags, size_t n, const rd_cmd *cmds,
                redisReply **replies)
{
    if (s->cluster != NULL)
        return rd_cluster_run_many(s, flags, n, cmds, replies);
    return rd_exec(s, &s->pool, flags, n, cmds, replies);
}

int rd_call_expect(rd_store *s, unsigned flags, int argc, const char **argv,
                   const size_t *lens, int reply_type)
{
    redisReply *r = NULL;
    int rc = rd_call(s, flags, argc, argv, lens, &r);

    if (rc != KVSTORE_OK)
        return rc;
    if (r->type != reply_type)
        rc = rd_unexpected(s, argv[0], r);
    rd_reply_free(r);
    return rc;
}

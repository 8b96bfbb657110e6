/*
 * Redis backend: increment (INCRBY) and compare-and-swap
 * (WATCH/MULTI/EXEC on a pinned connection).
 *
 * Both are non-idempotent: they run with RD_ONCE, so they are never
 * resent once they may have reached the server (KVSTORE_EUNCERTAIN).
 *
 * CAS is by version, as the contract asks: cas_open WATCHes the key on a
 * connection the snapshot keeps (from the store's separate "pins" pool,
 * so snapshots never starve ordinary calls), and cas_swap runs
 * MULTI/SET/EXEC on it; EXEC fails if anyone wrote the key since the
 * WATCH, even with the same bytes. A value-comparing Lua script would
 * miss such A -> B -> A writes.
 *
 * SPDX-License-Identifier: MIT
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "redis.h"

int rd_increment(void *bucket, const char *key, int64_t delta,
                 int64_t *result)
{
    rd_bucket *b = bucket;
    char k[RD_KEYBUF], d[24];
    const char *argv[3] = { "INCRBY", k, d };
    size_t lens[3] = { 6, rd_key(b, key, k), 0 };
    redisReply *r = NULL;
    int rc;

    lens[2] = (size_t)snprintf(d, sizeof d, "%" PRId64, delta);
    rc = rd_call(b->store, RD_ONCE | RD_RAW_ERRORS, 3, argv, lens, &r);
    if (rc != KVSTORE_OK)
        return rc;
    if (r->type == REDIS_REPLY_INTEGER) {
        if (result)
            *result = (int64_t)r->integer;
    } else if (r->type == REDIS_REPLY_ERROR &&
               (strstr(r->str, "not an integer") != NULL ||
                strstr(r->str, "overflow") != NULL ||
                strncmp(r->str, "WRONGTYPE", 9) == 0)) {
        /* Redis checks before it writes: the value is unchanged. */
        rc = kvstore_set_error(KVSTORE_EINVAL, "redis: increment of '%s': "
                               "the value is not a decimal int64 or the "
                               "result would overflow", key);
    } else if (r->type == REDIS_REPLY_ERROR) {
        rc = rd_reply_error(b->store, "INCRBY", r);
    } else {
        rc = rd_unexpected(b->store, "INCRBY", r);
    }
    rd_reply_free(r);
    return rc;
}

/* A snapshot: the key, the value seen by cas_open, and the connection
 * that WATCHes the key until the swap. Owned by the core's kvstore_cas;
 * freed by rd_cas_free. */
typedef struct rd_cas {
    rd_bucket *b;
    rd_conn conn;  /* pinned; ctx NULL once swapped or lost */
    char key[RD_KEYBUF];
    size_t key_len;
    bool found;
    char *value;   /* NUL-terminated, kvstore_malloc'd; lent by
                      cas_current */
    size_t len;
} rd_cas;

/* UNWATCH clears whatever an earlier snapshot that was freed without a
 * swap left on this connection; WATCH then GET, in one round trip. */
static int rd_cas_snapshot(rd_cas *c)
{
    rd_store *s = c->b->store;
    const char *unwatch[1] = { "UNWATCH" };
    const char *watch[2] = { "WATCH", c->key };
    const char *get[2] = { "GET", c->key };
    size_t unwatch_lens[1] = { 7 }, watch_lens[2] = { 5, c->key_len },
           get_lens[2] = { 3, c->key_len };
    const rd_cmd cmds[3] = { { 1, unwatch, unwatch_lens },
                             { 2, watch, watch_lens },
                             { 2, get, get_lens } };
    redisReply *r[3] = { NULL, NULL, NULL };
    int rc = KVSTORE_OK;

    for (int attempt = 0;; attempt++) {
        /* In a cluster, pinned to the node that serves the key. */
        rd_pool *pins = s->cluster != NULL
                            ? rd_cluster_pins(s, c->key, c->key_len)
                            : &s->pins;
        rd_node *ask = NULL;
        bool retry;

        if (pins == NULL)
            rc = kvstore_set_error(KVSTORE_EUNAVAILABLE, "redis: no node of "
                                   "%s serves the key", s->cfg.label);
        else
            rc = rd_acquire(s, pins, &c->conn);
        if (rc == KVSTORE_OK)
            rc = rd_run(s, &c->conn, RD_RETRY, 3, cmds, r, &retry);
        else
            retry = s->cluster != NULL;
        if (rc == KVSTORE_OK && s->cluster != NULL && attempt < 3 &&
            rd_cluster_redirect(s, r[2], &ask) == RD_REDIRECT_MOVED) {
            /* The key's slot moved (the map is updated): snapshot on the
             * new owner. */
            for (int i = 0; i < 3; i++) {
                rd_reply_free(r[i]);
                r[i] = NULL;
            }
            rd_release(&c->conn, true);
            continue;
        }
        if (rc == KVSTORE_OK)
            break;
        if (!retry || attempt > 0)
            return rc;
        /* A node that cannot be reached may have failed over. */
        if (s->cluster != NULL)
            (void)rd_cluster_refresh(s);
    }
    if (rc == KVSTORE_OK) {
        if (r[2]->type == REDIS_REPLY_STRING) {
            c->found = true;
            c->len = r[2]->len;
            c->value = rd_reply_take(r[2]);
        } else if (r[2]->type != REDIS_REPLY_NIL) {
            rc = rd_unexpected(s, "GET", r[2]);
        }
    }
    for (int i = 0; i < 3; i++)
        rd_reply_free(r[i]);
    if (rc != KVSTORE_OK)
        rd_release(&c->conn, true);
    return rc;
}

int rd_cas_open(void **out, void *bucket, const char *key, bool *found,
                const void **value, size_t *len)
{
    rd_bucket *b = bucket;
    rd_cas *c = calloc(1, sizeof *c);
    int rc;

    *out = NULL;
    *found = false;
    *value = NULL;
    *len = 0;
    if (c == NULL)
        return kvstore_set_error(KVSTORE_ENOMEM, "redis: out of memory");
    c->b = b;
    c->key_len = rd_key(b, key, c->key);
    rc = rd_cas_snapshot(c);
    if (rc == KVSTORE_OK)
        kvstore_cas_lend(found, value, len, c->found, c->value, c->len);
    return kvstore_hand_over(rc, out, c, rd_cas_free);
}

int rd_cas_swap(void *cas, const void *value, size_t len)
{
    rd_cas *c = cas;
    rd_store *s = c->b->store;
    const char *multi[1] = { "MULTI" }, *exec[1] = { "EXEC" };
    const char *set[3] = { "SET", c->key, value };
    size_t multi_lens[1] = { 5 }, exec_lens[1] = { 4 },
           set_lens[3] = { 3, c->key_len, len };
    const rd_cmd cmds[3] = { { 1, multi, multi_lens },
                             { 3, set, set_lens },
                             { 1, exec, exec_lens } };
    redisReply *r[3] = { NULL, NULL, NULL };
    bool retry;
    int rc = rd_value_check(len);

    if (rc != KVSTORE_OK)
        return rc;
    if (c->conn.ctx == NULL || !rd_alive(c->conn.ctx)) {
        /* The WATCH died with the connection, so we cannot know whether
         * the key changed; nothing was sent. */
        rd_release(&c->conn, false);
        return kvstore_set_error(KVSTORE_EUNAVAILABLE, "redis: the "
                                 "connection to %s was lost since the "
                                 "snapshot; nothing was written, take a new "
                                 "snapshot", s->cfg.label);
    }
    /* EXEC answers nil when a WATCHed key was written (by anyone, even
     * with the same bytes) since the WATCH: that is the conflict. */
    rc = rd_run(s, &c->conn, RD_ONCE, 3, cmds, r, &retry);
    if (rc != KVSTORE_OK)
        return rc;
    rd_release(&c->conn, true);
    if (r[2]->type == REDIS_REPLY_NIL)
        rc = kvstore_set_error(KVSTORE_ECONFLICT, "redis: '%s' was written "
                               "since the snapshot",
                               c->key + c->b->prefix_len);
    else if (r[0]->type == REDIS_REPLY_ERROR)
        rc = rd_reply_error(s, "MULTI", r[0]);
    else if (r[1]->type == REDIS_REPLY_ERROR)
        rc = rd_reply_error(s, "SET", r[1]);
    else if (r[2]->type == REDIS_REPLY_ERROR)
        rc = rd_reply_error(s, "EXEC", r[2]);
    else if (r[2]->type != REDIS_REPLY_ARRAY || r[2]->elements != 1)
        rc = rd_unexpected(s, "EXEC", r[2]);
    else if (r[2]->element[0]->type == REDIS_REPLY_ERROR)
        rc = rd_reply_error(s, "SET", r[2]->element[0]);
    for (int i = 0; i < 3; i++)
        rd_reply_free(r[i]);
    return rc;
}

void rd_cas_free(void *cas)
{
    rd_cas *c = cas;
    /* Back to the pins pool still WATCHing: the next snapshot on it
     * starts with UNWATCH. */
    rd_release(&c->conn, true);
    kvstore_free(c->value);
    free(c);
}

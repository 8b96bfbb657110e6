/*
 * Redis backend: batches on a cluster. MGET, MSET and multi-key DEL must
 * name keys of one slot (CROSSSLOT otherwise), so a batch becomes one
 * command per slot (and per RD_CHUNK_KEYS / RD_CHUNK_BYTES chunk), all
 * commands of a node in one pipeline, every node's pipeline sent before
 * any is read (rd_run_many), and the replies are put back in the
 * caller's order.
 *
 * SPDX-License-Identifier: MIT
 */
#include <stdlib.h>
#include <string.h>

#include "redis.h"

typedef struct rd_slot_key {
    unsigned slot;
    size_t idx;
} rd_slot_key;

/* The commands of one batch. Owned by the caller; rd_plan_free. */
typedef struct rd_plan {
    size_t *order;     /* key indices, grouped by slot */
    size_t *start;     /* command g covers order[start[g] .. start[g+1]) */
    size_t ncmd;
    rd_args *args;
    rd_cmd *cmds;
    redisReply **replies;
} rd_plan;

static int rd_slot_key_cmp(const void *a, const void *b)
{
    const rd_slot_key *x = a, *y = b;

    if (x->slot != y->slot)
        return x->slot < y->slot ? -1 : 1;
    return (x->idx > y->idx) - (x->idx < y->idx);
}

static void rd_plan_free(rd_plan *p)
{
    for (size_t g = 0; p->args != NULL && g < p->ncmd; g++)
        rd_args_free(&p->args[g]);
    for (size_t g = 0; p->replies != NULL && g < p->ncmd; g++)
        rd_reply_free(p->replies[g]);
    free(p->order);
    free(p->start);
    free(p->args);
    free(p->cmds);
    free(p->replies);
    memset(p, 0, sizeof *p);
}

/* Groups keys[0..n) by slot into commands `cmd`, with values (MSET) or
 * without. */
static int rd_plan_build(rd_plan *p, const rd_bucket *b, const char *cmd,
                         const char *const *keys, const void *const *values,
                         const size_t *vlens, size_t n)
{
    rd_slot_key *sk = malloc(n * sizeof *sk);
    const char **gkeys = malloc(n * sizeof *gkeys);
    const void **gvals = values ? malloc(n * sizeof *gvals) : NULL;
    size_t *glens = values ? malloc(n * sizeof *glens) : NULL;
    int rc = KVSTORE_OK;

    memset(p, 0, sizeof *p);
    p->order = malloc(n * sizeof *p->order);
    p->start = malloc((n + 1) * sizeof *p->start);
    p->args = calloc(n, sizeof *p->args);
    if (!sk || !gkeys || (values && (!gvals || !glens)) || !p->order ||
        !p->start || !p->args) {
        rc = kvstore_set_error(KVSTORE_ENOMEM, "redis: out of memory");
        goto done;
    }
    for (size_t i = 0; i < n; i++) {
        char k[RD_KEYBUF];

        sk[i].slot = rd_key_slot(k, rd_key(b, keys[i], k));
        sk[i].idx = i;
    }
    qsort(sk, n, sizeof *sk, rd_slot_key_cmp);
    for (size_t i = 0, m = 0, bytes = 0; i < n; i++) {
        size_t k = sk[i].idx, vlen = values ? vlens[k] : 0;

        if (i == 0 || sk[i].slot != sk[i - 1].slot || m == RD_CHUNK_KEYS ||
            (m > 0 && bytes + vlen > RD_CHUNK_BYTES)) {
            p->start[p->ncmd++] = i;
            m = 0;
            bytes = 0;
        }
        m++;
        bytes += vlen;
        p->order[i] = k;
        gkeys[i] = keys[k];
        if (values) {
            gvals[i] = values[k];
            glens[i] = vlens[k];
        }
    }
    p->start[p->ncmd] = n;
    p->cmds = calloc(p->ncmd, sizeof *p->cmds);
    p->replies = calloc(p->ncmd, sizeof *p->replies);
    if (p->cmds == NULL || p->replies == NULL) {
        rc = kvstore_set_error(KVSTORE_ENOMEM, "redis: out of memory");
        goto done;
    }
    for (size_t g = 0; g < p->ncmd && rc == KVSTORE_OK; g++) {
        size_t from = p->start[g], m = p->start[g + 1] - from;

        rc = rd_args_build(&p->args[g], b, cmd, gkeys + from,
                           values ? gvals + from : NULL,
                           values ? glens + from : NULL, m);
        p->cmds[g] = (rd_cmd){ p->args[g].argc, p->args[g].argv,
                               p->args[g].lens };
    }
done:
    free(sk);
    free(gkeys);
    free(gvals);
    free(glens);
    if (rc != KVSTORE_OK)
        rd_plan_free(p);
    return rc;
}

/* Checks that every reply is of `type` (error replies mapped). */
static int rd_plan_expect(rd_store *s, const rd_plan *p, const char *what,
                          int type)
{
    for (size_t g = 0; g < p->ncmd; g++) {
        const redisReply *r = p->replies[g];

        if (r->type == REDIS_REPLY_ERROR)
            return rd_reply_error(s, what, r);
        if (r->type != type)
            return rd_unexpected(s, what, r);
    }
    return KVSTORE_OK;
}

int rd_cluster_get_many(rd_bucket *b, const char *const *keys, size_t n,
                        void **values, size_t *lens)
{
    rd_plan p;
    int rc;

    if (n == 0)
        return KVSTORE_OK;
    rc = rd_plan_build(&p, b, "MGET", keys, NULL, NULL, n);
    if (rc != KVSTORE_OK)
        return rc;
    rc = rd_run_many(b->store, RD_RETRY, p.ncmd, p.cmds, p.replies);
    if (rc == KVSTORE_OK)
        rc = rd_plan_expect(b->store, &p, "MGET", REDIS_REPLY_ARRAY);
    for (size_t g = 0; g < p.ncmd && rc == KVSTORE_OK; g++) {
        redisReply *r = p.replies[g];
        size_t from = p.start[g], m = p.start[g + 1] - from;

        if (r->elements != m) {
            rc = rd_unexpected(b->store, "MGET", r);
            break;
        }
        for (size_t j = 0; j < m; j++) {
            redisReply *e = r->element[j];
            size_t k = p.order[from + j];

            if (e->type == REDIS_REPLY_NIL)
                continue;
            if (e->type != REDIS_REPLY_STRING) {
                rc = rd_unexpected(b->store, "MGET", e);
                break;
            }
            lens[k] = e->len;
            values[k] = rd_reply_take(e);
        }
    }
    /* On failure the core frees the values already read. */
    rd_plan_free(&p);
    return rc;
}

/* A batch write (MSET, DEL), sent at most once: a node whose pipeline
 * went out without replies makes the batch KVSTORE_EUNCERTAIN; the other
 * nodes' pipelines were sent too. */
static int rd_plan_write(rd_bucket *b, const char *cmd,
                         const char *const *keys, const void *const *values,
                         const size_t *lens, size_t n, int reply_type)
{
    rd_plan p;
    int rc;

    if (n == 0)
        return KVSTORE_OK;
    rc = rd_plan_build(&p, b, cmd, keys, values, lens, n);
    if (rc != KVSTORE_OK)
        return rc;
    rc = rd_run_many(b->store, RD_ONCE, p.ncmd, p.cmds, p.replies);
    if (rc == KVSTORE_OK)
        rc = rd_plan_expect(b->store, &p, cmd, reply_type);
    rd_plan_free(&p);
    return rc;
}

int rd_cluster_set_many(rd_bucket *b, const char *const *keys,
                        const void *const *values, const size_t *lens,
                        size_t n)
{
    return rd_plan_write(b, "MSET", keys, values, lens, n,
                         REDIS_REPLY_STATUS);
}

int rd_cluster_delete_many(rd_bucket *b, const char *const *keys, size_t n)
{
    return rd_plan_write(b, "DEL", keys, NULL, NULL, n, REDIS_REPLY_INTEGER);
}

int rd_del_each(rd_store *s, size_t n, const char **keys, const size_t *lens)
{
    rd_cmd *cmds = calloc(n, sizeof *cmds);
    const char **argv = calloc(2 * n, sizeof *argv);
    size_t *alens = calloc(2 * n, sizeof *alens);
    redisReply **replies = calloc(n, sizeof *replies);
    int rc = KVSTORE_OK;

    if (!cmds || !argv || !alens || !replies) {
        rc = kvstore_set_error(KVSTORE_ENOMEM, "redis: out of memory");
        goto done;
    }
    for (size_t i = 0; i < n; i++) {
        argv[2 * i] = "DEL";
        alens[2 * i] = 3;
        argv[2 * i + 1] = keys[i];
        alens[2 * i + 1] = lens[i];
        cmds[i] = (rd_cmd){ 2, argv + 2 * i, alens + 2 * i };
    }
    rc = rd_run_many(s, RD_ONCE, n, cmds, replies);
    for (size_t i = 0; rc == KVSTORE_OK && i < n; i++)
        if (replies[i]->type == REDIS_REPLY_ERROR)
            rc = rd_reply_error(s, "DEL", replies[i]);
    for (size_t i = 0; i < n && replies != NULL; i++)
        rd_reply_free(replies[i]);
done:
    free(cmds);
    free(argv);
    free(alens);
    free(replies);
    return rc;
}

/*
 * Redis backend: the nodes slots are being migrated to. While a slot
 * migrates, MIGRATE moves its keys one by one from the master serving it
 * to the importing node, and the slot map does not change until the last
 * key has moved: a walk that finished the importing node before a key
 * moved there, and reaches the source after, would miss that key.
 * cluster_list.c walks the importing nodes again before it ends; this
 * file finds them. Only the giving master shows a migration in its
 * CLUSTER NODES ("[slot->-<target id>]" on its "myself" line), so every
 * master is asked; the target's address is in the same reply, which also
 * finds a new master that serves no slot yet.
 *
 * SPDX-License-Identifier: MIT
 */
#include <stdlib.h>
#include <string.h>

#include "redis.h"

/* A line of a CLUSTER NODES reply, and one space-separated field of it. */
typedef struct rd_span {
    const char *p;
    size_t len;
} rd_span;

/* Field `i` (from 0) of `line`; false when the line is shorter. */
static bool rd_field(rd_span line, int i, rd_span *out)
{
    const char *p = line.p, *end = line.p + line.len, *sp;

    for (; i > 0; i--) {
        sp = memchr(p, ' ', (size_t)(end - p));
        if (sp == NULL)
            return false;
        p = sp + 1;
    }
    sp = memchr(p, ' ', (size_t)(end - p));
    out->p = p;
    out->len = sp != NULL ? (size_t)(sp - p) : (size_t)(end - p);
    return true;
}

/* Moves `line` to the next line of the reply `r` (line->p NULL: to the
 * first); false after the last. */
static bool rd_next_line(const redisReply *r, rd_span *line)
{
    const char *end = r->str + r->len, *p, *nl;

    p = line->p == NULL ? r->str : line->p + line->len + 1;
    if (p >= end)
        return false;
    nl = memchr(p, '\n', (size_t)(end - p));
    line->p = p;
    line->len = nl != NULL ? (size_t)(nl - p) : (size_t)(end - p);
    return true;
}

/* Whether the comma-separated flags `f` hold `flag`. */
static bool rd_has_flag(rd_span f, const char *flag)
{
    size_t n = strlen(flag);

    for (const char *p = f.p, *end = f.p + f.len; p < end;) {
        const char *comma = memchr(p, ',', (size_t)(end - p));
        size_t len = comma != NULL ? (size_t)(comma - p) : (size_t)(end - p);

        if (len == n && memcmp(p, flag, n) == 0)
            return true;
        p += len + 1;
    }
    return false;
}

/* Adds `n` to the sorted set out[0..*count). */
static void rd_importer_add(rd_node **out, size_t *count, rd_node *n)
{
    uint64_t tag = rd_node_tag(n);
    size_t at = 0;

    while (at < *count && rd_node_tag(out[at]) < tag)
        at++;
    if ((at < *count && out[at] == n) || *count == RD_NODES_MAX)
        return;
    memmove(out + at + 1, out + at, (*count - at) * sizeof *out);
    out[at] = n;
    (*count)++;
}

/* The node whose id is `id`, from its line's "ip:port@cport[,host]"
 * ("" ip: the node asked, `asked`). NULL if the reply has no such line. */
static rd_node *rd_node_of_id(rd_store *s, const redisReply *r, rd_span id,
                              const char *asked)
{
    rd_span line = { NULL, 0 }, f, addr;

    while (rd_next_line(r, &line)) {
        const char *cut, *colon = NULL;
        uint64_t port;

        if (!rd_field(line, 0, &f) || f.len != id.len ||
            memcmp(f.p, id.p, id.len) != 0 || !rd_field(line, 1, &addr))
            continue;
        cut = memchr(addr.p, '@', addr.len);
        if (cut == NULL)
            cut = addr.p + addr.len;
        for (const char *p = addr.p; p < cut; p++)
            if (*p == ':')
                colon = p;
        if (colon == NULL ||
            !rd_u64(colon + 1, (size_t)(cut - colon - 1), &port) ||
            port == 0 || port > 65535)
            return NULL;
        if (colon == addr.p)
            return rd_cluster_node(s, asked, strlen(asked), (int)port);
        return rd_cluster_node(s, addr.p, (size_t)(colon - addr.p),
                               (int)port);
    }
    return NULL;
}

/* The targets of the migrations a master's CLUSTER NODES reply shows. */
static void rd_targets_of(rd_store *s, const redisReply *r,
                          const char *asked, rd_node **out, size_t *count)
{
    rd_span line = { NULL, 0 }, f;

    while (rd_next_line(r, &line)) {
        if (!rd_field(line, 2, &f) || !rd_has_flag(f, "myself"))
            continue;
        /* Fields 8 on: slots, ranges, and "[slot->-id]" or "[slot-<-id]". */
        for (int i = 8; rd_field(line, i, &f); i++) {
            const char *arrow = f.len > 0 && f.p[0] == '['
                                    ? memchr(f.p, '>', f.len) : NULL;
            rd_span id;
            rd_node *n;

            if (arrow == NULL || arrow + 2 >= f.p + f.len ||
                arrow[1] != '-' || f.p[f.len - 1] != ']')
                continue;
            id.p = arrow + 2;
            id.len = (size_t)(f.p + f.len - 1 - id.p);
            n = rd_node_of_id(s, r, id, asked);
            if (n != NULL)
                rd_importer_add(out, count, n);
        }
        return;
    }
}

int rd_cluster_importers(rd_store *s, rd_node **out, size_t *n)
{
    const char *argv[2] = { "CLUSTER", "NODES" };
    size_t lens[2] = { 7, 5 }, n_masters = 0;
    rd_master *m = malloc(RD_NODES_MAX * sizeof *m);
    uint32_t fp;
    int rc;

    *n = 0;
    if (m == NULL)
        return kvstore_set_error(KVSTORE_ENOMEM, "redis: out of memory");
    rc = rd_cluster_masters(s, m, &n_masters, &fp);
    for (size_t i = 0; i < n_masters && rc == KVSTORE_OK; i++) {
        redisReply *r = NULL;

        rc = rd_call_on(s, &m[i].node->pool, RD_RETRY, 2, argv, lens, &r);
        if (rc != KVSTORE_OK)
            break;
        if (r->type == REDIS_REPLY_STRING)
            rd_targets_of(s, r, m[i].node->pool.host, out, n);
        else
            rc = rd_unexpected(s, "CLUSTER NODES", r);
        rd_reply_free(r);
    }
    free(m);
    return rc;
}

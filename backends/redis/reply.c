/*
 * Redis backend: our own hiredis reply objects.
 *
 * hiredis copies every bulk string into a malloc'd buffer; handing a
 * value to the caller would then need a second copy into kvstore_malloc
 * memory (100 extra allocations and copies per MGET of 100, and twice the
 * memory for a 512 MiB value). So every connection's reader builds
 * replies with these functions, which put string payloads in
 * kvstore_malloc memory (NUL-terminated) that rd_reply_take() can hand
 * over as is. The layout is hiredis' public redisReply; such replies are
 * freed with rd_reply_free(), never freeReplyObject().
 *
 * SPDX-License-Identifier: MIT
 */
#include <stdlib.h>
#include <string.h>

#include "redis.h"

static void rd_attach(const redisReadTask *task, redisReply *r)
{
    if (task->parent) {
        redisReply *parent = task->parent->obj;
        parent->element[task->idx] = r;
    }
}

static void *rd_create_string(const redisReadTask *task, char *str,
                              size_t len)
{
    redisReply *r = calloc(1, sizeof *r);

    if (r == NULL)
        return NULL;
    r->str = kvstore_malloc(len + 1);
    if (r->str == NULL) {
        free(r);
        return NULL;
    }
    memcpy(r->str, str, len);
    r->str[len] = '\0';
    r->len = len;
    r->type = task->type;
    rd_attach(task, r);
    return r;
}

static void *rd_create_array(const redisReadTask *task, int elements)
{
    redisReply *r = calloc(1, sizeof *r);

    if (r == NULL)
        return NULL;
    if (elements > 0) {
        r->element = calloc((size_t)elements, sizeof *r->element);
        if (r->element == NULL) {
            free(r);
            return NULL;
        }
    }
    r->elements = elements > 0 ? (size_t)elements : 0;
    r->type = REDIS_REPLY_ARRAY;
    rd_attach(task, r);
    return r;
}

static void *rd_create_integer(const redisReadTask *task, long long value)
{
    redisReply *r = calloc(1, sizeof *r);

    if (r == NULL)
        return NULL;
    r->type = REDIS_REPLY_INTEGER;
    r->integer = value;
    rd_attach(task, r);
    return r;
}

static void *rd_create_nil(const redisReadTask *task)
{
    redisReply *r = calloc(1, sizeof *r);

    if (r == NULL)
        return NULL;
    r->type = REDIS_REPLY_NIL;
    rd_attach(task, r);
    return r;
}

void rd_reply_free(void *reply)
{
    redisReply *r = reply;

    if (r == NULL)
        return;
    if (r->type == REDIS_REPLY_ARRAY) {
        for (size_t i = 0; i < r->elements; i++)
            rd_reply_free(r->element[i]);
        free(r->element);
    } else {
        kvstore_free(r->str);
    }
    free(r);
}

void *rd_reply_take(redisReply *r)
{
    void *s = r->str;

    r->str = NULL;
    return s;
}

/* hiredis 0.14 declares the table non-const; it is never written. */
static redisReplyObjectFunctions rd_reply_fns = {
    rd_create_string, rd_create_array, rd_create_integer, rd_create_nil,
    rd_reply_free,
};

redisReader *rd_reader_new(void)
{
    return redisReaderCreateWithFunctions(&rd_reply_fns);
}

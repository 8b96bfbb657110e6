/*
 * Redis backend: watch through keyspace notifications.
 *
 * Each watch owns one connection (never from the pool: a subscribed
 * connection can run no other command) subscribed with PSUBSCRIBE to
 * "__keyspace@<db>__:B:<prefix>*" (glob-escaped), and one thread that
 * reads it. Notifications carry no value, so for a set the thread reads
 * the key through the pool and hands the callback the value read after
 * the event (a later write may already show; if the key is already gone
 * the value is NULL, and its delete follows). Notifications must be on,
 * and the server is often shared, so its configuration is not ours to
 * change unasked: watch_start reads notify-keyspace-events and, if K, g or
 * $ is missing, fails with KVSTORE_ENOTSUP naming the setting, unless the
 * URI says ?watch_config=auto, which turns the missing flags on with
 * CONFIG SET (for every client of the server). When the subscription breaks
 * the thread reconnects with backoff; events in between are lost, as
 * Redis Pub/Sub does not keep them.
 *
 * SPDX-License-Identifier: MIT
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "redis.h"

#define RD_NOTIFY_NEEDED "Kg$"   /* keyspace channel, generic, string */
#define RD_NOTIFY_ADDED "Kg$xe"  /* what we turn on: also expiry, eviction */
#define RD_BACKOFF_MIN_MS 50
#define RD_BACKOFF_MAX_MS 2000

/* Owned by the core's kvstore_watch; freed by rd_watch_stop. */
typedef struct rd_watch {
    rd_bucket *b;
    char prefix[KVSTORE_KEY_MAX + 1];
    size_t prefix_len;
    kvstore_watch_fn fn;
    void *payload;
    char chan[48 + sizeof ((rd_bucket *)0)->prefix]; /* "__keyspace@N__:B:" */
    size_t chan_len;
    char pattern[2 * (48 + RD_KEYBUF) + 2];
    size_t pattern_len;
    rd_link *sub;         /* used only by the thread once it runs */
    int stop[2];          /* watch_stop writes to stop[1] */
    atomic_bool stopping;
    pthread_t thread;
} rd_watch;

static bool rd_flags_have(const char *flags, const char *need)
{
    /* 'A' is the alias for every type class, g and $ included. */
    for (; *need; need++) {
        bool typed = *need != 'K' && *need != 'E';
        if (strchr(flags, *need) == NULL && !(typed && strchr(flags, 'A')))
            return false;
    }
    return true;
}

static int rd_notify_refused(const rd_store *s, const char *step,
                             const redisReply *r)
{
    char text[120];
    size_t n = r && r->str ? (r->len < sizeof text - 1 ? r->len
                                                       : sizeof text - 1)
                           : 0;

    for (size_t i = 0; i < n; i++)
        text[i] = (r->str[i] < 0x20 || r->str[i] == 0x7F) ? '?' : r->str[i];
    text[n] = '\0';
    return kvstore_set_error(KVSTORE_ENOTSUP, "redis: watching needs "
                             "keyspace notifications, and %s on %s was "
                             "refused (%s); configure the server with "
                             "notify-keyspace-events including K, g and $ "
                             "(e.g. 'notify-keyspace-events " RD_NOTIFY_ADDED
                             "' in redis.conf)", step, s->cfg.label, text);
}

/* Makes sure notify-keyspace-events has K, g and $; a server restart
 * forgets a CONFIG SET, so the thread calls this again on reconnect. */
static int rd_notify_ensure(rd_store *s)
{
    const char *get[3] = { "CONFIG", "GET", "notify-keyspace-events" };
    size_t get_lens[3] = { 6, 3, 22 };
    char flags[64 + sizeof RD_NOTIFY_ADDED];
    redisReply *r = NULL;
    size_t n;
    int rc = rd_call(s, RD_RETRY | RD_RAW_ERRORS, 3, get, get_lens, &r);

    if (rc != KVSTORE_OK)
        return rc;
    if (r->type == REDIS_REPLY_ERROR) {
        rc = rd_notify_refused(s, "CONFIG GET", r);
        rd_reply_free(r);
        return rc;
    }
    if (r->type != REDIS_REPLY_ARRAY || r->elements != 2 ||
        r->element[1]->type != REDIS_REPLY_STRING ||
        r->element[1]->len >= 64) {
        rc = rd_unexpected(s, "CONFIG GET", r);
        rd_reply_free(r);
        return rc;
    }
    n = r->element[1]->len;
    memcpy(flags, r->element[1]->str, n);
    flags[n] = '\0';
    rd_reply_free(r);
    if (rd_flags_have(flags, RD_NOTIFY_NEEDED))
        return KVSTORE_OK;
    if (!s->cfg.watch_config_auto) {
        char shown[64];

        /* The server's own setting, shown without control bytes. */
        for (size_t i = 0; i <= n; i++)
            shown[i] = (i < n && ((unsigned char)flags[i] < 0x20 ||
                                  flags[i] == 0x7F)) ? '?' : flags[i];
        return kvstore_set_error(KVSTORE_ENOTSUP, "redis: watching needs "
                                 "keyspace notifications, and %s has "
                                 "notify-keyspace-events '%s', without all "
                                 "of K, g and $: enable them on the server "
                                 "(CONFIG SET notify-keyspace-events "
                                 RD_NOTIFY_ADDED ", or "
                                 "'notify-keyspace-events " RD_NOTIFY_ADDED
                                 "' in redis.conf), or add "
                                 "?watch_config=auto to the URI to let "
                                 "kvstore set it", s->cfg.label, shown);
    }

    for (const char *f = RD_NOTIFY_ADDED; *f; f++) {
        char one[2] = { *f, '\0' };
        if (!rd_flags_have(flags, one)) {
            flags[n++] = *f;
            flags[n] = '\0';
        }
    }
    {
        const char *set[4] = { "CONFIG", "SET", "notify-keyspace-events",
                               flags };
        size_t set_lens[4] = { 6, 3, 22, n };

        rc = rd_call(s, RD_RETRY | RD_RAW_ERRORS, 4, set, set_lens, &r);
        if (rc != KVSTORE_OK)
            return rc;
        if (r->type == REDIS_REPLY_ERROR)
            rc = rd_notify_refused(s, "CONFIG SET", r);
        rd_reply_free(r);
    }
    return rc;
}

/* Connects and subscribes; on success w->sub is set. */
static int rd_watch_subscribe(rd_watch *w)
{
    rd_store *s = w->b->store;
    const char *argv[2] = { "PSUBSCRIBE", w->pattern };
    size_t lens[2] = { 10, w->pattern_len };
    rd_link *c = NULL;
    redisReply *r = NULL;
    int rc = rd_notify_ensure(s);

    if (rc == KVSTORE_OK)
        rc = rd_connect(&s->cfg, &c);
    if (rc != KVSTORE_OK)
        return rc;
    rc = rd_command(&s->cfg, c, 2, argv, lens, &r);
    if (rc == KVSTORE_OK) {
        if (r->type == REDIS_REPLY_ERROR)
            rc = rd_reply_error(s, "PSUBSCRIBE", r);
        else if (r->type != REDIS_REPLY_ARRAY || r->elements != 3 ||
                 r->element[0]->type != REDIS_REPLY_STRING ||
                 strcmp(r->element[0]->str, "psubscribe") != 0)
            rc = rd_unexpected(s, "PSUBSCRIBE", r);
        rd_reply_free(r);
    }
    if (rc != KVSTORE_OK) {
        rd_link_close(c);
        return rc;
    }
    w->sub = c;
    return KVSTORE_OK;
}

/* 1: the key now has a value; 2: it is gone; 0: not a change of value. */
static int rd_event_kind(const char *ev, size_t len)
{
    static const char *const set[] = { "set", "setrange", "append",
                                       "incrby", "incrbyfloat", "rename_to",
                                       "copy_to", "restore", "move_to",
                                       NULL };
    static const char *const del[] = { "del", "expired", "evicted",
                                       "rename_from", "move_from", NULL };

    for (int i = 0; set[i]; i++)
        if (strlen(set[i]) == len && memcmp(set[i], ev, len) == 0)
            return KVSTORE_EVENT_SET;
    for (int i = 0; del[i]; i++)
        if (strlen(del[i]) == len && memcmp(del[i], ev, len) == 0)
            return KVSTORE_EVENT_DELETE;
    return 0;
}

static void rd_watch_deliver(rd_watch *w, const redisReply *r)
{
    const redisReply *chan, *ev;
    char key[KVSTORE_KEY_MAX + 1];
    size_t klen;
    int kind;

    if (r->type != REDIS_REPLY_ARRAY || r->elements != 4 ||
        r->element[0]->type != REDIS_REPLY_STRING ||
        strcmp(r->element[0]->str, "pmessage") != 0)
        return;
    chan = r->element[2];
    ev = r->element[3];
    if (chan->type != REDIS_REPLY_STRING || ev->type != REDIS_REPLY_STRING ||
        chan->len <= w->chan_len ||
        memcmp(chan->str, w->chan, w->chan_len) != 0)
        return;
    klen = chan->len - w->chan_len;
    /* Skips the marker "B:" (empty key) and keys the contract cannot
     * name, and checks the prefix again rather than trust the pattern. */
    if (!rd_key_usable(chan->str + w->chan_len, klen) ||
        klen < w->prefix_len ||
        memcmp(chan->str + w->chan_len, w->prefix, w->prefix_len) != 0)
        return;
    kind = rd_event_kind(ev->str, ev->len);
    if (kind == 0 || atomic_load(&w->stopping))
        return;
    memcpy(key, chan->str + w->chan_len, klen);
    key[klen] = '\0';
    if (kind == KVSTORE_EVENT_DELETE) {
        w->fn(w->payload, KVSTORE_EVENT_DELETE, key, NULL, 0);
    } else {
        void *value = NULL;
        size_t len = 0;

        int rc = rd_get(w->b, key, &value, &len);

        /* Gone already (its delete event follows): still one event per
         * write, with a NULL value, which an empty value never is. A
         * read that fails (server gone) drops the event, like Pub/Sub
         * drops events during an outage. */
        if ((rc == KVSTORE_OK || rc == KVSTORE_NOTFOUND) &&
            !atomic_load(&w->stopping))
            w->fn(w->payload, KVSTORE_EVENT_SET, key, value, len);
        kvstore_free(value);
    }
}

/* Sleeps up to `ms`; true if watch_stop asked us to end. */
static bool rd_watch_sleep(rd_watch *w, int ms)
{
    struct pollfd p = { .fd = w->stop[0], .events = POLLIN };

    return poll(&p, 1, ms) > 0 || atomic_load(&w->stopping);
}

static void *rd_watch_main(void *arg)
{
    rd_watch *w = arg;
    int backoff = RD_BACKOFF_MIN_MS;

    while (!atomic_load(&w->stopping)) {
        struct pollfd p[2];
        rd_fail f;

        if (w->sub == NULL) {
            if (rd_watch_sleep(w, backoff))
                break;
            if (rd_watch_subscribe(w) != KVSTORE_OK) {
                backoff = backoff * 2 > RD_BACKOFF_MAX_MS ? RD_BACKOFF_MAX_MS
                                                          : backoff * 2;
                continue;
            }
            backoff = RD_BACKOFF_MIN_MS;
        }
        /* Deliver what the reader already holds first: a read may have
         * brought more than one message (or the PSUBSCRIBE reply and the
         * first events), and poll() does not see buffered data. */
        for (;;) {
            void *reply = NULL;

            if (rd_link_buffered(w->sub, &reply, &f) != REDIS_OK ||
                reply == NULL)
                break;
            rd_watch_deliver(w, reply);
            rd_reply_free(reply);
        }
        if (w->sub->broken) {
            rd_link_close(w->sub);
            w->sub = NULL;
            continue;
        }
        p[0] = (struct pollfd){ .fd = w->stop[0], .events = POLLIN };
        p[1] = (struct pollfd){ .fd = w->sub->fd, .events = POLLIN };
        if (poll(p, 2, -1) < 0) {
            if (errno == EINTR)
                continue;
            break;
        }
        if (p[0].revents)
            break;
        /* poll said readable, so this read does not block (over TLS, at
         * most until the rest of a record the server is sending). */
        if (p[1].revents != 0 && rd_link_fill(w->sub, &f) != REDIS_OK) {
            rd_link_close(w->sub);
            w->sub = NULL;
        }
    }
    return NULL;
}

int rd_watch_start(void **out, void *bucket, const char *prefix,
                   kvstore_watch_fn fn, void *payload)
{
    rd_bucket *b = bucket;
    rd_watch *w = calloc(1, sizeof *w);
    int rc;

    *out = NULL;
    if (w == NULL)
        return kvstore_set_error(KVSTORE_ENOMEM, "redis: out of memory");
    w->b = b;
    w->fn = fn;
    w->payload = payload;
    w->prefix_len = strlen(prefix);
    memcpy(w->prefix, prefix, w->prefix_len + 1);
    w->chan_len = (size_t)snprintf(w->chan, sizeof w->chan,
                                   "__keyspace@%ld__:%s", b->store->cfg.db,
                                   b->prefix);
    w->pattern_len = rd_glob_escape(w->pattern, 0, w->chan, w->chan_len);
    w->pattern_len = rd_glob_escape(w->pattern, w->pattern_len, prefix,
                                    w->prefix_len);
    w->pattern[w->pattern_len++] = '*';
    w->pattern[w->pattern_len] = '\0';
    atomic_init(&w->stopping, false);
    w->stop[0] = w->stop[1] = -1;

    /* Subscribed before we return: every later write is seen. */
    rc = rd_watch_subscribe(w);
    if (rc == KVSTORE_OK && pipe2(w->stop, O_CLOEXEC) != 0)
        rc = kvstore_set_error(KVSTORE_EIO, "redis: pipe: %s",
                               strerror(errno));
    if (rc == KVSTORE_OK && pthread_create(&w->thread, NULL, rd_watch_main,
                                           w) != 0)
        rc = kvstore_set_error(KVSTORE_EIO, "redis: cannot start the "
                               "watch thread");
    if (rc != KVSTORE_OK) {
        if (w->stop[0] >= 0) {
            close(w->stop[0]);
            close(w->stop[1]);
        }
        rd_link_close(w->sub);
        free(w);
        return rc;
    }
    *out = w;
    return KVSTORE_OK;
}

void rd_watch_stop(void *watch)
{
    rd_watch *w = watch;
    ssize_t n;

    if (w == NULL)
        return;
    atomic_store(&w->stopping, true);
    do
        n = write(w->stop[1], "x", 1);
    while (n < 0 && errno == EINTR);
    pthread_join(w->thread, NULL);
    close(w->stop[0]);
    close(w->stop[1]);
    rd_link_close(w->sub);
    free(w);
}

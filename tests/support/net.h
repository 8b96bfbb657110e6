/*
 * Checks shared by the security tests of the network modules
 * (tests/redis/test_security.c, tests/nats/test_security.c), each run
 * against a real server started by that module's test harness. The
 * cursor envelopes (net_bind, net_wrap, net_unwrap) also serve every test
 * that forges cursors (tests/conformance/test_forged_cursors.c,
 * tests/lmdb/test_cursor.c, tests/sqlite/test_cursor.c):
 *  - forged cursors (the re-wrap of a real cursor of bucket "theirs" for
 *    bucket "mine" is a conformance test, test_list_cursor_rewrapped, on
 *    every backend; these helpers serve the backends' own forgeries): a
 *    cursor of "theirs" re-wrapped for "mine" (the envelope's checksum is public: version 1 tables
 *    wrap their states with kvstore_cursor_encode, "c1"; for version 2
 *    tables the core does, "c2", bound to backend, store and bucket, and
 *    a test names that binding with net_bind) must give EINVAL
 *    or pages whose keys are keys of "mine", or names the caller itself
 *    put in the state it forged, never a key only "theirs" holds;
 *  - limits: a value length of SIZE_MAX with a 16-byte buffer is ETOOBIG
 *    naming the limit, before anything reads the buffer (ASan would see
 *    it), for set, set_many and cas_swap;
 *  - credentials: a password in a URI never shows in kvstore_errmsg(),
 *    and the CLI masks it in /proc/PID/cmdline yet still uses it.
 *
 * SPDX-License-Identifier: MIT
 */
#ifndef KVS_TEST_SUPPORT_NET_H
#define KVS_TEST_SUPPORT_NET_H

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <time.h>

#include <kvstore/backend.h>

#include "support.h"

#define NET_NKEYS 50

static inline void net_fill(kvstore_bucket *b, const char *tag)
{
    char key[32];

    for (int i = 0; i < NET_NKEYS; i++) {
        snprintf(key, sizeof key, "%s/%02d", tag, i);
        set_str(b, key, tag);
    }
}

/* The binding of version 2 cursors: backend name and store identity
 * (src/store.c store_identity: scheme ":" ["//" hosts] path, no
 * credentials, no parameters). NULL backend: version 1 envelopes. */
typedef struct net_binding {
    char backend[64];
    char id[4400]; /* a file store's path: up to PATH_MAX */
} net_binding;

static inline net_binding *net_bound(void)
{
    static net_binding b;
    return &b;
}

/* Makes the helpers below speak the version 2 envelope of `backend` and
 * store identity `id`; NULL goes back to version 1. */
static inline void net_bind(const char *backend, const char *id)
{
    net_binding *b = net_bound();
    size_t blen = backend ? strlen(backend) : 0, ilen = id ? strlen(id) : 0;

    /* A cut name would forge cursors that fail for the wrong reason. */
    assert_true(blen < sizeof b->backend && ilen < sizeof b->id);
    memcpy(b->backend, backend ? backend : "", blen + 1);
    memcpy(b->id, id ? id : "", ilen + 1);
}

/* Binds to the store `uri` opens (src/store.c store_identity): the
 * backend named by the scheme, and the URI without userinfo or
 * parameters. */
static inline void net_bind_uri(const char *uri)
{
    char scheme[64], id[4400];
    size_t slen = strcspn(uri, ":");
    const char *rest = uri + slen, *at;
    size_t restlen = strcspn(rest, "?");

    assert_true(slen < sizeof scheme && rest[0] == ':');
    snprintf(scheme, sizeof scheme, "%.*s", (int)slen, uri);
    if (strncmp(rest, "://", 3) == 0 &&
        (at = memchr(rest + 3, '@', strcspn(rest + 3, "/?"))) != NULL) {
        /* "scheme://user:pw@host/path": keep "scheme://" and "host/path" */
        assert_true(slen + 3 + restlen < sizeof id);
        snprintf(id, sizeof id, "%s://%.*s", scheme,
                 (int)(restlen - (size_t)(at + 1 - rest)), at + 1);
    } else {
        assert_true(slen + restlen < sizeof id);
        snprintf(id, sizeof id, "%s%.*s", scheme, (int)restlen, rest);
    }
    net_bind(scheme, id);
}

static inline uint64_t net_fnv(uint64_t h, const void *p, size_t len)
{
    for (size_t i = 0; i < len; i++) {
        h ^= ((const unsigned char *)p)[i];
        h *= 0x100000001b3ULL;
    }
    return h;
}

/* The "c2" checksum of src/cursor.c, written again from its comment:
 * FNV-1a 64 over backend, store identity and bucket (each with its NUL),
 * then the state. */
static inline uint64_t net_c2_sum(const char *bucket, const void *state,
                                  size_t len)
{
    const net_binding *b = net_bound();
    uint64_t h = 0xcbf29ce484222325ULL;

    h = net_fnv(h, b->backend, strlen(b->backend) + 1);
    h = net_fnv(h, b->id, strlen(b->id) + 1);
    h = net_fnv(h, bucket, strlen(bucket) + 1);
    return net_fnv(h, state, len);
}

/* Wraps `len` bytes of state for `bucket` in the envelope of the bound
 * table version; malloc'd. */
static inline char *net_wrap(const char *bucket, const void *state,
                             size_t len)
{
    char *out = NULL;

    if (net_bound()->backend[0] == '\0') {
        assert_int_equal(kvstore_cursor_encode(&out, bucket, state, len),
                         KVSTORE_OK);
        char *copy = strdup(out);
        kvstore_free(out);
        return copy;
    }
    out = malloc(2 + 2 * len + 1 + 16 + 1);
    assert_non_null(out);
    char *p = out + sprintf(out, "c2");
    for (size_t i = 0; i < len; i++)
        p += sprintf(p, "%02x", ((const unsigned char *)state)[i]);
    sprintf(p, ".%016llx",
            (unsigned long long)net_c2_sum(bucket, state, len));
    return out;
}

/* Unwraps a cursor of `bucket` made by net_wrap or the library. */
static inline int net_unwrap(const char *cursor, const char *bucket,
                             unsigned char *buf, size_t cap, size_t *len)
{
    size_t clen = strlen(cursor), n;
    unsigned long long sum = 0;

    if (net_bound()->backend[0] == '\0')
        return kvstore_cursor_decode(cursor, bucket, buf, cap, len);
    if (clen < 2 + 1 + 16 || strncmp(cursor, "c2", 2) != 0 ||
        (clen - 2 - 1 - 16) % 2 != 0 || cursor[clen - 17] != '.')
        return KVSTORE_EINVAL;
    n = (clen - 2 - 1 - 16) / 2;
    if (n > cap)
        return KVSTORE_EINVAL;
    for (size_t i = 0; i < n; i++) {
        unsigned int byte;
        if (sscanf(cursor + 2 + 2 * i, "%2x", &byte) != 1)
            return KVSTORE_EINVAL;
        buf[i] = (unsigned char)byte;
    }
    if (sscanf(cursor + clen - 16, "%16llx", &sum) != 1 ||
        sum != net_c2_sum(bucket, buf, n))
        return KVSTORE_EINVAL;
    *len = n;
    return KVSTORE_OK;
}

/* True if `key` is one of the names in the state bytes, separated by NUL
 * (version 1 redis), 0xFF (version 2 redis: never in UTF-8) or ' '. */
static inline bool net_in_state(const unsigned char *st, size_t len,
                                const char *key)
{
    size_t kl = strlen(key);

    for (size_t at = 0; at + kl <= len; at++)
        if (memcmp(st + at, key, kl) == 0 &&
            (at == 0 || st[at - 1] == '\0' || st[at - 1] == 0xFF ||
             st[at - 1] == ' ' ||
             at == 1 + 32 /* nats: 'W' + token + last key */) &&
            (at + kl == len || st[at + kl] == '\0' || st[at + kl] == 0xFF))
            return true;
    return false;
}

/* What a net_walk callback checks and counts. */
typedef struct net_walk_ctx {
    const char *bucket, *tag;
    unsigned char st[KVSTORE_CURSOR_STATE_MAX];
    size_t st_len;
    int total;
} net_walk_ctx;

static inline void net_walk_key(void *arg, const char *k)
{
    net_walk_ctx *w = arg;
    size_t tlen = strlen(w->tag);

    if (strncmp(k, w->tag, tlen) == 0 && k[tlen] == '/')
        w->total++;
    else if (!net_in_state(w->st, w->st_len, k))
        fail_msg("key '%s' of another bucket listed in '%s'", k, w->bucket);
}

/* Lists `b` from `cursor` (a cursor of `b`'s name) to the end, limit 7:
 * every key must start with "tag/" unless the state of `cursor` carries
 * it. Returns the number of keys with "tag/", or -1 if the first call was
 * refused with EINVAL. */
static inline int net_walk(kvstore_bucket *b, const char *bucket,
                           const char *prefix, const char *cursor,
                           const char *tag)
{
    net_walk_ctx w = { .bucket = bucket, .tag = tag };

    if (cursor)
        assert_int_equal(net_unwrap(cursor, bucket, w.st, sizeof w.st,
                                    &w.st_len), KVSTORE_OK);
    return walk_foreign(b, prefix, cursor, 7, net_walk_key, &w) < 0
               ? -1 : w.total;
}

/* The cursor of the first page (limit 7) of a walk of `b`. */
static inline char *net_first_cursor(kvstore_bucket *b)
{
    kvstore_keys *page = NULL;

    assert_int_equal(kvstore_list_keys(b, NULL, NULL, 7, &page), KVSTORE_OK);
    assert_non_null(page->cursor);
    char *c = strdup(page->cursor);
    kvstore_keys_free(page);
    return c;
}

/* SIZE_MAX value lengths with a 16-byte buffer, in bucket "huge" of a
 * store of `uri`: the message names `limit`, and nothing of a refused
 * batch is written. */
static inline void net_huge_lengths(const char *uri, const char *limit)
{
    kvstore_store *s = open_uri(uri);
    kvstore_bucket *b = open_bucket(s, "huge");
    static const char buf[16] = "0123456789abcde";
    const char *keys[2] = { "small", "huge" };
    const void *vals[2] = { buf, buf };
    size_t lens[2] = { 1, SIZE_MAX };
    kvstore_cas *cas = NULL;
    void *v = NULL;
    size_t len = 0;

    assert_int_equal(kvstore_set(b, "huge", buf, SIZE_MAX), KVSTORE_ETOOBIG);
    if (strstr(kvstore_errmsg(), limit) == NULL)
        fail_msg("message does not name the limit %s: %s", limit,
                 kvstore_errmsg());
    assert_int_equal(kvstore_set_many(b, keys, vals, lens, 2),
                     KVSTORE_ETOOBIG);
    assert_int_equal(kvstore_get(b, "small", &v, &len), KVSTORE_NOTFOUND);
    assert_int_equal(kvstore_cas_open(&cas, b, "huge"), KVSTORE_OK);
    assert_int_equal(kvstore_cas_swap(cas, buf, SIZE_MAX), KVSTORE_ETOOBIG);
    kvstore_cas_free(cas);
    assert_int_equal(kvstore_get(b, "huge", &v, &len), KVSTORE_NOTFOUND);
    kvstore_bucket_close(b);
    kvstore_close(s);
}

/* Neither `secret` nor `encoded` (its %-encoded form, or NULL) may show. */
static inline void net_no_secret(const char *text, const char *secret,
                                 const char *encoded, const char *what)
{
    if (strstr(text, secret) || (encoded && strstr(text, encoded)))
        fail_msg("%s shows the password: %s", what, text);
}

/* kvstore_open(uri) fails with `want` and no secret in the message. */
static inline void net_open_fails(const char *uri, int want,
                                  const char *secret, const char *encoded)
{
    open_fails(uri, want);
    net_no_secret(kvstore_errmsg(), secret, encoded, uri);
}

/* Waits (up to 10 s) until `pid` is in state `want` ('T' stopped, or
 * anything but 'T' when `want` is 0): kill() returns before every thread
 * of the target has stopped, and a test must not race the stop. */
static inline bool net_wait_state(pid_t pid, char want)
{
    char path[64], buf[512];

    snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
    for (int tries = 0; tries < 1000; tries++) {
        read_small(path, buf, sizeof buf);
        const char *rp = strrchr(buf, ')');
        char st = rp && rp[1] == ' ' ? rp[2] : '?';
        if (want ? st == want : st != 'T')
            return true;
        struct timespec ts = { 0, 10 * 1000 * 1000 };
        nanosleep(&ts, NULL);
    }
    return false;
}

/* A server process stopped with SIGSTOP (a hung server): kvstore_open
 * of `uri` (which sets a short timeout) and a set through a bucket opened
 * before must fail within their timeouts, without the password in the
 * message. The server is resumed before anything is asserted, so a
 * failure does not leave it hung. */
static inline void net_hung_server(pid_t pid, const char *uri,
                                   const char *secret)
{
    char open_msg[1024], set_msg[1024];
    kvstore_store *s = NULL, *before = open_uri(uri);
    kvstore_bucket *b = open_bucket(before, "hung");

    kill(pid, SIGSTOP);
    bool stopped = net_wait_state(pid, 'T');
    int open_rc = kvstore_open(&s, uri);
    snprintf(open_msg, sizeof open_msg, "%s", kvstore_errmsg());
    int set_rc = kvstore_set(b, "k", "v", 1);
    snprintf(set_msg, sizeof set_msg, "%s", kvstore_errmsg());
    kill(pid, SIGCONT);
    bool resumed = net_wait_state(pid, 0);
    if (open_rc == KVSTORE_OK)
        kvstore_close(s);
    assert_true(stopped && resumed);
    if (open_rc != KVSTORE_EUNAVAILABLE)
        fail_msg("open on a hung server: %d (%s)", open_rc, open_msg);
    assert_true(set_rc == KVSTORE_EUNAVAILABLE || set_rc == KVSTORE_EUNCERTAIN);
    net_no_secret(open_msg, secret, NULL, "open on a hung server");
    net_no_secret(set_msg, secret, NULL, "set on a hung server");
    kvstore_bucket_close(b);
    kvstore_close(before);
}

/* Runs `cli set climask - -b cli --store URI` with the value on a pipe:
 * the password must disappear from the process's command line (ps) while
 * it waits for stdin, the CLI must succeed, and the value must then be
 * stored: the CLI used the password it masked away (it kept a private
 * copy). `host` is a part of the URI after the userinfo that stays
 * visible. */
static inline void net_cli_masks(const char *cli, const char *uri,
                                 const char *secret, const char *host)
{
    char *const argv[] = { "kvstore", "set", "climask", "-", "-b", "cli",
                           "--store", (char *)uri, NULL };

    assert_int_equal(run_masked(cli, argv, "from-cli", host, secret), 0);
    kvstore_store *s = open_uri(uri);
    kvstore_bucket *b = open_bucket(s, "cli");
    expect_str(b, "climask", "from-cli");
    kvstore_bucket_close(b);
    kvstore_close(s);
}

#endif /* KVS_TEST_SUPPORT_NET_H */

/*
 * Redis backend (module kvstore-redis.so): shared declarations.
 *
 * Layout: bucket B, key K live at the Redis string key "B:K"; the bucket
 * marker is the key "B:" (K is never empty, so it cannot collide).
 * Everything here is internal to the module (hidden visibility); the
 * module is written only against <kvstore/backend.h> and hiredis 0.14.
 *
 * Files, by role as in every backend: backend.c (the tables), bucket.c
 * (opening stores and buckets), store.c (single keys), list.c (+ cursor.c,
 * its state parser, and glob.c, SCAN patterns), batch.c, atomics.c,
 * watch.c; conn.c is the connection pool and the fault rules, link.c one
 * connection's socket (plain TCP, unix, or TLS through tls.c), and reply.c
 * the hiredis reply objects.
 * redis+cluster adds crc16.c (key slots), cluster.c (slot map, routing,
 * redirections, failover), cluster_batch.c, cluster_list.c and
 * cluster_watch.c.
 *
 * SPDX-License-Identifier: MIT
 */
#ifndef KVSTORE_REDIS_REDIS_H
#define KVSTORE_REDIS_REDIS_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <hiredis/hiredis.h>
#include <kvstore/backend.h>
#include <openssl/ssl.h>

/* Redis refuses bulk strings above proto-max-bulk-len (512 MiB by
 * default); we refuse them first, with a message, instead of having the
 * server drop the connection. */
#define RD_VALUE_MAX ((size_t)512 * 1024 * 1024)
#define RD_VALUE_MAX_TEXT "512 MiB"

#define RD_DEFAULT_TIMEOUT_MS 5000
#define RD_DEFAULT_POOL 4
#define RD_POOL_MAX 256

/* "B:" + key + NUL */
#define RD_KEYBUF (KVSTORE_BUCKET_NAME_MAX + 1 + KVSTORE_KEY_MAX + 1)

/* The bucket marker's value: self-describing for redis-cli users. */
#define RD_MARKER_VALUE "kvstore bucket"

typedef struct rd_sentinel rd_sentinel;  /* sentinel.c */

/* Connection settings parsed from the URI. Owned by rd_store. */
typedef struct rd_config {
    bool unix_socket;
    bool cluster;    /* redis+cluster: the seeds are in rd_cluster */
    char *host;      /* TCP host without brackets; NULL for unix */
    int port;
    char *path;      /* unix socket path; NULL for TCP */
    char *user;      /* ACL user, NULL for none (AUTH password alone) */
    char *password;  /* NULL for no AUTH; wiped before it is freed */
    long db;
    int timeout_ms;  /* connect timeout and per-command socket timeout */
    bool watch_config_auto; /* ?watch_config=auto: watch may CONFIG SET
                               notify-keyspace-events */
    char *label;     /* the redacted URI: the only form used in messages */
    SSL_CTX *tls;    /* rediss://: built once per store (tls.c); else NULL */
    char *tls_sni;   /* ?tls_sni=: the server name; NULL = the host */
    bool tls_insecure; /* ?tls_insecure=true: no certificate checks */
    /* redis+sentinel://: the sentinels and the master's address as they
     * last gave it (host and port above stay unused); else NULL. */
    rd_sentinel *sentinel;
    int wait_replicas;   /* ?wait=N: WAIT N after each write; 0 = none */
    int wait_timeout_ms; /* ?wait_timeout_ms= (< timeout_ms) */
} rd_config;

/* One connection: a socket, its TLS session if any, and the hiredis
 * reply parser fed from it. Used by one thread at a time. */
typedef struct rd_link {
    int fd;
    SSL *ssl;              /* NULL for plain TCP and unix sockets */
    redisReader *reader;
    bool broken;           /* an I/O or protocol error: never reuse */
    /* Set by the TLS BIO (tls.c): a byte left during the current write;
     * nonblocking reads and writes (handshake, liveness check). */
    bool wire_sent;
    bool dontwait;
    int sys_errno;         /* the BIO's last socket error (tls.c) */
    /* The server asked for a client certificate and we had none: the
     * likely reason if it then drops the connection (TLS 1.3 says so
     * only after our handshake is done). */
    bool cert_asked;
} rd_link;

/* How one exchange failed. */
typedef struct rd_fail {
    bool nomem;
    bool sent;       /* at least one byte reached the kernel */
    bool timed_out;
    char why[192];
} rd_fail;

/* A set of interchangeable connections. Each is either on the idle stack
 * or held by exactly one thread, so no hiredis context is ever used by
 * two threads at once. */
typedef struct rd_pool {
    pthread_mutex_t lock;     /* guards idle, n_idle, n_busy */
    pthread_cond_t released;  /* signalled when a slot frees up */
    rd_link **idle;           /* stack of idle connections, cap `max` */
    size_t n_idle;
    size_t n_busy;            /* handed out or being connected */
    size_t max;
    /* Where its connections go: NULL host = the store's configured (or
     * resolved) address; a cluster node's pool names the node. The host
     * is owned by the pool (strdup'd, freed by rd_pool_destroy). */
    char *host;
    int port;
} rd_pool;

/* One connection as handed out by rd_acquire(). */
typedef struct rd_conn {
    rd_link *ctx;
    rd_pool *from;
    bool reused;     /* taken from the idle stack: the server may have gone */
} rd_conn;

/* One node of a cluster: its own pools, as a plain store has. Created by
 * cluster.c when the slot map names it and kept until the store closes,
 * so a node pointer stays valid while the map changes. */
typedef struct rd_node {
    rd_pool pool;    /* commands; pool.host/port is the node */
    rd_pool pins;    /* CAS snapshots of keys this node serves */
} rd_node;

/* The slot map and nodes of a redis+cluster store (cluster.c). */
typedef struct rd_cluster rd_cluster;

typedef struct rd_store {
    rd_config cfg;
    rd_pool pool;    /* every command (`pool` option); unused by a cluster */
    rd_pool pins;    /* connections pinned by CAS snapshots (WATCH) */
    rd_cluster *cluster;  /* NULL unless the scheme is redis+cluster */
} rd_store;

/* At most this many CAS snapshots per store hold a connection at once
 * (beyond it, cas_open waits up to timeout_ms): a guest cannot open
 * unbounded connections. */
#define RD_PINS_MAX 64

typedef struct rd_bucket {
    rd_store *store;
    char name[KVSTORE_BUCKET_NAME_MAX + 1];
    char prefix[KVSTORE_BUCKET_NAME_MAX + 2];  /* "B:" */
    size_t prefix_len;
} rd_bucket;

/* ---- conn.c: connections, pool, one command with fault handling ---- */

/* Flags for rd_call(). */
enum {
    /* Reads (GET, EXISTS, MGET, SCAN, ...): retried once on a fresh
     * connection when a pooled one turns out to be dead. */
    RD_RETRY = 1 << 0,
    /* Every write (SET, DEL, MSET, multi-key DEL, INCRBY, the CAS EXEC):
     * never sent twice, as the contract wants. A pooled connection is
     * checked before use, and a failure after any byte was sent is
     * KVSTORE_EUNCERTAIN (before: KVSTORE_EUNAVAILABLE). */
    RD_ONCE = 1 << 1,
    /* Return error replies to the caller instead of mapping them. */
    RD_RAW_ERRORS = 1 << 2,
};

/* Connects to the configured address: rd_connect_to(cfg, NULL, 0, out). */
int rd_connect(const rd_config *cfg, rd_link **out);
/* Connects to host:port (NULL host: the configured address, TCP or unix),
 * with the TLS handshake if cfg->tls (SNI and the name checked: tls_sni,
 * else `host`), then AUTH and SELECT as configured. *out is the caller's,
 * closed with rd_link_close(). */
int rd_connect_to(const rd_config *cfg, const char *host, int port,
                  rd_link **out);
/* Runs one command on a connection the caller owns outright (setup, the
 * watch subscription): KVSTORE_OK with *out (error replies included), or
 * KVSTORE_EUNAVAILABLE / KVSTORE_ENOMEM; the caller then drops `c`. */
int rd_command(const rd_config *cfg, rd_link *c, int argc,
               const char **argv, const size_t *lens, redisReply **out);
int rd_pool_init(rd_pool *p, size_t max);
/* Makes the pool connect to host:port (a copy is kept). */
int rd_pool_target(rd_pool *p, const char *host, int port);
void rd_pool_destroy(rd_pool *p);
int rd_acquire(rd_store *s, rd_pool *p, rd_conn *out);
void rd_release(rd_conn *c, bool keep);
/* Closes every idle connection of `p` (after one of them proved dead). */
void rd_drop_idle(rd_pool *p);
/* False if an idle connection was closed or reset by the server. */
bool rd_alive(rd_link *c);

/* One command of a pipeline. */
typedef struct rd_cmd {
    int argc;
    const char **argv;
    const size_t *lens;
} rd_cmd;

/* Runs `n` commands in one round trip on a held connection. On success
 * replies[0..n) are set (error replies included; the caller frees them).
 * On an I/O failure the connection is dropped (c->ctx becomes NULL) and
 * the result is KVSTORE_EUNCERTAIN if RD_ONCE was given and anything was
 * sent, else KVSTORE_EUNAVAILABLE; *retry says whether a retry on a
 * fresh connection is sensible (stale pooled connection, no timeout). */
int rd_run(rd_store *s, rd_conn *c, unsigned flags, size_t n,
           const rd_cmd *cmds, redisReply **replies, bool *retry);
/* rd_run in two halves, so that pipelines to several servers are all
 * sent before any is read (cluster.c): rd_run_send writes the commands,
 * rd_run_recv (with the same flags, commands and `f`) reads their
 * replies. Each fails, and drops the connection, as rd_run does; on
 * success the caller still holds `c`. */
int rd_run_send(rd_store *s, rd_conn *c, unsigned flags, size_t n,
                const rd_cmd *cmds, rd_fail *f, bool *retry);
int rd_run_recv(rd_store *s, rd_conn *c, unsigned flags, size_t n,
                const rd_cmd *cmds, redisReply **replies, rd_fail *f,
                bool *retry);

/* Sends one command and reads its reply. On KVSTORE_OK, *out is a reply
 * the caller frees with freeReplyObject(); error replies are mapped to a
 * status (and freed) unless RD_RAW_ERRORS is given. */
int rd_call(rd_store *s, unsigned flags, int argc, const char **argv,
            const size_t *lens, redisReply **out);

/* Runs `n` commands on a connection of `p` (acquired, checked, retried
 * as rd_call does) and sets replies[0..n) raw, error replies included. */
int rd_exec(rd_store *s, rd_pool *p, unsigned flags, size_t n,
            const rd_cmd *cmds, redisReply **replies);
/* rd_call on the pool `p` (a cluster node's, or the store's). */
int rd_call_on(rd_store *s, rd_pool *p, unsigned flags, int argc,
               const char **argv, const size_t *lens, redisReply **out);
/* Runs `n` commands, each on the node that serves its key (argv[1]) in a
 * cluster, every node's pipeline sent before any is read; replies raw
 * (errors included), all set on KVSTORE_OK, none on failure. */
int rd_run_many(rd_store *s, unsigned flags, size_t n, const rd_cmd *cmds,
                redisReply **replies);

/* rd_call for a command whose reply matters only by its type (SET, DEL,
 * MSET): a reply of another type is rd_unexpected(argv[0]); the reply is
 * freed either way. */
int rd_call_expect(rd_store *s, unsigned flags, int argc, const char **argv,
                   const size_t *lens, int reply_type);

/* Maps a server error reply to a status with a message. `what` names the
 * operation ("GET"). Does not free the reply. */
int rd_reply_error(const rd_store *s, const char *what,
                   const redisReply *r);
/* An error reply "READONLY ...": a write sent to a replica. */
bool rd_is_readonly(const redisReply *r);
/* KVSTORE_EIO for a reply of an unexpected type. */
int rd_unexpected(const rd_store *s, const char *what, const redisReply *r);

/* ---- link.c: one connection's socket, plain or TLS ---- */
/* Opens a TCP (host, port) or unix (path, host NULL) socket within
 * cfg->timeout_ms, with that timeout on every later send and receive,
 * then the TLS handshake if cfg->tls (same deadline). `name` is the TLS
 * server name: SNI for a host name, and the name or IP address the
 * certificate must match. */
int rd_link_open(const rd_config *cfg, const char *host, int port,
                 const char *path, const char *name, rd_link **out);
void rd_link_close(rd_link *l);
/* Writes all of buf; f->sent becomes true once any byte may be out. */
int rd_link_write(rd_link *l, const char *buf, size_t len, rd_fail *f);
/* Blocks for the next reply (kvstore replies, see reply.c). */
int rd_link_reply(rd_link *l, void **reply, rd_fail *f);
/* The next reply already received, without reading: *reply NULL if none. */
int rd_link_buffered(rd_link *l, void **reply, rd_fail *f);
/* One read (after poll() said readable) into the reply parser, with
 * everything TLS already decrypted, so poll() again sees all that is left. */
int rd_link_fill(rd_link *l, rd_fail *f);
/* False if the server closed or reset an idle connection, or sent bytes
 * nobody asked for. */
bool rd_link_idle_ok(rd_link *l);

/* ---- tls.c: OpenSSL for rediss:// ---- */
/* Reads the URI's tls_* parameters into c and builds c->tls, the store's
 * one SSL_CTX (freed by rd_config_free through SSL_CTX_free). */
int rd_tls_config(rd_config *c, const kvstore_uri *uri);
/* Handshake on l->fd (already connected) by `deadline_ms` (monotonic). */
int rd_tls_handshake(const rd_config *cfg, rd_link *l, const char *name,
                     int64_t deadline_ms);
/* Plain transfers on the TLS session: like send()/recv(), -1 and *why
 * filled on failure, *timed_out for a socket timeout. */
ssize_t rd_tls_write(rd_link *l, const char *buf, size_t len,
                     bool *timed_out, char *why, size_t cap);
ssize_t rd_tls_read(rd_link *l, char *buf, size_t len, bool *timed_out,
                    char *why, size_t cap);

/* ---- sentinel.c: Redis Sentinel ---- */
/* Reads the sentinels (hosts), the master's name and db (path), wait and
 * wait_timeout_ms into c (c->timeout_ms already set). */
int rd_sentinel_config(rd_config *c, const kvstore_uri *uri);
void rd_sentinel_free(rd_sentinel *st);
/* Connects to the master the sentinels name, checked with ROLE, asking
 * them again once if the address they gave last fails. */
int rd_sentinel_connect(const rd_config *cfg, rd_link **out);
/* The master went away or was demoted (READONLY): forget its address and
 * drop every idle connection, so the next connect asks the sentinels. */
void rd_sentinel_lost(rd_store *s);

/* ?wait=N: the WAIT command rd_run appends to a write (RD_ONCE). */
typedef struct rd_wait {
    char replicas[16], ms[16];
    const char *argv[3];
    size_t lens[3];
    rd_cmd cmd;
} rd_wait;
/* The WAIT command (kept in *w), or NULL when the store does not wait. */
const rd_cmd *rd_wait_cmd(const rd_config *cfg, rd_wait *w);
/* After a write's replies (replies[0..n), `what` its command): OK when
 * the write failed anyway or WAIT counted enough replicas, else
 * KVSTORE_EUNCERTAIN (applied on the master, may be lost by a failover). */
int rd_wait_check(const rd_store *s, redisReply *const *replies, size_t n,
                  const redisReply *waited, const char *what);

/* Milliseconds on the monotonic clock. */
int64_t rd_now_ms(void);

/* ---- reply.c: replies whose strings are kvstore_malloc memory ---- */
/* A reply parser that builds replies with our functions. */
redisReader *rd_reader_new(void);
/* Frees a reply of one of our connections (never freeReplyObject). */
void rd_reply_free(void *reply);
/* Hands over a string reply's NUL-terminated payload (kvstore_malloc
 * memory, the caller's to kvstore_free) and leaves the reply without. */
void *rd_reply_take(redisReply *r);

/* ---- bucket.c: opening stores (URI, first connection) and buckets ---- */
/* Parses "host", "host:port", "[v6]" or "[v6]:port" (port 6379 when
 * absent; "" is 127.0.0.1) into *host (malloc'd) and *port. */
int rd_host_port(const rd_config *cfg, const char *tok, char **host,
                 int *port);
/* The table's slots, rd_<slot> (see <kvstore/backend.h>), in the files
 * named by the sections below. rd_bucket_remove deletes every "B:*" key
 * (SCAN, DEL per batch), then the marker. */
KVSTORE_SLOT_PROTOTYPES(rd);

/* Writes "B:" + key into buf (RD_KEYBUF bytes); returns the length. */
size_t rd_key(const rd_bucket *b, const char *key, char *buf);

/* ---- store.c: single-key reads and writes ---- */
int rd_value_check(size_t len);
/* set_ttl is SET ... PX ttl_ms: the value and its expiry in one write. A
 * later SET (set, set_many, cas_swap) clears the expiry; INCRBY keeps it.
 * ttl is PTTL. */
/* Redis keeps an expiry as an absolute time in milliseconds (long long):
 * 2^62 ms (146 million years) leaves room for any clock. */
#define RD_TTL_MAX ((uint64_t)1 << 62)

/* ---- batch.c ---- */
/* A batch command carries at most RD_CHUNK_KEYS keys and, for MSET,
 * about RD_CHUNK_BYTES of values (one larger value goes alone). */
#define RD_CHUNK_KEYS 512
#define RD_CHUNK_BYTES ((size_t)16 * 1024 * 1024)

/* Argument vectors for one command with the "B:K" keys, all in one
 * allocation (`mem`). Owned by the caller; freed by rd_args_free. */
typedef struct rd_args {
    const char **argv;
    size_t *lens;
    void *mem;
    int argc;
} rd_args;
/* Builds `cmd` followed by the prefixed keys[0..n) (and, when values is
 * not NULL, each key's value after it). */
int rd_args_build(rd_args *a, const rd_bucket *b, const char *cmd,
                  const char *const *keys, const void *const *values,
                  const size_t *vlens, size_t n);
void rd_args_free(rd_args *a);

/* ---- cluster_batch.c: batches split per slot, all nodes at once ---- */
int rd_cluster_get_many(rd_bucket *b, const char *const *keys, size_t n,
                        void **values, size_t *lens);
int rd_cluster_set_many(rd_bucket *b, const char *const *keys,
                        const void *const *values, const size_t *lens,
                        size_t n);
int rd_cluster_delete_many(rd_bucket *b, const char *const *keys, size_t n);
/* Deletes Redis keys (full names) one DEL each, pipelined per node. */
int rd_del_each(rd_store *s, size_t n, const char **keys,
                const size_t *lens);

/* ---- cluster.c: redis+cluster, the slot map and routing ---- */
/* Parses the seeds (`hosts`, comma-separated), reads the map from the
 * first that answers and sets s->cluster. `pool` is each node's size. */
int rd_cluster_open(rd_store *s, const char *hosts, size_t pool);
void rd_cluster_close(rd_store *s);
/* Reads CLUSTER SLOTS from a known node or a seed and installs it. */
int rd_cluster_refresh(rd_store *s);
/* The master serving `slot` in the current map, or NULL. */
rd_node *rd_cluster_route(rd_store *s, unsigned slot);
/* The CAS pins pool of the node serving `key`, or NULL. */
rd_pool *rd_cluster_pins(rd_store *s, const char *key, size_t len);

typedef enum rd_redirect {
    RD_REDIRECT_NONE,    /* not a cluster redirection */
    RD_REDIRECT_MOVED,   /* map updated: send again to the new owner */
    RD_REDIRECT_ASK,     /* send ASKING + the command to *ask once */
    RD_REDIRECT_SETTLE,  /* TRYAGAIN, CLUSTERDOWN: wait and send again */
} rd_redirect;
/* Classifies an error reply and applies a MOVED to the map. */
rd_redirect rd_cluster_redirect(rd_store *s, const redisReply *r,
                                rd_node **ask);
/* rd_call for a cluster store: routed by argv[1], redirections and
 * failovers followed within timeout_ms. */
int rd_cluster_call(rd_store *s, unsigned flags, int argc, const char **argv,
                    const size_t *lens, redisReply **out);
/* When a cluster call that found a node unreachable gives up: now +
 * timeout_ms. */
int64_t rd_cluster_deadline(const rd_store *s);
/* Before `deadline`: waits a little, re-reads the map (a failover may
 * have named a new master) and returns true; after it, false. */
bool rd_cluster_wait(rd_store *s, int64_t deadline);
/* rd_run_many for a cluster store. */
int rd_cluster_run_many(rd_store *s, unsigned flags, size_t n,
                        const rd_cmd *cmds, redisReply **replies);

/* A master and the lowest slot it serves: listings walk the masters in
 * the order of their lowest slots. */
typedef struct rd_master {
    rd_node *node;
    unsigned low;
} rd_master;
/* The masters of the current map (`out` has room for RD_NODES_MAX),
 * ordered by lowest slot, and the map's fingerprint. */
#define RD_NODES_MAX 1024
int rd_cluster_masters(rd_store *s, rd_master *out, size_t *n, uint32_t *fp);
/* The node at host:port (host_len bytes), created if the map has not
 * named it yet; NULL when memory or RD_NODES_MAX runs out. */
rd_node *rd_cluster_node(rd_store *s, const char *host, size_t host_len,
                         int port);
/* A 64-bit FNV-1a of the node's "host:port": names it in a list cursor. */
uint64_t rd_node_tag(const rd_node *n);

/* ---- cluster_moving.c: slots being migrated ---- */
/* The nodes slots are being migrated to right now, as the masters giving
 * them away report it ("[slot->-id]" in their CLUSTER NODES), sorted by
 * rd_node_tag without repeats; `out` has room for RD_NODES_MAX. A node
 * may be one the map does not name yet (a new, empty master). */
int rd_cluster_importers(rd_store *s, rd_node **out, size_t *n);

/* ---- crc16.c: Redis Cluster key slots ---- */
#define RD_SLOTS_N 16384
/* CRC16/XMODEM, the checksum Redis Cluster hashes keys with. */
uint16_t rd_crc16(const char *buf, size_t len);
/* The slot of a key (0..16383), honouring a {hash tag}. */
unsigned rd_key_slot(const char *key, size_t len);

/* ---- glob.c: Redis glob patterns ---- */
/* Appends `len` bytes of `s` to `dst` with every glob metacharacter
 * (* ? [ ] \) escaped; returns the new length. `dst` must have room for
 * 2 * len more bytes. */
size_t rd_glob_escape(char *dst, size_t at, const char *s, size_t len);
/* A key the contract accepts: 1..KVSTORE_KEY_MAX bytes of UTF-8, no NUL.
 * Keys written by other Redis clients may be anything else. */
bool rd_key_usable(const char *k, size_t len);

/* ---- cursor.c: the list cursor's state (forms documented in list.c) ---- */
/* SCAN COUNT never exceeds this (an "R" state's count is 1..this). */
#define RD_COUNT_MAX 10000
/* Separates the header and the keys of "S" and "R" states: 0xFF never
 * occurs in UTF-8, so never in a usable key, and a state stays a string
 * (no NUL) as table version 2 requires. */
#define RD_SEP 0xFF                /* as memchr() takes it */
#define RD_SEP_CHAR ((char)RD_SEP) /* as it is stored */

typedef struct rd_state {
    char kind;             /* 'C', 'S' or 'R' */
    uint64_t cursor;
    uint64_t next;         /* R */
    uint64_t count;        /* R */
    const char *keys;      /* S: RD_SEP-separated keys; R: the last key */
    size_t keys_len;       /* (keys point into the parsed buffer) */
} rd_state;

/* A canonical decimal (no sign, no leading zero) of at most UINT64_MAX. */
bool rd_u64(const char *s, size_t len, uint64_t *out);
/* Parses the n bytes of buf (need not be NUL-terminated; a NUL inside is
 * refused) into *st: KVSTORE_OK, or KVSTORE_EINVAL with a message. "C": cursor > 0; "S": every owed key is
 * usable (rd_key_usable), none empty; "R": count 1..RD_COUNT_MAX and a
 * usable last key. */
int rd_state_parse(rd_state *st, const char *buf, size_t n);

/* Where a cluster walk stands: "N" <low> "." <fp> "." <inner>, or
 * "I" <tag> "." <fp> "." <inner> in its pass over importing nodes
 * (cluster_list.c). */
typedef struct rd_place {
    bool importers;      /* "I": the pass over importing nodes */
    uint64_t tag;        /* I: rd_node_tag of the node being walked */
    unsigned low;        /* N: lowest slot of the master being walked */
    uint32_t fp;         /* the slot map's fingerprint at the walk's start */
    const char *inner;   /* that master's rd_walk state; NULL: its start */
} rd_place;
/* Parses a NUL-terminated "N" or "I" state strictly (canonical decimals,
 * low below RD_SLOTS_N, fp a uint32): KVSTORE_OK, or KVSTORE_EINVAL with a
 * message. `inner` points into `s` and is not parsed here. */
int rd_place_parse(rd_place *pl, const char *s);

/* ---- list.c: list_keys and bucket_list, one SCAN walk ---- */
/* What a walk lists: the keys of a bucket with a prefix (list_keys) or
 * the store's bucket names (bucket_list, from the markers "B:"). The
 * paging below is the same for both. Lent by the caller for one walk. */
typedef struct rd_lister {
    rd_store *store;
    char pattern[2 * RD_KEYBUF + 2];  /* SCAN MATCH, glob-escaped */
    size_t pattern_len;
    /* Sets *name to the part of Redis key `k` to list, or returns false
     * to skip it. Never trusts the pattern alone. */
    bool (*name_of)(const struct rd_lister *l, const char *k, size_t len,
                    const char **name, size_t *name_len);
    /* Writes the Redis key that holds `name` into buf (RD_KEYBUF bytes)
     * and returns its length, or 0 when `name` could not be listed by
     * this walk (a forged state's owed name). */
    size_t (*key_of)(const struct rd_lister *l, const char *name,
                     size_t len, char *buf);
    /* The server SCAN runs on: NULL for the store's (rd_call), a
     * master's pool when a cluster walk visits it. */
    rd_pool *pool;
    const rd_bucket *b;                /* list_keys only */
    const char *prefix;
    size_t prefix_len;
} rd_lister;

/* A page aims at 7/8 of `limit` keys (list.c); SCAN's overshoot fills
 * the rest. */
#define RD_PAGE_TARGET(limit) ((limit) > 16 ? (limit) - (limit) / 8 : (limit))
/* An inner state leaves room for cluster_list.c's prefix, at most
 * "I" <20 digits> "." <10 digits> "." (33 bytes). */
#define RD_STATE_MAX (KVSTORE_CURSOR_STATE_MAX - 40)
/* One page of the walk `l` on one server from state `cursor` (NULL: the
 * start); the next state goes into the page as its cursor. *out is the
 * page to fill: NULL for a new one, or one that already holds keys (a
 * cluster walk's earlier masters; fewer than `limit` - `limit` / 8).
 * On failure the page is freed and *out is NULL. */
int rd_walk(const rd_lister *l, const char *cursor, size_t limit,
            kvstore_keys **out);
/* ---- cluster_list.c: the same walk over every master in turn ---- */
int rd_cluster_walk(rd_lister *l, const char *cursor, size_t limit,
                    kvstore_keys **out);

/* ---- watch.c ---- */
/* A watch subscribed on the server of `target` (a cluster node's pool;
 * NULL: the store's server), calling fn from its own thread. Stopped
 * with rd_watch_stop. */
int rd_watch_open(void **out, rd_bucket *b, const char *prefix,
                  kvstore_watch_fn fn, void *payload, rd_pool *target);

/* ---- cluster_watch.c: one watch per master, kept in step with the map */
kvstore_slot_watch_start rd_cluster_watch_start;
kvstore_slot_watch_stop rd_cluster_watch_stop;

#endif /* KVSTORE_REDIS_REDIS_H */

/*
 * Redis backend: one connection's socket, the single I/O path for plain
 * TCP, unix sockets and TLS.
 *
 * hiredis 0.14 has no TLS, so we keep what it does well, command
 * formatting (conn.c) and the reply parser (redisReader), and drive the
 * socket ourselves. The socket is blocking with SO_RCVTIMEO and
 * SO_SNDTIMEO set to timeout_ms, so every send and receive is bounded;
 * connecting and the TLS handshake run nonblocking against one deadline.
 * Plain writes use send(MSG_NOSIGNAL) and TLS writes go through a BIO that
 * does the same (tls.c): a write to a connection the server reset must not
 * raise SIGPIPE in the host process, and we must know whether any byte
 * left (KVSTORE_EUNAVAILABLE or KVSTORE_EUNCERTAIN, conn.c).
 *
 * SPDX-License-Identifier: MIT
 */
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <openssl/err.h>

#include "redis.h"

/* One read's worth, as hiredis reads. */
#define RD_READ_CHUNK (16 * 1024)

int64_t rd_now_ms(void)
{
    struct timespec t;

    clock_gettime(CLOCK_MONOTONIC, &t);
    return (int64_t)t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

static const char *rd_strerror(int e, char *buf, size_t cap)
{
    /* GNU strerror_r: returns the text, maybe not in buf. */
    return strerror_r(e, buf, cap);
}

/* Waits until a nonblocking connect finished; 0 or an errno. */
static int rd_connect_wait(int fd, int64_t deadline)
{
    for (;;) {
        struct pollfd p = { .fd = fd, .events = POLLOUT };
        int64_t left = deadline - rd_now_ms();
        int n, err = 0;
        socklen_t len = sizeof err;

        if (left <= 0)
            return ETIMEDOUT;
        n = poll(&p, 1, left > 600000 ? 600000 : (int)left);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return errno;
        if (n == 0)
            return ETIMEDOUT;
        if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) != 0)
            return errno;
        return err;
    }
}

/* A connected socket to `sa`, or -1 with *err set. */
static int rd_dial(const struct sockaddr *sa, socklen_t salen, int family,
                   int64_t deadline, int *err)
{
    int fd = socket(family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);

    if (fd < 0) {
        *err = errno;
        return -1;
    }
    if (connect(fd, sa, salen) != 0) {
        *err = errno == EINPROGRESS ? rd_connect_wait(fd, deadline) : errno;
        if (*err != 0) {
            close(fd);
            return -1;
        }
    }
    return fd;
}

/* Back to blocking, with every send and receive bounded by timeout_ms. */
static int rd_socket_setup(int fd, const rd_config *cfg, bool tcp)
{
    struct timeval tv = { .tv_sec = cfg->timeout_ms / 1000,
                          .tv_usec = (cfg->timeout_ms % 1000) * 1000 };
    int fl = fcntl(fd, F_GETFL), one = 1;

    if (fl < 0 || fcntl(fd, F_SETFL, fl & ~O_NONBLOCK) != 0 ||
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv) != 0 ||
        setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv) != 0)
        return -1;
    if (tcp) {
        /* Commands are small and we wait for each reply: Nagle would
         * hold them back. Keepalive finds a silently dead peer of an idle
         * connection (best effort, as hiredis does). */
        int idle = 15, intvl = 5, cnt = 3;

        if (setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one) != 0)
            return -1;
        (void)setsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, &one, sizeof one);
        (void)setsockopt(fd, IPPROTO_TCP, TCP_KEEPIDLE, &idle, sizeof idle);
        (void)setsockopt(fd, IPPROTO_TCP, TCP_KEEPINTVL, &intvl,
                         sizeof intvl);
        (void)setsockopt(fd, IPPROTO_TCP, TCP_KEEPCNT, &cnt, sizeof cnt);
    }
    return 0;
}

static int rd_connect_failed(const rd_config *cfg, int err)
{
    char ebuf[96];

    return kvstore_set_error(KVSTORE_EUNAVAILABLE, "redis: cannot connect "
                             "to %s: %s", cfg->label,
                             err == ETIMEDOUT
                                 ? "timed out"
                                 : rd_strerror(err, ebuf, sizeof ebuf));
}

static int rd_open_tcp(const rd_config *cfg, const char *host, int port,
                       int64_t deadline, int *fd)
{
    struct addrinfo hints = { .ai_family = AF_UNSPEC,
                              .ai_socktype = SOCK_STREAM,
                              .ai_flags = AI_ADDRCONFIG };
    struct addrinfo *res = NULL;
    char service[8];
    int gai, err = 0;

    snprintf(service, sizeof service, "%d", port);
    gai = getaddrinfo(host, service, &hints, &res);
    if (gai != 0)
        return kvstore_set_error(KVSTORE_EUNAVAILABLE, "redis: cannot "
                                 "connect to %s: cannot resolve the host "
                                 "(%s)", cfg->label, gai_strerror(gai));
    *fd = -1;
    for (struct addrinfo *a = res; a != NULL && *fd < 0; a = a->ai_next)
        *fd = rd_dial(a->ai_addr, a->ai_addrlen, a->ai_family, deadline,
                      &err);
    freeaddrinfo(res);
    return *fd < 0 ? rd_connect_failed(cfg, err) : KVSTORE_OK;
}

static int rd_open_unix(const rd_config *cfg, const char *path,
                        int64_t deadline, int *fd)
{
    struct sockaddr_un sa = { .sun_family = AF_UNIX };
    int err = 0;

    if (path == NULL)  /* neither a host nor a path: a caller's bug */
        return kvstore_set_error(KVSTORE_EINVAL, "redis: no address to "
                                 "connect to for %s", cfg->label);
    /* The URI parser already refused paths that do not fit. */
    snprintf(sa.sun_path, sizeof sa.sun_path, "%s", path);
    *fd = rd_dial((const struct sockaddr *)&sa, sizeof sa, AF_UNIX, deadline,
                  &err);
    return *fd < 0 ? rd_connect_failed(cfg, err) : KVSTORE_OK;
}

int rd_link_open(const rd_config *cfg, const char *host, int port,
                 const char *path, const char *name, rd_link **out)
{
    int64_t deadline = rd_now_ms() + cfg->timeout_ms;
    rd_link *l = calloc(1, sizeof *l);
    int rc;

    *out = NULL;
    if (l == NULL)
        return kvstore_set_error(KVSTORE_ENOMEM, "redis: out of memory "
                                 "connecting to %s", cfg->label);
    l->fd = -1;
    l->reader = rd_reader_new();
    if (l->reader == NULL) {
        free(l);
        return kvstore_set_error(KVSTORE_ENOMEM, "redis: out of memory "
                                 "connecting to %s", cfg->label);
    }
    rc = host ? rd_open_tcp(cfg, host, port, deadline, &l->fd)
              : rd_open_unix(cfg, path, deadline, &l->fd);
    if (rc == KVSTORE_OK && cfg->tls)
        rc = rd_tls_handshake(cfg, l, name, deadline);
    if (rc == KVSTORE_OK && rd_socket_setup(l->fd, cfg, host != NULL) != 0)
        rc = kvstore_set_error(KVSTORE_EUNAVAILABLE, "redis: cannot set "
                               "timeouts on the connection to %s",
                               cfg->label);
    if (rc != KVSTORE_OK) {
        rd_link_close(l);
        return rc;
    }
    *out = l;
    return KVSTORE_OK;
}

void rd_link_close(rd_link *l)
{
    if (l == NULL)
        return;
    if (l->ssl) {
        /* No close_notify: the socket may be dead, and a blocking
         * shutdown would wait on it; Redis does not need one. */
        SSL_free(l->ssl);
    }
    if (l->fd >= 0)
        close(l->fd);
    redisReaderFree(l->reader);
    free(l);
}

static void rd_errno_why(rd_fail *f, const char *step, int e)
{
    char ebuf[96];

    f->timed_out = e == EAGAIN || e == EWOULDBLOCK;
    snprintf(f->why, sizeof f->why, "%s: %s", step,
             f->timed_out ? "timed out" : rd_strerror(e, ebuf, sizeof ebuf));
}

int rd_link_write(rd_link *l, const char *buf, size_t len, rd_fail *f)
{
    size_t off = 0;

    while (off < len) {
        ssize_t w;

        if (l->ssl) {
            char why[160];

            l->wire_sent = false;
            w = rd_tls_write(l, buf + off, len - off, &f->timed_out, why,
                             sizeof why);
            /* A record half out may still complete on the server. */
            f->sent = f->sent || l->wire_sent;
            if (w < 0) {
                snprintf(f->why, sizeof f->why, "sending: %s", why);
                l->broken = true;
                return REDIS_ERR;
            }
        } else {
            w = send(l->fd, buf + off, len - off, MSG_NOSIGNAL);
            if (w < 0 && errno == EINTR)
                continue;
            if (w < 0) {
                rd_errno_why(f, "sending", errno);
                l->broken = true;
                return REDIS_ERR;
            }
            f->sent = f->sent || w > 0;
        }
        off += (size_t)w;
    }
    return REDIS_OK;
}

/* One read into the parser: REDIS_OK, or REDIS_ERR with f filled. */
static int rd_link_read_once(rd_link *l, rd_fail *f)
{
    char buf[RD_READ_CHUNK];
    ssize_t n;

    if (l->ssl) {
        char why[160];

        n = rd_tls_read(l, buf, sizeof buf, &f->timed_out, why, sizeof why);
        if (n < 0) {
            snprintf(f->why, sizeof f->why, "reading the reply: %s", why);
            l->broken = true;
            return REDIS_ERR;
        }
    } else {
        do
            n = recv(l->fd, buf, sizeof buf, 0);
        while (n < 0 && errno == EINTR);
        if (n < 0) {
            rd_errno_why(f, "reading the reply", errno);
            l->broken = true;
            return REDIS_ERR;
        }
        if (n == 0) {
            snprintf(f->why, sizeof f->why, "reading the reply: the server "
                     "closed the connection");
            l->broken = true;
            return REDIS_ERR;
        }
    }
    if (redisReaderFeed(l->reader, buf, (size_t)n) != REDIS_OK) {
        f->nomem = true;
        l->broken = true;
        return REDIS_ERR;
    }
    return REDIS_OK;
}

int rd_link_buffered(rd_link *l, void **reply, rd_fail *f)
{
    *reply = NULL;
    if (redisReaderGetReply(l->reader, reply) == REDIS_OK)
        return REDIS_OK;
    l->broken = true;
    f->nomem = l->reader->err == REDIS_ERR_OOM;
    snprintf(f->why, sizeof f->why, "reading the reply: %.127s",
             l->reader->errstr);
    return REDIS_ERR;
}

int rd_link_reply(rd_link *l, void **reply, rd_fail *f)
{
    for (;;) {
        if (rd_link_buffered(l, reply, f) != REDIS_OK)
            return REDIS_ERR;
        if (*reply != NULL)
            return REDIS_OK;
        if (rd_link_read_once(l, f) != REDIS_OK)
            return REDIS_ERR;
    }
}

int rd_link_fill(rd_link *l, rd_fail *f)
{
    do {
        if (rd_link_read_once(l, f) != REDIS_OK)
            return REDIS_ERR;
    } while (l->ssl && SSL_pending(l->ssl) > 0);
    return REDIS_OK;
}

bool rd_link_idle_ok(rd_link *l)
{
    struct pollfd p = { .fd = l->fd, .events = POLLIN };
    char byte;
    int n;

    if (l->broken)
        return false;
    if (poll(&p, 1, 0) == 0)
        return true;
    if (l->ssl == NULL)
        return false;
    /* TLS 1.3 servers send session tickets after the handshake, which
     * make an idle connection readable; let OpenSSL consume them without
     * waiting. Anything else (data, an alert, EOF) means unusable. */
    l->dontwait = true;
    ERR_clear_error();
    n = SSL_peek(l->ssl, &byte, 1);
    l->dontwait = false;
    if (n <= 0 && SSL_get_error(l->ssl, n) == SSL_ERROR_WANT_READ) {
        ERR_clear_error();
        return true;
    }
    ERR_clear_error();
    l->broken = true;
    return false;
}

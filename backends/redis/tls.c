/*
 * Redis backend: TLS for rediss:// with OpenSSL.
 *
 *   rediss://[user:password@]host[:port][/db][?params]
 *   tls_ca=FILE      CA certificates (PEM) to verify the server with;
 *                    default: the system store
 *   tls_cert=FILE, tls_key=FILE
 *                    a client certificate (chain, PEM) and its key
 *   tls_sni=NAME     the server name sent (SNI) and checked in the
 *                    certificate; default: the host, whose name or IP
 *                    address the certificate must then match
 *   tls_insecure=true
 *                    no certificate checks at all: the only opt-out
 *
 * One SSL_CTX per store, built when it opens (a bad file fails the open,
 * KVSTORE_EINVAL). Each connection's SSL talks to the socket through our
 * BIO, which sends with MSG_NOSIGNAL (a reset connection must not raise
 * SIGPIPE in the host), records whether a byte left (conn.c's
 * KVSTORE_EUNCERTAIN), and can be made nonblocking for the handshake,
 * which runs against the connect deadline.
 *
 * SPDX-License-Identifier: MIT
 */
#include <arpa/inet.h>
#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/x509v3.h>

#include "redis.h"

static BIO_METHOD *rd_bio_method;
static pthread_once_t rd_bio_once = PTHREAD_ONCE_INIT;

/* A send or recv that failed: errno is kept for the message, and a
 * would-block asks OpenSSL to retry in direction `dir` (BIO_FLAGS_READ or
 * BIO_FLAGS_WRITE). */
static int rd_bio_failed(BIO *b, rd_link *l, int dir)
{
    l->sys_errno = errno;
    if (errno == EAGAIN || errno == EWOULDBLOCK)
        BIO_set_flags(b, BIO_FLAGS_SHOULD_RETRY | dir);
    return -1;
}

static int rd_bio_write(BIO *b, const char *buf, int len)
{
    rd_link *l = BIO_get_data(b);
    ssize_t w;

    BIO_clear_retry_flags(b);
    do
        w = send(l->fd, buf, (size_t)len,
                 MSG_NOSIGNAL | (l->dontwait ? MSG_DONTWAIT : 0));
    while (w < 0 && errno == EINTR);
    if (w < 0)
        return rd_bio_failed(b, l, BIO_FLAGS_WRITE);
    if (w > 0)
        l->wire_sent = true;
    return (int)w;
}

static int rd_bio_read(BIO *b, char *buf, int len)
{
    rd_link *l = BIO_get_data(b);
    ssize_t n;

    BIO_clear_retry_flags(b);
    do
        n = recv(l->fd, buf, (size_t)len, l->dontwait ? MSG_DONTWAIT : 0);
    while (n < 0 && errno == EINTR);
    if (n < 0)
        return rd_bio_failed(b, l, BIO_FLAGS_READ);
    return (int)n;
}

static long rd_bio_ctrl(BIO *b, int cmd, long num, void *ptr)
{
    (void)b;
    (void)num;
    (void)ptr;
    /* Nothing is buffered here; every other control is unsupported. */
    return cmd == BIO_CTRL_FLUSH ? 1 : 0;
}

static void rd_bio_init(void)
{
    int type = BIO_get_new_index();
    BIO_METHOD *m;

    if (type < 0)
        return;
    m = BIO_meth_new(type | BIO_TYPE_SOURCE_SINK, "kvstore-redis socket");
    if (m == NULL)
        return;
    if (!BIO_meth_set_write(m, rd_bio_write) ||
        !BIO_meth_set_read(m, rd_bio_read) ||
        !BIO_meth_set_ctrl(m, rd_bio_ctrl)) {
        BIO_meth_free(m);
        return;
    }
    rd_bio_method = m;
}

/* The module may be unloaded: give the method back with it. */
__attribute__((destructor)) static void rd_bio_fini(void)
{
    BIO_meth_free(rd_bio_method);
    rd_bio_method = NULL;
}

/* OpenSSL's reason for the last failure, never a file's contents. */
static const char *rd_ssl_reason(void)
{
    unsigned long e = ERR_peek_last_error();
    const char *r = e ? ERR_reason_error_string(e) : NULL;

    return r ? r : "unknown error";
}

static void rd_ssl_why(rd_link *l, int ret, bool *timed_out, char *why,
                       size_t cap)
{
    int e = SSL_get_error(l->ssl, ret);
    char ebuf[96];
    size_t n;

    *timed_out = e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE;
    if (*timed_out)
        snprintf(why, cap, "timed out");
    else if (e == SSL_ERROR_ZERO_RETURN)
        snprintf(why, cap, "the server closed the TLS session");
    else if (e == SSL_ERROR_SYSCALL && ERR_peek_last_error() == 0)
        snprintf(why, cap, "%s", l->sys_errno
                 ? strerror_r(l->sys_errno, ebuf, sizeof ebuf)
                 : "the server closed the connection");
    else
        snprintf(why, cap, "TLS: %s", rd_ssl_reason());
    ERR_clear_error();
    n = strlen(why);
    if (l->cert_asked && !*timed_out && n < cap)
        snprintf(why + n, cap - n, " (the server asked for a client "
                 "certificate: give tls_cert and tls_key)");
}

/* Called when the server asks for a client certificate and the store has
 * none: remember it for the message, and go on without one (the server
 * may take that). */
static int rd_cert_asked(SSL *ssl, X509 **cert, EVP_PKEY **key)
{
    rd_link *l = SSL_get_app_data(ssl);

    (void)cert;
    (void)key;
    l->cert_asked = true;
    return 0;
}

/* Before an SSL_read or SSL_write: clears the error state the failure
 * message will be read from; returns `len` as the int OpenSSL takes. */
static int rd_tls_begin(rd_link *l, size_t len)
{
    ERR_clear_error();
    l->sys_errno = 0;
    return len > INT_MAX ? INT_MAX : (int)len;
}

/* After it: the bytes moved, or -1 with the reason in `why`. */
static ssize_t rd_tls_end(rd_link *l, int ret, bool *timed_out, char *why,
                          size_t cap)
{
    if (ret > 0)
        return ret;
    rd_ssl_why(l, ret, timed_out, why, cap);
    return -1;
}

ssize_t rd_tls_write(rd_link *l, const char *buf, size_t len,
                     bool *timed_out, char *why, size_t cap)
{
    return rd_tls_end(l, SSL_write(l->ssl, buf, rd_tls_begin(l, len)),
                      timed_out, why, cap);
}

ssize_t rd_tls_read(rd_link *l, char *buf, size_t len, bool *timed_out,
                    char *why, size_t cap)
{
    return rd_tls_end(l, SSL_read(l->ssl, buf, rd_tls_begin(l, len)),
                      timed_out, why, cap);
}

static bool rd_is_ip(const char *name)
{
    unsigned char addr[16];

    return inet_pton(AF_INET, name, addr) == 1 ||
           inet_pton(AF_INET6, name, addr) == 1;
}

/* Sets what the server must prove: SNI for a host name, and the name or
 * address its certificate must carry. */
static int rd_tls_name(const rd_config *cfg, rd_link *l, const char *name)
{
    bool ip = rd_is_ip(name);
    int ok = 1;

    if (!ip)
        ok = SSL_set_tlsext_host_name(l->ssl, name);
    if (ok == 1 && !cfg->tls_insecure) {
        if (ip) {
            ok = X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(l->ssl), name);
        } else {
            SSL_set_hostflags(l->ssl, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
            ok = SSL_set1_host(l->ssl, name);
        }
    }
    if (ok != 1) {
        ERR_clear_error();
        return kvstore_set_error(KVSTORE_EINVAL, "redis: %s: '%s' cannot "
                                 "be used as a TLS server name", cfg->label,
                                 name);
    }
    return KVSTORE_OK;
}

static int rd_tls_failed(const rd_config *cfg, rd_link *l, const char *name,
                         int ret)
{
    long v = SSL_get_verify_result(l->ssl);
    bool timed_out;
    char why[160];

    if (v != X509_V_OK) {
        ERR_clear_error();
        return kvstore_set_error(KVSTORE_EUNAVAILABLE, "redis: TLS "
                                 "handshake with %s failed: the server "
                                 "certificate for '%s' was refused: %s",
                                 cfg->label, name,
                                 X509_verify_cert_error_string(v));
    }
    rd_ssl_why(l, ret, &timed_out, why, sizeof why);
    return kvstore_set_error(KVSTORE_EUNAVAILABLE, "redis: TLS handshake "
                             "with %s failed: %s", cfg->label, why);
}

int rd_tls_handshake(const rd_config *cfg, rd_link *l, const char *name,
                     int64_t deadline_ms)
{
    BIO *bio;
    int rc;

    pthread_once(&rd_bio_once, rd_bio_init);
    if (rd_bio_method == NULL)
        return kvstore_set_error(KVSTORE_ENOMEM, "redis: out of memory "
                                 "setting up TLS");
    l->ssl = SSL_new(cfg->tls);
    bio = BIO_new(rd_bio_method);
    if (l->ssl == NULL || bio == NULL) {
        BIO_free(bio);
        ERR_clear_error();
        return kvstore_set_error(KVSTORE_ENOMEM, "redis: out of memory "
                                 "setting up TLS");
    }
    BIO_set_data(bio, l);
    BIO_set_init(bio, 1);
    SSL_set_bio(l->ssl, bio, bio);   /* l->ssl owns bio now */
    SSL_set_app_data(l->ssl, l);
    rc = rd_tls_name(cfg, l, name);
    if (rc != KVSTORE_OK)
        return rc;

    /* The socket is still nonblocking from connect: wait with poll()
     * against the one deadline. */
    l->dontwait = true;
    for (;;) {
        int r, e;
        struct pollfd p = { .fd = l->fd };
        int64_t left;

        ERR_clear_error();
        r = SSL_connect(l->ssl);
        if (r == 1)
            break;
        e = SSL_get_error(l->ssl, r);
        if (e != SSL_ERROR_WANT_READ && e != SSL_ERROR_WANT_WRITE) {
            l->dontwait = false;
            return rd_tls_failed(cfg, l, name, r);
        }
        p.events = e == SSL_ERROR_WANT_READ ? POLLIN : POLLOUT;
        left = deadline_ms - rd_now_ms();
        if (left <= 0 || poll(&p, 1, (int)left) == 0) {
            l->dontwait = false;
            ERR_clear_error();
            return kvstore_set_error(KVSTORE_EUNAVAILABLE, "redis: TLS "
                                     "handshake with %s timed out after "
                                     "%d ms", cfg->label, cfg->timeout_ms);
        }
    }
    l->dontwait = false;
    return KVSTORE_OK;
}

/* A key is never read from a terminal. */
static int rd_no_passphrase(char *buf, int size, int rwflag, void *u)
{
    (void)buf;
    (void)size;
    (void)rwflag;
    (void)u;
    return 0;
}

static int rd_tls_file(const kvstore_uri *uri, const char *label,
                       const char *name, const char **out)
{
    *out = kvstore_uri_param(uri, name);
    if (*out != NULL && **out == '\0')
        return kvstore_set_error(KVSTORE_EINVAL, "redis: %s: %s needs a "
                                 "file name", label, name);
    return KVSTORE_OK;
}

static int rd_tls_load(SSL_CTX *ctx, const char *label, const char *ca,
                       const char *cert, const char *key)
{
    const char *what = NULL, *file = NULL;
    const char *files[3] = { ca, cert, key };

    /* OpenSSL says only "system lib" for a file it cannot open. */
    for (int i = 0; i < 3; i++) {
        char ebuf[96];

        if (files[i] != NULL && access(files[i], R_OK) != 0)
            return kvstore_set_error(KVSTORE_EINVAL, "redis: %s: cannot "
                                     "read %s: %s", label, files[i],
                                     strerror_r(errno, ebuf, sizeof ebuf));
    }

    if (ca != NULL && SSL_CTX_load_verify_locations(ctx, ca, NULL) != 1) {
        what = "the CA file";
        file = ca;
    } else if (ca == NULL && SSL_CTX_set_default_verify_paths(ctx) != 1) {
        what = "the system's CA store";
        file = "";
    } else if (cert != NULL &&
               SSL_CTX_use_certificate_chain_file(ctx, cert) != 1) {
        what = "the client certificate";
        file = cert;
    } else if (key != NULL &&
               (SSL_CTX_use_PrivateKey_file(ctx, key, SSL_FILETYPE_PEM) != 1
                || SSL_CTX_check_private_key(ctx) != 1)) {
        what = "the client key";
        file = key;
    }
    if (what == NULL)
        return KVSTORE_OK;
    {
        const char *reason = rd_ssl_reason();

        ERR_clear_error();
        return kvstore_set_error(KVSTORE_EINVAL, "redis: %s: cannot load "
                                 "%s %s: %s", label, what, file, reason);
    }
}

int rd_tls_config(rd_config *c, const kvstore_uri *uri)
{
    const char *ca, *cert, *key, *sni = kvstore_uri_param(uri, "tls_sni");
    SSL_CTX *ctx;
    int rc = kvstore_uri_param_bool(uri, "tls_insecure", false,
                                    &c->tls_insecure);

    if (rc == KVSTORE_OK)
        rc = rd_tls_file(uri, c->label, "tls_ca", &ca);
    if (rc == KVSTORE_OK)
        rc = rd_tls_file(uri, c->label, "tls_cert", &cert);
    if (rc == KVSTORE_OK)
        rc = rd_tls_file(uri, c->label, "tls_key", &key);
    if (rc != KVSTORE_OK)
        return rc;
    if ((cert == NULL) != (key == NULL))
        return kvstore_set_error(KVSTORE_EINVAL, "redis: %s: tls_cert and "
                                 "tls_key go together", c->label);
    if (sni != NULL && (*sni == '\0' || strlen(sni) > 253))
        return kvstore_set_error(KVSTORE_EINVAL, "redis: %s: tls_sni must "
                                 "be a host name of 1 to 253 bytes",
                                 c->label);
    if (sni != NULL && (c->tls_sni = strdup(sni)) == NULL)
        return kvstore_set_error(KVSTORE_ENOMEM, "redis: out of memory");

    ctx = SSL_CTX_new(TLS_client_method());
    if (ctx == NULL) {
        ERR_clear_error();
        return kvstore_set_error(KVSTORE_ENOMEM, "redis: out of memory "
                                 "setting up TLS");
    }
    SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
    SSL_CTX_set_default_passwd_cb(ctx, rd_no_passphrase);
    SSL_CTX_set_verify(ctx, c->tls_insecure ? SSL_VERIFY_NONE
                                            : SSL_VERIFY_PEER, NULL);
    if (cert == NULL)
        SSL_CTX_set_client_cert_cb(ctx, rd_cert_asked);
    rc = rd_tls_load(ctx, c->label, ca, cert, key);
    if (rc != KVSTORE_OK) {
        SSL_CTX_free(ctx);
        return rc;
    }
    c->tls = ctx;
    return KVSTORE_OK;
}

/*
 * Redis backend: rediss:// against redis-server's own tls-port, with a
 * CA and certificates made by the openssl command (server.c,
 * rs_start_tls). The server certificate is swapped at run time with
 * CONFIG SET (over the unix socket) to present an expired one or one for
 * another host. Each refusal must be KVSTORE_EUNAVAILABLE with OpenSSL's
 * verify reason, the redacted URI, and never the password or a key.
 *
 * SPDX-License-Identifier: MIT
 */
#include <errno.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <cmocka.h>

#include <kvstore/kvstore.h>
#include <openssl/x509.h>

#include "events.h"
#include "group.h"

#define SECRET "tls-secret-pw"

static rs_server srv;

static const char *const server_args[] = {
    "--user", "alice", "on", ">" SECRET, "~*", "&*", "+@all",
    "--notify-keyspace-events", "Kg$xe",
    NULL,
};

/* "rediss://<auth><host>:<tls_port>?<query>", with "{tls}/" in the query
 * replaced by the certificate directory. */
static const char *uri(const char *auth, const char *host, const char *query)
{
    static char buf[2048];
    char q[1024];
    size_t n = 0;

    for (const char *p = query; *p && n + 256 < sizeof q;) {
        if (strncmp(p, "{tls}", 5) == 0) {
            n += (size_t)snprintf(q + n, sizeof q - n, "%s", srv.tls_dir);
            p += 5;
        } else {
            q[n++] = *p++;
        }
    }
    q[n] = '\0';
    snprintf(buf, sizeof buf, "rediss://%s%s:%d?%s", auth, host,
             srv.tls_port, q);
    return buf;
}

static void server_config(const char *name, const char *value,
                          const char *name2, const char *value2)
{
    char out[256];
    const char *args[] = { "CONFIG", "SET", name, value, name2, value2,
                           NULL };

    assert_int_equal(rs_cli(&srv, out, sizeof out, args), 0);
    if (strcmp(out, "OK") != 0)
        fail_msg("CONFIG SET %s: %s", name, out);
}

/* The server presents dir/NAME.crt from now on. */
static void server_cert(const char *name)
{
    char crt[256], key[256];

    snprintf(crt, sizeof crt, "%s/%s.crt", srv.tls_dir, name);
    snprintf(key, sizeof key, "%s/%s.key", srv.tls_dir, name);
    server_config("tls-cert-file", crt, "tls-key-file", key);
}

static void roundtrip(const char *u)
{
    kvstore_store *s = NULL;
    kvstore_bucket *b = NULL;
    void *v = NULL;
    size_t len = 0;

    if (kvstore_open(&s, u) != KVSTORE_OK)
        fail_msg("open %s: %s", u, kvstore_errmsg());
    assert_int_equal(kvstore_bucket_open(&b, s, "tls"), KVSTORE_OK);
    assert_int_equal(kvstore_set(b, "k", "over tls", 8), KVSTORE_OK);
    assert_int_equal(kvstore_get(b, "k", &v, &len), KVSTORE_OK);
    assert_int_equal(len, 8);
    assert_memory_equal(v, "over tls", 8);
    kvstore_free(v);
    kvstore_bucket_close(b);
    kvstore_close(s);
}

/* Opening `u` is refused with `code` and a message holding every one of
 * `want` (NULL-terminated) and neither the password nor `secret`. */
static void assert_refused(const char *u, int code, const char *const *want,
                           const char *secret)
{
    kvstore_store *s = (kvstore_store *)1;
    int rc = kvstore_open(&s, u);
    const char *msg = kvstore_errmsg();

    if (rc != code)
        fail_msg("open %s = %d, expected %d: %s", u, rc, code, msg);
    assert_null(s);
    for (int i = 0; want && want[i]; i++)
        if (strstr(msg, want[i]) == NULL)
            fail_msg("the message lacks \"%s\": %s", want[i], msg);
    if (strstr(msg, SECRET) != NULL)
        fail_msg("the message leaks the password: %s", msg);
    if (secret != NULL && strstr(msg, secret) != NULL)
        fail_msg("the message leaks the key: %s", msg);
}

static bool list_has(kvstore_bucket *b, const char *key)
{
    char *cursor = NULL;
    bool found = false;

    do {
        kvstore_keys *page = NULL;

        assert_int_equal(kvstore_list_keys(b, NULL, cursor, 0, &page),
                         KVSTORE_OK);
        for (size_t i = 0; i < page->count; i++)
            found = found || strcmp(page->keys[i], key) == 0;
        free(cursor);
        cursor = page->cursor ? strdup(page->cursor) : NULL;
        kvstore_keys_free(page);
    } while (cursor != NULL);
    return found;
}

/* ---- tests ---- */

static void test_good_certificate(void **state)
{
    (void)state;
    kvstore_store *s = NULL;
    kvstore_bucket *b = NULL;
    kvstore_watch *w = NULL;
    ev_log l;

    /* Checked by IP address and by host name. */
    roundtrip(uri("", "127.0.0.1", "tls_ca={tls}/ca.crt"));
    roundtrip(uri("", "localhost", "tls_ca={tls}/ca.crt"));
    /* An ACL user's password over TLS. */
    roundtrip(uri("alice:" SECRET "@", "localhost", "tls_ca={tls}/ca.crt"));

    assert_int_equal(kvstore_open(&s, uri("", "localhost",
                                          "tls_ca={tls}/ca.crt")),
                     KVSTORE_OK);
    assert_int_equal(kvstore_bucket_open(&b, s, "tlswatch"), KVSTORE_OK);
    ev_log_init(&l);
    /* The subscription connection is a TLS connection of its own. */
    assert_int_equal(kvstore_watch_start(&w, b, "", ev_log_event, &l),
                     KVSTORE_OK);
    assert_int_equal(kvstore_set(b, "seen", "1", 1), KVSTORE_OK);
    assert_true(ev_log_wait(&l, "set seen=1;", 10));
    assert_int_equal(kvstore_delete(b, "seen"), KVSTORE_OK);
    assert_true(ev_log_wait(&l, "del seen=NULL;", 10));
    assert_int_equal(kvstore_set(b, "listed", "2", 1), KVSTORE_OK);
    assert_true(list_has(b, "listed"));
    kvstore_watch_stop(w);
    ev_log_destroy(&l);
    kvstore_bucket_close(b);
    kvstore_close(s);
}

static void test_wrong_ca(void **state)
{
    (void)state;
    /* Redis sends its CA along with its certificate, so OpenSSL finds a
     * self-signed certificate it does not trust in the chain. */
    const char *const want[] = {
        "rediss://alice:***@127.0.0.1", "was refused",
        X509_verify_cert_error_string(X509_V_ERR_SELF_SIGNED_CERT_IN_CHAIN),
        NULL,
    };

    assert_refused(uri("alice:" SECRET "@", "127.0.0.1",
                       "tls_ca={tls}/other-ca.crt"),
                   KVSTORE_EUNAVAILABLE, want, NULL);
    /* The system store does not know the test CA either. */
    assert_refused(uri("", "127.0.0.1", "timeout_ms=5000"),
                   KVSTORE_EUNAVAILABLE, want + 1, NULL);
}

static void test_insecure_accepts_wrong_ca(void **state)
{
    (void)state;
    roundtrip(uri("", "127.0.0.1", "tls_ca={tls}/other-ca.crt"
                                   "&tls_insecure=true"));
    /* No opt-out by any other spelling of false. */
    assert_refused(uri("", "127.0.0.1", "tls_ca={tls}/other-ca.crt"
                                        "&tls_insecure=false"),
                   KVSTORE_EUNAVAILABLE, NULL, NULL);
}

static void test_expired(void **state)
{
    (void)state;
    const char *const want[] = {
        "was refused",
        X509_verify_cert_error_string(X509_V_ERR_CERT_HAS_EXPIRED), NULL,
    };

    server_cert("expired");
    assert_refused(uri("", "localhost", "tls_ca={tls}/ca.crt"),
                   KVSTORE_EUNAVAILABLE, want, NULL);
    server_cert("server");
}

static void test_hostname_mismatch(void **state)
{
    (void)state;
    const char *const by_name[] = {
        "'localhost'",
        X509_verify_cert_error_string(X509_V_ERR_HOSTNAME_MISMATCH), NULL,
    };
    const char *const by_ip[] = {
        "'127.0.0.1'",
        X509_verify_cert_error_string(X509_V_ERR_IP_ADDRESS_MISMATCH), NULL,
    };

    server_cert("other-host");
    assert_refused(uri("", "localhost", "tls_ca={tls}/ca.crt"),
                   KVSTORE_EUNAVAILABLE, by_name, NULL);
    assert_refused(uri("", "127.0.0.1", "tls_ca={tls}/ca.crt"),
                   KVSTORE_EUNAVAILABLE, by_ip, NULL);
    /* tls_sni names the server the certificate is for. */
    roundtrip(uri("", "127.0.0.1", "tls_ca={tls}/ca.crt"
                                   "&tls_sni=other.invalid"));
    server_cert("server");
    /* ... and is then the name checked. */
    assert_refused(uri("", "127.0.0.1", "tls_ca={tls}/ca.crt"
                                        "&tls_sni=other.invalid"),
                   KVSTORE_EUNAVAILABLE, by_name + 1, NULL);
}

static void test_client_certificate(void **state)
{
    (void)state;
    const char *const want[] = { "tls_cert", NULL };

    server_config("tls-auth-clients", "yes", NULL, NULL);
    assert_refused(uri("", "localhost", "tls_ca={tls}/ca.crt"),
                   KVSTORE_EUNAVAILABLE, want, NULL);
    assert_refused(uri("alice:" SECRET "@", "localhost",
                       "tls_ca={tls}/ca.crt"),
                   KVSTORE_EUNAVAILABLE, want, NULL);
    roundtrip(uri("", "localhost", "tls_ca={tls}/ca.crt"
                                   "&tls_cert={tls}/client.crt"
                                   "&tls_key={tls}/client.key"));
    roundtrip(uri("alice:" SECRET "@", "localhost",
                  "tls_ca={tls}/ca.crt&tls_cert={tls}/client.crt"
                  "&tls_key={tls}/client.key"));
    server_config("tls-auth-clients", "no", NULL, NULL);
}

/* The second line of a PEM file: key material. */
static void pem_body(const char *name, char *out, size_t cap)
{
    char path[256];
    FILE *f;

    snprintf(path, sizeof path, "%s/%s", srv.tls_dir, name);
    f = fopen(path, "r");
    assert_non_null(f);
    assert_non_null(fgets(out, (int)cap, f));
    assert_non_null(fgets(out, (int)cap, f));
    fclose(f);
    out[strcspn(out, "\n")] = '\0';
    assert_true(strlen(out) > 16);
}

static void test_bad_parameters(void **state)
{
    (void)state;
    char key[128];
    char plain[256];
    const char *const mismatch[] = { "client key", NULL };

    pem_body("client.key", key, sizeof key);
    assert_refused(uri("", "localhost", "tls_cert={tls}/client.crt"),
                   KVSTORE_EINVAL, NULL, NULL);
    assert_refused(uri("", "localhost", "tls_ca={tls}/missing.crt"),
                   KVSTORE_EINVAL, NULL, NULL);
    assert_refused(uri("", "localhost", "tls_ca="), KVSTORE_EINVAL, NULL,
                   NULL);
    assert_refused(uri("", "localhost", "tls_insecure=maybe"),
                   KVSTORE_EINVAL, NULL, NULL);
    assert_refused(uri("", "localhost", "tls_verify=false"), KVSTORE_EINVAL,
                   NULL, NULL);
    /* A key file where a certificate belongs, and a key that does not
     * match its certificate: named, never shown. */
    assert_refused(uri("alice:" SECRET "@", "localhost",
                       "tls_ca={tls}/client.key"),
                   KVSTORE_EINVAL, NULL, key);
    assert_refused(uri("", "localhost", "tls_ca={tls}/ca.crt"
                                        "&tls_cert={tls}/server.crt"
                                        "&tls_key={tls}/client.key"),
                   KVSTORE_EINVAL, mismatch, key);
    /* TLS parameters belong to rediss:// only. */
    snprintf(plain, sizeof plain, "redis://127.0.0.1:%d?tls_ca=x", srv.port);
    assert_refused(plain, KVSTORE_EINVAL, NULL, NULL);
}

static void test_tls_to_plain_port(void **state)
{
    (void)state;
    char u[256];

    snprintf(u, sizeof u, "rediss://127.0.0.1:%d?timeout_ms=2000", srv.port);
    assert_refused(u, KVSTORE_EUNAVAILABLE, NULL, NULL);
}

/* A write sent over TLS whose reply never comes is uncertain. */
static void test_uncertain_write(void **state)
{
    (void)state;
    kvstore_store *s = NULL;
    kvstore_bucket *b = NULL;

    assert_int_equal(kvstore_open(&s, uri("", "localhost",
                                          "tls_ca={tls}/ca.crt"
                                          "&timeout_ms=300")),
                     KVSTORE_OK);
    assert_int_equal(kvstore_bucket_open(&b, s, "tlsfault"), KVSTORE_OK);
    assert_int_equal(kvstore_set(b, "k", "1", 1), KVSTORE_OK);
    rs_signal(&srv, SIGSTOP);
    assert_int_equal(kvstore_set(b, "k", "2", 1), KVSTORE_EUNCERTAIN);
    rs_signal(&srv, SIGCONT);
    assert_non_null(strstr(kvstore_errmsg(), "may or may not"));
    kvstore_bucket_close(b);
    kvstore_close(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_good_certificate),
        cmocka_unit_test(test_wrong_ca),
        cmocka_unit_test(test_insecure_accepts_wrong_ca),
        cmocka_unit_test(test_expired),
        cmocka_unit_test(test_hostname_mismatch),
        cmocka_unit_test(test_client_certificate),
        cmocka_unit_test(test_bad_parameters),
        cmocka_unit_test(test_tls_to_plain_port),
        cmocka_unit_test(test_uncertain_write),
    };
    return RS_RUN_GROUP(tests, .srv = &srv, .tls = true,
                        .args = server_args);
}

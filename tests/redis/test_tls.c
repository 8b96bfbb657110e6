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
#include "fx_servers.h"
#include "group.h"

#define SECRET "tls-secret-pw"

static rs_server srv;

static const char *const server_args[] = {
    "--user", "alice", "on", ">" SECRET, "~*", "&*", "+@all",
    "--notify-keyspace-events", "Kg$xe",
    NULL,
};

/* "rediss://<auth><host>:<tls_port>?<query>", the placeholders of the
 * group ("{tls_dir}": the certificates) replaced; lives until the next
 * call. */
static const char *uri(const char *auth, const char *host, const char *query)
{
    char tmpl[1024];

    snprintf(tmpl, sizeof tmpl, "rediss://%s%s:{tls_port}?%s", auth, host,
             query);
    return fx_expand(tmpl);
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
    kvstore_store *s = open_uri(u);
    kvstore_bucket *b = open_bucket(s, "tls");

    set_str(b, "k", "over tls");
    expect_str(b, "k", "over tls");
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

/* A walk_fn: counts the keys "listed". */
static void count_listed(void *arg, const char *key)
{
    *(int *)arg += strcmp(key, "listed") == 0;
}

/* ---- tests ---- */

/* The store of a test's fixture (SERVER_TEST): by host name, trusting the
 * test CA. */
#define TO_LOCALHOST "rediss://localhost:{tls_port}?tls_ca={tls_dir}/ca.crt"

static void test_good_certificate(void **state)
{
    kvstore_bucket *b = ((server_store *)*state)->b;
    kvstore_watch *w = NULL;
    ev_text l;

    /* Checked by IP address and by host name. */
    roundtrip(uri("", "127.0.0.1", "tls_ca={tls_dir}/ca.crt"));
    roundtrip(uri("", "localhost", "tls_ca={tls_dir}/ca.crt"));
    /* An ACL user's password over TLS. */
    roundtrip(uri("alice:" SECRET "@", "localhost",
                  "tls_ca={tls_dir}/ca.crt"));

    ev_text_init(&l);
    /* The subscription connection is a TLS connection of its own. */
    assert_int_equal(kvstore_watch_start(&w, b, "", ev_text_event, &l),
                     KVSTORE_OK);
    assert_int_equal(kvstore_set(b, "seen", "1", 1), KVSTORE_OK);
    assert_true(ev_text_wait(&l, "set seen=1;", 10));
    assert_int_equal(kvstore_delete(b, "seen"), KVSTORE_OK);
    assert_true(ev_text_wait(&l, "del seen=NULL;", 10));
    assert_int_equal(kvstore_set(b, "listed", "2", 1), KVSTORE_OK);
    {
        int listed = 0;

        walk_all(b, NULL, NULL, 0, count_listed, &listed);
        assert_true(listed > 0);
    }
    kvstore_watch_stop(w);
    ev_text_destroy(&l);
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
                       "tls_ca={tls_dir}/other-ca.crt"),
                   KVSTORE_EUNAVAILABLE, want, NULL);
    /* The system store does not know the test CA either. */
    assert_refused(uri("", "127.0.0.1", "timeout_ms=5000"),
                   KVSTORE_EUNAVAILABLE, want + 1, NULL);
}

static void test_insecure_accepts_wrong_ca(void **state)
{
    (void)state;
    roundtrip(uri("", "127.0.0.1", "tls_ca={tls_dir}/other-ca.crt"
                                   "&tls_insecure=true"));
    /* No opt-out by any other spelling of false. */
    assert_refused(uri("", "127.0.0.1", "tls_ca={tls_dir}/other-ca.crt"
                                        "&tls_insecure=false"),
                   KVSTORE_EUNAVAILABLE, NULL, NULL);
}

/* Certificates the server presents that the client must refuse: which
 * one, to which host name, and what the message names besides OpenSSL's
 * verify reason. */
static void test_refused_server_certificates(void **state)
{
    static const struct {
        const char *cert, *host, *named;
        int verify_error;
    } cases[] = {
        { "expired", "localhost", "was refused",
          X509_V_ERR_CERT_HAS_EXPIRED },
        { "other-host", "localhost", "'localhost'",
          X509_V_ERR_HOSTNAME_MISMATCH },
        { "other-host", "127.0.0.1", "'127.0.0.1'",
          X509_V_ERR_IP_ADDRESS_MISMATCH },
    };

    (void)state;
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        const char *const want[] = {
            cases[i].named,
            X509_verify_cert_error_string(cases[i].verify_error), NULL,
        };

        print_message("the %s certificate, to %s\n", cases[i].cert,
                      cases[i].host);
        server_cert(cases[i].cert);
        assert_refused(uri("", cases[i].host, "tls_ca={tls_dir}/ca.crt"),
                       KVSTORE_EUNAVAILABLE, want, NULL);
    }
    server_cert("server");
}

/* tls_sni names the server the certificate is for, and is then the name
 * checked. */
static void test_sni_names_the_server(void **state)
{
    const char *const mismatch[] = {
        X509_verify_cert_error_string(X509_V_ERR_HOSTNAME_MISMATCH), NULL,
    };

    (void)state;
    server_cert("other-host");
    roundtrip(uri("", "127.0.0.1", "tls_ca={tls_dir}/ca.crt"
                                   "&tls_sni=other.invalid"));
    server_cert("server");
    assert_refused(uri("", "127.0.0.1", "tls_ca={tls_dir}/ca.crt"
                                        "&tls_sni=other.invalid"),
                   KVSTORE_EUNAVAILABLE, mismatch, NULL);
}

static void test_client_certificate(void **state)
{
    (void)state;
    const char *const want[] = { "tls_cert", NULL };

    server_config("tls-auth-clients", "yes", NULL, NULL);
    assert_refused(uri("", "localhost", "tls_ca={tls_dir}/ca.crt"),
                   KVSTORE_EUNAVAILABLE, want, NULL);
    assert_refused(uri("alice:" SECRET "@", "localhost",
                       "tls_ca={tls_dir}/ca.crt"),
                   KVSTORE_EUNAVAILABLE, want, NULL);
    roundtrip(uri("", "localhost", "tls_ca={tls_dir}/ca.crt"
                                   "&tls_cert={tls_dir}/client.crt"
                                   "&tls_key={tls_dir}/client.key"));
    roundtrip(uri("alice:" SECRET "@", "localhost",
                  "tls_ca={tls_dir}/ca.crt&tls_cert={tls_dir}/client.crt"
                  "&tls_key={tls_dir}/client.key"));
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
    const char *const mismatch[] = { "client key", NULL };

    pem_body("client.key", key, sizeof key);
    assert_refused(uri("", "localhost", "tls_cert={tls_dir}/client.crt"),
                   KVSTORE_EINVAL, NULL, NULL);
    assert_refused(uri("", "localhost", "tls_ca={tls_dir}/missing.crt"),
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
                       "tls_ca={tls_dir}/client.key"),
                   KVSTORE_EINVAL, NULL, key);
    assert_refused(uri("", "localhost", "tls_ca={tls_dir}/ca.crt"
                                        "&tls_cert={tls_dir}/server.crt"
                                        "&tls_key={tls_dir}/client.key"),
                   KVSTORE_EINVAL, mismatch, key);
    /* TLS parameters belong to rediss:// only. */
    assert_refused(fx_expand("redis://127.0.0.1:{port}?tls_ca=x"),
                   KVSTORE_EINVAL, NULL, NULL);
}

static void test_tls_to_plain_port(void **state)
{
    (void)state;
    assert_refused(fx_expand("rediss://127.0.0.1:{port}?timeout_ms=2000"),
                   KVSTORE_EUNAVAILABLE, NULL, NULL);
}

/* A write sent over TLS whose reply never comes is uncertain. */
static void test_uncertain_write(void **state)
{
    kvstore_bucket *b = ((server_store *)*state)->b;

    assert_int_equal(kvstore_set(b, "k", "1", 1), KVSTORE_OK);
    rs_signal(&srv, SIGSTOP);
    assert_int_equal(kvstore_set(b, "k", "2", 1), KVSTORE_EUNCERTAIN);
    rs_signal(&srv, SIGCONT);
    assert_non_null(strstr(kvstore_errmsg(), "may or may not"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        SERVER_TEST(test_good_certificate, TO_LOCALHOST, "tlswatch"),
        cmocka_unit_test(test_wrong_ca),
        cmocka_unit_test(test_insecure_accepts_wrong_ca),
        cmocka_unit_test(test_refused_server_certificates),
        cmocka_unit_test(test_sni_names_the_server),
        cmocka_unit_test(test_client_certificate),
        cmocka_unit_test(test_bad_parameters),
        cmocka_unit_test(test_tls_to_plain_port),
        SERVER_TEST(test_uncertain_write, TO_LOCALHOST "&timeout_ms=300",
                    "tlsfault"),
    };
    return RS_RUN_GROUP(tests, .srv = &srv, .tls = true,
                        .args = server_args);
}

/*
 * Test support: private redis-server instances (see server.h).
 *
 * SPDX-License-Identifier: MIT
 */
#include "server.h"

#include <errno.h>
#include <stdarg.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <hiredis/hiredis.h>

#include "tmpdir.h"

#define RS_READY_MS 15000

void rs_argv_addv(rs_argv *v, const char *const *words)
{
    for (int i = 0; words && words[i]; i++) {
        if (v->n == RS_ARGV_MAX - 1) {
            fprintf(stderr, "redis test: more than %d arguments, from "
                    "\"%s\" on dropped\n", RS_ARGV_MAX - 1, words[i]);
            break;
        }
        v->argv[v->n++] = words[i];
    }
    v->argv[v->n] = NULL;
}

static void rs_argv_vadd(rs_argv *v, va_list ap)
{
    const char *words[RS_ARGV_MAX + 1];
    int n = 0;

    while (n < RS_ARGV_MAX && (words[n] = va_arg(ap, const char *)))
        n++;
    words[n] = NULL;
    rs_argv_addv(v, words);
}

void rs_argv_add(rs_argv *v, ...)
{
    va_list ap;

    va_start(ap, v);
    rs_argv_vadd(v, ap);
    va_end(ap);
}

static const char *rs_env(const char *name, const char *dflt)
{
    const char *v = getenv(name);
    return v && *v ? v : dflt;
}

void rs_sleep_ms(int ms)
{
    struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000L };
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
        ;
}

redisReply *rs_command(const rs_server *s, const char *password,
                       const char *cmd)
{
    struct timeval tv = { 1, 0 };
    redisContext *c = redisConnectUnixWithTimeout(s->sock, tv);
    redisReply *r = NULL;

    if (c != NULL && c->err == 0) {
        if (password != NULL)
            freeReplyObject(redisCommand(c, "AUTH %s", password));
        r = redisCommand(c, cmd);
    }
    redisFree(c);
    return r;
}

/* Answers on the socket with anything but -LOADING. */
static int rs_ready(const rs_server *s)
{
    redisReply *r = rs_command(s, NULL, "PING");
    int ok = r != NULL && !(r->type == REDIS_REPLY_ERROR &&
                            strncmp(r->str, "LOADING", 7) == 0);

    freeReplyObject(r);
    return ok;
}

static pid_t rs_spawn(const rs_server *s, const char *const *extra)
{
    char port[16], log[256], tls_port[16], cert[256], key[256], ca[256];
    rs_argv a = { .n = 0 };
    pid_t pid;

    snprintf(port, sizeof port, "%d", s->port);
    snprintf(log, sizeof log, "%s/redis.log", s->dir);
    rs_argv_add(&a, rs_env("REDIS_SERVER", "redis-server"), NULL);
    if (s->conf[0] != '\0')
        rs_argv_add(&a, s->conf, "--sentinel", NULL);
    rs_argv_add(&a, "--port", port, "--bind", "127.0.0.1", "--dir", s->dir,
                "--unixsocket", s->sock, "--unixsocketperm", "700",
                "--save", "", "--daemonize", "no", "--logfile", log, NULL);
    if (s->tls_port > 0) {
        snprintf(tls_port, sizeof tls_port, "%d", s->tls_port);
        snprintf(cert, sizeof cert, "%s/server.crt", s->tls_dir);
        snprintf(key, sizeof key, "%s/server.key", s->tls_dir);
        snprintf(ca, sizeof ca, "%s/ca.crt", s->tls_dir);
        rs_argv_add(&a, "--tls-port", tls_port, "--tls-cert-file", cert,
                    "--tls-key-file", key, "--tls-ca-cert-file", ca,
                    "--tls-auth-clients", s->tls_auth ? "yes" : "no",
                    NULL);
    }
    rs_argv_addv(&a, extra);

    pid = fork();
    if (pid == 0) {
        /* Never outlive the test, even if it crashes. */
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        int devnull = open("/dev/null", O_RDWR);
        if (devnull >= 0) {
            dup2(devnull, 0);
            dup2(devnull, 1);
        }
        execvp(a.argv[0], (char *const *)a.argv);
        fprintf(stderr, "redis test server: cannot run %s: %s\n",
                a.argv[0], strerror(errno));
        _exit(127);
    }
    return pid;
}

/* 1 ready, 0 the process exited (port taken?), -1 timed out. */
static int rs_wait(rs_server *s)
{
    for (int waited = 0; waited < RS_READY_MS; waited += 20) {
        int status;

        if (waitpid(s->pid, &status, WNOHANG) == s->pid) {
            s->pid = 0;
            return 0;
        }
        if (rs_ready(s))
            return 1;
        rs_sleep_ms(20);
    }
    return -1;
}

static int rs_write_file(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");

    if (f == NULL)
        return -1;
    fputs(text, f);
    return fclose(f) == 0 ? 0 : -1;
}

/* Runs a command (exact argv, no shell) with its output discarded;
 * returns its exit status, or -1. */
static int rs_exec(const char *const *argv)
{
    int status;
    pid_t pid = fork();

    if (pid == 0) {
        int devnull = open("/dev/null", O_RDWR);
        if (devnull >= 0) {
            dup2(devnull, 0);
            dup2(devnull, 1);
            dup2(devnull, 2);
        }
        execvp(argv[0], (char *const *)argv);
        _exit(127);
    }
    if (pid < 0)
        return -1;
    while (waitpid(pid, &status, 0) < 0)
        if (errno != EINTR)
            return -1;
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

/* openssl req: a P-256 key dir/NAME.key and, self-signed (a CA), NAME.crt
 * or, else, a request NAME.csr. */
static int rs_req(const char *dir, const char *name, const char *cn,
                  int self_signed)
{
    char key[256], out[256], subj[128];
    const char *argv[] = {
        rs_env("OPENSSL", "openssl"), "req", "-newkey", "ec", "-pkeyopt",
        "ec_paramgen_curve:prime256v1", "-nodes", "-keyout", key, "-out",
        out, "-subj", subj,
        /* A request ends here; a CA goes on. */
        self_signed ? "-x509" : NULL, "-days", "2", NULL,
    };

    snprintf(key, sizeof key, "%s/%s.key", dir, name);
    snprintf(out, sizeof out, "%s/%s.%s", dir, name,
             self_signed ? "crt" : "csr");
    snprintf(subj, sizeof subj, "/CN=%s", cn);
    return rs_exec(argv);
}

/* Signs dir/NAME.csr with the test CA into NAME.crt, valid for `days`
 * (-1: expired since yesterday), with the extensions line `ext`. */
static int rs_sign(const char *dir, const char *name, const char *days,
                   const char *ext)
{
    char csr[256], crt[256], ca[256], cakey[256], serial[256], extfile[256];
    const char *argv[] = {
        rs_env("OPENSSL", "openssl"), "x509", "-req", "-in", csr, "-CA", ca,
        "-CAkey", cakey, "-CAserial", serial, "-CAcreateserial", "-out", crt,
        "-days", days, "-extfile", extfile, NULL,
    };
    char line[256];

    snprintf(csr, sizeof csr, "%s/%s.csr", dir, name);
    snprintf(crt, sizeof crt, "%s/%s.crt", dir, name);
    snprintf(ca, sizeof ca, "%s/ca.crt", dir);
    snprintf(cakey, sizeof cakey, "%s/ca.key", dir);
    snprintf(serial, sizeof serial, "%s/ca.srl", dir);
    snprintf(extfile, sizeof extfile, "%s/%s.ext", dir, name);
    snprintf(line, sizeof line, "%s\n", ext);
    if (rs_write_file(extfile, line) != 0)
        return -1;
    return rs_exec(argv);
}

static int rs_make_certs(rs_server *s)
{
    const char *version[] = { rs_env("OPENSSL", "openssl"), "version",
                              NULL };
    static const char server_ext[] =
        "subjectAltName=DNS:localhost,IP:127.0.0.1\n"
        "extendedKeyUsage=serverAuth";
    const char *d = s->tls_dir;
    int failed;

    snprintf(s->tls_dir, sizeof s->tls_dir, "%s/tls", s->dir);
    if (rs_exec(version) != 0)
        return -2;
    if (mkdir(d, 0700) != 0)
        return -1;
    failed = rs_req(d, "ca", "kvstore test CA", 1) != 0 ||
             rs_req(d, "other-ca", "kvstore other CA", 1) != 0 ||
             rs_req(d, "server", "localhost", 0) != 0 ||
             rs_sign(d, "server", "2", server_ext) != 0 ||
             rs_req(d, "expired", "localhost", 0) != 0 ||
             rs_sign(d, "expired", "-1", server_ext) != 0 ||
             rs_req(d, "other-host", "other.invalid", 0) != 0 ||
             rs_sign(d, "other-host", "2",
                     "subjectAltName=DNS:other.invalid") != 0 ||
             rs_req(d, "client", "kvstore client", 0) != 0 ||
             rs_sign(d, "client", "2", "extendedKeyUsage=clientAuth") != 0;
    if (failed)
        fprintf(stderr, "redis test server: making certificates in %s with "
                "the openssl command failed\n", d);
    return failed ? -1 : 0;
}

/* tls: NULL for none, "" to make certificates, else the directory of
 * those an earlier rs_start_tls made. */
static int rs_start_with(rs_server *s, const char *const *extra,
                         const char *tls, int client_auth,
                         const char *sentinel_conf)
{
    unsigned seed = (unsigned)getpid() * 2654435761u ^ (unsigned)time(NULL) ^
                    (unsigned)(uintptr_t)s;

    s->pid = 0;
    s->tls_port = 0;
    s->tls_auth = client_auth;
    s->tls_dir[0] = '\0';
    s->conf[0] = '\0';
    snprintf(s->dir, sizeof s->dir, "%s/kvstore-redis-XXXXXX",
             rs_env("TMPDIR", "/tmp"));
    if (mkdtemp(s->dir) == NULL) {
        fprintf(stderr, "redis test server: mkdtemp: %s\n", strerror(errno));
        return -1;
    }
    snprintf(s->sock, sizeof s->sock, "%s/redis.sock", s->dir);
    if (sentinel_conf != NULL) {
        snprintf(s->conf, sizeof s->conf, "%s/sentinel.conf", s->dir);
        if (rs_write_file(s->conf, sentinel_conf) != 0) {
            fprintf(stderr, "redis test server: cannot write %s\n",
                    s->conf);
            return -1;
        }
    }
    if (tls != NULL && *tls == '\0') {
        int r = rs_make_certs(s);

        if (r != 0)
            return r;
    } else if (tls != NULL) {
        snprintf(s->tls_dir, sizeof s->tls_dir, "%s", tls);
    }
    for (int attempt = 0; attempt < 40; attempt++) {
        int r;

        seed = seed * 1103515245u + 12345u;
        s->port = 20000 + (int)((seed >> 8) % 40000);
        if (tls)
            s->tls_port = s->port + 1;
        s->pid = rs_spawn(s, extra);
        if (s->pid < 0)
            break;
        r = rs_wait(s);
        if (r == 1)
            return 0;
        if (r < 0) {
            rs_signal(s, SIGKILL);
            break;
        }
    }
    fprintf(stderr, "redis test server: could not start (see %s/redis.log)"
            "\n", s->dir);
    return -1;
}

int rs_start(rs_server *s, const char *const *extra)
{
    return rs_start_with(s, extra, NULL, 0, NULL);
}

int rs_start_tls(rs_server *s, const char *const *extra, int client_auth)
{
    return rs_start_with(s, extra, "", client_auth, NULL);
}

int rs_start_tls_shared(rs_server *s, const char *const *extra,
                        const char *tls_dir)
{
    return rs_start_with(s, extra, tls_dir, 0, NULL);
}

int rs_start_sentinel(rs_server *s, const char *conf,
                      const char *const *extra, const char *tls_dir)
{
    return rs_start_with(s, extra, tls_dir, 0, conf);
}

int rs_restart(rs_server *s, const char *const *extra)
{
    for (int attempt = 0; attempt < 50; attempt++) {
        s->pid = rs_spawn(s, extra);
        if (s->pid < 0)
            return -1;
        if (rs_wait(s) == 1)
            return 0;
        /* The old listening socket may linger for a moment. */
        rs_sleep_ms(100);
    }
    fprintf(stderr, "redis test server: could not restart on port %d\n",
            s->port);
    return -1;
}

void rs_signal(rs_server *s, int sig)
{
    if (s->pid <= 0)
        return;
    kill(s->pid, sig);
    if (sig == SIGKILL || sig == SIGTERM) {
        while (waitpid(s->pid, NULL, 0) < 0 && errno == EINTR)
            ;
        s->pid = 0;
    }
}

void rs_destroy(rs_server *s)
{
    if (s->pid > 0) {
        kill(s->pid, SIGCONT);
        rs_signal(s, SIGKILL);
    }
    if (s->dir[0] != '\0')
        ts_rmtree(s->dir);
    s->dir[0] = '\0';
}

/* Reads the child's stdout from `fd` into out (NUL-terminated, without
 * its trailing newline) and closes fd. */
static void rs_read_output(int fd, char *out, size_t cap)
{
    size_t got = 0;

    for (;;) {
        ssize_t r = read(fd, out + got, cap - 1 - got);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            break;
        got += (size_t)r;
        if (got == cap - 1)
            break;
    }
    close(fd);
    out[got] = '\0';
    if (got > 0 && out[got - 1] == '\n')
        out[--got] = '\0';
}

int rs_cli(const rs_server *s, char *out, size_t cap,
           const char *const *args)
{
    rs_argv a = { .n = 0 };
    int fds[2] = { -1, -1 }, status;
    pid_t pid;

    rs_argv_add(&a, rs_env("REDIS_CLI", "redis-cli"), NULL);
    if (s != NULL)
        rs_argv_add(&a, "-s", s->sock, NULL);
    rs_argv_addv(&a, args);
    if (out != NULL && pipe(fds) != 0)
        return -1;
    pid = fork();
    if (pid == 0) {
        dup2(out != NULL ? fds[1] : 2, 1);
        if (out != NULL) {
            close(fds[0]);
            close(fds[1]);
        }
        execvp(a.argv[0], (char *const *)a.argv);
        _exit(127);
    }
    if (out != NULL) {
        close(fds[1]);
        rs_read_output(fds[0], out, cap);
    }
    if (pid < 0 || waitpid(pid, &status, 0) < 0)
        return -1;
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

int rs_cli_words(const rs_server *s, char *out, size_t cap, ...)
{
    rs_argv a = { .n = 0 };
    va_list ap;

    va_start(ap, cap);
    rs_argv_vadd(&a, ap);
    va_end(ap);
    return rs_cli(s, out, cap, a.argv);
}

long rs_calls_of(const rs_server *s, const char *cmd)
{
    char out[16384], pat[64];
    const char *p;

    if (rs_cli_words(s, out, sizeof out, "INFO", "commandstats", NULL) != 0)
        return -1;
    snprintf(pat, sizeof pat, "cmdstat_%s:calls=", cmd);
    p = strstr(out, pat);
    return p ? strtol(p + strlen(pat), NULL, 10) : 0;
}

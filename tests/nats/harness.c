/*
 * Test harness for the nats backend (see harness.h).
 *
 * SPDX-License-Identifier: MIT
 */
#include "harness.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <nats/nats.h>

#include "tmpdir.h"

int nh_free_port(void)
{
    struct sockaddr_in a = { .sin_family = AF_INET };
    socklen_t len = sizeof a;
    int fd = socket(AF_INET, SOCK_STREAM, 0), port = -1;

    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (fd >= 0 && bind(fd, (struct sockaddr *)&a, sizeof a) == 0 &&
        getsockname(fd, (struct sockaddr *)&a, &len) == 0)
        port = ntohs(a.sin_port);
    if (fd >= 0)
        close(fd);
    return port;
}

const char *nh_url(const nh_server *s, char *buf, size_t n)
{
    snprintf(buf, n, "nats://127.0.0.1:%d", s->port);
    return buf;
}

static void sleep_ms(int ms)
{
    struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000L };
    nanosleep(&ts, NULL);
}

static int accepts(int port)
{
    struct sockaddr_in a = { .sin_family = AF_INET };
    int fd = socket(AF_INET, SOCK_STREAM, 0), ok;
    a.sin_port = htons((unsigned short)port);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ok = fd >= 0 && connect(fd, (struct sockaddr *)&a, sizeof a) == 0;
    if (fd >= 0)
        close(fd);
    return ok;
}

int nh_wait_js(const char *url, int ms)
{
    for (int waited = 0; waited < ms; waited += 100) {
        natsConnection *nc = NULL;
        natsOptions *o = NULL;
        jsCtx *js = NULL;
        jsAccountInfo *ai = NULL;
        natsStatus s = natsOptions_Create(&o);
        if (s == NATS_OK)
            s = natsOptions_SetURL(o, url);
        if (s == NATS_OK)
            s = natsOptions_SetTimeout(o, 1000);
        if (s == NATS_OK)
            s = natsConnection_Connect(&nc, o);
        if (s == NATS_OK)
            s = natsConnection_JetStream(&js, nc, NULL);
        if (s == NATS_OK)
            s = js_GetAccountInfo(&ai, js, NULL, NULL);
        jsAccountInfo_Destroy(ai);
        jsCtx_Destroy(js);
        natsConnection_Destroy(nc);
        natsOptions_Destroy(o);
        if (s == NATS_OK)
            return 0;
        sleep_ms(100);
    }
    return -1;
}

/* Waits until an R3 stream can be placed, i.e. all three servers have
 * joined the JetStream meta group, by creating and deleting a probe. */
static int wait_peers(const char *url, int ms)
{
    natsConnection *nc = NULL;
    jsCtx *js = NULL;
    int rc = -1;

    if (natsConnection_ConnectTo(&nc, url) != NATS_OK ||
        natsConnection_JetStream(&js, nc, NULL) != NATS_OK)
        goto out;
    for (int waited = 0; waited < ms; waited += 200) {
        const char *subjects[] = { "harness.probe" };
        jsStreamConfig sc;
        jsStreamConfig_Init(&sc);
        sc.Name = "HARNESS_PROBE";
        sc.Subjects = subjects;
        sc.SubjectsLen = 1;
        sc.Storage = js_MemoryStorage;
        sc.Replicas = 3;
        if (js_AddStream(NULL, js, &sc, NULL, NULL) == NATS_OK) {
            js_DeleteStream(js, "HARNESS_PROBE", NULL, NULL);
            rc = 0;
            break;
        }
        sleep_ms(200);
    }
out:
    jsCtx_Destroy(js);
    natsConnection_Destroy(nc);
    return rc;
}

static const char *server_bin(void)
{
    const char *b = getenv("NATS_SERVER");
    return b && *b ? b : "nats-server";
}

static int spawn(nh_server *s)
{
    char log[300];
    snprintf(log, sizeof log, "%s/server.log", s->dir);
    pid_t pid = fork();
    if (pid < 0)
        return -1;
    if (pid == 0) {
        /* A crashed or timed-out test must not leave a server behind. */
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        int fd = open(log, O_WRONLY | O_CREAT | O_APPEND, 0600);
        if (fd >= 0) {
            dup2(fd, 1);
            dup2(fd, 2);
        }
        execlp(server_bin(), server_bin(), "-c", s->conf, (char *)NULL);
        _exit(127);
    }
    s->pid = pid;
    for (int i = 0; i < 200; i++) {          /* 10 s */
        int st;
        if (waitpid(pid, &st, WNOHANG) == pid) {
            s->pid = 0;
            fprintf(stderr, "harness: nats-server exited, see %s\n", log);
            return -1;
        }
        if (accepts(s->port))
            return 0;
        sleep_ms(50);
    }
    return -1;
}

static int mkdir_temp(nh_server *s)
{
    char *dir = ts_mkdtemp("kvstore-nats");
    int rc = dir != NULL && strlen(dir) < sizeof s->dir ? 0 : -1;

    if (rc == 0)
        memcpy(s->dir, dir, strlen(dir) + 1);
    else
        ts_rmtree(dir);
    free(dir);
    return rc;
}

static int write_conf(nh_server *s, const char *body)
{
    snprintf(s->conf, sizeof s->conf, "%s/server.conf", s->dir);
    FILE *f = fopen(s->conf, "w");
    if (!f)
        return -1;
    fputs(body, f);
    return fclose(f);
}

/* A port picked by nh_free_port can be taken by someone else before the
 * server binds it (parallel tests): starting again with new ports fixes
 * that. */
#define NH_ATTEMPTS 3

int nh_single(nh_server *s, const char *auth)
{
    char body[2048], url[64];
    memset(s, 0, sizeof *s);
    snprintf(s->name, sizeof s->name, "n1");
    if (mkdir_temp(s) != 0)
        return -1;
    for (int attempt = 0; attempt < NH_ATTEMPTS; attempt++) {
        if ((s->port = nh_free_port()) < 0)
            return -1;
        snprintf(body, sizeof body,
                 "server_name: n1\nlisten: 127.0.0.1:%d\n"
                 "jetstream { store_dir: \"%s/js\" }\n%s\n",
                 s->port, s->dir, auth ? auth : "");
        if (write_conf(s, body) != 0)
            return -1;
        if (spawn(s) == 0)
            /* With auth on, the test's own client checks readiness. */
            return auth ? 0 : nh_wait_js(nh_url(s, url, sizeof url), 10000);
        nh_kill(s, SIGKILL);
    }
    return -1;
}

static int start_cluster(nh_server s[3])
{
    char body[2048], routes[256];
    for (int i = 0; i < 3; i++)
        if ((s[i].port = nh_free_port()) < 0 ||
            (s[i].cport = nh_free_port()) < 0)
            return -1;
    snprintf(routes, sizeof routes,
             "nats-route://127.0.0.1:%d, nats-route://127.0.0.1:%d, "
             "nats-route://127.0.0.1:%d", s[0].cport, s[1].cport,
             s[2].cport);
    for (int i = 0; i < 3; i++) {
        snprintf(body, sizeof body,
                 "server_name: %s\nlisten: 127.0.0.1:%d\n"
                 "jetstream { store_dir: \"%s/js\" }\n"
                 "cluster { name: kvc\n listen: 127.0.0.1:%d\n"
                 " routes: [ %s ] }\n",
                 s[i].name, s[i].port, s[i].dir, s[i].cport, routes);
        if (write_conf(&s[i], body) != 0 || spawn(&s[i]) != 0)
            return -1;
    }
    return 0;
}

int nh_cluster(nh_server s[3])
{
    char url[64];
    memset(s, 0, 3 * sizeof *s);
    for (int i = 0; i < 3; i++) {
        snprintf(s[i].name, sizeof s[i].name, "n%d", i + 1);
        if (mkdir_temp(&s[i]) != 0)
            return -1;
    }
    int rc = -1;
    for (int attempt = 0; attempt < NH_ATTEMPTS && rc != 0; attempt++) {
        rc = start_cluster(s);
        if (rc != 0)
            for (int i = 0; i < 3; i++)
                nh_kill(&s[i], SIGKILL);
    }
    if (rc != 0)
        return -1;
    for (int i = 0; i < 3; i++)
        if (nh_wait_js(nh_url(&s[i], url, sizeof url), 30000) != 0)
            return -1;
    return wait_peers(nh_url(&s[0], url, sizeof url), 30000);
}

int nh_restart(nh_server *s)
{
    return spawn(s);
}

void nh_kill(nh_server *s, int sig)
{
    if (s->pid <= 0)
        return;
    kill(s->pid, sig);
    waitpid(s->pid, NULL, 0);
    s->pid = 0;
}

void nh_cleanup(nh_server *s)
{
    nh_kill(s, SIGKILL);
    if (s->dir[0] && !getenv("KVSTORE_NATS_KEEP"))
        ts_rmtree(s->dir);
    s->dir[0] = '\0';
}

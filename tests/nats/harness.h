/*
 * Test harness for the nats backend: starts real nats-server processes
 * with JetStream on free loopback ports and temporary store directories,
 * and kills them at the end. The server binary comes from $NATS_SERVER
 * (set by meson), else "nats-server" on PATH.
 *
 * SPDX-License-Identifier: MIT
 */
#ifndef KVSTORE_TEST_NATS_HARNESS_H
#define KVSTORE_TEST_NATS_HARNESS_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

typedef struct nh_server {
    pid_t pid;              /* 0 when not running */
    int port;               /* client port */
    int cport;              /* cluster port, 0 for a single server */
    char name[16];          /* server_name */
    char dir[256];          /* temp dir: config, log, store (owned) */
    char conf[300];
} nh_server;

/* Writes the config of a single JetStream server (with `auth`, a
 * conf fragment such as "authorization { token: t }", or NULL) and starts
 * it. Returns 0 when it accepts clients with JetStream ready. */
int nh_single(nh_server *s, const char *auth);
/* Three routed JetStream servers n1..n3 in cluster "kvc". Returns 0 when
 * JetStream has a meta leader. */
int nh_cluster(nh_server s[3]);
/* Starts a server again from its config and store (same ports). */
int nh_restart(nh_server *s);
/* Sends `sig` and reaps the process (SIGKILL for a crash). */
void nh_kill(nh_server *s, int sig);
/* Kills the server and removes its directory. */
void nh_cleanup(nh_server *s);
/* "nats://127.0.0.1:P" into buf. */
const char *nh_url(const nh_server *s, char *buf, size_t n);
/* Waits until JetStream answers through `url` (up to ms). */
int nh_wait_js(const char *url, int ms);
/* A free TCP port on 127.0.0.1. */
int nh_free_port(void);

#endif

/*
 * redis-harness: runs one command against a private redis-server.
 *
 *   redis-harness [SERVER-ARG...] -- COMMAND [ARG...]
 *
 * Starts redis-server (server.c) with the extra SERVER-ARGs, replaces
 * {port}, {sock} and {dir} in the command's arguments, runs it, then
 * kills the server and removes its directory. Exits with the command's
 * status (77, meson's "skipped", if the server cannot start).
 *
 * KVSTORE_REDIS_WRAPPER (e.g. "valgrind --error-exitcode=1") is put in
 * front of the command: meson's --wrap/--setup would wrap this harness,
 * not the program under test.
 *
 * SPDX-License-Identifier: MIT
 */

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "server.h"

/* Returns a malloc'd copy of `arg` with the placeholders replaced. */
static char *substitute(const char *arg, const rs_server *s)
{
    char port[16];
    size_t cap = strlen(arg) + 1, len = 0;
    char *out;

    snprintf(port, sizeof port, "%d", s->port);
    for (const char *p = arg; (p = strchr(p, '{')) != NULL; p++)
        cap += sizeof s->sock;
    out = malloc(cap);
    if (out == NULL)
        return NULL;
    while (*arg) {
        const char *val = NULL;
        size_t skip = 0;

        if (strncmp(arg, "{port}", 6) == 0)
            val = port, skip = 6;
        else if (strncmp(arg, "{sock}", 6) == 0)
            val = s->sock, skip = 6;
        else if (strncmp(arg, "{dir}", 5) == 0)
            val = s->dir, skip = 5;
        if (val) {
            memcpy(out + len, val, strlen(val));
            len += strlen(val);
            arg += skip;
        } else {
            out[len++] = *arg++;
        }
    }
    out[len] = '\0';
    return out;
}

int main(int argc, char **argv)
{
    const char *extra[64];
    int n = 0, sep = -1, status = 0;
    rs_server s;
    char **cmd;
    pid_t pid;

    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--") == 0) {
            sep = i;
            break;
        }
        if (n < 63)
            extra[n++] = argv[i];
    }
    extra[n] = NULL;
    if (sep < 0 || sep + 1 >= argc) {
        fprintf(stderr, "usage: %s [SERVER-ARG...] -- COMMAND [ARG...]\n",
                argv[0]);
        return 2;
    }
    if (rs_start(&s, extra) != 0) {
        rs_destroy(&s);
        return 77;
    }
    fprintf(stderr, "redis-harness: redis-server pid %d on 127.0.0.1:%d and "
            "%s\n", (int)s.pid, s.port, s.sock);
    {
        const char *wrap = getenv("KVSTORE_REDIS_WRAPPER");
        char *words = wrap && *wrap ? strdup(wrap) : NULL;
        int nw = 0;

        cmd = calloc((size_t)(argc - sep) + (words ? strlen(words) : 0),
                     sizeof *cmd);
        for (char *w = words ? strtok(words, " ") : NULL; cmd && w;
             w = strtok(NULL, " "))
            cmd[nw++] = strdup(w);
        free(words);
        for (int i = sep + 1; cmd && i < argc; i++)
            cmd[nw + i - sep - 1] = substitute(argv[i], &s);
    }
    pid = cmd ? fork() : -1;
    if (pid == 0) {
        execv(cmd[0], cmd);
        execvp(cmd[0], cmd);
        fprintf(stderr, "redis-harness: cannot run %s: %s\n", cmd[0],
                strerror(errno));
        _exit(127);
    }
    if (pid < 0) {
        status = 1;
    } else {
        while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
            ;
        status = WIFEXITED(status) ? WEXITSTATUS(status)
                                   : 128 + WTERMSIG(status);
    }
    rs_destroy(&s);
    for (int i = 0; cmd && cmd[i]; i++)
        free(cmd[i]);
    free(cmd);
    return status;
}

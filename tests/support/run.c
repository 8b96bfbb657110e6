/*
 * Running a command against a test server (see run.h).
 *
 * SPDX-License-Identifier: MIT
 */
#include "run.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

volatile pid_t ts_run_child;

/* The placeholder of `ph` that `p` starts with, or NULL. */
static const ts_placeholder *match(const char *p, const ts_placeholder *ph,
                                   size_t nph, size_t *skip)
{
    for (size_t i = 0; i < nph; i++) {
        size_t n = strlen(ph[i].name);
        if (p[0] == '{' && strncmp(p + 1, ph[i].name, n) == 0 &&
            p[n + 1] == '}') {
            *skip = n + 2;
            return &ph[i];
        }
    }
    return NULL;
}

char *ts_substitute(const char *arg, const ts_placeholder *ph, size_t nph)
{
    size_t cap = 1, len = 0, skip;
    const ts_placeholder *m;
    char *out;

    /* First pass: the exact length. */
    for (const char *p = arg; *p;) {
        if ((m = match(p, ph, nph, &skip)) != NULL) {
            cap += strlen(m->value);
            p += skip;
        } else {
            cap++;
            p++;
        }
    }
    if ((out = malloc(cap)) == NULL)
        return NULL;
    for (const char *p = arg; *p;) {
        if ((m = match(p, ph, nph, &skip)) != NULL) {
            memcpy(out + len, m->value, strlen(m->value));
            len += strlen(m->value);
            p += skip;
        } else {
            out[len++] = *p++;
        }
    }
    out[len] = '\0';
    return out;
}

int ts_run(char *const *argv, int argc, const ts_placeholder *ph,
           size_t nph, const char *wrapper_env)
{
    const char *wrap = wrapper_env ? getenv(wrapper_env) : NULL;
    char *words = wrap && *wrap ? strdup(wrap) : NULL;
    size_t nw = 0, cap = (size_t)argc + 1 + (words ? strlen(words) : 0);
    char **cmd = calloc(cap, sizeof *cmd);
    int status = 127;
    pid_t pid;

    for (char *w = words ? strtok(words, " ") : NULL; cmd && w;
         w = strtok(NULL, " "))
        cmd[nw++] = strdup(w);
    free(words);
    for (int i = 0; cmd && i < argc; i++)
        cmd[nw + (size_t)i] = ts_substitute(argv[i], ph, nph);
    pid = cmd && cmd[0] ? fork() : -1;
    if (pid == 0) {
        execv(cmd[0], cmd);
        execvp(cmd[0], cmd);
        fprintf(stderr, "cannot run %s: %s\n", cmd[0], strerror(errno));
        _exit(127);
    }
    if (pid > 0) {
        ts_run_child = pid;
        while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
            ;
        ts_run_child = 0;
        status = WIFEXITED(status) ? WEXITSTATUS(status)
                                   : 128 + WTERMSIG(status);
    }
    for (size_t i = 0; cmd && i < cap; i++)
        free(cmd[i]);
    free(cmd);
    return status;
}

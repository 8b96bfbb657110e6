/*
 * Crash tests of the backends that write files (file, lmdb, sqlite): a
 * child writes sealed values with durable writes and is killed with
 * SIGKILL at a random moment; the parent then checks that every value it
 * reads back is whole.
 *
 * SPDX-License-Identifier: MIT
 */
#ifndef KVS_TEST_CRASH_H
#define KVS_TEST_CRASH_H

#include <signal.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "support.h"

static inline uint64_t sealed_fnv64(const unsigned char *p, size_t n)
{
    uint64_t h = 1469598103934665603ull;
    for (size_t i = 0; i < n; i++)
        h = (h ^ p[i]) * 1099511628211ull;
    return h;
}

/* A value that shows whether it is whole: `seq` (8 bytes), `len` bytes
 * drawn from `seed`, and the FNV-1a 64 of all that (8 bytes). `buf` holds
 * len + 16 bytes; returns the value's size. */
static inline size_t sealed_make(unsigned char *buf, uint64_t seq,
                                 unsigned seed, size_t len)
{
    memcpy(buf, &seq, 8);
    for (size_t i = 0; i < len; i++)
        buf[8 + i] = (unsigned char)(rand_r(&seed) >> 3);
    uint64_t h = sealed_fnv64(buf, 8 + len);
    memcpy(buf + 8 + len, &h, 8);
    return len + 16;
}

/* Whether `v` is a whole sealed value; sets *seq to its sequence. */
static inline bool sealed_ok(const unsigned char *v, size_t len,
                             uint64_t *seq)
{
    if (len < 16)
        return false;
    uint64_t h;
    memcpy(&h, v + len - 8, 8);
    memcpy(seq, v, 8);
    return h == sealed_fnv64(v, len - 8);
}

/* A seed from the time and pid, printed so that a failing run can be
 * told apart (the kill moments are random by design). */
static inline unsigned crash_seed(void)
{
    unsigned seed = (unsigned)time(NULL) ^ (unsigned)getpid();
    print_message("seed %u\n", seed);
    return seed;
}

/* Forks a child that runs writer(dir, fd, seed), `fd` being the write end
 * of a new pipe; the writer never returns (it writes until it is
 * killed). Returns the child's pid, and the read end in *rfd. */
static inline pid_t crash_spawn(void (*writer)(const char *, int, unsigned),
                                const char *dir, unsigned seed, int *rfd)
{
    int fds[2];

    assert_int_equal(pipe(fds), 0);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        close(fds[0]);
        writer(dir, fds[1], seed);
        _exit(1);
    }
    close(fds[1]);
    *rfd = fds[0];
    return pid;
}

/* Kills `pid` with SIGKILL after a pause of up to `max_us` microseconds
 * drawn from *seed, reaps it, and asserts that it died by our hand, not
 * by a failed call. */
static inline void crash_kill(pid_t pid, unsigned *seed, long max_us)
{
    struct timespec ts = { 0, (long)(rand_r(seed) % max_us) * 1000 };
    int status;

    nanosleep(&ts, NULL);
    kill(pid, SIGKILL);
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFSIGNALED(status));
}

#endif /* KVS_TEST_CRASH_H */

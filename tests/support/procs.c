/*
 * Processes sharing a store (procs.h).
 *
 * SPDX-License-Identifier: MIT
 */
#include "procs.h"
#include "run.h"
#include "support.h"

#include <inttypes.h>
#include <pthread.h>
#include <sys/wait.h>
#include <unistd.h>

#define THREADS_MAX 8
#define PROCS_MAX 8

typedef struct worker {
    kvstore_bucket *b;
    int n;
    bool cas;
    int failures;
} worker;

/* One added to "cas" by compare-and-swap, retried on conflict; 0 or -1. */
static int cas_add_one(kvstore_bucket *b)
{
    for (;;) {
        kvstore_cas *cas = NULL;
        const void *v;
        size_t len;
        if (kvstore_cas_open(&cas, b, "cas") != KVSTORE_OK)
            return -1;
        int64_t cur = 0;
        if (kvstore_cas_current(cas, &v, &len) == KVSTORE_OK) {
            char text[32];
            if (len >= sizeof text) {
                kvstore_cas_free(cas);
                return -1;
            }
            memcpy(text, v, len);
            text[len] = '\0';
            cur = strtoll(text, NULL, 10);
        }
        char next[32];
        int n = snprintf(next, sizeof next, "%" PRId64, cur + 1);
        int rc = kvstore_cas_swap(cas, next, (size_t)n);
        kvstore_cas_free(cas);
        if (rc == KVSTORE_OK)
            return 0;
        if (rc != KVSTORE_ECONFLICT)
            return -1;
    }
}

static void *work(void *arg)
{
    worker *w = arg;
    int64_t last = INT64_MIN;
    for (int i = 0; i < w->n; i++) {
        if (w->cas) {
            if (cas_add_one(w->b) != 0)
                w->failures++;
            continue;
        }
        int64_t r;
        if (kvstore_increment(w->b, "counter", 1, &r) != KVSTORE_OK ||
            r <= last)
            w->failures++;
        last = r; /* one thread sees its own results strictly rise */
    }
    return NULL;
}

/* A child's whole life: exits 0 only if every call succeeded. */
static void count_child(const procs_count *run)
{
    kvstore_store *s = NULL;
    kvstore_bucket *b = NULL;
    if (kvstore_open(&s, run->uri) != KVSTORE_OK ||
        kvstore_bucket_open(&b, s, "shared") != KVSTORE_OK)
        _exit(2);
    pthread_t t[THREADS_MAX];
    worker w[THREADS_MAX];
    int failures = 0;
    for (int i = 0; i < run->threads; i++) {
        w[i] = (worker){ b, run->per_thread, run->cas, 0 };
        if (pthread_create(&t[i], NULL, work, &w[i]) != 0)
            _exit(3);
    }
    for (int i = 0; i < run->threads; i++) {
        pthread_join(t[i], NULL);
        failures += w[i].failures;
    }
    kvstore_bucket_close(b);
    kvstore_close(s);
    _exit(failures == 0 ? 0 : 1);
}

static void wait_ok(pid_t pid)
{
    int status;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFEXITED(status));
    assert_int_equal(WEXITSTATUS(status), 0);
}

void procs_count_exact(const procs_count *run)
{
    pid_t pid[PROCS_MAX];
    char want[24];

    assert_true(run->procs <= PROCS_MAX && run->threads <= THREADS_MAX);
    if (run->create_first) {
        kvstore_store *s = open_uri(run->uri);
        kvstore_bucket_close(open_bucket(s, "shared"));
        kvstore_close(s);
    }
    for (int c = 0; c < run->procs; c++) {
        pid[c] = fork();
        assert_true(pid[c] >= 0);
        if (pid[c] == 0)
            count_child(run);
    }
    for (int c = 0; c < run->procs; c++)
        wait_ok(pid[c]);
    kvstore_store *s = open_uri(run->uri);
    kvstore_bucket *b = open_bucket(s, "shared");
    snprintf(want, sizeof want, "%d",
             run->procs * run->threads * run->per_thread);
    expect_str(b, run->cas ? "cas" : "counter", want);
    kvstore_bucket_close(b);
    kvstore_close(s);
}

void procs_count_test(void **state)
{
    procs_count run = *(const procs_count *)*state;
    char *dir = tmp_new();
    const ts_placeholder ph = { "dir", dir };
    char *uri = ts_substitute(run.uri, &ph, 1);

    assert_non_null(uri);
    run.uri = uri;
    procs_count_exact(&run);
    free(uri);
    tmp_free(dir);
}

void procs_write_steps(const char *uri, const char *bucket, const char *key,
                       const char *const *steps)
{
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        kvstore_store *s = NULL;
        kvstore_bucket *b = NULL;
        if (kvstore_open(&s, uri) != KVSTORE_OK ||
            kvstore_bucket_open(&b, s, bucket) != KVSTORE_OK)
            _exit(2);
        for (; steps != NULL && *steps != NULL; steps++) {
            int rc = strcmp(*steps, "-") == 0
                         ? kvstore_delete(b, key)
                         : kvstore_set(b, key, *steps, strlen(*steps));
            if (rc != KVSTORE_OK)
                _exit(3);
        }
        kvstore_bucket_close(b);
        kvstore_close(s);
        _exit(0);
    }
    wait_ok(pid);
}

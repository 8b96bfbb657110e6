/*
 * Unit tests: kvstore_shared_*, the registry of objects that backends
 * share per file. Each test opens "objects" that are counters of their
 * own opens and frees, so the tests see when the registry opens or frees.
 *
 * SPDX-License-Identifier: MIT
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <pthread.h>
#include <semaphore.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <kvstore/backend.h>

#include "support.h"

typedef struct obj {
    int id; /* which open made it: 1, 2, ... */
} obj;

static int opens, frees, fail_with;

static int open_obj(void **out, void *ctx)
{
    (void)ctx;
    if (fail_with != KVSTORE_OK) {
        *out = NULL;
        return kvstore_set_error(fail_with, "refused by the test");
    }
    obj *o = malloc(sizeof *o);
    if (o == NULL)
        return kvstore_set_error(KVSTORE_ENOMEM, "out of memory");
    o->id = ++opens;
    *out = o;
    return KVSTORE_OK;
}

static void free_obj(void *p)
{
    frees++;
    free(p);
}

static int setup(void **state)
{
    opens = frees = 0;
    fail_with = KVSTORE_OK;
    *state = tmp_new();
    return *state != NULL ? 0 : -1;
}

static int teardown(void **state)
{
    tmp_free(*state);
    return 0;
}

static obj *get(const char *kind, const char *path)
{
    void *o = (void *)1;
    int rc = kvstore_shared_get(&o, kind, path, open_obj, NULL);
    if (rc != KVSTORE_OK)
        fail_msg("%s %s: %d %s", kind, path, rc, kvstore_errmsg());
    return o;
}

/* Two spellings of one directory share an object; another directory or
 * another kind gets its own. */
static void test_one_per_file(void **state)
{
    const char *dir = *state;
    char other[4200], dotted[4200];
    snprintf(other, sizeof other, "%s/sub", dir);
    snprintf(dotted, sizeof dotted, "%s/./", dir);
    assert_int_equal(mkdir(other, 0700), 0);

    obj *a = get("k", dir);
    obj *b = get("k", dotted);
    assert_ptr_equal(a, b);
    assert_int_equal(opens, 1);
    obj *c = get("k", other);
    obj *d = get("other-kind", dir);
    assert_int_equal(opens, 3);
    assert_ptr_not_equal(c, a);
    assert_ptr_not_equal(d, a);
    kvstore_shared_put(a, free_obj);
    kvstore_shared_put(b, free_obj);
    kvstore_shared_put(c, free_obj);
    kvstore_shared_put(d, free_obj);
    assert_int_equal(frees, 3);
}

/* The last reference frees, and the next get opens anew. */
static void test_last_put_frees(void **state)
{
    const char *dir = *state;
    obj *a = get("k", dir);
    kvstore_shared_ref(a);
    kvstore_shared_put(a, free_obj);
    assert_int_equal(frees, 0);
    obj *b = get("k", dir);
    assert_ptr_equal(a, b);
    kvstore_shared_put(a, free_obj);
    assert_int_equal(frees, 0);
    kvstore_shared_put(b, free_obj);
    assert_int_equal(frees, 1);
    obj *c = get("k", dir);
    assert_int_equal(c->id, 2);
    kvstore_shared_put(c, free_obj);
    assert_int_equal(frees, 2);
    kvstore_shared_put(NULL, free_obj); /* ignored */
    assert_int_equal(frees, 2);
}

/* A failed open registers nothing; a missing path opens nothing. */
static void test_failures(void **state)
{
    const char *dir = *state;
    void *o = (void *)1;
    fail_with = KVSTORE_EIO;
    assert_int_equal(kvstore_shared_get(&o, "k", dir, open_obj, NULL),
                     KVSTORE_EIO);
    assert_null(o);
    fail_with = KVSTORE_OK;
    obj *a = get("k", dir);
    assert_int_equal(a->id, 1);
    kvstore_shared_put(a, free_obj);

    char missing[4200];
    snprintf(missing, sizeof missing, "%s/missing", dir);
    o = (void *)1;
    assert_int_equal(kvstore_shared_get(&o, "k", missing, open_obj, NULL),
                     KVSTORE_ENOSTORE);
    assert_null(o);
    assert_non_null(strstr(kvstore_errmsg(), "k: cannot open"));
    assert_int_equal(opens, 1);
}

/* A child of fork() opens its own object instead of its parent's. */
static void test_fork_opens_anew(void **state)
{
    const char *dir = *state;
    obj *a = get("k", dir);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        obj *b = get("k", dir);
        _exit(b != a && opens == 2 ? 0 : 1);
    }
    int status = 0;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFEXITED(status));
    assert_int_equal(WEXITSTATUS(status), 0);
    kvstore_shared_put(a, free_obj);
    assert_int_equal(frees, 1);
}

/* An open that waits (a SQLite database locked by another process) holds
 * up the opens of the same file only. */
typedef struct gate {
    sem_t started, release;
    int fail; /* the gated open's result */
} gate;

static int open_gated(void **out, void *ctx)
{
    gate *g = ctx;
    sem_post(&g->started);
    while (sem_wait(&g->release) != 0)
        ;
    if (g->fail != KVSTORE_OK) {
        *out = NULL;
        return kvstore_set_error(g->fail, "refused by the test");
    }
    return open_obj(out, NULL);
}

typedef struct opener {
    const char *path;
    gate *g; /* NULL: the plain open */
    void *obj;
    int rc;
} opener;

static void *open_thread(void *arg)
{
    opener *o = arg;
    o->rc = kvstore_shared_get(&o->obj, "k", o->path,
                               o->g ? open_gated : open_obj, o->g);
    return NULL;
}

static void gate_init(gate *g, int fail)
{
    sem_init(&g->started, 0, 0);
    sem_init(&g->release, 0, 0);
    g->fail = fail;
}

/* With the registry's lock held through an open, the second get would
 * wait for the first, which waits for the second: the test would hang
 * until meson's timeout fails it. */
static void test_slow_open_holds_up_its_file_only(void **state)
{
    const char *dir = *state;
    char other[4200];
    snprintf(other, sizeof other, "%s/other", dir);
    assert_int_equal(mkdir(other, 0700), 0);
    gate g;
    gate_init(&g, KVSTORE_OK);
    opener slow = { dir, &g, NULL, -1 };
    pthread_t t;
    assert_int_equal(pthread_create(&t, NULL, open_thread, &slow), 0);
    while (sem_wait(&g.started) != 0)
        ;
    obj *b = get("k", other); /* while the first open waits */
    assert_int_equal(b->id, 1);
    sem_post(&g.release);
    assert_int_equal(pthread_join(t, NULL), 0);
    assert_int_equal(slow.rc, KVSTORE_OK);
    assert_int_equal(((obj *)slow.obj)->id, 2);
    kvstore_shared_put(slow.obj, free_obj);
    kvstore_shared_put(b, free_obj);
    assert_int_equal(frees, 2);
}

/* A get of a file that is being opened waits for that open and shares
 * its object; if that open fails, it opens the file itself. */
static void run_second_opener(const char *dir, int first_fails)
{
    gate g;
    gate_init(&g, first_fails);
    opener first = { dir, &g, NULL, -1 }, second = { dir, NULL, NULL, -1 };
    pthread_t t1, t2;
    assert_int_equal(pthread_create(&t1, NULL, open_thread, &first), 0);
    while (sem_wait(&g.started) != 0)
        ;
    assert_int_equal(pthread_create(&t2, NULL, open_thread, &second), 0);
    /* Not a timing check: the second get is very likely waiting by then,
     * and either way the counts below must hold. */
    usleep(50000);
    sem_post(&g.release);
    assert_int_equal(pthread_join(t1, NULL), 0);
    assert_int_equal(pthread_join(t2, NULL), 0);
    assert_int_equal(second.rc, KVSTORE_OK);
    if (first_fails) {
        assert_int_equal(first.rc, first_fails);
        assert_null(first.obj);
        assert_int_equal(opens, 1); /* the second's own */
    } else {
        assert_int_equal(first.rc, KVSTORE_OK);
        assert_ptr_equal(first.obj, second.obj);
        assert_int_equal(opens, 1);
        kvstore_shared_put(first.obj, free_obj);
        assert_int_equal(frees, 0);
    }
    kvstore_shared_put(second.obj, free_obj);
    assert_int_equal(frees, 1);
}

static void test_same_file_waits_for_its_open(void **state)
{
    run_second_opener(*state, KVSTORE_OK);
}

static void test_same_file_reopens_after_failed_open(void **state)
{
    run_second_opener(*state, KVSTORE_EIO);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_one_per_file, setup, teardown),
        cmocka_unit_test_setup_teardown(test_last_put_frees, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_failures, setup, teardown),
        cmocka_unit_test_setup_teardown(test_fork_opens_anew, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(
            test_slow_open_holds_up_its_file_only, setup, teardown),
        cmocka_unit_test_setup_teardown(test_same_file_waits_for_its_open,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(
            test_same_file_reopens_after_failed_open, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

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

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_one_per_file, setup, teardown),
        cmocka_unit_test_setup_teardown(test_last_put_frees, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_failures, setup, teardown),
        cmocka_unit_test_setup_teardown(test_fork_opens_anew, setup,
                                        teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

/*
 * File backend crash safety: a child writes checksummed values (and bumps
 * a counter) in a loop with durable writes, and is killed with SIGKILL at
 * 30 random moments. After each kill every key must hold a complete value
 * whose checksum verifies, the counter must still parse, the lock must be
 * free, and no temp file may be listed.
 *
 * SPDX-License-Identifier: MIT
 */
#include <dirent.h>
#include <inttypes.h>

#include "crash.h"
#include "util.h"

#define KILLS 30
#define NKEYS 16

static char long_key[600];

static void key_of(int i, char *buf, size_t cap)
{
    if (i == NKEYS) /* one long key: the hashed-name path */
        snprintf(buf, cap, "%s", long_key);
    else
        snprintf(buf, cap, "k%02d", i);
}

static void writer(const char *dir, int ready_fd, unsigned seed)
{
    kvstore_store *s = open_store(dir, NULL); /* durable writes */
    kvstore_bucket *b = open_bucket(s, "crash");
    static unsigned char buf[70000];
    char key[700];
    if (write(ready_fd, "r", 1) != 1)
        _exit(1);
    for (;;) {
        int k = (int)(rand_r(&seed) % (NKEYS + 1));
        size_t len = 1 + rand_r(&seed) % 65536;
        size_t n = sealed_make(buf, 0, rand_r(&seed), len);
        key_of(k, key, sizeof key);
        if (kvstore_set(b, key, buf, n) != KVSTORE_OK)
            _exit(2);
        if (kvstore_increment(b, "n", 1, NULL) != KVSTORE_OK)
            _exit(3);
    }
}

/* Opens the store afresh and closes it again, so that the next round's
 * writer is the only one using it. */
static void verify(tmp_store *t)
{
    tmp_store_reopen(t, "file://{dir}", "crash");
    kvstore_bucket *b = t->b;
    kvstore_keys *page = NULL;
    assert_int_equal(kvstore_list_keys(b, NULL, NULL, 0, &page), KVSTORE_OK);
    for (size_t i = 0; i < page->count; i++) {
        const char *k = page->keys[i];
        /* never a temp or lock file (the long key is all dots) */
        assert_true(strncmp(k, ".tmp.", 5) != 0 && strcmp(k, ".lock") != 0);
        void *v = NULL;
        size_t len = 0;
        assert_int_equal(kvstore_get(b, k, &v, &len), KVSTORE_OK);
        if (strcmp(k, "n") == 0) {
            int64_t n;
            /* the counter must parse: increment by 0 reads it strictly */
            assert_int_equal(kvstore_increment(b, "n", 0, &n), KVSTORE_OK);
            assert_true(n > 0);
        } else {
            bool known = strcmp(k, long_key) == 0 ||
                         (strlen(k) == 3 && k[0] == 'k');
            if (!known)
                fail_msg("unexpected key '%.40s'", k);
            uint64_t seq;
            if (!sealed_ok(v, len, &seq))
                fail_msg("key %.40s: torn value of %zu bytes", k, len);
        }
        kvstore_free(v);
    }
    kvstore_keys_free(page);
    tmp_store_shut(t);
}

static int count_temps(const char *dir)
{
    char path[4200];
    snprintf(path, sizeof path, "%s/crash", dir);
    DIR *d = opendir(path);
    int n = 0;
    struct dirent *de;
    while (d && (de = readdir(d)) != NULL)
        n += strncmp(de->d_name, ".tmp.", 5) == 0;
    if (d)
        closedir(d);
    return n;
}

/* The store is file://{dir} with bucket "crash", closed during the
 * rounds. */
static void test_kill_at_random_moments(void **state)
{
    tmp_store *t = *state;
    const char *dir = t->dir;
    memset(long_key, '.', sizeof long_key - 1);
    unsigned seed = crash_seed();

    /* A planted temp file holding a complete record is still no key. */
    set_str(t->b, "planted", "x");
    char from[4300], to[4300];
    snprintf(from, sizeof from, "%s/crash/planted", dir);
    snprintf(to, sizeof to, "%s/crash/.tmp.0123456789abcdef", dir);
    assert_int_equal(rename(from, to), 0);
    tmp_store_shut(t);

    int max_temps = 0;
    for (int round = 0; round < KILLS; round++) {
        int fd;
        pid_t pid = crash_spawn(writer, dir, seed + (unsigned)round * 7919u,
                                &fd);
        char c;
        assert_int_equal(read(fd, &c, 1), 1);
        close(fd);
        crash_kill(pid, &seed, 40000);
        int temps = count_temps(dir);
        if (temps > max_temps)
            max_temps = temps;
        verify(t);
    }
    print_message("most temp files on disk after a kill: %d "
                  "(1 is the planted one)\n", max_temps);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        STORE_TEST(test_kill_at_random_moments, "file://{dir}", "crash"),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

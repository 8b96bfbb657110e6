/*
 * The map grows (MDB_MAP_FULL: doubled, the write retried) while other
 * threads read. LMDB allows a resize only while no transaction of the
 * process is open, so readers from the transaction pool and readers begun
 * outside it (more threads than pool slots) must all be held off and let
 * in again, and no pooled transaction may outlive a remap. Readers check
 * every value and listing they get. What this shows is that reads stay
 * right and never fail across resizes, from pooled and unpooled
 * transactions; it cannot show that the bracket is needed (on Linux a
 * remap mostly lands at the old address, so a reader caught in it rarely
 * sees anything wrong).
 *
 * SPDX-License-Identifier: MIT
 */
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"

/* More readers than the pool's 16 slots. */
enum { READERS = 20, FIXED_LEN = 1000, BIG = 512 * 1024, BIGS = 12 };

static kvstore_bucket *bucket;
static atomic_bool stop;
static atomic_int failures;
static atomic_int started; /* readers that have read once */
static unsigned char fixed[FIXED_LEN];

static void *reader(void *arg)
{
    long n = 0;
    (void)arg;
    do {
        void *v = NULL;
        size_t len = 0;
        if (kvstore_get(bucket, "fixed", &v, &len) != KVSTORE_OK ||
            len != FIXED_LEN || memcmp(v, fixed, len) != 0)
            atomic_fetch_add(&failures, 1);
        kvstore_free(v);
        if (n++ % 8 == 0) { /* a scan holds its transaction longer */
            kvstore_keys *page = NULL;
            if (kvstore_list_keys(bucket, "fixed", NULL, 10, &page) !=
                    KVSTORE_OK ||
                page->count != 1 || strcmp(page->keys[0], "fixed") != 0)
                atomic_fetch_add(&failures, 1);
            kvstore_keys_free(page);
        }
        if (n == 1)
            atomic_fetch_add(&started, 1);
    } while (!atomic_load(&stop));
    return NULL;
}

/* The map is 1 MiB, and 6 MiB of values are to come: at least three
 * resizes. */
static void test_growth_under_readers(void **state)
{
    bucket = ((tmp_store *)*state)->b;
    for (size_t i = 0; i < FIXED_LEN; i++)
        fixed[i] = (unsigned char)(i * 13 + 1);
    assert_int_equal(kvstore_set(bucket, "fixed", fixed, FIXED_LEN),
                     KVSTORE_OK);
    unsigned char *big = malloc(BIG);
    assert_non_null(big);
    memset(big, 0x5a, BIG);

    pthread_t t[READERS];
    for (int i = 0; i < READERS; i++)
        assert_int_equal(pthread_create(&t[i], NULL, reader, NULL), 0);
    /* The writes (and resizes) start once every reader is reading. */
    while (atomic_load(&started) < READERS)
        sched_yield();
    for (int i = 0; i < BIGS; i++) {
        char key[16];
        snprintf(key, sizeof key, "big%02d", i);
        assert_int_equal(kvstore_set(bucket, key, big, BIG), KVSTORE_OK);
    }
    atomic_store(&stop, true);
    for (int i = 0; i < READERS; i++)
        pthread_join(t[i], NULL);
    assert_int_equal(atomic_load(&failures), 0);

    /* Every value written during the resizes reads back whole. */
    for (int i = 0; i < BIGS; i++) {
        char key[16];
        void *v = NULL;
        size_t len = 0;
        snprintf(key, sizeof key, "big%02d", i);
        assert_int_equal(kvstore_get(bucket, key, &v, &len), KVSTORE_OK);
        assert_int_equal(len, BIG);
        assert_memory_equal(v, big, BIG);
        kvstore_free(v);
    }
    free(big);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        STORE_TEST(test_growth_under_readers,
                   "lmdb://{dir}?map_size=1048576&sync=false", "g"),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

/*
 * Redis Cluster key slots (backends/redis/crc16.c), no server needed:
 * the check value of CRC16/XMODEM and the hash tag rules with the
 * examples of the Redis Cluster specification. The cluster test checks
 * the same function against a live server's CLUSTER KEYSLOT.
 *
 * SPDX-License-Identifier: MIT
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>

#include <cmocka.h>

#include "redis.h"

static unsigned slot_of(const char *k)
{
    return rd_key_slot(k, strlen(k));
}

static void test_crc16_check_value(void **state)
{
    (void)state;
    assert_int_equal(rd_crc16("123456789", 9), 0x31C3);
    assert_int_equal(rd_crc16("", 0), 0);
    assert_int_equal(slot_of("123456789"), 12739);
}

static void test_known_slots(void **state)
{
    (void)state;
    /* As CLUSTER KEYSLOT answers them. */
    assert_int_equal(slot_of("foo"), 12182);
    assert_int_equal(slot_of("bar"), 5061);
    assert_int_equal(slot_of("hello"), 866);
}

static void test_hash_tags(void **state)
{
    (void)state;
    /* The tag alone is hashed. */
    assert_int_equal(slot_of("{user1000}.following"), slot_of("user1000"));
    assert_int_equal(slot_of("{user1000}.followers"), slot_of("user1000"));
    /* The first '{' and the first '}' after it. */
    assert_int_equal(slot_of("foo{bar}{zap}"), slot_of("bar"));
    assert_int_equal(slot_of("foo{{bar}}zap"), slot_of("{bar"));
    /* An empty tag, or none closed: the whole key. */
    assert_int_equal(slot_of("foo{}{bar}"),
                     rd_crc16("foo{}{bar}", 10) & 16383);
    assert_int_equal(slot_of("foo{bar"), rd_crc16("foo{bar", 7) & 16383);
    /* Bytes, not strings: a NUL inside a tag is hashed. */
    assert_int_equal(rd_key_slot("{a\0b}x", 6), rd_crc16("a\0b", 3) & 16383);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_crc16_check_value),
        cmocka_unit_test(test_known_slots),
        cmocka_unit_test(test_hash_tags),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

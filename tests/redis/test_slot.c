/*
 * Redis Cluster key slots (backends/redis/crc16.c), no server needed:
 * the check value of CRC16/XMODEM and the hash tag rules with the
 * examples of the Redis Cluster specification, each with the slot a real
 * server gives it. The cluster test checks the same function against a
 * live server's CLUSTER KEYSLOT.
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

/* Keys and their slots as CLUSTER KEYSLOT of redis-server 7 answers
 * them, with the bytes the hash tag rules hash: the slot is their CRC16
 * modulo 16384. */
static void test_slots_and_hash_tags(void **state)
{
    static const struct {
        const char *key;
        size_t len;
        const char *hashed;
        size_t hashed_len;
        unsigned slot;
    } cases[] = {
        /* No tag: the whole key. */
        { "foo", 3, "foo", 3, 12182 },
        { "bar", 3, "bar", 3, 5061 },
        { "hello", 5, "hello", 5, 866 },
        /* The tag alone is hashed. */
        { "{user1000}.following", 20, "user1000", 8, 3443 },
        { "{user1000}.followers", 20, "user1000", 8, 3443 },
        /* The first '{' and the first '}' after it. */
        { "foo{bar}{zap}", 13, "bar", 3, 5061 },
        { "foo{{bar}}zap", 13, "{bar", 4, 4015 },
        /* An empty tag, or none closed: the whole key. */
        { "foo{}{bar}", 10, "foo{}{bar}", 10, 8363 },
        { "foo{bar", 7, "foo{bar", 7, 15278 },
        /* Bytes, not strings: a NUL inside a tag is hashed. */
        { "{a\0b}x", 6, "a\0b", 3, 8383 },
    };

    (void)state;
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        unsigned slot = rd_key_slot(cases[i].key, cases[i].len);
        unsigned hashed = rd_crc16(cases[i].hashed, cases[i].hashed_len) &
                          16383;

        if (slot != cases[i].slot || hashed != cases[i].slot)
            fail_msg("case %zu (%s): slot %u, its hashed part's %u, "
                     "CLUSTER KEYSLOT %u", i, cases[i].hashed, slot, hashed,
                     cases[i].slot);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_crc16_check_value),
        cmocka_unit_test(test_slots_and_hash_tags),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

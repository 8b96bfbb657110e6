/*
 * libkvstore - memory backend: the key hash.
 *
 * uthash's default (Jenkins) works a byte at a time and, unseeded, lets a
 * hostile guest compute keys that all land in one chain. This hash reads
 * eight bytes at a time and is seeded once per process from getrandom(),
 * so colliding keys cannot be prepared in advance. It is not a
 * cryptographic hash; it only has to spread keys and resist precomputed
 * floods.
 *
 * SPDX-License-Identifier: MIT
 */
#include "memory.h"

#include <string.h>
#include <sys/random.h>
#include <time.h>

static uint64_t seed;
static pthread_once_t seed_once = PTHREAD_ONCE_INIT;

static void seed_init(void)
{
    uint64_t s = 0;

    /* Without entropy (very early boot, seccomp) fall back to something
     * that still differs between processes. */
    if (getrandom(&s, sizeof(s), GRND_NONBLOCK) != (ssize_t)sizeof(s)) {
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        s = (uint64_t)ts.tv_nsec ^ ((uint64_t)ts.tv_sec << 32) ^
            (uint64_t)(uintptr_t)&ts;
    }
    seed = s | 1;
}

void mem_hash_init(void)
{
    pthread_once(&seed_once, seed_init);
}

static inline uint64_t mix(uint64_t h)
{
    /* The murmur3 / splitmix64 finaliser: every input bit affects every
     * output bit. */
    h ^= h >> 33;
    h *= UINT64_C(0xff51afd7ed558ccd);
    h ^= h >> 33;
    h *= UINT64_C(0xc4ceb9fe1a85ec53);
    h ^= h >> 33;
    return h;
}

uint32_t mem_hash(const char *key, size_t klen)
{
    const unsigned char *p = (const unsigned char *)key;
    uint64_t h = seed ^ (klen * UINT64_C(0x9e3779b97f4a7c15));
    uint64_t w;
    size_t n = klen;

    while (n > 8) {
        memcpy(&w, p, 8);
        h = (h ^ w) * UINT64_C(0x9e3779b97f4a7c15);
        h ^= h >> 29;
        p += 8;
        n -= 8;
    }
    /* The last 1..8 bytes without a byte loop: one load that may reach back
     * into bytes already mixed, or two overlapping 4-byte loads, or three
     * single bytes. The length is in `h`, so the overlaps cannot make two
     * keys of different lengths collide by construction. */
    if (klen >= 8) {
        memcpy(&w, key + klen - 8, 8);
    } else if (n >= 4) {
        uint32_t lo, hi;

        memcpy(&lo, p, 4);
        memcpy(&hi, p + n - 4, 4);
        w = ((uint64_t)hi << 32) | lo;
    } else if (n > 0) {
        w = ((uint64_t)p[0] << 16) | ((uint64_t)p[n / 2] << 8) | p[n - 1];
    } else {
        w = 0;
    }
    h = mix(h ^ w);
    return (uint32_t)h ^ (uint32_t)(h >> 32);
}

/*
 * libkvstore core - kvstore_hash: SipHash-2-4 under a per-process key.
 *
 * Keys come from guests, so a backend's in-memory table must not let
 * anyone prepare keys that all land in one chain (hash flooding). The
 * memory backend's earlier hash (a seeded multiply-xorshift) had
 * collisions that did not depend on its seed at all: two keys differing
 * in bit 63 of a block, and in bits 63 and 34 of the next, collided for
 * every seed, because a multiplication carries a top-bit difference to
 * nowhere but the top bit. SipHash is a keyed pseudo-random function:
 * without its 128-bit key, drawn from getrandom() once per process,
 * collisions cannot be computed, by design rather than by obscurity. This
 * is SipHash-2-4 as specified by Aumasson and Bernstein ("SipHash: a fast
 * short-input PRF", 2012), written here from the specification. Every
 * backend that hashes guest keys in memory uses it (memory's stripes and
 * chains, redis' page de-duplication).
 *
 * SPDX-License-Identifier: MIT
 */
#include "internal.h"

#include <string.h>
#include <sys/random.h>

static uint64_t key0, key1;
static pthread_once_t key_once = PTHREAD_ONCE_INIT;
/* Set once the key is drawn: the hot path tests it instead of calling
 * pthread_once on every hash. */
static atomic_bool key_ready;

static void key_init(void)
{
    uint64_t k[2] = { 0, 0 };

    /* Without entropy (very early boot, seccomp) fall back to something
     * that still differs between processes: far weaker, but no worse than
     * a fixed key. */
    if (getrandom(k, sizeof(k), GRND_NONBLOCK) != (ssize_t)sizeof(k)) {
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        k[0] = (uint64_t)ts.tv_nsec ^ ((uint64_t)ts.tv_sec << 32);
        k[1] = (uint64_t)(uintptr_t)&ts ^ ((uint64_t)(uintptr_t)k << 17);
    }
    key0 = k[0];
    key1 = k[1];
    atomic_store_explicit(&key_ready, true, memory_order_release);
}

void kvs_hash_set_key(const unsigned char key[16])
{
    pthread_once(&key_once, key_init); /* so that no later draw replaces it */
    memcpy(&key0, key, 8);
    memcpy(&key1, key + 8, 8);
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
    key0 = __builtin_bswap64(key0);
    key1 = __builtin_bswap64(key1);
#endif
}

static inline uint64_t load_le64(const unsigned char *p)
{
    uint64_t v;

    memcpy(&v, p, 8);
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
    v = __builtin_bswap64(v);
#endif
    return v;
}

static inline uint64_t rotl(uint64_t x, int b)
{
    return (x << b) | (x >> (64 - b));
}

#define SIPROUND                                                        \
    do {                                                                \
        v0 += v1; v1 = rotl(v1, 13); v1 ^= v0; v0 = rotl(v0, 32);       \
        v2 += v3; v3 = rotl(v3, 16); v3 ^= v2;                          \
        v0 += v3; v3 = rotl(v3, 21); v3 ^= v0;                          \
        v2 += v1; v1 = rotl(v1, 17); v1 ^= v2; v2 = rotl(v2, 32);       \
    } while (0)

uint64_t kvstore_hash(const void *data, size_t len)
{
    if (!atomic_load_explicit(&key_ready, memory_order_acquire))
        pthread_once(&key_once, key_init);
    const unsigned char *p = data;
    uint64_t v0 = key0 ^ UINT64_C(0x736f6d6570736575);
    uint64_t v1 = key1 ^ UINT64_C(0x646f72616e646f6d);
    uint64_t v2 = key0 ^ UINT64_C(0x6c7967656e657261);
    uint64_t v3 = key1 ^ UINT64_C(0x7465646279746573);
    size_t whole = len & ~(size_t)7;
    uint64_t m, b = (uint64_t)len << 56;

    for (size_t i = 0; i < whole; i += 8) {
        m = load_le64(p + i);
        v3 ^= m;
        SIPROUND;
        SIPROUND;
        v0 ^= m;
    }
    /* The last 0..7 bytes, little-endian, under the length byte. */
    switch (len & 7) {
    case 7: b |= (uint64_t)p[whole + 6] << 48; /* fall through */
    case 6: b |= (uint64_t)p[whole + 5] << 40; /* fall through */
    case 5: b |= (uint64_t)p[whole + 4] << 32; /* fall through */
    case 4: b |= (uint64_t)p[whole + 3] << 24; /* fall through */
    case 3: b |= (uint64_t)p[whole + 2] << 16; /* fall through */
    case 2: b |= (uint64_t)p[whole + 1] << 8;  /* fall through */
    case 1: b |= (uint64_t)p[whole];           /* fall through */
    default: break;
    }
    v3 ^= b;
    SIPROUND;
    SIPROUND;
    v0 ^= b;
    v2 ^= 0xff;
    SIPROUND;
    SIPROUND;
    SIPROUND;
    SIPROUND;
    return v0 ^ v1 ^ v2 ^ v3;
}

/* The redis module's cluster list state parser (rd_place_parse in
 * backends/redis/cursor.c, compiled into the target), against an acceptor
 * written here from the grammar documented at the top of
 * backends/redis/cluster_list.c:
 *
 *   "N" low "." fp "." inner  |  "I" tag "." fp "." inner
 *
 * low a canonical decimal below 16384, tag one of at most
 * 18446744073709551615, fp a canonical decimal of at most
 * 4294967295, inner any bytes (the per-master state, parsed later by
 * rd_state_parse, which fuzz_redis_cursor covers; it is run here too, as
 * rd_walk would, so the pair is exercised together). The core hands the
 * state over as a string: the input up to its first NUL, from an
 * exact-size heap copy. The parser must return KVSTORE_OK exactly when
 * the acceptor does (else KVSTORE_EINVAL), and an accepted state
 * formatted back as cluster_list.c writes it must give the input again. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "redis.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* A canonical decimal of at most `max`, by string comparison. */
static bool dec_ok(const char *s, size_t len, const char *max)
{
    size_t ml = strlen(max);

    if (len == 0 || len > ml || (s[0] == '0' && len > 1))
        return false;
    for (size_t i = 0; i < len; i++)
        if (s[i] < '0' || s[i] > '9')
            return false;
    return len < ml || memcmp(s, max, ml) <= 0;
}

static bool accept(const char *s)
{
    const char *d1, *d2;

    if ((s[0] != 'N' && s[0] != 'I') || (d1 = strchr(s + 1, '.')) == NULL ||
        (d2 = strchr(d1 + 1, '.')) == NULL)
        return false;
    return dec_ok(s + 1, (size_t)(d1 - s - 1),
                  s[0] == 'N' ? "16383" : "18446744073709551615") &&
           dec_ok(d1 + 1, (size_t)(d2 - d1 - 1), "4294967295");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const uint8_t *nul = memchr(data, '\0', size);
    size_t n = nul ? (size_t)(nul - data) : size;
    char *s = malloc(n + 1), *again;
    rd_place pl;
    rd_state st;
    int rc;

    if (s == NULL)
        abort();
    memcpy(s, data, n);
    s[n] = '\0';
    rc = rd_place_parse(&pl, s);
    if ((rc == KVSTORE_OK) != accept(s) ||
        (rc != KVSTORE_OK && rc != KVSTORE_EINVAL))
        abort();
    if (rc == KVSTORE_OK) {
        if (pl.low >= RD_SLOTS_N ||
            (pl.inner != NULL && (pl.inner < s || pl.inner >= s + n)))
            abort();
        again = malloc(n + 1);
        if (again == NULL)
            abort();
        if ((size_t)snprintf(again, n + 1, "%c%" PRIu64 ".%" PRIu32 ".%s",
                             pl.importers ? 'I' : 'N',
                             pl.importers ? pl.tag : pl.low, pl.fp,
                             pl.inner ? pl.inner : "") != n ||
            memcmp(again, s, n) != 0)
            abort();
        free(again);
        if (pl.inner != NULL) {
            rc = rd_state_parse(&st, pl.inner, strlen(pl.inner));
            if (rc != KVSTORE_OK && rc != KVSTORE_EINVAL)
                abort();
        }
    }
    free(s);
    return 0;
}

/*
 * Redis backend: the list cursor's state, parsed strictly (list.c
 * documents the "C", "S" and "R" forms and builds them; cluster_list.c
 * the "N" form around them).
 *
 * The state comes from the core, which unwrapped it from a cursor bound
 * to this backend, store and bucket; that checksum is no secret: a guest
 * can forge any bytes here, so every field is checked
 * and numbers must be canonical decimals. Kept apart from list.c so that
 * tests/fuzz/fuzz_redis_cursor.c can run it without a server.
 *
 * SPDX-License-Identifier: MIT
 */
#include <string.h>

#include "redis.h"

bool rd_u64(const char *s, size_t len, uint64_t *out)
{
    uint64_t v = 0;

    if (len == 0 || len > 20 || (s[0] == '0' && len > 1))
        return false;
    for (size_t i = 0; i < len; i++) {
        unsigned d = (unsigned)(s[i] - '0');
        if (d > 9 || v > (UINT64_MAX - d) / 10)
            return false;
        v = v * 10 + d;
    }
    *out = v;
    return true;
}

/* Every RD_SEP-separated part of [s, s+len) is a usable key. */
static bool rd_keys_valid(const char *s, size_t len)
{
    size_t at = 0;

    if (len == 0)
        return false;
    for (;;) {
        const char *sep = memchr(s + at, RD_SEP, len - at);
        size_t stop = sep ? (size_t)(sep - s) : len;

        if (!rd_key_usable(s + at, stop - at))
            return false;
        if (sep == NULL)
            return true;
        at = stop + 1;
    }
}

/* The head of an 'R' state: "<cursor> <count> <next>" from buf + 1 up to
 * `sep`. */
static bool rd_resume_head(rd_state *st, const char *buf, const char *sep)
{
    const char *sp1 = memchr(buf + 1, ' ', (size_t)(sep - buf - 1));
    const char *sp2 = sp1 ? memchr(sp1 + 1, ' ', (size_t)(sep - sp1 - 1))
                          : NULL;

    return sp2 != NULL &&
           rd_u64(buf + 1, (size_t)(sp1 - buf - 1), &st->cursor) &&
           rd_u64(sp1 + 1, (size_t)(sp2 - sp1 - 1), &st->count) &&
           rd_u64(sp2 + 1, (size_t)(sep - sp2 - 1), &st->next) &&
           st->count != 0 && st->count <= RD_COUNT_MAX;
}

int rd_state_parse(rd_state *st, const char *buf, size_t n)
{
    const char *sep;
    bool ok = false;

    memset(st, 0, sizeof *st);
    if (n < 2)
        goto bad;
    st->kind = buf[0];
    if (st->kind == 'C') {
        if (!rd_u64(buf + 1, n - 1, &st->cursor) || st->cursor == 0)
            goto bad;
        return KVSTORE_OK;
    }
    /* 'S' and 'R': numbers, RD_SEP, then the keys. */
    sep = memchr(buf, RD_SEP, n);
    if (sep == NULL)
        goto bad;
    st->keys = sep + 1;
    st->keys_len = n - (size_t)(st->keys - buf);
    if (st->kind == 'S')
        ok = rd_u64(buf + 1, (size_t)(sep - buf - 1), &st->cursor) &&
             rd_keys_valid(st->keys, st->keys_len);
    else if (st->kind == 'R')
        ok = rd_resume_head(st, buf, sep) &&
             rd_key_usable(st->keys, st->keys_len);
    if (ok)
        return KVSTORE_OK;
bad:
    return kvstore_set_error(KVSTORE_EINVAL, "redis: malformed list "
                             "cursor");
}

int rd_place_parse(rd_place *pl, const char *s)
{
    const char *dot1, *dot2;
    uint64_t at, fp;

    if ((s[0] != 'N' && s[0] != 'I') || (dot1 = strchr(s + 1, '.')) == NULL ||
        (dot2 = strchr(dot1 + 1, '.')) == NULL ||
        !rd_u64(s + 1, (size_t)(dot1 - s - 1), &at) ||
        (s[0] == 'N' && at >= RD_SLOTS_N) ||
        !rd_u64(dot1 + 1, (size_t)(dot2 - dot1 - 1), &fp) ||
        fp > UINT32_MAX)
        return kvstore_set_error(KVSTORE_EINVAL, "redis: malformed list "
                                 "cursor");
    pl->importers = s[0] == 'I';
    pl->tag = pl->importers ? at : 0;
    pl->low = pl->importers ? 0 : (unsigned)at;
    pl->fp = (uint32_t)fp;
    pl->inner = dot2[1] != '\0' ? dot2 + 1 : NULL;
    return KVSTORE_OK;
}

/* The redis module's list cursor state parser (backends/redis/cursor.c,
 * compiled into the target: its functions are hidden in the module),
 * against an acceptor written here from the state grammar documented at
 * the top of backends/redis/list.c:
 *
 *   "C" u64 (not 0) | "S" u64 (SEP key)+ | "R" u64 " " count " " u64 SEP key
 *
 * where SEP is the byte 0xFF, u64 is a canonical decimal (no sign, no
 * leading zero, at most 18446744073709551615), count is 1..RD_COUNT_MAX
 * and key is a key the contract accepts (kvstore_key_check: 1..1024 bytes
 * of UTF-8, no NUL; so never a 0xFF byte).
 *
 * The module's table is version 2: the core unwraps the cursor and hands
 * list_keys the state as a string, which a guest can forge freely (the
 * binding checksum is public). The input is used two ways: as counted
 * bytes, parsed from a heap copy of exactly its size (ASan sees any read
 * past it; a NUL inside must be refused like any other bad byte), and as
 * the string the core hands over (the bytes before the first NUL, parsed
 * as rd_list_keys does, from an exact-size copy). Each time the parser
 * must return KVSTORE_OK exactly when the acceptor does (else
 * KVSTORE_EINVAL), and a state it accepts must hold the fields the
 * grammar gives: every owed key of "S" valid and inside the input, counts
 * in range, and formatting the fields back (as list.c builds states) must
 * give the input bytes again, so no two states mean the same thing. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "redis.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Canonical decimal of a uint64_t, by string comparison only. */
static bool dec_ok(const char *s, size_t len)
{
    static const char max[] = "18446744073709551615";

    if (len == 0 || len > 20 || (s[0] == '0' && len > 1))
        return false;
    for (size_t i = 0; i < len; i++)
        if (s[i] < '0' || s[i] > '9')
            return false;
    return len < 20 || memcmp(s, max, 20) <= 0;
}

static bool key_ok(const char *k, size_t len)
{
    bool ok;
    char *z;

    if (len == 0 || len > KVSTORE_KEY_MAX || memchr(k, '\0', len))
        return false;
    z = malloc(len + 1);
    if (z == NULL)
        abort();
    memcpy(z, k, len);
    z[len] = '\0';
    ok = kvstore_key_check(z) == KVSTORE_OK;
    free(z);
    return ok;
}

#define SEP '\xff'

static bool accept(const char *s, size_t n)
{
    const char *nul, *end = s + n;

    if (n < 2)
        return false;
    if (s[0] == 'C')
        return dec_ok(s + 1, n - 1) && !(n == 2 && s[1] == '0');
    /* `nul` names the separator (it was a NUL in version 1 states). */
    nul = memchr(s, SEP, n);
    if (nul == NULL || (s[0] != 'S' && s[0] != 'R'))
        return false;
    if (s[0] == 'S') {
        if (!dec_ok(s + 1, (size_t)(nul - s - 1)))
            return false;
        /* One or more keys, SEP-separated, none empty. */
        for (const char *p = nul + 1;;) {
            const char *q = memchr(p, SEP, (size_t)(end - p));
            if (!key_ok(p, (size_t)((q ? q : end) - p)))
                return false;
            if (q == NULL)
                return true;
            p = q + 1;
        }
    }
    /* R: exactly three space-separated fields before the NUL. */
    const char *f[3], *p = s + 1;
    size_t fl[3];
    for (int i = 0; i < 3; i++) {
        const char *sp = memchr(p, ' ', (size_t)(nul - p));
        if ((i < 2) != (sp != NULL))
            return false;
        f[i] = p;
        fl[i] = (size_t)((sp ? sp : nul) - p);
        p = sp ? sp + 1 : nul;
    }
    if (!dec_ok(f[0], fl[0]) || !dec_ok(f[1], fl[1]) || !dec_ok(f[2], fl[2]))
        return false;
    if (fl[1] > 5 || strtoul(f[1], NULL, 10) == 0 ||
        strtoul(f[1], NULL, 10) > RD_COUNT_MAX)
        return false;
    return key_ok(nul + 1, (size_t)(end - nul - 1));
}

/* Parses n bytes from an exact-size heap copy and checks the result. */
static void check_state(const void *data, size_t n)
{
    char *buf = malloc(n ? n : 1), *again = NULL;
    rd_state st;
    int rc, hl;
    char head[72];

    if (buf == NULL)
        abort();
    memcpy(buf, data, n);
    /* A terminated copy for strtoul in accept(): fields end at a space or
     * SEP, so it never reads past them. */
    char *z = malloc(n + 1);
    if (z == NULL)
        abort();
    memcpy(z, data, n);
    z[n] = '\0';
    bool want = accept(z, n);
    free(z);

    rc = rd_state_parse(&st, buf, n);
    if ((rc == KVSTORE_OK) != want ||
        (rc != KVSTORE_OK && rc != KVSTORE_EINVAL))
        abort();
    if (rc != KVSTORE_OK) {
        free(buf);
        return;
    }
    /* The fields, formatted back as list.c writes states. */
    switch (st.kind) {
    case 'C':
        if (st.cursor == 0 || st.keys != NULL)
            abort();
        hl = snprintf(head, sizeof head, "C%" PRIu64, st.cursor);
        break;
    case 'S':
        hl = snprintf(head, sizeof head, "S%" PRIu64, st.cursor);
        break;
    case 'R':
        if (st.count == 0 || st.count > RD_COUNT_MAX)
            abort();
        hl = snprintf(head, sizeof head, "R%" PRIu64 " %" PRIu64 " %" PRIu64,
                      st.cursor, st.count, st.next);
        break;
    default:
        abort();
    }
    if (st.kind != 'C') {
        /* The keys are the rest of the input, after the header's SEP. */
        if (st.keys != buf + hl + 1 || st.keys_len != n - (size_t)hl - 1)
            abort();
        size_t at = 0, nkeys = 0;
        for (;;) {
            const char *q = memchr(st.keys + at, SEP, st.keys_len - at);
            size_t len = (size_t)((q ? q : st.keys + st.keys_len) -
                                  (st.keys + at));
            if (!key_ok(st.keys + at, len))
                abort();
            nkeys++;
            if (q == NULL)
                break;
            at += len + 1;
        }
        if (st.kind == 'R' && nkeys != 1)
            abort();
    }
    again = malloc((size_t)hl + 1 + (st.keys ? st.keys_len : 0));
    if (again == NULL)
        abort();
    memcpy(again, head, (size_t)hl);
    size_t al = (size_t)hl;
    if (st.keys) {
        again[al++] = SEP;
        memcpy(again + al, st.keys, st.keys_len);
        al += st.keys_len;
    }
    if (al != n || memcmp(again, data, n) != 0)
        abort();
    free(again);
    free(buf);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const void *nul = memchr(data, '\0', size);

    check_state(data, size);
    /* What the core hands list_keys: a string, so the bytes before the
     * first NUL. */
    if (nul != NULL)
        check_state(data, (size_t)((const uint8_t *)nul - data));
    return 0;
}

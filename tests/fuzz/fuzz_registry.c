/* The descriptor checks a backend table passes before it is registered
 * (src/registry.c), as for a table returned by a loaded module, against
 * an oracle written from include/kvstore/backend.h alone.
 *
 * Input byte 0 picks the mode:
 *  even: one table built from the input is checked with
 *        kvs_registry_check: version (4 bytes LE), slot mask (2 bytes),
 *        options mode (1 byte), then "name NUL option NUL option ...";
 *  odd:  a list of up to 8 tables drawn from a fixed pool (valid,
 *        invalid, same name twice, a built-in's name) is registered with
 *        kvs_registry_add_all, which must add all of them or none. The
 *        pool is static, so the grow-only registry stays small. */
#include <stdlib.h>
#include <string.h>

#include "slots.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The scheme rule of backend.h: [a-z][a-z0-9+.-]*, at most 32 bytes. */
static bool name_ok(const char *s)
{
    size_t n = strlen(s);

    if (n < 1 || n > 32 || !(s[0] >= 'a' && s[0] <= 'z'))
        return false;
    for (size_t i = 1; i < n; i++)
        if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9') ||
              s[i] == '+' || s[i] == '.' || s[i] == '-'))
            return false;
    return true;
}

static bool all_or_none(unsigned mask, unsigned bits)
{
    return (mask & bits) == 0 || (mask & bits) == bits;
}

static void check_one(const uint8_t *data, size_t size)
{
    kvstore_backend be = {0};
    char *text, *p, *end;
    const char **opts;
    size_t nopts = 0;
    unsigned mask;
    int omode;
    bool expect, opts_ok = true;

    if (size < 7)
        return;
    be.version = (unsigned)data[0] | (unsigned)data[1] << 8 |
                 (unsigned)data[2] << 16 | (unsigned)data[3] << 24;
    mask = (unsigned)data[4] | (unsigned)data[5] << 8;
    omode = data[6] % 3; /* 0: NULL options, 1: the list, 2: empty list */
    data += 7;
    size -= 7;
    /* Each string its own allocation, so an over-read is caught. */
    text = malloc(size + 1);
    opts = calloc(size + 2, sizeof *opts);
    if (text == NULL || opts == NULL)
        goto out;
    memcpy(text, data, size);
    text[size] = '\0';
    end = text + size;
    be.name = text;
    for (p = text + strlen(text) + 1; p < end; p += strlen(p) + 1)
        if ((opts[nopts] = strdup(p)) != NULL)
            nopts++;
    opts[nopts] = NULL;
    if (omode == 1) {
        be.options = opts;
        for (size_t i = 0; i < nopts; i++)
            if (opts[i][0] == '\0')
                opts_ok = false;
    } else if (omode == 2) {
        be.options = opts + nopts; /* {NULL} */
    }
    fill_slots(&be, mask);
    expect = be.version >= 1 && be.version <= KVSTORE_BACKEND_VERSION &&
             name_ok(be.name) && (mask & 0x1FF) == 0x1FF &&
             all_or_none(mask, 7u << B_CAS_OPEN) &&
             all_or_none(mask, 3u << B_WATCH_START) && opts_ok;
    int rc = kvs_registry_check(&be);
    if (rc != KVSTORE_OK && rc != KVSTORE_EINVAL)
        abort();
    /* Any number of options up to 64 is fine; the check may cap longer
     * lists (it refuses more than 65). */
    if (omode == 1 && nopts > 64 && rc == KVSTORE_EINVAL && expect)
        expect = false;
    if ((rc == KVSTORE_OK) != expect)
        abort();
    if (rc != KVSTORE_OK && strlen(kvstore_errmsg()) == 0)
        abort();
out:
    for (size_t i = 0; i < nopts; i++)
        free((void *)opts[i]);
    free(opts);
    free(text);
}

#define FULL (0x1FFu | 7u << B_CAS_OPEN | 3u << B_WATCH_START)
static kvstore_backend pool[8];

static void pool_init(void)
{
    static const struct { const char *name; unsigned version, mask; } def[8] = {
        {"fz-a", 1, FULL}, {"fz-b", 1, 0x1FF}, {"fz-c+x", 1, FULL},
        {"fz-a", 1, 0x1FF},          /* another table named like pool[0] */
        {"memory", 1, FULL},         /* a built-in's name */
        {"fz-bad", 0, FULL},         /* unknown version */
        {"fz-d", 1, 0x0FF},          /* lacks list_keys */
        {"Fz-e", 1, FULL},           /* upper case */
    };
    for (int i = 0; i < 8; i++) {
        pool[i].version = def[i].version;
        pool[i].name = def[i].name;
        fill_slots(&pool[i], def[i].mask);
    }
}

static void check_list(const uint8_t *data, size_t size)
{
    static bool inited;
    const kvstore_backend *list[9], *before[9];
    size_t n = size < 8 ? size : 8;
    bool expect = true, added;
    int rc;

    if (!inited) {
        pool_init();
        inited = true;
    }
    for (size_t i = 0; i < n; i++)
        list[i] = &pool[data[i] % 8];
    list[n] = NULL;
    for (size_t i = 0; i < n; i++) {
        before[i] = kvs_registry_find_registered(list[i]->name);
        if (kvs_registry_check(list[i]) != KVSTORE_OK ||
            (before[i] != NULL && before[i] != list[i]))
            expect = false;
        for (size_t j = 0; j < i; j++)
            if (list[j] != list[i] && strcmp(list[j]->name, list[i]->name) == 0)
                expect = false;
    }
    rc = kvs_registry_add_all(list, &added);
    if ((rc == KVSTORE_OK) != expect)
        abort();
    for (size_t i = 0; i < n; i++) {
        const kvstore_backend *now =
            kvs_registry_find_registered(list[i]->name);
        if (rc == KVSTORE_OK ? now != list[i] : now != before[i])
            abort(); /* not all, or not none */
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size == 0)
        return 0;
    if (data[0] & 1)
        check_list(data + 1, size - 1);
    else
        check_one(data + 1, size - 1);
    return 0;
}

/* The module loader's descriptor checks (kvs_module_check, src/loader.c)
 * on descriptors built from the input, against an oracle written from
 * include/kvstore/backend.h alone, followed by what the loader does next
 * with an accepted descriptor: each table of its backend list goes
 * through kvs_registry_check (the check kvs_registry_add_all applies; the
 * tables are not registered, so the grow-only registry stays empty).
 *
 * Input: byte 0 = shape (bit 0: NULL descriptor, bit 1: NULL backend
 * list), bytes 1..8 = version, reserved (4 bytes LE each, biased so
 * that small and boundary values are common), then up to 8 tables, each
 * "version (1 byte) slot mask (2 bytes) name NUL". Every table and name
 * is its own allocation, so ASan sees any read past them. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "slots.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* backend.h: a module is accepted when its descriptor version equals
 * KVSTORE_MODULE_VERSION, with a descriptor and a backend list; the
 * reserved field (the 1.0 ABI minor) is ignored. */
static bool oracle(bool null_mod, bool null_list, unsigned major,
                   unsigned minor)
{
    (void)minor;
    return !null_mod && !null_list && major == KVSTORE_MODULE_VERSION;
}

/* Small values and the boundaries around the supported ones are the
 * interesting ones: bias the 4 input bytes towards them. */
static unsigned abi_number(const uint8_t *p, unsigned supported)
{
    uint32_t raw = (uint32_t)p[0] | (uint32_t)p[1] << 8 |
                   (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;

    switch (p[0] & 3) {
    case 0:
        return supported;
    case 1:
        return supported + (p[1] & 3) - 1u; /* wraps below 0 on purpose */
    default:
        return raw;
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    enum { MAX_TABLES = 8 };
    kvstore_backend *tables[MAX_TABLES] = { 0 };
    const kvstore_backend **list = NULL;
    kvstore_module *mod = NULL;
    size_t n = 0;
    char path[] = "/fuzz/kvstore-x.so";

    if (size < 9)
        return 0;
    bool null_mod = data[0] & 1, null_list = data[0] & 2;
    unsigned major = abi_number(data + 1, KVSTORE_MODULE_ABI_MAJOR);
    unsigned minor = abi_number(data + 5, KVSTORE_MODULE_ABI_MINOR);
    data += 9;
    size -= 9;

    /* The backend list: tables parsed from the rest, NULL-terminated. */
    list = calloc(MAX_TABLES + 1, sizeof *list);
    if (list == NULL)
        return 0;
    while (n < MAX_TABLES && size >= 3) {
        const uint8_t *nul = memchr(data + 3, '\0', size - 3);
        size_t nlen = nul ? (size_t)(nul - data - 3) : size - 3;
        kvstore_backend *be = calloc(1, sizeof *be);
        char *name = malloc(nlen + 1);

        if (be == NULL || name == NULL) {
            free(be);
            free(name);
            break;
        }
        be->version = data[0];
        fill_slots(be, (unsigned)data[1] | (unsigned)data[2] << 8);
        memcpy(name, data + 3, nlen);
        name[nlen] = '\0';
        be->name = name;
        tables[n] = be;
        list[n++] = be;
        size_t used = 3 + nlen + (nul ? 1 : 0);
        data += used;
        size -= used;
    }
    list[n] = NULL;

    if (!null_mod) {
        mod = calloc(1, sizeof *mod);
        if (mod == NULL)
            goto out;
        mod->version = major;
        mod->reserved = minor;
        mod->name = "fuzz";
        mod->backends = null_list ? NULL : list;
    }

    int rc = kvs_module_check(mod, path);
    if (rc != KVSTORE_OK && rc != KVSTORE_EINVAL)
        abort();
    if ((rc == KVSTORE_OK) != oracle(null_mod, null_list, major, minor))
        abort();
    if (rc != KVSTORE_OK) {
        /* A refusal names the module file, so the host can find it. */
        if (strstr(kvstore_errmsg(), path) == NULL)
            abort();
        /* A refused descriptor says which version it has. */
        char abi[48];
        snprintf(abi, sizeof abi, "descriptor has version %u,", major);
        if (!null_mod && !null_list && strstr(kvstore_errmsg(), abi) == NULL)
            abort();
        goto out;
    }
    /* Accepted: the loader registers the list next, which starts by
     * checking every table. Any answer but OK/EINVAL is a bug. */
    for (size_t i = 0; i < n; i++) {
        rc = kvs_registry_check(list[i]);
        if (rc != KVSTORE_OK && rc != KVSTORE_EINVAL)
            abort();
    }
out:
    for (size_t i = 0; i < n; i++) {
        free((void *)tables[i]->name);
        free(tables[i]);
    }
    free(list);
    free(mod);
    return 0;
}

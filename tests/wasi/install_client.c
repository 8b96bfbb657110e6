/*
 * Built against an installed tree with `pkg-config kvstore-wasi` only
 * (install_test.sh), as C99 with -pedantic: a minimal engine binding
 * whose guest memory is a static buffer. Opens the identifier "" (the
 * default bucket) and sets a key through the typed imports, reads it
 * back through the import table's thunk, and checks the result in
 * "guest memory".
 *
 * SPDX-License-Identifier: MIT
 */
#include <kvstore/wasi.h>

#include <stdio.h>
#include <string.h>

static uint8_t mem[65536];
static uint32_t heap = 4096;

static uint8_t *memory(void *ctx, uint64_t *size)
{
    (void)ctx;
    *size = sizeof(mem);
    return mem;
}

static int alloc(void *ctx, uint32_t old, uint32_t old_size, uint32_t align,
                 uint32_t n, uint32_t *out)
{
    (void)ctx; (void)old; (void)old_size;
    heap = (heap + align - 1) & ~(align - 1);
    *out = heap;
    heap += n;
    return heap > sizeof(mem);
}

static void trap(void *ctx, const char *msg)
{
    (void)ctx;
    fprintf(stderr, "trap: %s\n", msg);
}

int main(void)
{
    kvstore_wasi_engine engine;
    kvstore_wasi_config *c;
    kvstore_wasi_host *h;
    kvstore_wasi_instance *i;
    const kvstore_wasi_import *imp;
    size_t n, k;
    uint32_t handle, vp, vl;

    memset(&engine, 0, sizeof(engine));
    engine.size = sizeof(engine);
    engine.memory = memory;
    engine.realloc = alloc;
    engine.trap = trap;
    if (kvstore_wasi_config_new(&c) != KVSTORE_OK ||
        kvstore_wasi_config_set(c, "bucket_prefix", "installed-") != KVSTORE_OK ||
        kvstore_wasi_host_new(&h, c) != KVSTORE_OK ||
        kvstore_wasi_instance_new(&i, h, KVSTORE_WASI_DRAFT2, &engine, NULL) != KVSTORE_OK) {
        fprintf(stderr, "setup failed: %s\n", kvstore_errmsg());
        return 1;
    }
    kvstore_wasi_config_free(c);
    memcpy(mem + 100, "keyvalue", 8);
    kvstore_wasi_store_open(i, 100, 0, 200);          /* open("") */
    memcpy(&handle, mem + 204, 4);
    kvstore_wasi_bucket_set(i, handle, 100, 3, 103, 5, 220); /* key=value */
    if (mem[200] != 0 || mem[220] != 0) {
        fprintf(stderr, "open or set failed\n");
        return 1;
    }
    imp = kvstore_wasi_imports(KVSTORE_WASI_DRAFT2, &n);
    for (k = 0; k < n; k++)
        if (strcmp(imp[k].name, "[method]bucket.get") == 0) {
            uint64_t args[4];
            args[0] = handle; args[1] = 100; args[2] = 3; args[3] = 240;
            imp[k].thunk(i, args);
        }
    memcpy(&vp, mem + 248, 4);
    memcpy(&vl, mem + 252, 4);
    if (kvstore_wasi_trapped(i) || mem[240] != 0 || mem[244] != 1 || vl != 5 ||
        memcmp(mem + vp, "value", 5) != 0) {
        fprintf(stderr, "get through the table failed\n");
        return 1;
    }
    printf("ok: %s, %u imports\n", kvstore_wasi_version(KVSTORE_WASI_DRAFT2), (unsigned)n);
    kvstore_wasi_instance_free(i);
    kvstore_wasi_host_free(h);
    return 0;
}

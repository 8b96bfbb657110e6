/*
 * A guest compiled into the host: wasm2c's entry points for one module,
 * behind function pointers so the runner treats every guest alike. The
 * glue that fills one (guest-glue.c, generated per guest by gen-glue.py
 * from wasm2c's header) passes the instance's kvstore_wasi_instance as
 * every wasi:keyvalue import module's "instance", and the binding's
 * wh_ctx as the `host` module's.
 *
 * SPDX-License-Identifier: MIT
 */
#ifndef WASM_HOST_GUEST_H
#define WASM_HOST_GUEST_H

#include <stdio.h>

#include <kvstore/wasi.h>
#include <wasm-rt.h>

typedef struct wh_guest wh_guest;

/* One running guest instance: what the engine callbacks and host.print
 * need. */
typedef struct wh_ctx {
    const wh_guest *g;
    void *inst;                  /* wasm2c's instance */
    wasm_rt_memory_t *mem;       /* its exported memory */
    kvstore_wasi_instance *kv;
    FILE *out;                   /* where host.print writes */
} wh_ctx;

struct wh_guest {
    const char *name;
    size_t instance_size;
    void (*init_module)(void);
    void (*instantiate)(void *inst, kvstore_wasi_instance *kv, wh_ctx *ctx);
    void (*free)(void *inst);
    wasm_rt_memory_t *(*memory)(void *inst);
    uint32_t (*cabi_realloc)(void *inst, uint32_t old, uint32_t old_size,
                             uint32_t align, uint32_t new_size);
    /* Exports, NULL when the guest lacks them: run() returns 0 on
     * success; attack(n) runs hostile step n and returns 0 past the last;
     * report() prints what a watcher guest saw. */
    uint32_t (*run)(void *inst);
    uint32_t (*attack)(void *inst, uint32_t n);
    uint32_t (*report)(void *inst);
    /* wasi:keyvalue/watcher exports (either version), or NULL. */
    void (*on_set)(void *inst, uint32_t b, uint32_t k, uint32_t kl,
                   uint32_t v, uint32_t vl);
    void (*on_delete)(void *inst, uint32_t b, uint32_t k, uint32_t kl);
};

#endif /* WASM_HOST_GUEST_H */

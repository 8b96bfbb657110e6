/*
 * A guest compiled into the host: wasm2c's entry points for one module,
 * behind function pointers so the runner treats every guest alike. The
 * glue that fills one (guest-glue.c, generated per guest by gen-glue.py
 * from wasm2c's header) passes the instance's kvhost as every import
 * module's "instance".
 *
 * SPDX-License-Identifier: MIT
 */
#ifndef WASM_HOST_GUEST_H
#define WASM_HOST_GUEST_H

#include "kvhost.h"

typedef struct wh_guest {
    const char *name;
    size_t instance_size;
    void (*init_module)(void);
    void (*instantiate)(void *inst, kvhost *h);
    void (*free)(void *inst);
    wasm_rt_memory_t *(*memory)(void *inst);
    uint32_t (*cabi_realloc)(void *inst, uint32_t old, uint32_t old_size,
                             uint32_t align, uint32_t new_size);
    /* Exports, NULL when the guest lacks them: run() returns 0 on
     * success; attack(n) runs hostile step n and returns 0 past the last. */
    uint32_t (*run)(void *inst);
    uint32_t (*attack)(void *inst, uint32_t n);
} wh_guest;

extern const wh_guest wh_guest_draft;
extern const wh_guest wh_guest_draft2;
extern const wh_guest wh_guest_hostile;

#endif /* WASM_HOST_GUEST_H */

/*
 * Guest runner (see runner.h).
 *
 * SPDX-License-Identifier: MIT
 */
#include "runner.h"

#include <stdlib.h>
#include <string.h>

#include <wasm-rt-impl.h>

static const wh_guest *const guests[] = {
    &wh_guest_draft, &wh_guest_draft2, &wh_guest_hostile,
};
#define NGUESTS (sizeof(guests) / sizeof(guests[0]))

void wh_runtime_init(void)
{
    wasm_rt_init();
    for (size_t i = 0; i < NGUESTS; i++)
        guests[i]->init_module();
}

void wh_runtime_free(void)
{
    wasm_rt_free();
}

const wh_guest *wh_guest_find(const char *name)
{
    for (size_t i = 0; i < NGUESTS; i++)
        if (strcmp(guests[i]->name, name) == 0)
            return guests[i];
    return NULL;
}

/* The setjmp frame: a trap anywhere in the guest, or in an import the
 * guest called, returns here with its code. Nothing in this frame changes
 * between the setjmp and a longjmp, so nothing needs to be volatile. */
static wasm_rt_trap_t guarded(const wh_guest *g, void *inst, uint32_t n,
                              uint32_t *result)
{
    wasm_rt_trap_t trap = (wasm_rt_trap_t)wasm_rt_impl_try();
    if (trap == WASM_RT_TRAP_NONE)
        *result = n ? g->attack(inst, n) : g->run(inst);
    return trap;
}

/* One instance, one call. Returns -1 after a trap (reported), else the
 * export's result. */
static int64_t call_once(const wh_guest *g, const kvhost_config *cfg,
                         uint32_t n)
{
    void *inst = calloc(1, g->instance_size);
    kvhost h;
    uint32_t result = 0;
    int64_t rv;

    if (!inst) {
        fprintf(cfg->out, "host: out of memory\n");
        return -1;
    }
    kvhost_init(&h, cfg);
    g->instantiate(inst, &h);
    kvhost_attach(&h, g->memory(inst), inst, g->cabi_realloc);
    wasm_rt_trap_t trap = guarded(g, inst, n, &result);
    if (trap != WASM_RT_TRAP_NONE) {
        /* A trap inside an import skipped its kvhost_leave. */
        kvhost_unwind(&h);
        fprintf(cfg->out, "host: %s trapped: %s\n", g->name,
                h.trap_msg[0] ? h.trap_msg : wasm_rt_strerror(trap));
        rv = -1;
    } else {
        rv = result;
    }
    fflush(cfg->out);
    kvhost_fini(&h); /* drops whatever the guest left open */
    g->free(inst);
    free(inst);
    return rv;
}

int wh_run(const wh_guest *g, const kvhost_config *cfg)
{
    if (g->run) {
        int64_t rv = call_once(g, cfg, 0);
        return rv < 0 ? 2 : rv == 0 ? 0 : 1;
    }
    for (uint32_t n = 1; g->attack; n++)
        if (call_once(g, cfg, n) == 0)
            break;
    return 0;
}

/*
 * Guest runner (see runner.h): the engine side of libkvstore-wasi for
 * wasm2c, i.e. memory, cabi_realloc, trap and export calls.
 *
 * SPDX-License-Identifier: MIT
 */
#include "runner.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <wasm-rt-impl.h>

extern const wh_guest wh_guest_draft, wh_guest_draft2, wh_guest_hostile,
    wh_guest_spin, wh_guest_watcher, wh_guest_bench;

static const wh_guest *const guests[] = {
    &wh_guest_draft, &wh_guest_draft2, &wh_guest_hostile, &wh_guest_spin,
    &wh_guest_watcher, &wh_guest_bench,
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

/* ---- the engine callbacks ---------------------------------------------- */

static uint8_t *e_memory(void *p, uint64_t *size)
{
    wh_ctx *ctx = p;
    *size = ctx->mem->size;
    return ctx->mem->data;
}

/* A trap inside cabi_realloc longjmps past the layer to guarded() below:
 * the instance is then only freed, as the layer requires. */
static int e_realloc(void *p, uint32_t old, uint32_t old_size, uint32_t align,
                     uint32_t new_size, uint32_t *out)
{
    wh_ctx *ctx = p;
    *out = ctx->g->cabi_realloc(ctx->inst, old, old_size, align, new_size);
    return 0;
}

static void e_trap(void *p, const char *message)
{
    (void)p;
    (void)message; /* read back with kvstore_wasi_trap_message() */
    wasm_rt_trap(WASM_RT_TRAP_UNREACHABLE);
}

static bool ends_with(const char *s, const char *suffix)
{
    size_t n = strlen(s), m = strlen(suffix);
    return n >= m && strcmp(s + n - m, suffix) == 0;
}

static int e_call(void *p, const char *name, const uint32_t *a, size_t n)
{
    wh_ctx *ctx = p;
    if (ends_with(name, "#on-set") && n == 5 && ctx->g->on_set)
        ctx->g->on_set(ctx->inst, a[0], a[1], a[2], a[3], a[4]);
    else if (ends_with(name, "#on-delete") && n == 3 && ctx->g->on_delete)
        ctx->g->on_delete(ctx->inst, a[0], a[1], a[2]);
    else
        return -1;
    return 0;
}

/* ---- running ------------------------------------------------------------ */

enum { CALL_RUN, CALL_ATTACK, CALL_PUMP, CALL_REPORT };

/* The setjmp frame: a trap anywhere in the guest, or in an import the
 * guest called, returns here with its code. Nothing in this frame changes
 * between the setjmp and a longjmp, so nothing needs to be volatile. */
static wasm_rt_trap_t guarded(wh_ctx *ctx, int what, uint32_t n, int64_t *result)
{
    wasm_rt_trap_t trap = (wasm_rt_trap_t)wasm_rt_impl_try();
    if (trap != WASM_RT_TRAP_NONE)
        return trap;
    switch (what) {
    case CALL_RUN: *result = ctx->g->run(ctx->inst); break;
    case CALL_ATTACK: *result = ctx->g->attack(ctx->inst, n); break;
    case CALL_PUMP: *result = kvstore_wasi_pump(ctx->kv, 0); break;
    case CALL_REPORT: *result = ctx->g->report(ctx->inst); break;
    }
    return WASM_RT_TRAP_NONE;
}

static void sleep_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

/* Waits until `want` events were queued (or 10 s passed), delivering
 * them as they come. Returns the trap, if one happened. */
static wasm_rt_trap_t pump_events(wh_ctx *ctx, size_t want, int64_t *got)
{
    *got = 0;
    for (int waited = 0; waited < 10000; waited += 5) {
        int64_t n = 0;
        wasm_rt_trap_t trap = guarded(ctx, CALL_PUMP, 0, &n);
        if (trap != WASM_RT_TRAP_NONE || n < 0)
            return trap != WASM_RT_TRAP_NONE ? trap : WASM_RT_TRAP_UNREACHABLE;
        *got += n;
        if ((size_t)*got + kvstore_wasi_dropped(ctx->kv) >= want)
            break;
        sleep_ms(5);
    }
    return WASM_RT_TRAP_NONE;
}

static int build_host(const wh_options *o, kvstore_wasi_host **host)
{
    kvstore_wasi_config *c;
    char num[32];
    int rc = kvstore_wasi_config_new(&c);
    if (rc == KVSTORE_OK)
        rc = kvstore_wasi_config_lend_store(c, NULL, o->store);
    if (rc == KVSTORE_OK && o->prefix && o->prefix[0])
        rc = kvstore_wasi_config_set(c, "bucket_prefix", o->prefix);
    if (rc == KVSTORE_OK && o->allow)
        rc = kvstore_wasi_config_set(c, "allow", o->allow);
    if (rc == KVSTORE_OK && o->page_size) {
        snprintf(num, sizeof(num), "%zu", o->page_size);
        rc = kvstore_wasi_config_set(c, "page_size", num);
    }
    for (const char *const *kv = o->config; rc >= 0 && kv && *kv; kv++) {
        const char *eq = strchr(*kv, '=');
        char key[128];
        if (!eq || (size_t)(eq - *kv) >= sizeof(key)) {
            fprintf(o->out, "host: config %s is not KEY=VALUE\n", *kv);
            rc = KVSTORE_EINVAL;
            break;
        }
        snprintf(key, sizeof(key), "%.*s", (int)(eq - *kv), *kv);
        rc = kvstore_wasi_config_set(c, key, eq + 1);
        if (rc == KVSTORE_NOTFOUND)
            fprintf(o->out, "host: config key %s is unknown (ignored)\n", key);
        else if (rc != KVSTORE_OK)
            fprintf(o->out, "host: config key %s: bad value\n", key);
    }
    if (rc >= 0 && (rc = kvstore_wasi_host_new(host, c)) != KVSTORE_OK)
        fprintf(o->out, "host: cannot open the stores: %s\n", kvstore_errmsg());
    kvstore_wasi_config_free(c);
    return rc >= 0 ? KVSTORE_OK : rc;
}

static kvstore_wasi_wit wit_of(const wh_guest *g, const wh_options *o)
{
    if (o->wit)
        return o->wit;
    if (strcmp(g->name, "draft") == 0)
        return KVSTORE_WASI_DRAFT;
    if (strcmp(g->name, "spin") == 0)
        return KVSTORE_WASI_SPIN;
    return KVSTORE_WASI_DRAFT2;
}

static void report_trap(const wh_ctx *ctx, wasm_rt_trap_t trap)
{
    const char *msg = kvstore_wasi_trap_message(ctx->kv);
    fprintf(ctx->out, "host: %s trapped: %s\n", ctx->g->name,
            msg[0] ? msg : wasm_rt_strerror(trap));
}

/* One instance, one call (plus the watcher's pump and report). Returns
 * -1 after a trap (reported), -2 when no instance could be made, else
 * the export's result. */
static int64_t call_once(const wh_guest *g, const kvstore_wasi_host *host,
                         const wh_options *o, uint32_t n)
{
    static const kvstore_wasi_engine engine = {
        .size = sizeof(kvstore_wasi_engine),
        .memory = e_memory,
        .realloc = e_realloc,
        .trap = e_trap,
        .call = e_call,
    };
    wh_ctx ctx = {.g = g, .out = o->out};
    int64_t result = 0, rv;

    ctx.inst = calloc(1, g->instance_size);
    if (!ctx.inst ||
        kvstore_wasi_instance_new(&ctx.kv, host, wit_of(g, o), &engine, &ctx) != KVSTORE_OK) {
        fprintf(o->out, "host: cannot make an instance: %s\n", kvstore_errmsg());
        free(ctx.inst);
        return -2;
    }
    g->instantiate(ctx.inst, ctx.kv, &ctx);
    ctx.mem = g->memory(ctx.inst);
    wasm_rt_trap_t trap = guarded(&ctx, n ? CALL_ATTACK : CALL_RUN, n, &result);
    if (trap == WASM_RT_TRAP_NONE && g->report) {
        int64_t got;
        trap = pump_events(&ctx, o->events, &got);
        fprintf(o->out, "host: delivered %lld events, dropped %llu\n",
                (long long)got, (unsigned long long)kvstore_wasi_dropped(ctx.kv));
        int64_t r2 = 0;
        if (trap == WASM_RT_TRAP_NONE)
            trap = guarded(&ctx, CALL_REPORT, 0, &r2);
    }
    if (trap != WASM_RT_TRAP_NONE) {
        report_trap(&ctx, trap);
        rv = -1;
    } else {
        rv = result;
    }
    fflush(o->out);
    kvstore_wasi_instance_free(ctx.kv); /* closes whatever the guest left open */
    g->free(ctx.inst);
    free(ctx.inst);
    return rv;
}

int wh_run(const wh_guest *g, const wh_options *o)
{
    kvstore_wasi_host *host;
    int status = 0;
    if (build_host(o, &host) != KVSTORE_OK)
        return 3;
    if (g->run) {
        int64_t rv = call_once(g, host, o, 0);
        status = rv == -2 ? 3 : rv < 0 ? 2 : rv == 0 ? 0 : 1;
    } else {
        for (uint32_t n = 1; g->attack; n++) {
            int64_t rv = call_once(g, host, o, n);
            if (rv == 0 || rv == -2)
                break;
        }
    }
    kvstore_wasi_host_free(host);
    return status;
}

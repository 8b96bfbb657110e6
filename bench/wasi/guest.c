/*
 * Benchmark guest: `run` opens the bucket "bench" and does
 * BENCH_GETS gets of the keys k0000..k0999 in turn (each value is
 * lowered into guest memory through cabi_realloc, as the canonical ABI
 * requires), then returns 0 if every get found its value.
 *
 * SPDX-License-Identifier: MIT
 */
/* The guests' shared runtime and import declarations. */
#include "../../examples/wasm-host/guest/wasi-keyvalue.h"

#define BENCH_GETS 100000

/* The keys k0000..k0999, made before the loop as the C side makes its
 * own: both loops then time the gets alone. */
static char keys[1000][5];

GUEST_EXPORT("run")
uint32_t run(void)
{
    for (uint32_t k = 0; k < 1000; k++) {
        keys[k][0] = 'k';
        keys[k][1] = (char)('0' + k / 1000);
        keys[k][2] = (char)('0' + k / 100 % 10);
        keys[k][3] = (char)('0' + k / 10 % 10);
        keys[k][4] = (char)('0' + k % 10);
    }
    kv_result_handle o;
    kv2_open(KV_STR("bench"), &o);
    if (o.is_err)
        return 1;
    uint32_t missing = 0;
    for (uint32_t i = 0, k = 0; i < BENCH_GETS; i++) {
        kv_result_option_bytes g;
        kv2_get(o.val.handle, keys[k], 5, &g);
        if (g.is_err || !g.val.ok.is_some)
            missing++;
        if (++k == 1000)
            k = 0;
    }
    kv2_bucket_drop(o.val.handle);
    return missing != 0;
}

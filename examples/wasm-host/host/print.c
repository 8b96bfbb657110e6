/*
 * host.print: the guests' only output, a plain import of this example (not
 * part of wasi:keyvalue): print(ptr: i32, len: i32) writes the bytes as
 * they are to the host's output. An out-of-bounds range traps.
 *
 * SPDX-License-Identifier: MIT
 */
#include "imports.h"

/* host.print(ptr, len): writes the guest's bytes as they are. */
void kv_print(kvhost *h, uint32_t ptr, uint32_t len)
{
    kvhost_enter(h);
    const uint8_t *s = kvhost_span(h, ptr, len, 1);
    fwrite(s, 1, len, h->cfg->out);
    kvhost_leave(h);
}

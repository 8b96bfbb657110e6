/*
 * Per-instance host state and canonical-ABI helpers (see kvhost.h).
 *
 * SPDX-License-Identifier: MIT
 */
#include "kvhost.h"

#include <stdlib.h>
#include <string.h>

#include <kvstore/backend.h> /* kvstore_utf8_valid */

void kvhost_init(kvhost *h, const kvhost_config *cfg)
{
    memset(h, 0, sizeof(*h));
    h->cfg = cfg;
    h->next_cursor = 1;
}

void kvhost_attach(kvhost *h, wasm_rt_memory_t *mem, void *guest,
                   kvhost_realloc_fn realloc_fn)
{
    h->mem = mem;
    h->guest = guest;
    h->realloc_fn = realloc_fn;
}

void kvhost_unwind(kvhost *h)
{
    /* In reverse, like a stack of cleanups. */
    while (h->ndeferred) {
        kvhost_deferred *d = &h->deferred[--h->ndeferred];
        d->fn(d->p);
    }
    h->in_realloc = false;
}

void kvhost_fini(kvhost *h)
{
    kvhost_unwind(h);
    free(h->deferred);
    h->deferred = NULL;
    h->capdeferred = 0;
    /* Cas handles first: each holds a reference to its bucket. */
    for (uint32_t i = 1; i < h->nres; i++)
        if (h->res[i].type == KVHOST_RES_CAS)
            kvhost_cas_free(h->res[i].p);
    for (uint32_t i = 1; i < h->nres; i++)
        if (h->res[i].type == KVHOST_RES_BUCKET)
            kvhost_bucket_unref(h->res[i].p);
    free(h->res);
    h->res = NULL;
    h->nres = 0;
    for (size_t i = 0; i < KVHOST_MAX_CURSORS; i++) {
        free(h->cursors[i].cursor);
        h->cursors[i].cursor = NULL;
    }
}

void kvhost_trap(kvhost *h, wasm_rt_trap_t code, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(h->trap_msg, sizeof(h->trap_msg), fmt, ap);
    va_end(ap);
    wasm_rt_trap(code);
}

void kvhost_enter(kvhost *h)
{
    /* The canonical ABI forbids calling out of an instance while the host
     * is inside its realloc; a hostile realloc could otherwise drop the
     * bucket the host is using. */
    if (h->in_realloc)
        kvhost_trap(h, WASM_RT_TRAP_UNREACHABLE,
                    "import called from inside cabi_realloc");
    h->errbuf[0] = '\0';
}

void kvhost_leave(kvhost *h)
{
    kvhost_unwind(h);
}

uint8_t *kvhost_span(kvhost *h, uint32_t ptr, uint64_t len, uint32_t align)
{
    if (align > 1 && ptr % align != 0)
        kvhost_trap(h, WASM_RT_TRAP_OOB,
                    "pointer 0x%x is not aligned to %u", (unsigned)ptr,
                    (unsigned)align);
    /* 64-bit arithmetic: ptr + len cannot wrap. */
    if ((uint64_t)ptr + len > h->mem->size)
        kvhost_trap(h, WASM_RT_TRAP_OOB,
                    "range 0x%x+%llu is outside guest memory (%u bytes)",
                    (unsigned)ptr, (unsigned long long)len,
                    (unsigned)h->mem->size);
    return h->mem->data + ptr;
}

const char *kvhost_string(kvhost *h, uint32_t ptr, uint32_t len)
{
    const char *s = (const char *)kvhost_span(h, ptr, len, 1);
    if (!kvstore_utf8_valid(s, len))
        kvhost_trap(h, WASM_RT_TRAP_UNREACHABLE,
                    "string at 0x%x is not valid UTF-8", (unsigned)ptr);
    return s;
}

/* Guest memory is little-endian; so are the hosts wasm2c supports here. */
void kvhost_put_u8(kvhost *h, uint32_t addr, uint8_t v)
{
    *kvhost_span(h, addr, 1, 1) = v;
}

void kvhost_put_u32(kvhost *h, uint32_t addr, uint32_t v)
{
    memcpy(kvhost_span(h, addr, 4, 4), &v, 4);
}

void kvhost_put_u64(kvhost *h, uint32_t addr, uint64_t v)
{
    memcpy(kvhost_span(h, addr, 8, 8), &v, 8);
}

uint32_t kvhost_get_u32(kvhost *h, uint32_t addr)
{
    uint32_t v;
    memcpy(&v, kvhost_span(h, addr, 4, 4), 4);
    return v;
}

uint32_t kvhost_alloc(kvhost *h, uint32_t align, uint64_t size)
{
    if (size > UINT32_MAX)
        kvhost_trap(h, WASM_RT_TRAP_OOB, "result of %llu bytes does not fit",
                    (unsigned long long)size);
    h->in_realloc = true;
    uint32_t p = h->realloc_fn(h->guest, 0, 0, align, (uint32_t)size);
    h->in_realloc = false;
    /* cabi_realloc's result is checked like any guest pointer. */
    kvhost_span(h, p, size, align);
    return p;
}

uint32_t kvhost_lower_bytes(kvhost *h, const void *src, size_t len,
                            uint32_t align)
{
    uint32_t p = kvhost_alloc(h, align, len);
    if (len)
        memcpy(h->mem->data + p, src, len);
    return p;
}

void kvhost_put_list(kvhost *h, uint32_t addr, const void *src, size_t len)
{
    uint32_t p = kvhost_lower_bytes(h, src, len, 1);
    kvhost_put_u32(h, addr, p);
    kvhost_put_u32(h, addr + 4, (uint32_t)len);
}

int kvhost_key(kvhost *h, uint32_t ptr, uint32_t len, char *buf)
{
    const char *s = kvhost_string(h, ptr, len);
    if (len > KVSTORE_KEY_MAX)
        return kvhost_fail(h, KVSTORE_EINVAL,
                           "key of %u bytes is longer than %d bytes",
                           (unsigned)len, KVSTORE_KEY_MAX);
    /* A C string would silently cut "a\0b" to "a": refuse it instead. */
    if (memchr(s, '\0', len))
        return kvhost_fail(h, KVSTORE_EINVAL, "key contains a NUL byte");
    memcpy(buf, s, len);
    buf[len] = '\0';
    return KVSTORE_OK;
}

void kvhost_defer(kvhost *h, void (*fn)(void *), void *p)
{
    if (h->ndeferred == h->capdeferred) {
        size_t cap = h->capdeferred ? 2 * h->capdeferred : 16;
        kvhost_deferred *d = realloc(h->deferred, cap * sizeof(*d));
        if (!d) {
            fn(p);
            kvhost_trap(h, WASM_RT_TRAP_EXHAUSTION, "host out of memory");
        }
        h->deferred = d;
        h->capdeferred = cap;
    }
    h->deferred[h->ndeferred].fn = fn;
    h->deferred[h->ndeferred].p = p;
    h->ndeferred++;
}

int kvhost_fail(kvhost *h, int code, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(h->errbuf, sizeof(h->errbuf), fmt, ap);
    va_end(ap);
    return code;
}

int kvhost_lib_fail(kvhost *h, int code)
{
    snprintf(h->errbuf, sizeof(h->errbuf), "%s", kvstore_errmsg());
    return code;
}

void kvhost_put_error(kvhost *h, uint32_t ret, uint32_t off, int code)
{
    uint8_t tag;
    switch (code) {
    case KVSTORE_ENOSTORE: tag = 0; break; /* no-such-store */
    case KVSTORE_EACCESS: tag = 1; break;  /* access-denied */
    default: tag = 2; break;               /* other(string) */
    }
    if (tag == 2) {
        const char *msg = h->errbuf[0] ? h->errbuf : kvstore_strerror(code);
        kvhost_put_list(h, ret + off + 4, msg, strlen(msg));
    }
    kvhost_put_u8(h, ret + off, tag);
    kvhost_put_u8(h, ret, 1);
}

uint32_t kvhost_res_add(kvhost *h, kvhost_res_type type, void *p)
{
    uint32_t i;
    for (i = 1; i < h->nres; i++)
        if (h->res[i].type == KVHOST_RES_FREE)
            break;
    if (i >= h->nres) {
        if (h->nres >= KVHOST_MAX_HANDLES) {
            kvhost_fail(h, KVSTORE_ENOMEM, "more than %d open handles",
                        KVHOST_MAX_HANDLES - 1);
            return 0;
        }
        uint32_t n = h->nres ? h->nres + 1 : 2;
        kvhost_res *r = realloc(h->res, n * sizeof(*r));
        if (!r) {
            kvhost_fail(h, KVSTORE_ENOMEM, "host out of memory");
            return 0;
        }
        r[0].type = KVHOST_RES_FREE;
        r[0].p = NULL;
        h->res = r;
        h->nres = n;
        i = n - 1;
    }
    h->res[i].type = type;
    h->res[i].p = p;
    return i;
}

void *kvhost_res_get(kvhost *h, uint32_t handle, kvhost_res_type type)
{
    if (handle == 0 || handle >= h->nres || h->res[handle].type != type)
        kvhost_trap(h, WASM_RT_TRAP_UNREACHABLE, "unknown %s handle %u",
                    type == KVHOST_RES_BUCKET ? "bucket" : "cas",
                    (unsigned)handle);
    return h->res[handle].p;
}

void *kvhost_res_take(kvhost *h, uint32_t handle, kvhost_res_type type)
{
    void *p = kvhost_res_get(h, handle, type);
    h->res[handle].type = KVHOST_RES_FREE;
    h->res[handle].p = NULL;
    return p;
}

void kvhost_bucket_unref(kvhost_bucket *hb)
{
    if (hb && --hb->refs == 0) {
        kvstore_bucket_close(hb->bucket);
        free(hb);
    }
}

void kvhost_cas_free(void *p)
{
    kvhost_cas *c = p;
    if (!c)
        return;
    kvstore_cas_free(c->cas);
    kvhost_bucket_unref(c->hb);
    free(c->key);
    free(c);
}

uint64_t kvhost_cursor_put(kvhost *h, const char *cursor)
{
    char *copy = strdup(cursor);
    if (!copy)
        kvhost_trap(h, WASM_RT_TRAP_EXHAUSTION, "host out of memory");
    /* Ids grow monotonically, so slot id % N holds the newest cursor for
     * that slot and the oldest is evicted. */
    uint64_t id = h->next_cursor++;
    size_t slot = id % KVHOST_MAX_CURSORS;
    free(h->cursors[slot].cursor);
    h->cursors[slot].id = id;
    h->cursors[slot].cursor = copy;
    return id;
}

const char *kvhost_cursor_get(kvhost *h, uint64_t id)
{
    size_t slot = id % KVHOST_MAX_CURSORS;
    if (id == 0 || h->cursors[slot].id != id)
        return NULL;
    return h->cursors[slot].cursor;
}

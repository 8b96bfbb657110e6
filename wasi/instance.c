/*
 * Per-instance state and the canonical-ABI helpers (see internal.h).
 *
 * SPDX-License-Identifier: MIT
 */
#include "internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const kvstore_wasi_config *wasi_cfg(const kvstore_wasi_instance *i)
{
    return &i->host->cfg;
}

KVSTORE_API int kvstore_wasi_instance_new(kvstore_wasi_instance **out,
                                          const kvstore_wasi_host *h,
                                          kvstore_wasi_wit wit,
                                          const kvstore_wasi_engine *engine,
                                          void *ctx)
{
    if (!out)
        return KVSTORE_EINVAL;
    *out = NULL;
    /* The three required callbacks are in every version of the struct. */
    if (!h || !engine || !kvstore_wasi_version(wit) ||
        engine->size < offsetof(kvstore_wasi_engine, call) ||
        !engine->memory || !engine->realloc || !engine->trap)
        return KVSTORE_EINVAL;
    kvstore_wasi_instance *i = calloc(1, sizeof(*i));
    if (!i)
        return KVSTORE_ENOMEM;
    i->host = h;
    i->wit = wit;
    memcpy(&i->eng, engine, engine->size < sizeof(i->eng) ? engine->size
                                                          : sizeof(i->eng));
    i->eng.size = sizeof(i->eng);
    i->ctx = ctx;
    i->next_cursor = 1;
    i->cap = h->cfg.max_handles;
    pthread_mutex_init(&i->lock, NULL);
    int rc = wasi_watch_start(i);
    if (rc != KVSTORE_OK) {
        kvstore_wasi_instance_free(i);
        return rc;
    }
    *out = i;
    return KVSTORE_OK;
}

KVSTORE_API void kvstore_wasi_instance_free(kvstore_wasi_instance *i)
{
    if (!i)
        return;
    wasi_watch_stop(i);
    wasi_unwind(i);
    free(i->deferred);
    wasi_value_drop(i);
    /* Cas handles first: each holds a reference to its bucket. */
    for (uint32_t s = 0; s < i->next_slot; s++)
        if (i->res[s].type == WASI_RES_CAS)
            wasi_cas_free(i->res[s].p);
    for (uint32_t s = 0; s < i->next_slot; s++)
        if (i->res[s].type == WASI_RES_BUCKET)
            wasi_bucket_unref(i->res[s].p);
    free(i->res);
    free(i->free_slots);
    if (i->cursors)
        for (size_t c = 0; c < wasi_cfg(i)->max_cursors; c++)
            free(i->cursors[c].cursor);
    free(i->cursors);
    pthread_mutex_destroy(&i->lock);
    free(i);
}

KVSTORE_API bool kvstore_wasi_trapped(const kvstore_wasi_instance *i)
{
    return i && i->trapped;
}

KVSTORE_API const char *kvstore_wasi_trap_message(const kvstore_wasi_instance *i)
{
    return i ? i->trap_msg : "";
}

/* Marks the instance dead and tells the engine; used where no import
 * frame can be unwound to (the instance was re-entered). */
static void trap_now(kvstore_wasi_instance *i, const char *msg)
{
    if (!i->trapped)
        snprintf(i->trap_msg, sizeof(i->trap_msg), "%s", msg);
    i->trapped = true;
    i->eng.trap(i->ctx, i->trap_msg);
}

bool wasi_enter_refused(kvstore_wasi_instance *i)
{
    if (i->trapped) {
        trap_now(i, i->trap_msg);
        return false;
    }
    /* The canonical ABI forbids calling out of an instance while the host
     * is inside its realloc; a hostile realloc could otherwise drop the
     * bucket the host is using. */
    trap_now(i, "import called from inside cabi_realloc");
    return false;
}

void wasi_trapped_here(kvstore_wasi_instance *i)
{
    i->have_jmp = false;
    i->in_guest = false;
    wasi_unwind(i);
    i->eng.trap(i->ctx, i->trap_msg);
}

void wasi_leave(kvstore_wasi_instance *i)
{
    i->have_jmp = false;
    wasi_unwind(i);
}

__attribute__((format(printf, 2, 0)))
static void trap_vset(kvstore_wasi_instance *i, const char *fmt, va_list ap)
{
    if (!i->trapped)
        vsnprintf(i->trap_msg, sizeof(i->trap_msg), fmt, ap);
    i->trapped = true;
}

void wasi_trap_set(kvstore_wasi_instance *i, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    trap_vset(i, fmt, ap);
    va_end(ap);
}

void wasi_trap_jump(kvstore_wasi_instance *i)
{
    if (i->have_jmp)
        longjmp(i->jmp, 1);
    /* Every path that can trap runs under a jmp_buf; this is a bug. */
    fprintf(stderr, "libkvstore-wasi: trap outside an import: %s\n", i->trap_msg);
    abort();
}

void wasi_trap(kvstore_wasi_instance *i, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    trap_vset(i, fmt, ap);
    va_end(ap);
    wasi_trap_jump(i);
}

void wasi_unwind(kvstore_wasi_instance *i)
{
    while (i->ndeferred) {
        wasi_deferred *d = &i->deferred[--i->ndeferred];
        d->fn(d->p);
    }
    /* The oldest: `first` fills before the array (wasi_defer). */
    if (i->first.fn) {
        wasi_deferred d = i->first;
        i->first.fn = NULL;
        d.fn(d.p);
    }
}

bool wasi_span_refuse(kvstore_wasi_instance *i, uint32_t ptr, uint64_t len,
                      uint32_t align)
{
    if ((ptr & (align - 1)) != 0)
        wasi_trap_set(i, "pointer 0x%x is not aligned to %u", (unsigned)ptr,
                      (unsigned)align);
    else
        wasi_trap_set(i, "range 0x%x+%llu is outside guest memory (%llu bytes)",
                      (unsigned)ptr, (unsigned long long)len,
                      (unsigned long long)i->mem_size);
    return false;
}

/* UTF-8 as the canonical ABI lifts it: no overlong forms, no surrogates,
 * nothing above U+10FFFF. */
bool wasi_utf8_valid(const char *str, size_t len)
{
    const unsigned char *s = (const unsigned char *)str;
    size_t k = 0;
    while (k < len) {
        unsigned c = s[k];
        size_t n;
        unsigned min, cp;
        if (c < 0x80) {
            k++;
            continue;
        } else if ((c & 0xe0) == 0xc0) {
            n = 1; min = 0x80; cp = c & 0x1f;
        } else if ((c & 0xf0) == 0xe0) {
            n = 2; min = 0x800; cp = c & 0x0f;
        } else if ((c & 0xf8) == 0xf0) {
            n = 3; min = 0x10000; cp = c & 0x07;
        } else {
            return false;
        }
        if (len - k <= n)
            return false;
        for (size_t j = 1; j <= n; j++) {
            if ((s[k + j] & 0xc0) != 0x80)
                return false;
            cp = (cp << 6) | (s[k + j] & 0x3f);
        }
        if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
            return false;
        k += n + 1;
    }
    return true;
}

const char *wasi_string(kvstore_wasi_instance *i, uint32_t ptr, uint32_t len)
{
    const char *s = (const char *)wasi_span(i, ptr, len, 1);
    if (!wasi_utf8_valid(s, len))
        wasi_trap(i, "string at 0x%x is not valid UTF-8", (unsigned)ptr);
    return s;
}

/* Guest memory is little-endian; so are the hosts this layer builds on
 * (meson refuses big-endian ones). */
void wasi_put_u8(kvstore_wasi_instance *i, uint32_t addr, uint8_t v)
{
    *wasi_span(i, addr, 1, 1) = v;
}

void wasi_put_u32(kvstore_wasi_instance *i, uint32_t addr, uint32_t v)
{
    memcpy(wasi_span(i, addr, 4, 4), &v, 4);
}

void wasi_put_u64(kvstore_wasi_instance *i, uint32_t addr, uint64_t v)
{
    memcpy(wasi_span(i, addr, 8, 8), &v, 8);
}

uint32_t wasi_get_u32(kvstore_wasi_instance *i, uint32_t addr)
{
    uint32_t v;
    memcpy(&v, wasi_span(i, addr, 4, 4), 4);
    return v;
}

bool wasi_alloc_refuse(kvstore_wasi_instance *i, uint64_t size, int rc)
{
    if (size > UINT32_MAX)
        wasi_trap_set(i, "result of %llu bytes does not fit", (unsigned long long)size);
    else if (!i->trapped && rc != 0) /* else the message is the engine's */
        wasi_trap_set(i, "cabi_realloc trapped");
    return false;
}

uint32_t wasi_alloc(kvstore_wasi_instance *i, uint32_t align, uint64_t size)
{
    uint32_t p;
    if (!wasi_alloc_try(i, align, size, &p))
        wasi_trap_jump(i);
    return p;
}

uint32_t wasi_lower_bytes(kvstore_wasi_instance *i, const void *src,
                          size_t len, uint32_t align)
{
    uint32_t p = wasi_alloc(i, align, len);
    if (len)
        memcpy(i->mem + p, src, len);
    return p;
}

void wasi_put_list(kvstore_wasi_instance *i, uint32_t addr, const void *src,
                   size_t len)
{
    uint32_t p = wasi_lower_bytes(i, src, len, 1);
    wasi_put_u32(i, addr, p);
    wasi_put_u32(i, addr + 4, (uint32_t)len);
}

/* True when no byte of s[0..len) is NUL or above 0x7f. Per word x:
 * (x - 0x01..01) sets a byte's top bit when that byte was 0 (and, past a
 * first hit, maybe others), x itself when it is >= 0x80; neither
 * happens for bytes 1..0x7f. The tail word is padded with 0x01 bytes. */
static bool ascii_without_nul(const char *s, size_t len)
{
    const uint64_t ones = 0x0101010101010101ull, tops = 0x8080808080808080ull;
    uint64_t acc = 0, x;
    size_t k = 0;
    for (; k + 8 <= len; k += 8) {
        memcpy(&x, s + k, 8);
        acc |= (x - ones) | x;
    }
    x = ones;
    memcpy(&x, s + k, len - k);
    acc |= (x - ones) | x;
    return (acc & tops) == 0;
}

int wasi_key_lift(kvstore_wasi_instance *i, uint32_t ptr, uint32_t len, char *buf)
{
    if (!wasi_span_ok(i, ptr, len, 1))
        return WASI_TRAPPED;
    const uint8_t *s = i->mem + ptr;
    /* Fast path, the common key: ASCII without NUL, copied, then checked
     * eight bytes at a time. Anything else takes the full path below, in
     * the same order as always: invalid UTF-8 traps before any error. */
    if (len <= KVSTORE_KEY_MAX) {
        memcpy(buf, s, len);
        buf[len] = '\0';
        if (ascii_without_nul(buf, len))
            return KVSTORE_OK;
    }
    if (!wasi_utf8_valid((const char *)s, len)) {
        wasi_trap_set(i, "string at 0x%x is not valid UTF-8", (unsigned)ptr);
        return WASI_TRAPPED;
    }
    if (len > KVSTORE_KEY_MAX)
        return wasi_fail(i, KVSTORE_EINVAL,
                         "key of %u bytes is longer than %d bytes",
                         (unsigned)len, KVSTORE_KEY_MAX);
    /* A C string would silently cut "a\0b" to "a": refuse it instead. */
    if (memchr(s, '\0', len))
        return wasi_fail(i, KVSTORE_EINVAL, "key contains a NUL byte");
    memcpy(buf, s, len);
    buf[len] = '\0';
    return KVSTORE_OK;
}

int wasi_key(kvstore_wasi_instance *i, uint32_t ptr, uint32_t len, char *buf)
{
    int rc = wasi_key_lift(i, ptr, len, buf);
    if (rc == WASI_TRAPPED)
        wasi_trap_jump(i);
    return rc;
}

void wasi_defer_more(kvstore_wasi_instance *i, void (*fn)(void *), void *p)
{
    if (i->ndeferred == i->capdeferred) {
        size_t cap = i->capdeferred ? 2 * i->capdeferred : 16;
        wasi_deferred *d = realloc(i->deferred, cap * sizeof(*d));
        if (!d) {
            fn(p);
            wasi_trap(i, "host out of memory");
        }
        i->deferred = d;
        i->capdeferred = cap;
    }
    i->deferred[i->ndeferred].fn = fn;
    i->deferred[i->ndeferred].p = p;
    i->ndeferred++;
}

int wasi_fail(kvstore_wasi_instance *i, int code, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(i->errbuf, sizeof(i->errbuf), fmt, ap);
    va_end(ap);
    return code;
}

int wasi_lib_fail(kvstore_wasi_instance *i, int code)
{
    snprintf(i->errbuf, sizeof(i->errbuf), "%s", kvstore_errmsg());
    return code;
}

void wasi_return_unit(kvstore_wasi_instance *i, uint32_t ret, int rc)
{
    if (rc == KVSTORE_OK)
        wasi_put_u8(i, ret, 0);
    else
        wasi_put_error(i, ret, 4, rc);
    wasi_leave(i);
}

void wasi_put_error(kvstore_wasi_instance *i, uint32_t ret, uint32_t off, int code)
{
    uint8_t tag;
    switch (code) {
    case KVSTORE_ENOSTORE: tag = 0; break; /* no-such-store */
    case KVSTORE_EACCESS: tag = 1; break;  /* access-denied */
    default: tag = 2; break;               /* other(string) */
    }
    if (tag == 2) {
        const char *msg = i->errbuf[0] ? i->errbuf : kvstore_strerror(code);
        wasi_put_list(i, ret + off + 4, msg, strlen(msg));
    }
    wasi_put_u8(i, ret + off, tag);
    wasi_put_u8(i, ret, 1);
}

/* ---- resources -------------------------------------------------------- */

bool wasi_res_full(const kvstore_wasi_instance *i)
{
    return i->nfree == 0 && i->next_slot >= i->cap;
}

uint32_t wasi_res_add(kvstore_wasi_instance *i, wasi_res_type type, void *p)
{
    uint32_t slot;
    if (!i->res) {
        i->res = calloc(i->cap, sizeof(*i->res));
        i->free_slots = calloc(i->cap, sizeof(*i->free_slots));
        if (!i->res || !i->free_slots) {
            free(i->res);
            free(i->free_slots);
            i->res = NULL;
            i->free_slots = NULL;
            wasi_fail(i, KVSTORE_ENOMEM, "host out of memory");
            return 0;
        }
    }
    if (i->nfree) {
        slot = i->free_slots[--i->nfree];
        i->res[slot].gen++;
    } else if (i->next_slot < i->cap) {
        slot = i->next_slot++;
    } else {
        wasi_fail(i, KVSTORE_ENOMEM, "more than %u open handles",
                  (unsigned)i->cap);
        return 0;
    }
    i->res[slot].type = type;
    i->res[slot].p = p;
    i->used++;
    return slot + 1 + i->cap * i->res[slot].gen;
}

/* The slot of a live handle of that type, or UINT32_MAX with the trap
 * recorded. */
static uint32_t res_slot(kvstore_wasi_instance *i, uint32_t handle,
                         wasi_res_type type)
{
    if (handle != 0 && i->res) {
        uint32_t slot = (handle - 1) % i->cap;
        uint32_t gen = (handle - 1) / i->cap;
        if (slot < i->next_slot && i->res[slot].gen == gen &&
            i->res[slot].type == type)
            return slot;
    }
    wasi_trap_set(i, "unknown %s handle %u", type == WASI_RES_BUCKET ? "bucket" : "cas",
                  (unsigned)handle);
    return UINT32_MAX;
}

void *wasi_res_lookup(kvstore_wasi_instance *i, uint32_t handle, wasi_res_type type)
{
    uint32_t slot = res_slot(i, handle, type);
    if (slot == UINT32_MAX)
        return NULL;
    i->hot_handle = handle;
    i->hot_type = type;
    i->hot_p = i->res[slot].p;
    return i->hot_p;
}

void *wasi_res_get(kvstore_wasi_instance *i, uint32_t handle, wasi_res_type type)
{
    void *p = wasi_res_find(i, handle, type);
    if (!p)
        wasi_trap_jump(i);
    return p;
}

void *wasi_res_take(kvstore_wasi_instance *i, uint32_t handle, wasi_res_type type)
{
    uint32_t slot = res_slot(i, handle, type);
    if (slot == UINT32_MAX)
        wasi_trap_jump(i);
    i->hot_handle = 0;
    void *p = i->res[slot].p;
    i->res[slot].type = WASI_RES_FREE;
    i->res[slot].p = NULL;
    i->used--;
    /* Reuse the slot only while its next handle number still fits in a
     * u32 and was never handed out; otherwise retire it. */
    uint64_t next = (uint64_t)slot + 1 + (uint64_t)i->cap * (i->res[slot].gen + 1ull);
    if (next <= UINT32_MAX)
        i->free_slots[i->nfree++] = slot;
    return p;
}

void wasi_bucket_unref(wasi_bucket *wb)
{
    if (wb && --wb->refs == 0) {
        kvstore_bucket_close(wb->bucket);
        free(wb);
    }
}

void wasi_cas_free(void *p)
{
    wasi_cas *c = p;
    if (!c)
        return;
    kvstore_cas_free(c->cas);
    wasi_bucket_unref(c->wb);
    free(c->key);
    free(c);
}

/* ---- draft u64 cursors ------------------------------------------------ */

uint64_t wasi_cursor_put(kvstore_wasi_instance *i, const char *cursor)
{
    size_t n = wasi_cfg(i)->max_cursors;
    if (!i->cursors && !(i->cursors = calloc(n, sizeof(*i->cursors))))
        wasi_trap(i, "host out of memory");
    char *copy = strdup(cursor);
    if (!copy)
        wasi_trap(i, "host out of memory");
    /* Ids grow monotonically, so slot id % n holds the newest cursor for
     * that slot and the oldest is evicted. */
    uint64_t id = i->next_cursor++;
    size_t slot = id % n;
    free(i->cursors[slot].cursor);
    i->cursors[slot].id = id;
    i->cursors[slot].cursor = copy;
    return id;
}

const char *wasi_cursor_get(kvstore_wasi_instance *i, uint64_t id)
{
    if (!i->cursors || id == 0)
        return NULL;
    size_t slot = id % wasi_cfg(i)->max_cursors;
    if (i->cursors[slot].id != id)
        return NULL;
    return i->cursors[slot].cursor;
}

/*
 * Freestanding guest runtime (see rt.h).
 *
 * SPDX-License-Identifier: MIT
 */
#include "rt.h"

GUEST_IMPORT("host", "print") void host_print(const char *ptr, uint32_t len);

void *memcpy(void *dst, const void *src, size_t n)
{
    unsigned char *d = dst;
    const unsigned char *s = src;
    while (n--)
        *d++ = *s++;
    return dst;
}

void *memmove(void *dst, const void *src, size_t n)
{
    unsigned char *d = dst;
    const unsigned char *s = src;
    if (d < s)
        return memcpy(dst, src, n);
    while (n--)
        d[n] = s[n];
    return dst;
}

void *memset(void *dst, int c, size_t n)
{
    unsigned char *d = dst;
    while (n--)
        *d++ = (unsigned char)c;
    return dst;
}

int memcmp(const void *a, const void *b, size_t n)
{
    const unsigned char *x = a, *y = b;
    for (; n; n--, x++, y++)
        if (*x != *y)
            return *x - *y;
    return 0;
}

size_t strlen(const char *s)
{
    size_t n = 0;
    while (s[n])
        n++;
    return n;
}

extern unsigned char __heap_base;
static uintptr_t heap_top;

void *rt_alloc(size_t align, size_t size)
{
    if (!heap_top)
        heap_top = (uintptr_t)&__heap_base;
    /* A power of two. Not written as align & (align - 1): clang makes
     * that a popcnt, which wasm2c's C turns into a libgcc call on hosts
     * compiled without -mpopcnt, a sixth of the allocator's cost. */
    if (align == 0 || (align >> __builtin_ctz(align)) != 1)
        return NULL;
    uintptr_t p = (heap_top + align - 1) & ~(uintptr_t)(align - 1);
    if (size > UINTPTR_MAX - p)
        return NULL;
    uintptr_t end = p + size;
    uintptr_t have = __builtin_wasm_memory_size(0) * 65536u;
    if (end > have) {
        size_t pages = (end - have + 65535u) / 65536u;
        if (__builtin_wasm_memory_grow(0, pages) == (size_t)-1)
            return NULL;
    }
    heap_top = end;
    return (void *)p;
}

uint32_t (*rt_realloc_override)(uint32_t, uint32_t, uint32_t, uint32_t);

/* The canonical ABI's allocator: the host calls it to place strings and
 * lists it returns inside guest memory. A NULL result makes the host trap,
 * which is what running out of memory should do. */
GUEST_EXPORT("cabi_realloc")
void *cabi_realloc(void *old, size_t old_size, size_t align, size_t new_size)
{
    if (rt_realloc_override)
        return (void *)(uintptr_t)rt_realloc_override(
            (uint32_t)(uintptr_t)old, (uint32_t)old_size, (uint32_t)align,
            (uint32_t)new_size);
    void *p = rt_alloc(align, new_size);
    if (p && old)
        memcpy(p, old, old_size < new_size ? old_size : new_size);
    return p;
}

static char obuf[512];
static size_t olen;

void out_flush(void)
{
    if (olen)
        host_print(obuf, (uint32_t)olen);
    olen = 0;
}

void out_n(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (olen == sizeof(obuf))
            out_flush();
        obuf[olen++] = s[i];
        if (s[i] == '\n')
            out_flush();
    }
}

void out(const char *s)
{
    out_n(s, strlen(s));
}

size_t fmt_u64(char *buf, uint64_t v)
{
    char tmp[20];
    size_t n = 0;
    do {
        tmp[n++] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    for (size_t i = 0; i < n; i++)
        buf[i] = tmp[n - 1 - i];
    return n;
}

void out_u64(uint64_t v)
{
    char buf[21];
    size_t n = fmt_u64(buf, v);
    out_n(buf, n);
}

void out_i64(int64_t v)
{
    if (v < 0) {
        out("-");
        out_u64(0 - (uint64_t)v);
    } else {
        out_u64((uint64_t)v);
    }
}

bool str_eq_n(const char *a, size_t alen, const char *b)
{
    return alen == strlen(b) && memcmp(a, b, alen) == 0;
}

void sb_reset(strbuf *sb)
{
    sb->len = 0;
}

void sb_add(strbuf *sb, const char *s)
{
    while (*s && sb->len < sizeof(sb->buf))
        sb->buf[sb->len++] = *s++;
}

void sb_add_u64(strbuf *sb, uint64_t v, size_t width)
{
    char d[21];
    size_t n = fmt_u64(d, v);
    for (; width > n && sb->len < sizeof(sb->buf); width--)
        sb->buf[sb->len++] = '0';
    for (size_t i = 0; i < n && sb->len < sizeof(sb->buf); i++)
        sb->buf[sb->len++] = d[i];
}

/*
 * Freestanding runtime for the example guests: the few libc functions
 * clang may call, a bump allocator behind the canonical ABI's
 * cabi_realloc export, and line-buffered output through the host's
 * `host.print` import. No wasi-libc: the guests import nothing but
 * wasi:keyvalue and host.print.
 *
 * SPDX-License-Identifier: MIT
 */
#ifndef GUEST_RT_H
#define GUEST_RT_H

#include <stddef.h>
#include <stdint.h>
#include <stdbool.h>

#define GUEST_IMPORT(mod, name) \
    __attribute__((import_module(mod), import_name(name)))
#define GUEST_EXPORT(name) __attribute__((export_name(name)))

void *memcpy(void *dst, const void *src, size_t n);
void *memmove(void *dst, const void *src, size_t n);
void *memset(void *dst, int c, size_t n);
int memcmp(const void *a, const void *b, size_t n);
size_t strlen(const char *s);

/* Bump allocation from __heap_base, growing linear memory as needed.
 * Nothing is freed: a guest run is short. Returns NULL when memory cannot
 * grow. */
void *rt_alloc(size_t align, size_t size);

/* When set, cabi_realloc calls it instead of allocating (the hostile guest
 * uses it to hand the host bad pointers). */
extern uint32_t (*rt_realloc_override)(uint32_t old, uint32_t old_size,
                                       uint32_t align, uint32_t new_size);

/* Output, flushed to host.print at each newline. */
void out(const char *s);
void out_n(const char *s, size_t n);
void out_u64(uint64_t v);
void out_i64(int64_t v);
void out_flush(void);

/* A fixed-capacity string builder; output past the capacity is dropped. */
typedef struct { char buf[256]; size_t len; } strbuf;
void sb_reset(strbuf *sb);
void sb_add(strbuf *sb, const char *s);
/* Appends v in decimal, left-padded with zeros to at least `width`. */
void sb_add_u64(strbuf *sb, uint64_t v, size_t width);

/* Small string helpers. */
bool str_eq_n(const char *a, size_t alen, const char *b);
/* Writes the decimal form of v to buf (at least 21 bytes), returns length. */
size_t fmt_u64(char *buf, uint64_t v);

#endif /* GUEST_RT_H */

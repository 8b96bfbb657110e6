/*
 * The per-instance state of the wasi:keyvalue host and the canonical-ABI
 * helpers every import uses: bounds-checked access to guest memory,
 * lifting strings and lists (trapping on out-of-bounds or invalid UTF-8
 * as the canonical ABI does), lowering results through the guest's
 * cabi_realloc, the resource table and the draft-1 cursor table.
 *
 * One kvhost serves one guest instance on one thread (wasm2c's trap
 * handling is a process-wide jmp_buf).
 *
 * SPDX-License-Identifier: MIT
 */
#ifndef WASM_HOST_KVHOST_H
#define WASM_HOST_KVHOST_H

#include <stdarg.h>
#include <stdio.h>

#include <kvstore/kvstore.h>
#include <wasm-rt.h>

/* Limits the host imposes on a guest (README, "Limits"). */
#define KVHOST_MAX_HANDLES 1024  /* open buckets + cas handles */
#define KVHOST_MAX_CURSORS 64    /* live draft-1 cursors, oldest evicted */
#define KVHOST_MAX_BATCH 1000    /* keys per get-many/set-many/delete-many */

/* What the embedder decides for every instance. Lent to the host. */
typedef struct kvhost_config {
    kvstore_store *store;        /* where buckets are opened */
    const char *prefix;          /* prepended to bucket identifiers ("" ok) */
    const char *const *allow;    /* NULL-terminated identifiers the guest
                                    may open; NULL allows any */
    size_t page_size;            /* list-keys page size (1..1000) */
    FILE *out;                   /* where host.print writes */
} kvhost_config;

/* A bucket shared by its resource handle and any cas handles on it:
 * closed when the last of them is dropped. */
typedef struct kvhost_bucket {
    kvstore_bucket *bucket;
    unsigned refs;
} kvhost_bucket;

typedef struct kvhost_cas {
    kvstore_cas *cas;
    kvhost_bucket *hb;           /* holds a reference */
    char *key;                   /* to take a fresh snapshot on cas-failed */
} kvhost_cas;

typedef enum { KVHOST_RES_FREE = 0, KVHOST_RES_BUCKET, KVHOST_RES_CAS } kvhost_res_type;

typedef struct kvhost_res {
    kvhost_res_type type;
    void *p;                     /* kvhost_bucket* or kvhost_cas* */
} kvhost_res;

typedef struct kvhost_deferred {
    void (*fn)(void *);
    void *p;
} kvhost_deferred;

/* Calls the guest's cabi_realloc export. */
typedef uint32_t (*kvhost_realloc_fn)(void *guest, uint32_t old, uint32_t old_size,
                                      uint32_t align, uint32_t new_size);

typedef struct kvhost {
    const kvhost_config *cfg;
    wasm_rt_memory_t *mem;       /* the guest's exported memory */
    void *guest;                 /* the guest instance, for realloc */
    kvhost_realloc_fn realloc_fn;
    bool in_realloc;             /* the guest may not call imports now */

    kvhost_res *res;             /* index 0 is never a valid handle */
    uint32_t nres;

    struct { uint64_t id; char *cursor; } cursors[KVHOST_MAX_CURSORS];
    uint64_t next_cursor;

    /* Host memory an import holds while it may trap (guest realloc, bad
     * arguments): released when the import returns or by kvhost_reset
     * after a trap, so a trap never leaks. */
    kvhost_deferred *deferred;
    size_t ndeferred, capdeferred;

    char errbuf[512];            /* message of the error being returned */
    char trap_msg[256];          /* why the host trapped the guest */
} kvhost;

void kvhost_init(kvhost *h, const kvhost_config *cfg);
void kvhost_attach(kvhost *h, wasm_rt_memory_t *mem, void *guest,
                   kvhost_realloc_fn realloc_fn);
/* Releases what the current import held (after a trap). */
void kvhost_unwind(kvhost *h);
/* Drops every resource and cursor the instance still holds. */
void kvhost_fini(kvhost *h);

/* Every import starts with kvhost_enter and ends with kvhost_leave. */
void kvhost_enter(kvhost *h);
void kvhost_leave(kvhost *h);

_Noreturn void kvhost_trap(kvhost *h, wasm_rt_trap_t code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Guest memory. kvhost_span traps unless [ptr, ptr+len) is inside memory
 * and ptr is a multiple of align; the pointer is valid until the next
 * guest realloc (memory may move when it grows). */
uint8_t *kvhost_span(kvhost *h, uint32_t ptr, uint64_t len, uint32_t align);
/* Lifts a string: span plus UTF-8 validation (traps on invalid UTF-8). */
const char *kvhost_string(kvhost *h, uint32_t ptr, uint32_t len);
void kvhost_put_u8(kvhost *h, uint32_t addr, uint8_t v);
void kvhost_put_u32(kvhost *h, uint32_t addr, uint32_t v);
void kvhost_put_u64(kvhost *h, uint32_t addr, uint64_t v);
uint32_t kvhost_get_u32(kvhost *h, uint32_t addr);
/* Allocates len bytes in the guest through cabi_realloc and copies src;
 * traps if the guest returns a bad pointer. */
uint32_t kvhost_lower_bytes(kvhost *h, const void *src, size_t len,
                            uint32_t align);
uint32_t kvhost_alloc(kvhost *h, uint32_t align, uint64_t size);
/* Writes (ptr, len) of a copy of src at addr: a string or list<u8>. */
void kvhost_put_list(kvhost *h, uint32_t addr, const void *src, size_t len);

/* Lifts a key into buf (KVSTORE_KEY_MAX + 1 bytes). Traps on bad memory
 * or UTF-8; returns KVSTORE_EINVAL with errbuf set for a key libkvstore
 * cannot take (too long, NUL inside). */
int kvhost_key(kvhost *h, uint32_t ptr, uint32_t len, char *buf);

/* Defers fn(p) to the end of the import (or the unwind after a trap). */
void kvhost_defer(kvhost *h, void (*fn)(void *), void *p);

/* Error results. kvhost_fail records a host-made error message;
 * kvhost_lib_fail copies kvstore_errmsg(). Both return code. */
int kvhost_fail(kvhost *h, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
int kvhost_lib_fail(kvhost *h, int code);
/* Writes result<_, error>'s error case: is_err = 1 at ret, the error
 * variant at ret + off (no-such-store, access-denied or other(errbuf)). */
void kvhost_put_error(kvhost *h, uint32_t ret, uint32_t off, int code);

/* Resources. kvhost_res_add returns a handle >= 1, or 0 when the table is
 * full (errbuf set). get/take trap on a handle that is not live or not
 * of that type; take removes it (own<T> passed to the host). */
uint32_t kvhost_res_add(kvhost *h, kvhost_res_type type, void *p);
void *kvhost_res_get(kvhost *h, uint32_t handle, kvhost_res_type type);
void *kvhost_res_take(kvhost *h, uint32_t handle, kvhost_res_type type);
void kvhost_bucket_unref(kvhost_bucket *hb);
void kvhost_cas_free(void *cas);

/* Draft-1 cursors: libkvstore's string cursor <-> a small integer. */
uint64_t kvhost_cursor_put(kvhost *h, const char *cursor);
const char *kvhost_cursor_get(kvhost *h, uint64_t id);

#endif /* WASM_HOST_KVHOST_H */

/*
 * libkvstore-wasi internals: the config, host and instance structs and
 * the canonical-ABI helpers every import uses (bounds-checked guest
 * memory, lifting strings, lowering through cabi_realloc, the resource
 * and cursor tables, deferred releases).
 *
 * Traps: every public import starts with WASI_IMPORT_BEGIN, which sets
 * the instance's jmp_buf; a helper that must trap (wasi_trap) records the
 * message and longjmps there, the import releases what it held
 * (wasi_unwind) and hands the trap to the engine. Nothing between the
 * setjmp and the longjmp keeps state in locals of the import's own
 * frame, so no local needs to be volatile.
 *
 * The hot path of bucket.get (get.c) runs without a jmp_buf: it uses
 * the *_ok / _try variants below, which record the trap and return
 * false, and ends with wasi_trap_finish. A setjmp per call was a tenth of
 * the layer's cost per get (docs/benchmarks.md).
 *
 * SPDX-License-Identifier: MIT
 */
#ifndef KVSTORE_WASI_INTERNAL_H
#define KVSTORE_WASI_INTERNAL_H

#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>

#include <kvstore/wasi.h>

/* Defaults and bounds of the config keys (docs/wasi.md). */
#define WASI_DEFAULT_PAGE 16
#define WASI_DEFAULT_HANDLES 1024
#define WASI_MAX_HANDLES (1u << 20)
#define WASI_DEFAULT_CURSORS 64
#define WASI_MAX_CURSORS 65536
#define WASI_DEFAULT_BATCH 1000
#define WASI_DEFAULT_QUEUE 1024
#define WASI_MAX_QUEUE (1u << 20)
#define WASI_DEFAULT_QUEUE_BYTES (16u << 20)
#define WASI_MAX_LABELS 64

typedef enum { WASI_ID_REFUSE = 0, WASI_ID_MAP = 1 } wasi_id_policy;

typedef struct wasi_store_cfg {
    char *label;               /* NULL: the default store */
    char *uri;                 /* owned; NULL when lent */
    kvstore_store *lent;       /* lent by the host program */
} wasi_store_cfg;

struct kvstore_wasi_config {
    char *redis_url, *nats_url, *path, *store; /* default-store sources */
    kvstore_store *lent_default;
    wasi_store_cfg labels[WASI_MAX_LABELS];
    size_t nlabels;
    char *prefix;              /* bucket_prefix */
    char *default_bucket;      /* what "" opens */
    char **allow;              /* NULL: any identifier */
    size_t nallow;
    char **watch;              /* identifiers to watch */
    size_t nwatch;
    wasi_id_policy policy;
    uint32_t page_size, max_handles, max_cursors, max_batch;
    uint32_t queue_max;
    uint64_t queue_bytes;
};

typedef struct wasi_store {
    char *label;               /* NULL: default */
    kvstore_store *store;
    bool owned;
} wasi_store;

struct kvstore_wasi_host {
    kvstore_wasi_config cfg;   /* a deep copy */
    wasi_store def;
    wasi_store labels[WASI_MAX_LABELS];
    size_t nlabels;
};

/* A bucket shared by its resource handles, cas handles and watches:
 * closed when the last reference goes. */
typedef struct wasi_bucket {
    kvstore_bucket *bucket;
    unsigned refs;
} wasi_bucket;

typedef struct wasi_cas {
    kvstore_cas *cas;
    wasi_bucket *wb;           /* holds a reference */
    char *key;                 /* to take a fresh snapshot on cas-failed */
} wasi_cas;

typedef enum { WASI_RES_FREE = 0, WASI_RES_BUCKET, WASI_RES_CAS } wasi_res_type;

/* One slot of the resource table. A handle is slot + 1 + cap * gen: a
 * slot is reused only with the next generation, so a dropped handle's
 * number is never handed out again (a slot whose generation would wrap
 * is retired). */
typedef struct wasi_res {
    wasi_res_type type;
    uint32_t gen;
    void *p;                   /* wasi_bucket* or wasi_cas* */
} wasi_res;

typedef struct wasi_deferred {
    void (*fn)(void *);
    void *p;
} wasi_deferred;

typedef struct wasi_event {
    kvstore_event event;
    uint32_t watch;            /* index into inst->watches */
    char *key;                 /* key and value in one block */
    void *value;
    size_t len;
} wasi_event;

typedef struct wasi_watch {
    kvstore_wasi_instance *inst;
    wasi_bucket *wb;           /* holds a reference */
    kvstore_watch *w;
} wasi_watch;

struct kvstore_wasi_instance {
    const kvstore_wasi_host *host;
    kvstore_wasi_wit wit;
    kvstore_wasi_engine eng;
    void *ctx;

    uint8_t *mem;              /* re-read at entry and after guest calls */
    uint64_t mem_size;
    bool in_guest;             /* inside cabi_realloc or a watcher call */
    bool trapped;
    bool have_jmp;
    jmp_buf jmp;

    wasi_res *res;             /* cap slots, allocated on first use */
    uint32_t cap, used;
    uint32_t *free_slots;      /* stack of reusable slots */
    uint32_t nfree;
    uint32_t next_slot;        /* slots never used yet start here */

    struct { uint64_t id; char *cursor; } *cursors;
    uint64_t next_cursor;

    /* Releases owed by the current import. The first goes in `first`
     * (most imports owe at most one: a page, a cursor), later ones in the
     * array. */
    wasi_deferred first;
    wasi_deferred *deferred;
    size_t ndeferred, capdeferred;

    /* The value of the current get, copied out of kvstore_get_with's
     * callback to be lowered after it (get.c). Kept between gets up to
     * 64 KiB; owned by the instance. */
    uint8_t *value;
    size_t value_len, value_cap;

    /* The last handle looked up: most guests use one bucket for many
     * calls. Cleared whenever a handle is taken out of the table. */
    uint32_t hot_handle;
    wasi_res_type hot_type;
    void *hot_p;

    /* Watcher: events queued by library threads under `lock`. */
    wasi_watch *watches;
    size_t nwatches;
    pthread_mutex_t lock;
    wasi_event *queue;         /* ring of cfg.queue_max */
    size_t qhead, qlen;
    uint64_t qbytes, dropped;

    char errbuf[512];          /* message of the error being returned */
    char trap_msg[256];
};

const kvstore_wasi_config *wasi_cfg(const kvstore_wasi_instance *i);

/* Import prologue/epilogue. WASI_IMPORT_BEGIN returns from the import
 * when the instance may not run it (dead, or called from inside a guest
 * callback) or after a trap. */
static inline void wasi_refresh_memory(kvstore_wasi_instance *i)
{
    uint64_t size = 0;
    i->mem = i->eng.memory(i->ctx, &size);
    i->mem_size = i->mem ? size : 0;
}
bool wasi_enter_refused(kvstore_wasi_instance *i);
static inline bool wasi_enter(kvstore_wasi_instance *i)
{
    if (i->trapped || i->in_guest)
        return wasi_enter_refused(i);
    i->errbuf[0] = '\0';
    /* The guest may have grown (moved) its memory since the last call. */
    wasi_refresh_memory(i);
    return true;
}
void wasi_trapped_here(kvstore_wasi_instance *i);
#define WASI_IMPORT_BEGIN(i)                                             \
    do {                                                                 \
        if (!wasi_enter(i))                                              \
            return;                                                      \
        if (setjmp((i)->jmp)) {                                          \
            wasi_trapped_here(i);                                        \
            return;                                                      \
        }                                                                \
        (i)->have_jmp = true;                                            \
    } while (0)
void wasi_leave(kvstore_wasi_instance *i);

_Noreturn void wasi_trap(kvstore_wasi_instance *i, const char *fmt, ...)
    KVSTORE_PRINTF(2, 3);
/* Records a trap without jumping: the caller unwinds itself. */
void wasi_trap_set(kvstore_wasi_instance *i, const char *fmt, ...)
    KVSTORE_PRINTF(2, 3);
/* Jumps to the import's jmp_buf with the trap already recorded. */
_Noreturn void wasi_trap_jump(kvstore_wasi_instance *i);
/* Ends an import without a jmp_buf whose helper recorded a trap. */
#define wasi_trap_finish wasi_trapped_here
/* Releases everything deferred, newest first. */
void wasi_unwind(kvstore_wasi_instance *i);

/* Guest memory: false (trap recorded) unless [ptr, ptr+len) is inside
 * memory and ptr a multiple of align, a power of two. Inline: every
 * import checks several spans. */
bool wasi_span_refuse(kvstore_wasi_instance *i, uint32_t ptr, uint64_t len,
                      uint32_t align);
static inline bool wasi_span_ok(kvstore_wasi_instance *i, uint32_t ptr,
                                uint64_t len, uint32_t align)
{
    /* 64-bit arithmetic: ptr + len cannot wrap. */
    if ((ptr & (align - 1)) != 0 || (uint64_t)ptr + len > i->mem_size)
        return wasi_span_refuse(i, ptr, len, align);
    return true;
}
/* The same, trapping; the pointer is valid until the next call into the
 * guest. */
static inline uint8_t *wasi_span(kvstore_wasi_instance *i, uint32_t ptr,
                                 uint64_t len, uint32_t align)
{
    if (!wasi_span_ok(i, ptr, len, align))
        wasi_trap_jump(i);
    return i->mem + ptr;
}
const char *wasi_string(kvstore_wasi_instance *i, uint32_t ptr, uint32_t len);
void wasi_put_u8(kvstore_wasi_instance *i, uint32_t addr, uint8_t v);
void wasi_put_u32(kvstore_wasi_instance *i, uint32_t addr, uint32_t v);
void wasi_put_u64(kvstore_wasi_instance *i, uint32_t addr, uint64_t v);
uint32_t wasi_get_u32(kvstore_wasi_instance *i, uint32_t addr);
uint32_t wasi_alloc(kvstore_wasi_instance *i, uint32_t align, uint64_t size);
/* Calls the guest's cabi_realloc(0, 0, align, size) and checks its
 * result like any guest pointer. False with the trap recorded when the
 * size does not fit, the guest trapped or the result is out of bounds.
 * Inline: bucket.get calls it once per value. */
bool wasi_alloc_refuse(kvstore_wasi_instance *i, uint64_t size, int rc);
static inline bool wasi_alloc_try(kvstore_wasi_instance *i, uint32_t align,
                                  uint64_t size, uint32_t *out)
{
    uint32_t p = 0;
    if (size > UINT32_MAX)
        return wasi_alloc_refuse(i, size, 0);
    i->in_guest = true;
    int rc = i->eng.realloc(i->ctx, 0, 0, align, (uint32_t)size, &p);
    i->in_guest = false;
    /* The guest may have grown (moved) its memory. */
    wasi_refresh_memory(i);
    if (i->trapped || rc != 0)
        return wasi_alloc_refuse(i, size, rc);
    *out = p;
    return wasi_span_ok(i, p, size, align);
}
uint32_t wasi_lower_bytes(kvstore_wasi_instance *i, const void *src,
                          size_t len, uint32_t align);
void wasi_put_list(kvstore_wasi_instance *i, uint32_t addr, const void *src,
                   size_t len);
int wasi_key(kvstore_wasi_instance *i, uint32_t ptr, uint32_t len, char *buf);
/* wasi_key without jumping: WASI_TRAPPED when it recorded a trap. */
#define WASI_TRAPPED (-1000)
int wasi_key_lift(kvstore_wasi_instance *i, uint32_t ptr, uint32_t len, char *buf);
bool wasi_utf8_valid(const char *s, size_t len);

void wasi_defer_more(kvstore_wasi_instance *i, void (*fn)(void *), void *p);
/* Owes fn(p) when the import ends, trap or not. `first` is the oldest
 * release: unwinding frees it after the array, so it is used only while
 * the array is empty. An import owing one release never touches the
 * array. */
static inline void wasi_defer(kvstore_wasi_instance *i, void (*fn)(void *), void *p)
{
    if (!i->first.fn && i->ndeferred == 0) {
        i->first.fn = fn;
        i->first.p = p;
    } else {
        wasi_defer_more(i, fn, p);
    }
}

int wasi_fail(kvstore_wasi_instance *i, int code, const char *fmt, ...)
    KVSTORE_PRINTF(3, 4);
int wasi_lib_fail(kvstore_wasi_instance *i, int code);
void wasi_put_error(kvstore_wasi_instance *i, uint32_t ret, uint32_t off, int code);
/* A libkvstore status, its message kept for the guest when it failed. */
static inline int wasi_lib(kvstore_wasi_instance *i, int code)
{
    return code == KVSTORE_OK ? code : wasi_lib_fail(i, code);
}
/* Lowers result<_, error> for `rc` at ret (16 bytes) and leaves the
 * import. */
void wasi_return_unit(kvstore_wasi_instance *i, uint32_t ret, int rc);

/* True when wasi_res_add would fail for want of a slot. */
bool wasi_res_full(const kvstore_wasi_instance *i);
uint32_t wasi_res_add(kvstore_wasi_instance *i, wasi_res_type type, void *p);
void *wasi_res_get(kvstore_wasi_instance *i, uint32_t handle, wasi_res_type type);
/* wasi_res_get without jumping: NULL with the trap recorded. */
void *wasi_res_lookup(kvstore_wasi_instance *i, uint32_t handle, wasi_res_type type);
static inline void *wasi_res_find(kvstore_wasi_instance *i, uint32_t handle,
                                  wasi_res_type type)
{
    /* handle != 0: the cache starts out empty with hot_handle 0. */
    if (handle == i->hot_handle && type == i->hot_type && handle != 0)
        return i->hot_p;
    return wasi_res_lookup(i, handle, type);
}
void *wasi_res_take(kvstore_wasi_instance *i, uint32_t handle, wasi_res_type type);
void wasi_bucket_unref(wasi_bucket *wb);
void wasi_cas_free(void *cas);

uint64_t wasi_cursor_put(kvstore_wasi_instance *i, const char *cursor);
const char *wasi_cursor_get(kvstore_wasi_instance *i, uint64_t id);

/* config.c: resolves a guest identifier to a store and bucket name.
 * Returns KVSTORE_OK, or an error status with i->errbuf set. */
int wasi_resolve(kvstore_wasi_instance *i, const char *id, size_t len,
                 kvstore_store **store, char *name);
bool wasi_allowed(const kvstore_wasi_config *c, const char *id, size_t len);

/* get.c: frees the get's value buffer. */
void wasi_value_drop(kvstore_wasi_instance *i);

/* watch.c */
int wasi_watch_start(kvstore_wasi_instance *i);
void wasi_watch_stop(kvstore_wasi_instance *i);

#endif /* KVSTORE_WASI_INTERNAL_H */

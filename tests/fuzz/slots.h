/*
 * Backend tables for the descriptor fuzz targets (fuzz_registry.c,
 * fuzz_module.c): slots that are never called, only present or not, set
 * from a bit mask.
 *
 * SPDX-License-Identifier: MIT
 */
#ifndef KVS_FUZZ_SLOTS_H
#define KVS_FUZZ_SLOTS_H

#include "internal.h"

/* Mask bits: 0..8 the required slots (store_open, store_close,
 * bucket_open, bucket_close, get, set, del, exists, list_keys), then the
 * optional groups. */
#define REQUIRED 9
enum { B_CAS_OPEN = 9, B_CAS_SWAP, B_CAS_FREE, B_WATCH_START, B_WATCH_STOP };

static inline int s_store_open(void **o, const kvstore_uri *u) { (void)o; (void)u; return 0; }
static inline void s_close(void *p) { (void)p; }
static inline int s_bucket_open(void **o, void *s, const char *n, bool c) { (void)o; (void)s; (void)n; (void)c; return 0; }
static inline int s_get(void *b, const char *k, void **v, size_t *l) { (void)b; (void)k; (void)v; (void)l; return 0; }
static inline int s_set(void *b, const char *k, const void *v, size_t l) { (void)b; (void)k; (void)v; (void)l; return 0; }
static inline int s_del(void *b, const char *k) { (void)b; (void)k; return 0; }
static inline int s_exists(void *b, const char *k, bool *e) { (void)b; (void)k; (void)e; return 0; }
static inline int s_list(void *b, const char *p, const char *c, size_t l, kvstore_keys **o) { (void)b; (void)p; (void)c; (void)l; (void)o; return 0; }
static inline int s_cas_open(void **o, void *b, const char *k, bool *f, const void **v, size_t *l) { (void)o; (void)b; (void)k; (void)f; (void)v; (void)l; return 0; }
static inline int s_cas_swap(void *c, const void *v, size_t l) { (void)c; (void)v; (void)l; return 0; }
static inline int s_watch_start(void **o, void *b, const char *p, kvstore_watch_fn f, void *x) { (void)o; (void)b; (void)p; (void)f; (void)x; return 0; }

static inline void fill_slots(kvstore_backend *be, unsigned mask)
{
    if (mask & 1u << 0) be->store_open = s_store_open;
    if (mask & 1u << 1) be->store_close = s_close;
    if (mask & 1u << 2) be->bucket_open = s_bucket_open;
    if (mask & 1u << 3) be->bucket_close = s_close;
    if (mask & 1u << 4) be->get = s_get;
    if (mask & 1u << 5) be->set = s_set;
    if (mask & 1u << 6) be->del = s_del;
    if (mask & 1u << 7) be->exists = s_exists;
    if (mask & 1u << 8) be->list_keys = s_list;
    if (mask & 1u << B_CAS_OPEN) be->cas_open = s_cas_open;
    if (mask & 1u << B_CAS_SWAP) be->cas_swap = s_cas_swap;
    if (mask & 1u << B_CAS_FREE) be->cas_free = s_close;
    if (mask & 1u << B_WATCH_START) be->watch_start = s_watch_start;
    if (mask & 1u << B_WATCH_STOP) be->watch_stop = s_close;
}

#endif /* KVS_FUZZ_SLOTS_H */

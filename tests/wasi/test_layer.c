/*
 * libkvstore-wasi driven by a fake engine: guest memory is a C buffer,
 * cabi_realloc a bump allocator (which can move memory as a growing
 * guest would, or return a bad pointer), traps are recorded. Covers what
 * needs no real guest: config keys and their precedence, the identifier
 * policy, handle numbering and limits, the cursor table, the get-many
 * layouts, bounds checks, and the watcher queue and its overflow.
 *
 * SPDX-License-Identifier: MIT
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "internal.h"
#include "support.h"

/* ---- the fake engine ---------------------------------------------------- */

typedef struct fake {
    uint8_t *mem;
    uint64_t size;
    uint32_t bump;           /* next free byte */
    bool move_on_realloc;    /* realloc grows memory into a new buffer */
    uint32_t bad_realloc;    /* non-zero: realloc returns this */
    int ntraps;
    char trap[256];
    int ncalls;              /* watcher calls */
    char calls[16][128];
    kvstore_wasi_instance *inst;
    kvstore_wasi_host *host; /* fake_open's, freed by fake_fini */
} fake;

static uint8_t *f_memory(void *ctx, uint64_t *size)
{
    fake *f = ctx;
    *size = f->size;
    return f->mem;
}

static uint32_t f_alloc(fake *f, uint32_t align, uint32_t n)
{
    uint32_t p = (f->bump + align - 1) & ~(align - 1);
    assert_true((uint64_t)p + n <= f->size);
    f->bump = p + n;
    return p;
}

static int f_realloc(void *ctx, uint32_t old, uint32_t old_size, uint32_t align,
                     uint32_t n, uint32_t *out)
{
    fake *f = ctx;
    if (f->bad_realloc) {
        *out = f->bad_realloc;
        return 0;
    }
    if (f->move_on_realloc) {
        /* As memory.grow may: a new, larger block; the old one is gone, so
         * a host that kept a pointer into it fails under ASan/valgrind. */
        uint8_t *grown = malloc(f->size * 2);
        assert_non_null(grown);
        memcpy(grown, f->mem, f->size);
        memset(grown + f->size, 0, f->size);
        free(f->mem);
        f->mem = grown;
        f->size *= 2;
    }
    *out = f_alloc(f, align, n);
    return 0;
}

static void f_trap(void *ctx, const char *msg)
{
    fake *f = ctx;
    f->ntraps++;
    snprintf(f->trap, sizeof(f->trap), "%s", msg);
}

/* Records the call and reads the event back from guest memory. */
static int f_call(void *ctx, const char *name, const uint32_t *a, size_t n)
{
    fake *f = ctx;
    if (f->ncalls < 16) {
        char *c = f->calls[f->ncalls];
        if (n == 5)
            snprintf(c, 128, "%s h=%u %.*s=%.*s", strrchr(name, '#') + 1,
                     (unsigned)a[0], (int)a[2], (char *)f->mem + a[1], (int)a[4],
                     (char *)f->mem + a[3]);
        else
            snprintf(c, 128, "%s h=%u %.*s", strrchr(name, '#') + 1,
                     (unsigned)a[0], (int)a[2], (char *)f->mem + a[1]);
    }
    f->ncalls++;
    /* The guest owns the handle: drop it as a guest would. */
    kvstore_wasi_bucket_drop(f->inst, a[0]);
    return 0;
}

static const kvstore_wasi_engine engine = {
    .size = sizeof(kvstore_wasi_engine),
    .memory = f_memory,
    .realloc = f_realloc,
    .trap = f_trap,
    .call = f_call,
};

/* Copies s into guest memory; returns its address. */
static uint32_t put_str(fake *f, const char *s)
{
    uint32_t p = f_alloc(f, 1, (uint32_t)strlen(s) + 1);
    memcpy(f->mem + p, s, strlen(s) + 1);
    return p;
}

static uint32_t u32_at(fake *f, uint32_t addr)
{
    uint32_t v;
    memcpy(&v, f->mem + addr, 4);
    return v;
}

static uint64_t u64_at(fake *f, uint32_t addr)
{
    uint64_t v;
    memcpy(&v, f->mem + addr, 8);
    return v;
}

/* A host configured with the key/value pairs `kv` (NULL-terminated, may
 * be NULL), lent `s` as its default store when `s` is not NULL. */
static kvstore_wasi_host *host_lent(kvstore_store *s, const char *const *kv)
{
    kvstore_wasi_config *c;
    kvstore_wasi_host *h;
    assert_int_equal(kvstore_wasi_config_new(&c), KVSTORE_OK);
    if (s != NULL)
        assert_int_equal(kvstore_wasi_config_lend_store(c, NULL, s),
                         KVSTORE_OK);
    for (; kv && *kv; kv += 2)
        assert_int_equal(kvstore_wasi_config_set(c, kv[0], kv[1]), KVSTORE_OK);
    assert_int_equal(kvstore_wasi_host_new(&h, c), KVSTORE_OK);
    kvstore_wasi_config_free(c);
    return h;
}

static kvstore_wasi_host *host_of(const char *const *kv)
{
    return host_lent(NULL, kv);
}

/* A fresh guest memory and an instance of `h` claiming `wit` over it;
 * fake_fini frees both. */
static void fake_init(fake *f, kvstore_wasi_host *h, kvstore_wasi_wit wit)
{
    memset(f, 0, sizeof(*f));
    f->size = 1 << 16;
    f->mem = calloc(1, f->size);
    assert_non_null(f->mem);
    f->bump = 16; /* 0 stays unused, like a guest's null page */
    assert_int_equal(kvstore_wasi_instance_new(&f->inst, h, wit, &engine, f),
                     KVSTORE_OK);
}

/* open(id) -> handle, or 0 with the error tag in *tag. */
static uint32_t open_id(fake *f, const char *id, int *tag)
{
    uint32_t ret = f_alloc(f, 4, 16);
    kvstore_wasi_store_open(f->inst, put_str(f, id), (uint32_t)strlen(id), ret);
    assert_false(kvstore_wasi_trapped(f->inst));
    if (f->mem[ret]) {
        if (tag)
            *tag = f->mem[ret + 4];
        return 0;
    }
    return u32_at(f, ret + 4);
}

static char *errmsg_of(fake *f, uint32_t ret, uint32_t off)
{
    assert_int_equal(f->mem[ret], 1);
    assert_int_equal(f->mem[ret + off], 2);
    uint32_t p = u32_at(f, ret + off + 4), n = u32_at(f, ret + off + 8);
    return strndup((char *)f->mem + p, n);
}

static void set_key(fake *f, uint32_t b, const char *k, const char *v)
{
    uint32_t ret = f_alloc(f, 4, 16);
    kvstore_wasi_bucket_set(f->inst, b, put_str(f, k), (uint32_t)strlen(k),
                            put_str(f, v), (uint32_t)strlen(v), ret);
    assert_false(kvstore_wasi_trapped(f->inst));
    assert_int_equal(f->mem[ret], 0);
}

/* fake_init over a host of its own, host_lent(s, kv), which fake_fini
 * frees after the instance. */
static void fake_open(fake *f, kvstore_store *s, const char *const *kv,
                      kvstore_wasi_wit wit)
{
    kvstore_wasi_host *h = host_lent(s, kv);
    fake_init(f, h, wit);
    f->host = h;
}

static void fake_fini(fake *f)
{
    kvstore_wasi_instance_free(f->inst);
    free(f->mem);
    if (f->host != NULL)
        kvstore_wasi_host_free(f->host);
}

/* A cmocka fixture: the test's fake instance over a host of its own with
 * config `kv` (NULL-terminated key, value list) claiming `wit`; register
 * with FAKE_TEST(test, wit, "key", "value", ...) and read the fake from
 * *state. Freed after the test, also when it fails. */
typedef struct fake_cfg {
    const char *const *kv;
    kvstore_wasi_wit wit;
} fake_cfg;

static int fake_setup(void **state)
{
    const fake_cfg *cfg = *state;
    fake *f = malloc(sizeof *f);
    assert_non_null(f);
    fake_open(f, NULL, cfg->kv, cfg->wit);
    *state = f;
    return 0;
}

static int fake_teardown(void **state)
{
    fake_fini(*state);
    free(*state);
    return 0;
}

#define FAKE_TEST(test, wit_, ...)                                        \
    { .name = #test, .test_func = test, .setup_func = fake_setup,         \
      .teardown_func = fake_teardown,                                     \
      .initial_state = &(fake_cfg){ (const char *const[]){ __VA_ARGS__ }, \
                                    (wit_) } }

/* ---- config ------------------------------------------------------------- */

static void test_config_keys(void **state)
{
    (void)state;
    kvstore_wasi_config *c;
    assert_int_equal(kvstore_wasi_config_new(&c), KVSTORE_OK);
    /* A host passes its whole config: keys of others are not errors. */
    assert_int_equal(kvstore_wasi_config_set(c, "http_port", "8080"), KVSTORE_NOTFOUND);
    assert_int_equal(kvstore_wasi_config_set(c, "page_size", "0"), KVSTORE_EINVAL);
    assert_int_equal(kvstore_wasi_config_set(c, "page_size", "1001"), KVSTORE_EINVAL);
    assert_int_equal(kvstore_wasi_config_set(c, "page_size", "12x"), KVSTORE_EINVAL);
    assert_int_equal(kvstore_wasi_config_set(c, "max_handles", "-1"), KVSTORE_EINVAL);
    assert_int_equal(kvstore_wasi_config_set(c, "identifiers", "maybe"), KVSTORE_EINVAL);
    assert_int_equal(kvstore_wasi_config_set(c, "bucket_prefix", "a/b"), KVSTORE_EINVAL);
    assert_int_equal(kvstore_wasi_config_set(c, "store.no/label", "memory:"), KVSTORE_EINVAL);
    assert_int_equal(kvstore_wasi_config_set(c, "page_size", "7"), KVSTORE_OK);
    assert_int_equal(kvstore_wasi_config_set(c, "identifiers", "map"), KVSTORE_OK);
    kvstore_wasi_config_free(c);
}

/* wasmCloud's precedence: redis, then nats, then path, else memory. The
 * URL keys are passed to kvstore_open as they are, so file: URIs stand
 * in for the servers and show which one was chosen. */
static void test_config_precedence(void **state)
{
    (void)state;
    char *dirs[3], uris[3][4200];
    for (int k = 0; k < 3; k++) {
        dirs[k] = ts_mkdtemp("kvwasi-prec");
        assert_non_null(dirs[k]);
        snprintf(uris[k], sizeof(uris[k]), "file://%s", dirs[k]);
    }
    for (int drop = 0; drop < 3; drop++) {
        /* drop 0: all three keys; 1: no redis; 2: path only. */
        const char *kv[7] = {NULL};
        int n = 0;
        kv[n++] = "wasi_keyvalue_path";
        kv[n++] = dirs[2];
        if (drop < 2) {
            kv[n++] = "wasi_keyvalue_nats_url";
            kv[n++] = uris[1];
        }
        if (drop < 1) {
            kv[n++] = "wasi_keyvalue_redis_url";
            kv[n++] = uris[0];
        }
        fake f;
        kvstore_wasi_host *h = host_of(kv);
        fake_init(&f, h, KVSTORE_WASI_DRAFT2);
        uint32_t b = open_id(&f, "app", NULL);
        assert_int_not_equal(b, 0);
        char val[8];
        snprintf(val, sizeof(val), "v%d", drop);
        set_key(&f, b, "which", val);
        fake_fini(&f);
        kvstore_wasi_host_free(h);
        for (int k = 0; k < 3; k++) {
            kvstore_store *s;
            assert_int_equal(kvstore_open(&s, uris[k]), KVSTORE_OK);
            char *got = get_str(s, "app", "which");
            if (k == drop)
                assert_string_equal(got, val);
            else if (got)
                assert_string_not_equal(got, val);
            free(got);
            kvstore_close(s);
        }
    }
    /* No key at all: an in-memory store, which works. */
    fake f;
    kvstore_wasi_host *h = host_of(NULL);
    fake_init(&f, h, KVSTORE_WASI_DRAFT);
    assert_int_not_equal(open_id(&f, "app", NULL), 0);
    fake_fini(&f);
    kvstore_wasi_host_free(h);
    for (int k = 0; k < 3; k++) {
        ts_rmtree(dirs[k]);
        free(dirs[k]);
    }
}

/* ---- identifiers -------------------------------------------------------- */

static void test_identifiers(void **state)
{
    (void)state;
    kvstore_store *s;
    assert_int_equal(kvstore_open(&s, "memory:"), KVSTORE_OK);
    kvstore_wasi_config *c;
    kvstore_wasi_host *h;
    char name[KVSTORE_BUCKET_NAME_MAX + 1];
    fake f;
    int tag = -1;

    /* refuse (default): "" is the default bucket, "a.b" an error. */
    assert_int_equal(kvstore_wasi_config_new(&c), KVSTORE_OK);
    assert_int_equal(kvstore_wasi_config_lend_store(c, NULL, s), KVSTORE_OK);
    assert_int_equal(kvstore_wasi_config_set(c, "bucket_prefix", "t1-"), KVSTORE_OK);
    assert_int_equal(kvstore_wasi_host_new(&h, c), KVSTORE_OK);
    fake_init(&f, h, KVSTORE_WASI_DRAFT2);
    uint32_t b = open_id(&f, "", NULL);
    assert_int_not_equal(b, 0);
    set_key(&f, b, "k", "from-empty-id");
    char *v = get_str(s, "t1-default", "k");
    assert_string_equal(v, "from-empty-id");
    free(v);
    uint32_t ret = f_alloc(&f, 4, 16);
    kvstore_wasi_store_open(f.inst, put_str(&f, "a.b"), 3, ret);
    char *msg = errmsg_of(&f, ret, 4);
    assert_string_equal(msg, "bucket identifier is not a bucket name");
    free(msg);
    assert_int_equal(kvstore_wasi_bucket_name(h, "a_b", 3, name), KVSTORE_OK);
    assert_string_equal(name, "t1-a_b");
    assert_int_equal(kvstore_wasi_bucket_name(h, "a.b", 3, name), KVSTORE_EINVAL);
    fake_fini(&f);
    kvstore_wasi_host_free(h);

    /* map: reversible, so "a.b" and "a_2eb" cannot meet. */
    assert_int_equal(kvstore_wasi_config_set(c, "identifiers", "map"), KVSTORE_OK);
    assert_int_equal(kvstore_wasi_config_set(c, "default_bucket", "main"), KVSTORE_OK);
    assert_int_equal(kvstore_wasi_host_new(&h, c), KVSTORE_OK);
    assert_int_equal(kvstore_wasi_bucket_name(h, "a.b", 3, name), KVSTORE_OK);
    assert_string_equal(name, "t1-a_2eb");
    assert_int_equal(kvstore_wasi_bucket_name(h, "a_2eb", 5, name), KVSTORE_OK);
    assert_string_equal(name, "t1-a_5f2eb");
    assert_int_equal(kvstore_wasi_bucket_name(h, "../x", 4, name), KVSTORE_OK);
    assert_string_equal(name, "t1-_2e_2e_2fx");
    assert_int_equal(kvstore_wasi_bucket_name(h, "", 0, name), KVSTORE_OK);
    assert_string_equal(name, "t1-main");
    /* 21 bytes that each take 3, after the prefix: longer than a name. */
    assert_int_equal(kvstore_wasi_bucket_name(h, ".....................", 21, name),
                     KVSTORE_EINVAL);
    fake_init(&f, h, KVSTORE_WASI_DRAFT2);
    b = open_id(&f, "a.b", NULL);
    assert_int_not_equal(b, 0);
    set_key(&f, b, "k", "mapped");
    v = get_str(s, "t1-a_2eb", "k");
    assert_string_equal(v, "mapped");
    free(v);
    fake_fini(&f);
    kvstore_wasi_host_free(h);

    /* allow-list: others are access-denied; "" counts as the default. */
    assert_int_equal(kvstore_wasi_config_set(c, "allow", "main,x"), KVSTORE_OK);
    assert_int_equal(kvstore_wasi_host_new(&h, c), KVSTORE_OK);
    fake_init(&f, h, KVSTORE_WASI_DRAFT);
    assert_int_not_equal(open_id(&f, "", NULL), 0);
    assert_int_not_equal(open_id(&f, "x", NULL), 0);
    assert_int_equal(open_id(&f, "y", &tag), 0);
    assert_int_equal(tag, 1); /* access-denied */
    fake_fini(&f);
    kvstore_wasi_host_free(h);
    kvstore_wasi_config_free(c);
    kvstore_close(s);
}

/* A Spin-style label names its own store; other identifiers go to the
 * default store. */
static void test_named_stores(void **state)
{
    (void)state;
    kvstore_store *def, *cache;
    assert_int_equal(kvstore_open(&def, "memory:"), KVSTORE_OK);
    assert_int_equal(kvstore_open(&cache, "memory:"), KVSTORE_OK);
    kvstore_wasi_config *c;
    kvstore_wasi_host *h;
    assert_int_equal(kvstore_wasi_config_new(&c), KVSTORE_OK);
    assert_int_equal(kvstore_wasi_config_lend_store(c, NULL, def), KVSTORE_OK);
    assert_int_equal(kvstore_wasi_config_lend_store(c, "cache", cache), KVSTORE_OK);
    assert_int_equal(kvstore_wasi_host_new(&h, c), KVSTORE_OK);
    kvstore_wasi_config_free(c);
    fake f;
    fake_init(&f, h, KVSTORE_WASI_SPIN);
    set_key(&f, open_id(&f, "cache", NULL), "k", "in-cache");
    set_key(&f, open_id(&f, "other", NULL), "k", "in-default");
    char *v = get_str(cache, "cache", "k");
    assert_string_equal(v, "in-cache");
    free(v);
    assert_null(get_str(def, "cache", "k"));
    v = get_str(def, "other", "k");
    assert_string_equal(v, "in-default");
    free(v);
    fake_fini(&f);
    kvstore_wasi_host_free(h);
    kvstore_close(def);
    kvstore_close(cache);
}

/* ---- handles ------------------------------------------------------------ */

static void test_handles_never_reused(void **state)
{
    fake *f = *state;
    uint32_t seen[64];
    int n = 0;
    /* open/drop many times: every number is new. */
    for (int k = 0; k < 64; k++) {
        uint32_t b = open_id(f, "x", NULL);
        assert_int_not_equal(b, 0);
        for (int j = 0; j < n; j++)
            assert_int_not_equal(seen[j], b);
        seen[n++] = b;
        kvstore_wasi_bucket_drop(f->inst, b);
        assert_false(kvstore_wasi_trapped(f->inst));
        f->bump = 16; /* reuse guest memory; the table is what matters */
    }
    /* At most 3 open at once: the 4th is an error, not a trap. */
    for (int k = 0; k < 3; k++)
        assert_int_not_equal(open_id(f, "x", NULL), 0);
    uint32_t ret = f_alloc(f, 4, 16);
    kvstore_wasi_store_open(f->inst, put_str(f, "x"), 1, ret);
    char *msg = errmsg_of(f, ret, 4);
    assert_string_equal(msg, "more than 3 open handles");
    free(msg);
    /* A dropped handle's number traps. */
    kvstore_wasi_bucket_get(f->inst, seen[0], put_str(f, "k"), 1, f_alloc(f, 4, 16));
    assert_true(kvstore_wasi_trapped(f->inst));
    assert_int_equal(f->ntraps, 1);
    char want[64];
    snprintf(want, sizeof(want), "unknown bucket handle %u", (unsigned)seen[0]);
    assert_string_equal(f->trap, want);
    /* A trapped instance traps at once, whatever it calls. */
    kvstore_wasi_bucket_drop(f->inst, seen[63]);
    assert_int_equal(f->ntraps, 2);
}

/* The draft's u64 cursors: the newest max_cursors ids resolve, older ones
 * and ids never handed out do not. */
static void test_cursor_table(void **state)
{
    fake *f = *state;
    char c[32];
    uint64_t first = 0, last = 0;
    for (int k = 1; k <= 8 + 6; k++) {
        snprintf(c, sizeof(c), "cursor-%d", k);
        last = wasi_cursor_put(f->inst, c);
        if (k == 1)
            first = last;
    }
    assert_null(wasi_cursor_get(f->inst, first));     /* evicted */
    assert_null(wasi_cursor_get(f->inst, first + 5)); /* evicted */
    assert_string_equal(wasi_cursor_get(f->inst, first + 6), "cursor-7");
    assert_string_equal(wasi_cursor_get(f->inst, last), "cursor-14");
    assert_null(wasi_cursor_get(f->inst, 0));
    assert_null(wasi_cursor_get(f->inst, last + 1));
    assert_null(wasi_cursor_get(f->inst, UINT64_MAX));
}

/* ---- memory ------------------------------------------------------------- */

/* Results are written into the memory as it is after cabi_realloc moved
 * it (ASan/valgrind catch a write through the old pointer). */
static void test_memory_moves(void **state)
{
    fake *f = *state;
    uint32_t b = open_id(f, "m", NULL);
    set_key(f, b, "k", "value-after-move");
    f->move_on_realloc = true;
    uint32_t ret = f_alloc(f, 4, 16);
    kvstore_wasi_bucket_get(f->inst, b, put_str(f, "k"), 1, ret);
    assert_false(kvstore_wasi_trapped(f->inst));
    assert_int_equal(f->mem[ret], 0);
    assert_int_equal(f->mem[ret + 4], 1);
    assert_int_equal(u32_at(f, ret + 12), 16);
    assert_memory_equal(f->mem + u32_at(f, ret + 8), "value-after-move", 16);
    /* list-keys lowers a list of strings: several reallocs, each moving. */
    uint32_t lk = f_alloc(f, 8, 32);
    kvstore_wasi_draft_list_keys(f->inst, b, 0, 0, lk);
    assert_false(kvstore_wasi_trapped(f->inst));
    assert_int_equal(f->mem[lk], 0);
    assert_int_equal(u32_at(f, lk + 12), 1);
    uint32_t arr = u32_at(f, lk + 8);
    assert_int_equal(u32_at(f, arr + 4), 1);
    assert_memory_equal(f->mem + u32_at(f, arr), "k", 1);
}

/* Copies n bytes into guest memory; returns their address. */
static uint32_t put_bytes(fake *f, const char *p, uint32_t n)
{
    uint32_t a = f_alloc(f, 1, n);
    memcpy(f->mem + a, p, n);
    return a;
}

/* get(b, key) into a fresh return area; returns its address. */
static uint32_t get_into(fake *f, uint32_t b, const char *key, uint32_t len)
{
    uint32_t ret = f_alloc(f, 4, 16);
    kvstore_wasi_bucket_get(f->inst, b, put_bytes(f, key, len), len, ret);
    return ret;
}

/* A get whose return area is misaligned, or runs past the end, traps
 * once with a message containing `want`. */
static void get_ret_traps(kvstore_wasi_host *h, bool past_end, const char *want)
{
    fake f;
    fake_init(&f, h, KVSTORE_WASI_DRAFT2);
    uint32_t b = open_id(&f, "g", NULL);
    uint32_t ret = past_end ? (uint32_t)f.size - 12 : f_alloc(&f, 4, 16) + 1;
    kvstore_wasi_bucket_get(f.inst, b, put_str(&f, "k"), 1, ret);
    assert_true(kvstore_wasi_trapped(f.inst));
    assert_int_equal(f.ntraps, 1);
    assert_non_null(strstr(f.trap, want));
    fake_fini(&f);
}

/* bucket.get runs without a jmp_buf and checks its key eight bytes at a
 * time (store.c, instance.c): it must still answer, fail and trap as
 * every other import does. Keys of each length around the words, with
 * the odd byte last. */
static void test_get_paths(void **state)
{
    (void)state;
    kvstore_wasi_host *h = host_of(NULL);
    fake f;
    char key[24];
    for (uint32_t len = 2; len <= 17; len++) {
        fake_init(&f, h, KVSTORE_WASI_DRAFT2);
        uint32_t b = open_id(&f, "g", NULL);
        memset(key, 'k', len);
        key[len] = '\0';
        set_key(&f, b, key, "ascii");
        uint32_t ret = get_into(&f, b, key, len);
        assert_false(kvstore_wasi_trapped(f.inst));
        assert_int_equal(f.mem[ret], 0);
        assert_int_equal(f.mem[ret + 4], 1);
        assert_int_equal(u32_at(&f, ret + 12), 5);
        assert_memory_equal(f.mem + u32_at(&f, ret + 8), "ascii", 5);
        /* A two-byte character last: a key like any other. */
        key[len - 2] = '\xc3';
        key[len - 1] = '\xa9';
        set_key(&f, b, key, "utf8");
        ret = get_into(&f, b, key, len);
        assert_int_equal(f.mem[ret + 4], 1);
        assert_memory_equal(f.mem + u32_at(&f, ret + 8), "utf8", 4);
        /* Absent. */
        key[len - 1] = '\xaa';
        ret = get_into(&f, b, key, len);
        assert_false(kvstore_wasi_trapped(f.inst));
        assert_int_equal(f.mem[ret], 0);
        assert_int_equal(f.mem[ret + 4], 0);
        /* A NUL last: an error, not a trap. */
        memset(key, 'k', len);
        key[len - 1] = '\0';
        ret = get_into(&f, b, key, len);
        assert_false(kvstore_wasi_trapped(f.inst));
        char *msg = errmsg_of(&f, ret, 4);
        assert_string_equal(msg, "key contains a NUL byte");
        free(msg);
        /* A lone continuation byte last: invalid UTF-8, a trap. */
        key[len - 1] = '\x80';
        uint32_t kp = put_bytes(&f, key, len);
        kvstore_wasi_bucket_get(f.inst, b, kp, len, f_alloc(&f, 4, 16));
        assert_true(kvstore_wasi_trapped(f.inst));
        char want[64];
        snprintf(want, sizeof(want), "string at 0x%x is not valid UTF-8", (unsigned)kp);
        assert_string_equal(f.trap, want);
        fake_fini(&f);
    }

    /* An error from libkvstore is lowered with its message. */
    fake_init(&f, h, KVSTORE_WASI_DRAFT2);
    uint32_t b = open_id(&f, "g", NULL);
    char *msg = errmsg_of(&f, get_into(&f, b, "", 0), 4);
    assert_string_equal(msg, "key is empty");
    free(msg);
    /* The last handle is remembered, and forgotten when dropped. */
    get_into(&f, b, "k", 1);
    kvstore_wasi_bucket_drop(f.inst, b);
    get_into(&f, b, "k", 1);
    assert_true(kvstore_wasi_trapped(f.inst));
    snprintf(key, sizeof(key), "unknown bucket handle %u", (unsigned)b);
    assert_string_equal(f.trap, key);
    fake_fini(&f);

    /* A misaligned or out-of-bounds return area traps. */
    get_ret_traps(h, false, "is not aligned to 4");
    get_ret_traps(h, true, "is outside guest memory");
    kvstore_wasi_host_free(h);
}

/* bucket.get takes its value from kvstore_get_with through a buffer of
 * the instance's (get.c): every size comes out whole, from an empty value
 * to one larger than the buffer keeps (freed after its get), each lowered
 * into the memory as it is after cabi_realloc moved it. */
static void test_get_values(void **state)
{
    (void)state;
    kvstore_store *s;
    assert_int_equal(kvstore_open(&s, "memory:"), KVSTORE_OK);
    kvstore_wasi_host *h = host_lent(s, NULL);
    char name[KVSTORE_BUCKET_NAME_MAX + 1];
    assert_int_equal(kvstore_wasi_bucket_name(h, "v", 1, name), KVSTORE_OK);
    kvstore_bucket *kb;
    assert_int_equal(kvstore_bucket_open(&kb, s, name), KVSTORE_OK);
    static const size_t sizes[] = { 0, 1, 3, 4, 5, 7, 8, 9, 15, 16, 17, 31,
                                    300, 70000, 2 };
    size_t most = 70000;
    uint8_t *want = malloc(most);
    assert_non_null(want);
    for (size_t k = 0; k < sizeof(sizes) / sizeof(sizes[0]); k++) {
        size_t n = sizes[k];
        for (size_t j = 0; j < n; j++)
            want[j] = (uint8_t)(j * 131 + n);
        assert_int_equal(kvstore_set(kb, "val", want, n), KVSTORE_OK);
        fake f;
        fake_init(&f, h, KVSTORE_WASI_DRAFT2);
        f.move_on_realloc = true;
        uint32_t b = open_id(&f, "v", NULL);
        uint32_t ret = get_into(&f, b, "val", 3);
        assert_false(kvstore_wasi_trapped(f.inst));
        assert_int_equal(f.mem[ret], 0);
        assert_int_equal(f.mem[ret + 4], 1);
        assert_int_equal(u32_at(&f, ret + 12), n);
        if (n)
            assert_memory_equal(f.mem + u32_at(&f, ret + 8), want, n);
        /* Kept for the next get up to 64 KiB, not beyond. */
        if (n > 64 * 1024)
            assert_null(f.inst->value);
        fake_fini(&f);
    }
    free(want);
    kvstore_bucket_close(kb);
    kvstore_wasi_host_free(h);
    kvstore_close(s);
}

/* Keys the eight-byte copy of bucket.get cannot take go the full way, in
 * the order of every import: not UTF-8 is a trap before any error. */
static void test_get_key_edges(void **state)
{
    (void)state;
    kvstore_wasi_host *h = host_of(NULL);
    fake f;
    fake_init(&f, h, KVSTORE_WASI_DRAFT2);
    uint32_t b = open_id(&f, "e", NULL);
    set_key(&f, b, "edge5", "at-the-end");
    /* The last five bytes of memory: no word can be read past them. */
    uint32_t kp = (uint32_t)f.size - 5;
    memcpy(f.mem + kp, "edge5", 5);
    uint32_t ret = f_alloc(&f, 4, 16);
    kvstore_wasi_bucket_get(f.inst, b, kp, 5, ret);
    assert_false(kvstore_wasi_trapped(f.inst));
    assert_int_equal(f.mem[ret + 4], 1);
    assert_memory_equal(f.mem + u32_at(&f, ret + 8), "at-the-end", 10);
    /* One byte longer than a key may be: an error; not UTF-8 as well: a
     * trap. */
    char key[KVSTORE_KEY_MAX + 1];
    memset(key, 'k', sizeof(key));
    char *msg = errmsg_of(&f, get_into(&f, b, key, sizeof(key)), 4);
    assert_string_equal(msg, "key of 1025 bytes is longer than 1024 bytes");
    free(msg);
    key[3] = '\xff';
    get_into(&f, b, key, sizeof(key));
    assert_true(kvstore_wasi_trapped(f.inst));
    assert_non_null(strstr(f.trap, "is not valid UTF-8"));
    fake_fini(&f);
    /* Not UTF-8 before a NUL: the trap wins over the NUL's error. */
    fake_init(&f, h, KVSTORE_WASI_DRAFT2);
    b = open_id(&f, "e", NULL);
    get_into(&f, b, "a\x80" "b\0c", 5);
    assert_true(kvstore_wasi_trapped(f.inst));
    assert_non_null(strstr(f.trap, "is not valid UTF-8"));
    fake_fini(&f);
    kvstore_wasi_host_free(h);
}

static void test_bounds(void **state)
{
    (void)state;
    kvstore_wasi_host *h = host_of(NULL);
    fake f;

    /* A return area past the end traps before anything happens. */
    fake_init(&f, h, KVSTORE_WASI_DRAFT2);
    uint32_t b = open_id(&f, "m", NULL);
    kvstore_wasi_bucket_set(f.inst, b, put_str(&f, "k"), 1, put_str(&f, "v"), 1,
                            (uint32_t)f.size - 8);
    assert_true(kvstore_wasi_trapped(f.inst));
    assert_non_null(strstr(f.trap, "is outside guest memory"));
    fake_fini(&f);

    /* A realloc that returns an out-of-bounds pointer traps. */
    fake_init(&f, h, KVSTORE_WASI_DRAFT2);
    b = open_id(&f, "m", NULL);
    set_key(&f, b, "k", "v");
    f.bad_realloc = (uint32_t)f.size; /* one past the end */
    kvstore_wasi_bucket_get(f.inst, b, put_str(&f, "k"), 1, f_alloc(&f, 4, 16));
    assert_true(kvstore_wasi_trapped(f.inst));
    assert_non_null(strstr(f.trap, "is outside guest memory"));
    fake_fini(&f);

    /* A key range that wraps around 2^32 traps. */
    fake_init(&f, h, KVSTORE_WASI_DRAFT2);
    b = open_id(&f, "m", NULL);
    kvstore_wasi_bucket_delete(f.inst, b, 0xfffffff0u, 0x20, f_alloc(&f, 4, 16));
    assert_true(kvstore_wasi_trapped(f.inst));
    assert_string_equal(f.trap, "range 0xfffffff0+32 is outside guest memory (65536 bytes)");
    fake_fini(&f);
    kvstore_wasi_host_free(h);
}

/* ---- get-many layouts --------------------------------------------------- */

static uint32_t keys_list(fake *f, const char *const *keys, uint32_t n)
{
    uint32_t arr = f_alloc(f, 4, n * 8);
    for (uint32_t k = 0; k < n; k++) {
        uint32_t p = put_str(f, keys[k]);
        memcpy(f->mem + arr + k * 8, &p, 4);
        uint32_t len = (uint32_t)strlen(keys[k]);
        memcpy(f->mem + arr + k * 8 + 4, &len, 4);
    }
    return arr;
}

static void test_get_many_shapes(void **state)
{
    (void)state;
    static const char *const keys[] = {"a", "b"};
    kvstore_wasi_host *h = host_of(NULL);
    for (int spin = 0; spin <= 1; spin++) {
        fake f;
        fake_init(&f, h, spin ? KVSTORE_WASI_SPIN : KVSTORE_WASI_DRAFT2);
        uint32_t b = open_id(&f, "gm", NULL);
        set_key(&f, b, "a", "apple");
        uint32_t ret = f_alloc(&f, 4, 16);
        kvstore_wasi_get_many(f.inst, b, keys_list(&f, keys, 2), 2, ret);
        assert_false(kvstore_wasi_trapped(f.inst));
        assert_int_equal(f.mem[ret], 0);
        assert_int_equal(u32_at(&f, ret + 8), 2);
        uint32_t e = u32_at(&f, ret + 4);
        if (spin) {
            /* tuple<string, option<list<u8>>>: key @0, is_some @8, value @12 */
            assert_memory_equal(f.mem + u32_at(&f, e), "a", 1);
            assert_int_equal(f.mem[e + 8], 1);
            assert_memory_equal(f.mem + u32_at(&f, e + 12), "apple", 5);
            assert_memory_equal(f.mem + u32_at(&f, e + 20), "b", 1);
            assert_int_equal(f.mem[e + 28], 0);
        } else {
            /* option<tuple<string, list<u8>>>: is_some @0, key @4, value @12 */
            assert_int_equal(f.mem[e], 1);
            assert_memory_equal(f.mem + u32_at(&f, e + 4), "a", 1);
            assert_memory_equal(f.mem + u32_at(&f, e + 12), "apple", 5);
            assert_int_equal(f.mem[e + 20], 0);
        }
        fake_fini(&f);
    }
    kvstore_wasi_host_free(h);
}

/* draft increment: u64 result at +8. */
static void test_increment(void **state)
{
    fake *f = *state;
    uint32_t b = open_id(f, "c", NULL);
    uint32_t ret = f_alloc(f, 8, 24);
    kvstore_wasi_draft_increment(f->inst, b, put_str(f, "n"), 1, 41, ret);
    kvstore_wasi_draft_increment(f->inst, b, put_str(f, "n"), 1, 1, ret);
    assert_int_equal(f->mem[ret], 0);
    assert_int_equal(u64_at(f, ret + 8), 42);
    kvstore_wasi_draft_increment(f->inst, b, put_str(f, "n"), 1, UINT64_MAX, ret);
    char *msg = errmsg_of(f, ret, 8);
    assert_non_null(strstr(msg, "above INT64_MAX"));
    free(msg);
}

/* ---- watcher ------------------------------------------------------------ */

static void sleep_ms(long ms)
{
    struct timespec ts = {0, ms * 1000000L};
    nanosleep(&ts, NULL);
}

/* Waits (bounded) until every write's event was either queued or
 * dropped; the watch threads run at their own pace. */
static void wait_events(kvstore_wasi_instance *i, size_t total)
{
    for (int k = 0; k < 2000; k++) {
        if (kvstore_wasi_pending(i) + kvstore_wasi_dropped(i) >= total)
            return;
        sleep_ms(5);
    }
    fail_msg("only %zu events queued and %llu dropped of %zu",
             kvstore_wasi_pending(i), (unsigned long long)kvstore_wasi_dropped(i),
             total);
}

static void test_watch_pump(void **state)
{
    (void)state;
    kvstore_store *s;
    assert_int_equal(kvstore_open(&s, "memory:"), KVSTORE_OK);
    static const char *const kv[] = { "watch", "ev", NULL };
    fake f;
    fake_open(&f, s, kv, KVSTORE_WASI_DRAFT);
    /* Another client writes. */
    kvstore_bucket *b;
    assert_int_equal(kvstore_bucket_open(&b, s, "ev"), KVSTORE_OK);
    assert_int_equal(kvstore_set(b, "k1", "one", 3), KVSTORE_OK);
    assert_int_equal(kvstore_delete(b, "k1"), KVSTORE_OK);
    wait_events(f.inst, 2);
    assert_int_equal(kvstore_wasi_pump(f.inst, 0), 2);
    assert_int_equal(f.ncalls, 2);
    assert_non_null(strstr(f.calls[0], "on-set h="));
    assert_non_null(strstr(f.calls[0], " k1=one"));
    assert_non_null(strstr(f.calls[1], "on-delete h="));
    assert_non_null(strstr(f.calls[1], " k1"));
    assert_int_equal(kvstore_wasi_pending(f.inst), 0);
    assert_int_equal(kvstore_wasi_dropped(f.inst), 0);
    kvstore_bucket_close(b);
    fake_fini(&f);
    kvstore_close(s);
}

/* A flood: the queue keeps the first watch_queue events in order, drops
 * and counts the rest; the host is not slowed and memory stays bounded. */
static void test_watch_overflow(void **state)
{
    (void)state;
    kvstore_store *s;
    assert_int_equal(kvstore_open(&s, "memory:"), KVSTORE_OK);
    static const char *const kv[] = { "watch", "ev", "watch_queue", "4",
                                      NULL };
    fake f;
    fake_open(&f, s, kv, KVSTORE_WASI_DRAFT2);
    kvstore_bucket *b;
    assert_int_equal(kvstore_bucket_open(&b, s, "ev"), KVSTORE_OK);
    for (int k = 0; k < 1000; k++) {
        char key[16];
        snprintf(key, sizeof(key), "f%03d", k);
        assert_int_equal(kvstore_set(b, key, "x", 1), KVSTORE_OK);
    }
    wait_events(f.inst, 1000);
    assert_int_equal(kvstore_wasi_pending(f.inst), 4);
    assert_int_equal(kvstore_wasi_dropped(f.inst), 996);
    assert_int_equal(kvstore_wasi_pump(f.inst, 2), 2);
    assert_int_equal(kvstore_wasi_pump(f.inst, 0), 2);
    assert_int_equal(f.ncalls, 4);
    /* The first four, in order. */
    assert_non_null(strstr(f.calls[0], " f000=x"));
    assert_non_null(strstr(f.calls[3], " f003=x"));
    kvstore_bucket_close(b);
    fake_fini(&f);
    kvstore_close(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_config_keys),
        cmocka_unit_test(test_config_precedence),
        cmocka_unit_test(test_identifiers),
        cmocka_unit_test(test_named_stores),
        FAKE_TEST(test_handles_never_reused, KVSTORE_WASI_DRAFT2,
                  "max_handles", "3", NULL),
        FAKE_TEST(test_cursor_table, KVSTORE_WASI_DRAFT, "max_cursors", "8",
                  NULL),
        FAKE_TEST(test_memory_moves, KVSTORE_WASI_DRAFT, NULL),
        cmocka_unit_test(test_bounds),
        cmocka_unit_test(test_get_paths),
        cmocka_unit_test(test_get_values),
        cmocka_unit_test(test_get_key_edges),
        cmocka_unit_test(test_get_many_shapes),
        FAKE_TEST(test_increment, KVSTORE_WASI_DRAFT, NULL),
        cmocka_unit_test(test_watch_pump),
        cmocka_unit_test(test_watch_overflow),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

/*
 * kvstore_wasi.node: a Node.js (N-API) binding of libkvstore-wasi, so
 * V8's WebAssembly can run guests loaded at run time with their
 * wasi:keyvalue imports served by libkvstore. The whole binding is the
 * loop in import_object() over kvstore_wasi_imports() and the four engine
 * callbacks below; kvstore-wasm-run (the script next to this file) is
 * the command around it.
 *
 * Every call comes in on Node's main thread; the watcher's events are
 * queued by the layer and pumped from JavaScript (pump()).
 *
 * SPDX-License-Identifier: MIT
 */
#define NAPI_VERSION 8
#include <node_api.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <kvstore/wasi.h>

/* One guest instance. Owned by the JavaScript side through an external,
 * released by freeInstance() (or its finalizer, if the script forgot). */
typedef struct addon_inst addon_inst;

typedef struct import_data {
    addon_inst *ai;
    const kvstore_wasi_import *imp;
} import_data;

struct addon_inst {
    kvstore_wasi_instance *kv;
    napi_env env;
    napi_ref exports;            /* the instance's exports, after attach() */
    napi_ref memory;
    napi_ref realloc_fn;
    import_data *imports;
    size_t nimports;
};

#define CHECK(env, call)                                                   \
    do {                                                                   \
        if ((call) != napi_ok) {                                           \
            napi_throw_error((env), NULL, "kvstore_wasi.node: " #call);    \
            return NULL;                                                   \
        }                                                                  \
    } while (0)

/* ---- engine callbacks --------------------------------------------------- */

static uint8_t *e_memory(void *ctx, uint64_t *size)
{
    addon_inst *ai = ctx;
    napi_value mem, buf;
    void *data = NULL;
    size_t len = 0;
    *size = 0;
    /* memory.buffer is a new ArrayBuffer after every grow: read it anew. */
    if (!ai->memory ||
        napi_get_reference_value(ai->env, ai->memory, &mem) != napi_ok ||
        napi_get_named_property(ai->env, mem, "buffer", &buf) != napi_ok ||
        napi_get_arraybuffer_info(ai->env, buf, &data, &len) != napi_ok)
        return NULL;
    *size = len;
    return data;
}

/* A JavaScript exception (the guest trapped) is cleared here and becomes
 * the layer's trap; the import then throws its own. */
static int call_guest(addon_inst *ai, napi_value fn, size_t n,
                      const uint32_t *args, napi_value *result)
{
    napi_value argv[8], recv, exc;
    napi_get_undefined(ai->env, &recv);
    for (size_t k = 0; k < n; k++)
        if (napi_create_uint32(ai->env, args[k], &argv[k]) != napi_ok)
            return -1;
    if (napi_call_function(ai->env, recv, fn, n, argv, result) != napi_ok) {
        bool pending = false;
        napi_is_exception_pending(ai->env, &pending);
        if (pending)
            napi_get_and_clear_last_exception(ai->env, &exc);
        return -1;
    }
    return 0;
}

static int e_realloc(void *ctx, uint32_t old, uint32_t old_size, uint32_t align,
                     uint32_t new_size, uint32_t *out)
{
    addon_inst *ai = ctx;
    napi_value fn, result;
    const uint32_t args[4] = {old, old_size, align, new_size};
    int64_t v;
    if (!ai->realloc_fn ||
        napi_get_reference_value(ai->env, ai->realloc_fn, &fn) != napi_ok ||
        call_guest(ai, fn, 4, args, &result) != 0 ||
        napi_get_value_int64(ai->env, result, &v) != napi_ok)
        return -1;
    *out = (uint32_t)v; /* an i32 comes back signed */
    return 0;
}

/* Returns: the import that trapped throws (import_cb). */
static void e_trap(void *ctx, const char *message)
{
    (void)ctx;
    (void)message;
}

static int e_call(void *ctx, const char *name, const uint32_t *args, size_t n)
{
    addon_inst *ai = ctx;
    napi_value exports, fn, result;
    napi_valuetype t;
    if (!ai->exports || n > 8 ||
        napi_get_reference_value(ai->env, ai->exports, &exports) != napi_ok ||
        napi_get_named_property(ai->env, exports, name, &fn) != napi_ok ||
        napi_typeof(ai->env, fn, &t) != napi_ok || t != napi_function)
        return -1;
    return call_guest(ai, fn, n, args, &result);
}

static const kvstore_wasi_engine engine = {
    .size = sizeof(kvstore_wasi_engine),
    .memory = e_memory,
    .realloc = e_realloc,
    .trap = e_trap,
    .call = e_call,
};

/* ---- helpers ------------------------------------------------------------ */

static bool get_string(napi_env env, napi_value v, char *buf, size_t size)
{
    size_t len;
    return napi_get_value_string_utf8(env, v, buf, size, &len) == napi_ok &&
           len < size - 1;
}

static kvstore_wasi_wit get_wit(napi_env env, napi_value v)
{
    char s[16];
    if (!get_string(env, v, s, sizeof(s)))
        return 0;
    if (strcmp(s, "draft") == 0)
        return KVSTORE_WASI_DRAFT;
    if (strcmp(s, "draft2") == 0)
        return KVSTORE_WASI_DRAFT2;
    if (strcmp(s, "spin") == 0)
        return KVSTORE_WASI_SPIN;
    return 0;
}

static void *get_external(napi_env env, napi_value v)
{
    void *p = NULL;
    napi_valuetype t;
    if (napi_typeof(env, v, &t) != napi_ok || t != napi_external ||
        napi_get_value_external(env, v, &p) != napi_ok)
        return NULL;
    return p;
}

static napi_value undefined(napi_env env)
{
    napi_value u;
    napi_get_undefined(env, &u);
    return u;
}

/* ---- hosts -------------------------------------------------------------- */

/* Hosts are freed explicitly (freeHost), never by the garbage collector:
 * instances hold plain pointers to them. The external's finalizer only
 * runs for a host the script never freed, at exit. */
static napi_value create_host(napi_env env, napi_callback_info info)
{
    size_t argc = 1;
    napi_value argv[1], result;
    uint32_t n = 0;
    kvstore_wasi_config *c;
    kvstore_wasi_host *h;
    CHECK(env, napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
    if (argc < 1 || napi_get_array_length(env, argv[0], &n) != napi_ok) {
        napi_throw_type_error(env, NULL, "createHost([[key, value], ...])");
        return NULL;
    }
    if (kvstore_wasi_config_new(&c) != KVSTORE_OK) {
        napi_throw_error(env, NULL, "out of memory");
        return NULL;
    }
    for (uint32_t k = 0; k < n; k++) {
        napi_value pair, kv, vv;
        char key[128], val[4096];
        if (napi_get_element(env, argv[0], k, &pair) != napi_ok ||
            napi_get_element(env, pair, 0, &kv) != napi_ok ||
            napi_get_element(env, pair, 1, &vv) != napi_ok ||
            !get_string(env, kv, key, sizeof(key)) ||
            !get_string(env, vv, val, sizeof(val))) {
            kvstore_wasi_config_free(c);
            napi_throw_type_error(env, NULL, "config: pairs of strings (key < 128 bytes, value < 4096)");
            return NULL;
        }
        int rc = kvstore_wasi_config_set(c, key, val);
        if (rc == KVSTORE_NOTFOUND) {
            fprintf(stderr, "kvstore-wasm-run: config key %s is unknown (ignored)\n", key);
        } else if (rc != KVSTORE_OK) {
            char msg[192];
            /* The key, never the value: it may hold a password. */
            snprintf(msg, sizeof(msg), "config key %s: bad value", key);
            kvstore_wasi_config_free(c);
            napi_throw_error(env, "EINVAL", msg);
            return NULL;
        }
    }
    int rc = kvstore_wasi_host_new(&h, c);
    kvstore_wasi_config_free(c);
    if (rc != KVSTORE_OK) {
        char msg[600];
        snprintf(msg, sizeof(msg), "cannot open the stores: %s", kvstore_errmsg());
        napi_throw_error(env, "ENOSTORE", msg);
        return NULL;
    }
    CHECK(env, napi_create_external(env, h, NULL, NULL, &result));
    return result;
}

static napi_value free_host(napi_env env, napi_callback_info info)
{
    size_t argc = 1;
    napi_value argv[1];
    CHECK(env, napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
    kvstore_wasi_host_free(argc ? get_external(env, argv[0]) : NULL);
    return undefined(env);
}

/* ---- instances ---------------------------------------------------------- */

static void release(napi_env env, addon_inst *ai)
{
    if (!ai)
        return;
    kvstore_wasi_instance_free(ai->kv);
    ai->kv = NULL;
    napi_ref *refs[] = {&ai->exports, &ai->memory, &ai->realloc_fn};
    for (size_t k = 0; k < 3; k++)
        if (*refs[k]) {
            napi_delete_reference(env, *refs[k]);
            *refs[k] = NULL;
        }
}

static void finalize_inst(napi_env env, void *data, void *hint)
{
    (void)hint;
    addon_inst *ai = data;
    release(env, ai);
    free(ai->imports);
    free(ai);
}

static napi_value create_instance(napi_env env, napi_callback_info info)
{
    size_t argc = 2;
    napi_value argv[2], result;
    CHECK(env, napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
    kvstore_wasi_host *h = argc == 2 ? get_external(env, argv[0]) : NULL;
    kvstore_wasi_wit wit = argc == 2 ? get_wit(env, argv[1]) : 0;
    if (!h || !wit) {
        napi_throw_type_error(env, NULL, "createInstance(host, 'draft'|'draft2'|'spin')");
        return NULL;
    }
    addon_inst *ai = calloc(1, sizeof(*ai));
    if (!ai) {
        napi_throw_error(env, NULL, "out of memory");
        return NULL;
    }
    ai->env = env;
    if (kvstore_wasi_instance_new(&ai->kv, h, wit, &engine, ai) != KVSTORE_OK) {
        char msg[600];
        snprintf(msg, sizeof(msg), "cannot make an instance: %s", kvstore_errmsg());
        free(ai);
        napi_throw_error(env, NULL, msg);
        return NULL;
    }
    if (napi_create_external(env, ai, finalize_inst, NULL, &result) != napi_ok) {
        kvstore_wasi_instance_free(ai->kv);
        free(ai);
        napi_throw_error(env, NULL, "out of memory");
        return NULL;
    }
    return result;
}

/* A JavaScript function for one table entry: converts the arguments to
 * 64-bit slots (i32 arrive as Numbers, i64 as BigInts), calls the thunk,
 * and throws when the import trapped. */
static napi_value import_cb(napi_env env, napi_callback_info info)
{
    size_t argc = 16;
    napi_value argv[16];
    void *data;
    uint64_t slots[16] = {0};
    CHECK(env, napi_get_cb_info(env, info, &argc, argv, NULL, &data));
    import_data *d = data;
    if (!d->ai->kv) {
        napi_throw_error(env, NULL, "instance already freed");
        return NULL;
    }
    /* A JavaScript function takes any wasm signature: check the guest's
     * against the table's, "(i32,i64,...)->()", slot by slot. */
    const char *sig = d->imp->signature + 1;
    size_t want = 0;
    bool match = true;
    for (; *sig != ')'; want++) {
        bool i64 = strncmp(sig, "i64", 3) == 0;
        napi_valuetype t = napi_undefined;
        if (want < argc)
            napi_typeof(env, argv[want], &t);
        if (want >= argc || t != (i64 ? napi_bigint : napi_number))
            match = false;
        sig += 3;
        if (*sig == ',')
            sig++;
    }
    if (!match || argc != want) {
        char msg[256];
        snprintf(msg, sizeof(msg), "import %s %s called with another signature than %s",
                 d->imp->module, d->imp->name, d->imp->signature);
        napi_throw_error(env, "KVSTORE_WASI_SIGNATURE", msg);
        return NULL;
    }
    for (size_t k = 0; k < argc; k++) {
        napi_valuetype t;
        napi_typeof(env, argv[k], &t);
        if (t == napi_bigint) {
            bool lossless;
            napi_get_value_bigint_uint64(env, argv[k], &slots[k], &lossless);
        } else {
            int64_t v = 0;
            napi_get_value_int64(env, argv[k], &v);
            slots[k] = (uint32_t)v;
        }
    }
    d->ai->env = env;
    d->imp->thunk(d->ai->kv, slots);
    if (kvstore_wasi_trapped(d->ai->kv)) {
        bool pending = false;
        napi_is_exception_pending(env, &pending);
        if (!pending)
            napi_throw_error(env, "KVSTORE_WASI_TRAP", kvstore_wasi_trap_message(d->ai->kv));
    }
    return NULL;
}

/* importObject(inst): {module: {name: function}} for every import of
 * both versions' tables, all served by this one instance (its WIT picks
 * get-many's layout and the watcher's export names), as a guest may
 * import either: the loop over the tables is the whole binding. */
static napi_value import_object(napi_env env, napi_callback_info info)
{
    size_t argc = 1, n1, n2;
    napi_value argv[1], obj;
    CHECK(env, napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
    addon_inst *ai = argc == 1 ? get_external(env, argv[0]) : NULL;
    if (!ai || ai->imports) {
        napi_throw_type_error(env, NULL, "importObject(instance), once");
        return NULL;
    }
    const kvstore_wasi_import *t1 = kvstore_wasi_imports(KVSTORE_WASI_DRAFT, &n1);
    const kvstore_wasi_import *t2 = kvstore_wasi_imports(KVSTORE_WASI_DRAFT2, &n2);
    ai->imports = calloc(n1 + n2, sizeof(*ai->imports));
    if (!ai->imports) {
        napi_throw_error(env, NULL, "out of memory");
        return NULL;
    }
    ai->nimports = n1 + n2;
    CHECK(env, napi_create_object(env, &obj));
    for (size_t k = 0; k < n1 + n2; k++) {
        const kvstore_wasi_import *imp = k < n1 ? &t1[k] : &t2[k - n1];
        napi_value mod, fn;
        bool has;
        ai->imports[k].ai = ai;
        ai->imports[k].imp = imp;
        CHECK(env, napi_has_named_property(env, obj, imp->module, &has));
        if (!has) {
            CHECK(env, napi_create_object(env, &mod));
            CHECK(env, napi_set_named_property(env, obj, imp->module, mod));
        }
        CHECK(env, napi_get_named_property(env, obj, imp->module, &mod));
        CHECK(env, napi_create_function(env, imp->name, NAPI_AUTO_LENGTH,
                                        import_cb, &ai->imports[k], &fn));
        CHECK(env, napi_set_named_property(env, mod, imp->name, fn));
    }
    return obj;
}

/* attach(inst, exports): the instance's memory, cabi_realloc and (for
 * the watcher) its other exports. */
static napi_value attach(napi_env env, napi_callback_info info)
{
    size_t argc = 2;
    napi_value argv[2], mem, fn;
    napi_valuetype t;
    CHECK(env, napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
    addon_inst *ai = argc == 2 ? get_external(env, argv[0]) : NULL;
    if (!ai || !ai->kv) {
        napi_throw_type_error(env, NULL, "attach(instance, exports)");
        return NULL;
    }
    CHECK(env, napi_get_named_property(env, argv[1], "memory", &mem));
    CHECK(env, napi_get_named_property(env, argv[1], "cabi_realloc", &fn));
    CHECK(env, napi_typeof(env, fn, &t));
    if (t != napi_function) {
        napi_throw_error(env, NULL, "the guest exports no cabi_realloc");
        return NULL;
    }
    CHECK(env, napi_typeof(env, mem, &t));
    if (t != napi_object) {
        napi_throw_error(env, NULL, "the guest exports no memory");
        return NULL;
    }
    CHECK(env, napi_create_reference(env, argv[1], 1, &ai->exports));
    CHECK(env, napi_create_reference(env, mem, 1, &ai->memory));
    CHECK(env, napi_create_reference(env, fn, 1, &ai->realloc_fn));
    return undefined(env);
}

static addon_inst *inst_arg(napi_env env, napi_callback_info info, size_t want,
                            napi_value *argv)
{
    size_t argc = want;
    if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc < 1)
        return NULL;
    addon_inst *ai = get_external(env, argv[0]);
    if (ai)
        ai->env = env;
    return ai;
}

static napi_value pump(napi_env env, napi_callback_info info)
{
    napi_value argv[2], result;
    uint32_t max = 0;
    addon_inst *ai = inst_arg(env, info, 2, argv);
    if (!ai || !ai->kv || napi_get_value_uint32(env, argv[1], &max) != napi_ok) {
        napi_throw_type_error(env, NULL, "pump(instance, max)");
        return NULL;
    }
    CHECK(env, napi_create_int32(env, kvstore_wasi_pump(ai->kv, max), &result));
    return result;
}

static napi_value counters(napi_env env, napi_callback_info info)
{
    napi_value argv[1], obj, v;
    addon_inst *ai = inst_arg(env, info, 1, argv);
    if (!ai || !ai->kv) {
        napi_throw_type_error(env, NULL, "status(instance)");
        return NULL;
    }
    CHECK(env, napi_create_object(env, &obj));
    CHECK(env, napi_create_int64(env, (int64_t)kvstore_wasi_pending(ai->kv), &v));
    CHECK(env, napi_set_named_property(env, obj, "pending", v));
    CHECK(env, napi_create_int64(env, (int64_t)kvstore_wasi_dropped(ai->kv), &v));
    CHECK(env, napi_set_named_property(env, obj, "dropped", v));
    CHECK(env, napi_get_boolean(env, kvstore_wasi_trapped(ai->kv), &v));
    CHECK(env, napi_set_named_property(env, obj, "trapped", v));
    CHECK(env, napi_create_string_utf8(env, kvstore_wasi_trap_message(ai->kv),
                                       NAPI_AUTO_LENGTH, &v));
    CHECK(env, napi_set_named_property(env, obj, "trapMessage", v));
    return obj;
}

static napi_value free_instance(napi_env env, napi_callback_info info)
{
    napi_value argv[1];
    addon_inst *ai = inst_arg(env, info, 1, argv);
    release(env, ai);
    return undefined(env);
}

/* imports(wit): [{module, name, signature}] of the table. */
static napi_value list_imports(napi_env env, napi_callback_info info)
{
    size_t argc = 1, n;
    napi_value argv[1], arr;
    CHECK(env, napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
    kvstore_wasi_wit wit = argc ? get_wit(env, argv[0]) : 0;
    if (!wit) {
        napi_throw_type_error(env, NULL, "imports('draft'|'draft2'|'spin')");
        return NULL;
    }
    const kvstore_wasi_import *imp = kvstore_wasi_imports(wit, &n);
    CHECK(env, napi_create_array_with_length(env, n, &arr));
    for (size_t k = 0; k < n; k++) {
        napi_value e, s;
        CHECK(env, napi_create_object(env, &e));
        CHECK(env, napi_create_string_utf8(env, imp[k].module, NAPI_AUTO_LENGTH, &s));
        CHECK(env, napi_set_named_property(env, e, "module", s));
        CHECK(env, napi_create_string_utf8(env, imp[k].name, NAPI_AUTO_LENGTH, &s));
        CHECK(env, napi_set_named_property(env, e, "name", s));
        CHECK(env, napi_create_string_utf8(env, imp[k].signature, NAPI_AUTO_LENGTH, &s));
        CHECK(env, napi_set_named_property(env, e, "signature", s));
        CHECK(env, napi_set_element(env, arr, (uint32_t)k, e));
    }
    return arr;
}

static napi_value init(napi_env env, napi_value exports)
{
    static const struct { const char *name; napi_callback fn; } fns[] = {
        {"createHost", create_host},
        {"freeHost", free_host},
        {"createInstance", create_instance},
        {"importObject", import_object},
        {"attach", attach},
        {"pump", pump},
        {"status", counters},
        {"freeInstance", free_instance},
        {"imports", list_imports},
    };
    for (size_t k = 0; k < sizeof(fns) / sizeof(fns[0]); k++) {
        napi_value fn;
        CHECK(env, napi_create_function(env, fns[k].name, NAPI_AUTO_LENGTH,
                                        fns[k].fn, NULL, &fn));
        CHECK(env, napi_set_named_property(env, exports, fns[k].name, fn));
    }
    return exports;
}

/* NAPI_MODULE defines these two exported entry points without prototypes
 * (clang's -Wmissing-prototypes sees through the system header). */
NAPI_MODULE_EXPORT int32_t NODE_API_MODULE_GET_API_VERSION(void);
NAPI_MODULE_EXPORT napi_value NAPI_MODULE_INITIALIZER(napi_env env, napi_value exports);
NAPI_MODULE(NODE_GYP_MODULE_NAME, init)

/*
 * Backend modules: loading by path, and finding kvstore-<scheme>.so in
 * KVSTORE_BACKEND_PATH and the installed module directory.
 *
 * SPDX-License-Identifier: MIT
 */
#include <dlfcn.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "internal.h"
#include "kvstore-config.h"

/* One load at a time: two threads opening the same new scheme must not
 * race to register the same module. */
static pthread_mutex_t load_lock = PTHREAD_MUTEX_INITIALIZER;

/* The descriptor a module's entry returned: present, with a backend list,
 * and of a layout this library reads. Binary compatibility is the tables'
 * business: each carries its version and is checked when it is registered
 * (kvs_registry_add_all). `path` only names the module in messages. */
int kvs_module_check(const kvstore_module *mod, const char *path)
{
    if (mod == NULL || mod->backends == NULL)
        return kvstore_set_error(KVSTORE_EINVAL,
                                 "backend module %s returned no descriptor",
                                 path);
    if (mod->version != KVSTORE_MODULE_VERSION)
        return kvstore_set_error(KVSTORE_EINVAL,
                                 "refusing backend module %s: its descriptor "
                                 "has version %u, this libkvstore %s reads "
                                 "version %d; rebuild the module against this "
                                 "version", path, mod->version,
                                 kvstore_version(), KVSTORE_MODULE_VERSION);
    return KVSTORE_OK;
}

static int load_locked(const char *path)
{
    void *handle;
    kvstore_module_entry_fn entry;
    const kvstore_module *mod;
    bool added = false;
    int rc;

    handle = dlopen(path, RTLD_NOW | RTLD_LOCAL);
    if (handle == NULL) {
        const char *why = dlerror();
        return kvstore_set_error(KVSTORE_ENOSTORE,
                                 "cannot load backend module: %s",
                                 why ? why : path);
    }
    *(void **)&entry = dlsym(handle, KVSTORE_MODULE_ENTRY_NAME);
    if (entry == NULL) {
        dlclose(handle);
        return kvstore_set_error(KVSTORE_EINVAL,
                                 "%s is not a libkvstore backend module (no "
                                 "%s symbol)", path,
                                 KVSTORE_MODULE_ENTRY_NAME);
    }
    mod = entry();
    /* The descriptor lives in the module: check it before dlclose. */
    rc = kvs_module_check(mod, path);
    if (rc != KVSTORE_OK) {
        dlclose(handle);
        return rc;
    }
    rc = kvs_registry_add_all(mod->backends, &added);
    /* Once a table is registered its code must stay mapped for good. */
    if (!added)
        dlclose(handle);
    return rc;
}

int kvstore_backend_load(const char *path)
{
    int rc;

    if (path == NULL || path[0] == '\0')
        return kvstore_set_error(KVSTORE_EINVAL, "module path is NULL or "
                                                 "empty");
    (void)kvs_registry_find(""); /* built-ins first: they keep their names */
    pthread_mutex_lock(&load_lock);
    rc = load_locked(path);
    pthread_mutex_unlock(&load_lock);
    return rc;
}

/* Tries dir/kvstore-<name>.so; returns 1 if the file does not exist. */
static int try_dir(const char *dir, size_t dirlen, const char *name)
{
    char path[PATH_MAX];
    int n = snprintf(path, sizeof path, "%.*s/kvstore-%s.so", (int)dirlen,
                     dir, name);

    if (n < 0 || (size_t)n >= sizeof path || access(path, F_OK) != 0)
        return 1;
    return load_locked(path);
}

static int search_dirs(const char *name)
{
    const char *env = secure_getenv("KVSTORE_BACKEND_PATH");
    int rc;

    while (env && *env) {
        const char *colon = strchr(env, ':');
        size_t len = colon ? (size_t)(colon - env) : strlen(env);
        if (len > 0) {
            rc = try_dir(env, len, name);
            if (rc != 1)
                return rc;
        }
        env = colon ? colon + 1 : NULL;
    }
    return try_dir(KVSTORE_MODULE_DIR, strlen(KVSTORE_MODULE_DIR), name);
}

int kvs_backend_for_scheme(const kvstore_backend **out, const char *scheme)
{
    const kvstore_backend *be = kvs_registry_find(scheme);
    int rc = 1;

    if (be == NULL) {
        char base[40];
        const char *plus = strchr(scheme, '+');

        pthread_mutex_lock(&load_lock);
        be = kvs_registry_find(scheme);
        if (be == NULL) {
            rc = search_dirs(scheme);
            /* "redis+unix" is served by the module of "redis". */
            if (rc == 1 && plus && (size_t)(plus - scheme) < sizeof base) {
                snprintf(base, sizeof base, "%.*s", (int)(plus - scheme),
                         scheme);
                rc = search_dirs(base);
            }
            /* A TLS form named like https ("rediss", "rediss+x") is served
             * by the module of the plain one ("redis"). */
            {
                size_t n = plus ? (size_t)(plus - scheme) : strlen(scheme);

                if (rc == 1 && n > 1 && n < sizeof base &&
                    scheme[n - 1] == 's') {
                    snprintf(base, sizeof base, "%.*s", (int)(n - 1), scheme);
                    rc = search_dirs(base);
                }
            }
            be = kvs_registry_find(scheme);
        }
        pthread_mutex_unlock(&load_lock);
    }
    *out = be;
    if (be)
        return KVSTORE_OK;
    if (rc == 1 || rc == KVSTORE_OK)
        return kvstore_set_error(KVSTORE_ENOSTORE,
                                 "no backend serves the URI scheme '%s' (no "
                                 "registered backend, no module "
                                 "kvstore-%s.so in KVSTORE_BACKEND_PATH or "
                                 "%s)", scheme, scheme, KVSTORE_MODULE_DIR);
    /* A module was found but refused: keep its message, report the scheme
     * as unserved. */
    return KVSTORE_ENOSTORE;
}

/*
 * The backend registry: a grow-only list of constant tables, guarded by
 * one mutex. Tables are never removed, so a pointer found here stays
 * valid for the life of the process.
 *
 * Each registered table is kept beside a full-size copy of the current
 * version whose later-version slots are NULL, so that the dispatch layer
 * can test any slot without reading past the end of an older, shorter
 * table. The user's table is kept only to recognise a repeated register.
 *
 * SPDX-License-Identifier: MIT
 */
#include <pthread.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"
#include "kvstore-config.h"

static pthread_mutex_t reg_lock = PTHREAD_MUTEX_INITIALIZER;
struct reg_entry {
    const kvstore_backend *orig; /* the table as registered */
    kvstore_backend *full;       /* zero-extended to this version */
};
static struct reg_entry *reg_list;
static size_t reg_count, reg_cap;
static pthread_once_t builtins_once = PTHREAD_ONCE_INIT;

#define X(name) extern const kvstore_backend kvstore_builtin_##name;
KVSTORE_BUILTINS
#undef X

static struct reg_entry *find_locked(const char *scheme)
{
    for (size_t i = 0; i < reg_count; i++)
        if (strcmp(reg_list[i].orig->name, scheme) == 0)
            return &reg_list[i];
    return NULL;
}

/* The end of `field` in the table: where a version ending with it ends. */
#define TABLE_END(field) \
    (offsetof(kvstore_backend, field) + sizeof(((kvstore_backend *)0)->field))

/* The bytes of a table of `version`: every field up to that version's.
 * Version 2 ends with get_with, appended before 1.1 (the first release
 * with version 2) shipped; a later slot starts version 3 and its own
 * case here. */
static size_t table_size(unsigned version)
{
    return version >= 2 ? TABLE_END(get_with) : TABLE_END(watch_stop);
}
_Static_assert(TABLE_END(get_with) == sizeof(kvstore_backend),
               "a field after get_with needs a new table version");
_Static_assert(TABLE_END(watch_stop) == offsetof(kvstore_backend, caps),
               "version 1 ends with watch_stop");

int kvs_registry_check(const kvstore_backend *be)
{
    if (be == NULL)
        return kvstore_set_error(KVSTORE_EINVAL, "backend table is NULL");
    if (be->version < 1 || be->version > KVSTORE_BACKEND_VERSION)
        return kvstore_set_error(KVSTORE_EINVAL,
                                 "backend table version %u is unknown to "
                                 "this library (it knows 1 to %d)",
                                 be->version, KVSTORE_BACKEND_VERSION);
    if (be->name == NULL || !kvs_scheme_valid(be->name, strlen(be->name)))
        return kvstore_set_error(KVSTORE_EINVAL,
                                 "backend name must be a URI scheme "
                                 "([a-z][a-z0-9+.-]*, at most 32 bytes)");
    for (const char *c = be->name; *c; c++)
        if (*c >= 'A' && *c <= 'Z')
            return kvstore_set_error(KVSTORE_EINVAL,
                                     "backend name '%s' must be lower-case",
                                     be->name);
    if (!be->store_open || !be->store_close || !be->bucket_open ||
        !be->bucket_close || !be->get || !be->set || !be->del ||
        !be->exists || !be->list_keys)
        return kvstore_set_error(KVSTORE_EINVAL,
                                 "backend '%s' lacks a required slot",
                                 be->name);
    if (!!be->cas_open != !!be->cas_swap || !!be->cas_open != !!be->cas_free)
        return kvstore_set_error(KVSTORE_EINVAL,
                                 "backend '%s' must set all three cas slots "
                                 "or none", be->name);
    if (!!be->watch_start != !!be->watch_stop)
        return kvstore_set_error(KVSTORE_EINVAL,
                                 "backend '%s' must set both watch slots or "
                                 "none", be->name);
    if (be->version >= 2 && !!be->set_ttl != !!be->ttl)
        return kvstore_set_error(KVSTORE_EINVAL,
                                 "backend '%s' must set both ttl slots or "
                                 "none", be->name);
    if (be->options) {
        for (size_t i = 0; be->options[i]; i++) {
            if (be->options[i][0] == '\0' || i > 64)
                return kvstore_set_error(KVSTORE_EINVAL,
                                         "backend '%s' has a bad option "
                                         "list", be->name);
        }
    }
    return KVSTORE_OK;
}

static int conflict_locked(const kvstore_backend *be)
{
    const struct reg_entry *have = find_locked(be->name);

    if (have && have->orig != be)
        return kvstore_set_error(KVSTORE_EEXISTS,
                                 "a backend named '%s' is already registered",
                                 be->name);
    return KVSTORE_OK;
}

/* Room for `n` more entries has been reserved. */
static int append_locked(const kvstore_backend *be, bool *added)
{
    kvstore_backend *full;

    if (find_locked(be->name) != NULL)
        return KVSTORE_OK;
    full = calloc(1, sizeof *full);
    if (full == NULL)
        return kvstore_set_error(KVSTORE_ENOMEM,
                                 "out of memory registering a backend");
    memcpy(full, be, table_size(be->version));
    reg_list[reg_count].orig = be;
    reg_list[reg_count].full = full;
    reg_count++;
    *added = true;
    return KVSTORE_OK;
}

int kvs_registry_add_all(const kvstore_backend *const *list, bool *added_any)
{
    int rc = KVSTORE_OK;
    size_t n = 0;

    *added_any = false;
    for (; list[n]; n++) {
        rc = kvs_registry_check(list[n]);
        if (rc != KVSTORE_OK)
            return rc;
        for (size_t j = 0; j < n; j++)
            if (strcmp(list[j]->name, list[n]->name) == 0 && list[j] != list[n])
                return kvstore_set_error(KVSTORE_EINVAL,
                                         "module provides two backends named "
                                         "'%s'", list[n]->name);
    }
    pthread_mutex_lock(&reg_lock);
    for (size_t i = 0; i < n && rc == KVSTORE_OK; i++)
        rc = conflict_locked(list[i]);
    /* Reserve room first so that the list is added whole or not at all. */
    while (rc == KVSTORE_OK && reg_cap - reg_count < n) {
        size_t cap = reg_cap ? reg_cap * 2 : 8;
        struct reg_entry *l = realloc(reg_list, cap * sizeof *l);
        if (l == NULL)
            rc = kvstore_set_error(KVSTORE_ENOMEM,
                                   "out of memory registering a backend");
        else {
            reg_list = l;
            reg_cap = cap;
        }
    }
    for (size_t i = 0; i < n && rc == KVSTORE_OK; i++)
        rc = append_locked(list[i], added_any);
    pthread_mutex_unlock(&reg_lock);
    return rc;
}

static void register_builtins(void)
{
    static const kvstore_backend *const builtins[] = {
#define X(name) &kvstore_builtin_##name,
        KVSTORE_BUILTINS
#undef X
        NULL
    };
    bool added;

    (void)kvs_registry_add_all(builtins, &added);
}

const kvstore_backend *kvs_registry_find(const char *scheme)
{
    const struct reg_entry *e;

    pthread_once(&builtins_once, register_builtins);
    pthread_mutex_lock(&reg_lock);
    e = find_locked(scheme);
    pthread_mutex_unlock(&reg_lock);
    return e ? e->full : NULL;
}

const kvstore_backend *kvs_registry_find_registered(const char *scheme)
{
    const struct reg_entry *e;

    pthread_once(&builtins_once, register_builtins);
    pthread_mutex_lock(&reg_lock);
    e = find_locked(scheme);
    pthread_mutex_unlock(&reg_lock);
    return e ? e->orig : NULL;
}

int kvstore_backend_register(const kvstore_backend *backend)
{
    const kvstore_backend *one[2] = { backend, NULL };
    bool added;

    if (backend == NULL) /* the list form would read it as empty */
        return kvstore_set_error(KVSTORE_EINVAL, "backend table is NULL");
    pthread_once(&builtins_once, register_builtins);
    return kvs_registry_add_all(one, &added);
}

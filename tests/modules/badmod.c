/*
 * Modules the loader must refuse (but one), one per BADMOD_VARIANT:
 *   1  a module descriptor of an unknown layout version
 *   2  (loads) a non-zero reserved field, once the module ABI minor: the
 *      loader ignores it, since table versions carry compatibility
 *   3  no entry symbol at all (exports something else)
 *   4  an entry that returns NULL
 *   5  a backend table of an unknown version
 * BADMOD_SCHEME names the scheme each would serve.
 *
 * SPDX-License-Identifier: MIT
 */
#include "arraystore.h"

#if BADMOD_VARIANT == 3

/* A shared object that is not a backend module. */
KVSTORE_API int not_a_kvstore_module(void);
int not_a_kvstore_module(void)
{
    return 42;
}

#else

static const kvstore_backend badmod_backend = {
    .version = KVSTORE_BACKEND_VERSION + (BADMOD_VARIANT == 5 ? 100 : 0),
    .name = BADMOD_SCHEME,
    ARRAYSTORE_REQUIRED_SLOTS,
};

static const kvstore_backend *const badmod_backends[] = {
    &badmod_backend, NULL
};

static const kvstore_module badmod_module = {
    .version = KVSTORE_MODULE_VERSION + (BADMOD_VARIANT == 1 ? 1 : 0),
    .reserved = BADMOD_VARIANT == 2 ? 7 : 0,
    .name = BADMOD_SCHEME,
    .backends = badmod_backends,
};

/* The macro gives no prototype, which -Wmissing-prototypes rejects. */
KVSTORE_API const kvstore_module *kvstore_module_entry(void);

KVSTORE_MODULE_ENTRY
{
#if BADMOD_VARIANT == 4
    return (void)badmod_module, NULL;
#else
    return &badmod_module;
#endif
}

#endif

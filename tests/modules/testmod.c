/*
 * The test backend module: the array store as a loadable module, built in
 * the tree like any third-party module (only <kvstore/backend.h>, one
 * exported entry symbol). TESTMOD_SCHEME picks the scheme, so the same
 * source gives "testmod" and "othermod" (found by scheme lookup; two
 * backends for the checks that a cursor is bound to its backend) and
 * "pathmod" (only reachable with kvstore_backend_load). Built against the
 * 1.0 headers (tests/modules/v1/) it is "testmodv1", a version 1 module.
 *
 * SPDX-License-Identifier: MIT
 */
#include "arraystore.h"

#ifndef TESTMOD_SCHEME
#define TESTMOD_SCHEME "testmod"
#endif

/* An option only this module knows, to check the core accepts it here. */
static const char *const testmod_options[] = { "label", NULL };

static const kvstore_backend testmod_backend = {
    .version = KVSTORE_BACKEND_VERSION,
    .name = TESTMOD_SCHEME,
    .options = testmod_options,
    ARRAYSTORE_REQUIRED_SLOTS,
    ARRAYSTORE_CAS_SLOTS,
#if KVSTORE_BACKEND_VERSION >= 2
    ARRAYSTORE_V2_SLOTS,
#endif
};

static const kvstore_backend *const testmod_backends[] = {
    &testmod_backend, NULL
};

static const kvstore_module testmod_module = {
#ifdef KVSTORE_MODULE_VERSION
    .version = KVSTORE_MODULE_VERSION,
#else /* the 1.0 descriptor (tests/modules/v1/kvstore/backend.h) */
    .abi_major = KVSTORE_MODULE_ABI_MAJOR,
    .abi_minor = KVSTORE_MODULE_ABI_MINOR,
#endif
    .name = TESTMOD_SCHEME,
    .backends = testmod_backends,
};

/* The macro gives no prototype, which -Wmissing-prototypes rejects. */
KVSTORE_API const kvstore_module *kvstore_module_entry(void);

KVSTORE_MODULE_ENTRY
{
    return &testmod_module;
}

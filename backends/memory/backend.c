/*
 * libkvstore - memory backend: the backend table.
 *
 * The core registers kvstore_builtin_memory at first use. The table is
 * hidden: it is reached through the core's list of built-ins, never
 * exported from libkvstore.
 *
 * SPDX-License-Identifier: MIT
 */
#include "memory.h"

/* Declared here rather than in a header: only the core's generated list
 * of built-ins refers to it. */
extern const kvstore_backend kvstore_builtin_memory;

/* Per-key expiry; a walk never repeats a key; watch events carry the
 * written value; watches see this process only. No options but "create",
 * which the core handles. get_with lends under the stripe's read lock. */
const kvstore_backend kvstore_builtin_memory =
    KVSTORE_BACKEND_TABLE(mem, "memory", NULL, KVSTORE_CAP_TTL);

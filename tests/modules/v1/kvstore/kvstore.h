/*
 * libkvstore - the wasi:keyvalue bucket model over pluggable backends.
 *
 * This umbrella header gives the whole user API. Backend authors also
 * include <kvstore/backend.h>.
 *
 * Conventions: functions return KVSTORE_OK (0), KVSTORE_NOTFOUND (1, only
 * where documented) or a negative KVSTORE_E* code, and describe failures
 * through kvstore_errmsg(). Out-parameters come first and are named `out`;
 * what is returned through them belongs to the caller and is released with
 * the matching _free/_close function.
 *
 * SPDX-License-Identifier: MIT
 */
#ifndef KVSTORE_KVSTORE_H
#define KVSTORE_KVSTORE_H

#include "common.h"
#include "store.h"
#include "list.h"
#include "atomics.h"
#include "batch.h"
#include "watch.h"

#endif /* KVSTORE_KVSTORE_H */

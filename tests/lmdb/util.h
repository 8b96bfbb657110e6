/*
 * Helpers of the lmdb backend tests on top of tests/support (temporary
 * directories, bucket and value shortcuts): opening a store in a
 * directory.
 *
 * SPDX-License-Identifier: MIT
 */
#ifndef KVLM_TEST_UTIL_H
#define KVLM_TEST_UTIL_H

#include <unistd.h>

#include "fx_files.h"

/* Opens "lmdb://<dir><suffix>" and fails the test on error. */
static inline kvstore_store *open_store(const char *dir, const char *suffix)
{
    return open_urif("lmdb://%s%s", dir, suffix ? suffix : "");
}

#endif /* KVLM_TEST_UTIL_H */

/*
 * Helpers of the file backend tests on top of tests/support (temporary
 * directories, bucket shortcuts): opening a store in a directory.
 *
 * SPDX-License-Identifier: MIT
 */
#ifndef KVF_TEST_UTIL_H
#define KVF_TEST_UTIL_H

/* Every file test works on the file system. */
#include <sys/stat.h>
#include <unistd.h>

#include "fx_files.h"

/* Opens "file://<dir><suffix>" and asserts success. */
static inline kvstore_store *open_store(const char *dir, const char *suffix)
{
    return open_urif("file://%s%s", dir, suffix ? suffix : "");
}

#endif /* KVF_TEST_UTIL_H */

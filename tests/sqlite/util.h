/*
 * Helpers of the sqlite backend tests on top of tests/support (temporary
 * directories, bucket and value shortcuts): the database file in a
 * directory, and opening a store on it.
 *
 * SPDX-License-Identifier: MIT
 */
#ifndef KVSQ_TEST_UTIL_H
#define KVSQ_TEST_UTIL_H

#include <unistd.h>

#include "fx_files.h"

/* "sqlite://<dir>/kv.db<suffix>" into buf. */
static inline void db_uri(char *buf, size_t cap, const char *dir,
                          const char *suffix)
{
    snprintf(buf, cap, "sqlite://%s/kv.db%s", dir, suffix ? suffix : "");
}

/* Opens db_uri(dir, suffix) and fails the test on error. */
static inline kvstore_store *open_store(const char *dir, const char *suffix)
{
    return open_urif("sqlite://%s/kv.db%s", dir, suffix ? suffix : "");
}

#endif /* KVSQ_TEST_UTIL_H */

/*
 * Test URIs given on the command line: a literal "{tmpdir}" becomes a
 * fresh directory (mkdtemp) that is removed recursively at exit. Shared by
 * the conformance and concurrency programs.
 *
 * SPDX-License-Identifier: MIT
 */
#ifndef TESTS_URI_ARG_H
#define TESTS_URI_ARG_H

#include <stdbool.h>

/* Returns `uri` with every "{tmpdir}" replaced (one directory for all of
 * them, in this and later calls: give two stores subdirectories such as
 * "{tmpdir}/a"); exits with status 2 if the directory cannot be made. The
 * result lives until exit. */
const char *test_uri_expand(const char *uri);

/* True for "memory:" without a name (private to each kvstore_open). */
bool test_uri_is_private_memory(const char *uri);

#endif

/*
 * Temporary directories for tests, servers and fuzz targets: one place to
 * make them and one to remove them. No cmocka here, so that the server
 * runners and libFuzzer targets can use it too (support.h adds asserting
 * wrappers for cmocka tests).
 *
 * SPDX-License-Identifier: MIT
 */
#ifndef KVS_TEST_TMPDIR_H
#define KVS_TEST_TMPDIR_H

/* Makes "$TMPDIR/<tag>-XXXXXX" (TMPDIR unset: /tmp) with mkdtemp and
 * returns its path, owned by the caller (free()), or NULL with errno set. */
char *ts_mkdtemp(const char *tag);

/* Removes `dir` and everything under it, never following a symlink.
 * NULL is a no-op. Does not free `dir`. */
void ts_rmtree(const char *dir);

/* One directory for the whole process ("$TMPDIR/<tag>-XXXXXX", the tag
 * of the first call), made on the first call and removed at exit (also
 * when libFuzzer calls exit). NULL if it cannot be made. */
const char *ts_process_tmpdir(const char *tag);

#endif /* KVS_TEST_TMPDIR_H */

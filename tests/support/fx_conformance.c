/*
 * Helpers of the conformance group (see fx_conformance.h).
 *
 * SPDX-License-Identifier: MIT
 */
#include "fx_conformance.h"

int dir_setup(void **state)
{
    *state = tmp_new();
    return 0;
}

int dir_teardown(void **state)
{
    tmp_free(*state);
    *state = NULL;
    return 0;
}

void expect_bytes(const char *what, const void *v, size_t n,
                  const void *want, size_t len)
{
    if (want == NULL) {
        if (v != NULL || n != 0)
            fail_msg("%s: %zu bytes, expected none", what, n);
        return;
    }
    if (v == NULL)
        fail_msg("%s: absent, expected %zu bytes", what, len);
    if (n != len || (len > 0 && memcmp(v, want, len) != 0))
        fail_msg("%s: %zu bytes differ from the %zu expected", what, n, len);
}

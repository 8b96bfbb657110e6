/*
 * The fenced fixture of the file tests (see fenced.h).
 *
 * SPDX-License-Identifier: MIT
 */
#include <sys/stat.h>

#include "fenced.h"

int fenced_setup(void **state)
{
    const char *bucket = *state;
    fenced *f = calloc(1, sizeof *f);

    assert_non_null(f);
    f->t = tmp_store_open("file://{dir}/root?sync=false", bucket);
    snprintf(f->root, sizeof f->root, "%s/root", f->t.dir);
    snprintf(f->outside, sizeof f->outside, "%s/outside", f->t.dir);
    snprintf(f->secret, sizeof f->secret, "%s/secret", f->outside);
    assert_int_equal(mkdir(f->outside, 0700), 0);
    write_small(f->secret, "SECRET");
    *state = f;
    return 0;
}

int fenced_teardown(void **state)
{
    fenced *f = *state;

    tmp_store_close(&f->t);
    free(f);
    return 0;
}

void expect_secret_intact(const fenced *f)
{
    char buf[64];

    read_small(f->secret, buf, sizeof buf);
    assert_string_equal(buf, "SECRET");
}

/*
 * The group fixture of the redis test programs (group.h).
 *
 * SPDX-License-Identifier: MIT
 */
#include "group.h"

/* cmocka gives a group setup no argument of the caller's: the one group
 * a program runs is kept here. */
static const rs_group *current;

static int group_setup(void **state)
{
    (void)state;
    if (rs_start(current->srv, current->args) != 0)
        return -1;
    return current->started ? current->started() : 0;
}

static int group_teardown(void **state)
{
    (void)state;
    if (current->stopping)
        current->stopping();
    rs_destroy(current->srv);
    return 0;
}

int rs_run_group(const rs_group *g, const struct CMUnitTest *tests,
                 size_t n)
{
    current = g;
    return _cmocka_run_group_tests("redis", tests, n, group_setup,
                                   group_teardown);
}

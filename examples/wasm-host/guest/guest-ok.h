/*
 * What every guest here and in tests/wasi/guests shares: ok() prints a
 * failed wasi:keyvalue call as "NAME: what failed: <error>" and remembers
 * the failure in `failed`, which the guest's run turns into its exit
 * status. Define NAME before including this, after wasi-keyvalue.h.
 *
 * SPDX-License-Identifier: MIT
 */
#ifndef GUEST_OK_H
#define GUEST_OK_H

#ifndef NAME
#error "define NAME (the guest's name, printed before each line) first"
#endif

static bool failed;

static bool ok(uint8_t is_err, const kv_error *e, const char *what)
{
    if (!is_err)
        return true;
    out(NAME ": ");
    out(what);
    out(" failed: ");
    out_error(e);
    out("\n");
    failed = true;
    return false;
}

#endif

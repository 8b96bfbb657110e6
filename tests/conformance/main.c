/*
 * Conformance suite entry point.
 *
 *   conformance URI [--private] [--list-repeats] [--watch-late-values]
 *               [--other URI]... [--filter GLOB]
 *
 * A literal "{tmpdir}" in URI is replaced by a fresh directory made with
 * mkdtemp() and removed recursively at exit. --private says that two opens
 * of URI reach different data (implied for "memory:" without a name).
 * What the backend documents comes from kvstore_caps(): a listing walk
 * that may return a key twice (KVSTORE_CAP_LIST_REPEATS), watch events
 * that carry the value read after the event (KVSTORE_CAP_WATCH_LATE_VALUES).
 * --list-repeats and --watch-late-values add those for a backend whose
 * table does not declare them yet (a version 1 table has no caps).
 * --other names a store of another backend, or another store of the same
 * backend, for the checks that a cursor is bound to its store (repeatable;
 * "{tmpdir}" there is the same directory: use a subdirectory).
 * --filter runs only the tests whose name matches GLOB ("test_list_*").
 *
 * SPDX-License-Identifier: MIT
 */
#include "harness.h"
#include "uri_arg.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

const char *conf_uri;
const char *conf_run_id;
bool conf_private;
bool conf_list_repeats;
bool conf_watch_late_values;
bool conf_disposable;
const char *conf_other_uris[CONF_OTHER_MAX];
size_t conf_n_other;

/* A random id so that concurrent runs against one server never collide:
 * bucket names are "<id>_<suffix>". */
static const char *make_run_id(void)
{
    static char id[16];
    unsigned long r = 0;
    FILE *f = fopen("/dev/urandom", "rb");
    if (f == NULL || fread(&r, sizeof r, 1, f) != 1)
        r = (unsigned long)time(NULL) ^ ((unsigned long)getpid() << 16);
    if (f != NULL)
        fclose(f);
    snprintf(id, sizeof id, "c%08lx", r & 0xffffffffUL);
    return id;
}

/* The capabilities of conf_uri's backend, from one open; 0 when it does
 * not open (the tests will then say why). */
static unsigned int uri_caps(const char *uri)
{
    kvstore_store *s = NULL;
    unsigned int caps = 0;
    if (kvstore_open(&s, uri) == KVSTORE_OK)
        caps = kvstore_caps(s);
    kvstore_close(s);
    return caps;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: %s URI [--private] [--list-repeats] "
                "[--watch-late-values] [--other URI]... [--filter GLOB]\n", argv[0]);
        return 2;
    }
    conf_uri = test_uri_expand(argv[1]);
    conf_run_id = make_run_id();
    /* memory: is private per open unless it names a shared store
     * ("memory:NAME"). */
    conf_private = test_uri_is_private_memory(conf_uri);
    unsigned int caps = uri_caps(conf_uri);
    conf_list_repeats = (caps & KVSTORE_CAP_LIST_REPEATS) != 0;
    conf_watch_late_values = (caps & KVSTORE_CAP_WATCH_LATE_VALUES) != 0;
    for (int i = 2; i < argc; i++) {
        if (strcmp(argv[i], "--private") == 0) {
            conf_private = true;
        } else if (strcmp(argv[i], "--list-repeats") == 0) {
            conf_list_repeats = true;
        } else if (strcmp(argv[i], "--watch-late-values") == 0) {
            conf_watch_late_values = true;
        } else if (strcmp(argv[i], "--other") == 0 && i + 1 < argc &&
                   conf_n_other < CONF_OTHER_MAX) {
            conf_other_uris[conf_n_other++] = test_uri_expand(argv[++i]);
        } else if (strcmp(argv[i], "--filter") == 0 && i + 1 < argc) {
            cmocka_set_test_filter(argv[++i]);
        } else {
            fprintf(stderr, "%s: unknown option %s\n", argv[0], argv[i]);
            return 2;
        }
    }
    conf_disposable = conf_private || strstr(argv[1], "{tmpdir}") != NULL;
    fprintf(stderr, "# conformance: %s (run id %s, caps 0x%x%s%s%s)\n",
            conf_uri, conf_run_id, caps, conf_private ? ", private" : "",
            conf_list_repeats ? ", list may repeat" : "",
            conf_watch_late_values ? ", late watch values" : "");
    for (size_t i = 0; i < conf_n_other; i++)
        fprintf(stderr, "# other store: %s\n", conf_other_uris[i]);

#define CONF_ENTRY(name) \
    cmocka_unit_test_setup_teardown(test_##name, conf_setup, conf_teardown),
    const struct CMUnitTest tests[] = { CONF_TESTS(CONF_ENTRY) };
#undef CONF_ENTRY
    return cmocka_run_group_tests(tests, NULL, NULL);
}

/*
 * Conformance suite entry point.
 *
 *   conformance URI [--private] [--list-repeats] [--watch-late-values]
 *
 * A literal "{tmpdir}" in URI is replaced by a fresh directory made with
 * mkdtemp() and removed recursively at exit. --private says that two opens
 * of URI reach different data (implied for "memory:" without a name);
 * --list-repeats says the backend documents that a listing walk may return
 * a key twice (implied for redis schemes, whose SCAN can);
 * --watch-late-values says watch events carry the value read after the
 * event (implied for file and redis schemes).
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

static bool scheme_is(const char *uri, const char *scheme)
{
    size_t n = strlen(scheme);
    return strncmp(uri, scheme, n) == 0 && uri[n] == ':';
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: %s URI [--private] [--list-repeats] [--watch-late-values]\n",
                argv[0]);
        return 2;
    }
    conf_uri = test_uri_expand(argv[1]);
    conf_run_id = make_run_id();
    /* memory: is private per open unless it names a shared store
     * ("memory:NAME"). */
    conf_private = test_uri_is_private_memory(conf_uri);
    conf_list_repeats = scheme_is(conf_uri, "redis") ||
                        scheme_is(conf_uri, "redis+unix");
    conf_watch_late_values = conf_list_repeats || scheme_is(conf_uri, "file");
    for (int i = 2; i < argc; i++) {
        if (strcmp(argv[i], "--private") == 0) {
            conf_private = true;
        } else if (strcmp(argv[i], "--list-repeats") == 0) {
            conf_list_repeats = true;
        } else if (strcmp(argv[i], "--watch-late-values") == 0) {
            conf_watch_late_values = true;
        } else {
            fprintf(stderr, "%s: unknown option %s\n", argv[0], argv[i]);
            return 2;
        }
    }
    conf_disposable = conf_private || strstr(argv[1], "{tmpdir}") != NULL;
    fprintf(stderr, "# conformance: %s (run id %s%s%s%s)\n", conf_uri,
            conf_run_id, conf_private ? ", private" : "",
            conf_list_repeats ? ", list may repeat" : "",
            conf_watch_late_values ? ", late watch values" : "");

#define CONF_ENTRY(name) \
    cmocka_unit_test_setup_teardown(test_##name, conf_setup, conf_teardown),
    const struct CMUnitTest tests[] = { CONF_TESTS(CONF_ENTRY) };
#undef CONF_ENTRY
    return cmocka_run_group_tests(tests, NULL, NULL);
}

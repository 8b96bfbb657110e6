/*
 * Conformance suite entry point.
 *
 *   conformance URI [--private] [--list-repeats]
 *
 * A literal "{tmpdir}" in URI is replaced by a fresh directory made with
 * mkdtemp() and removed recursively at exit. --private says that two opens
 * of URI reach different data (implied for "memory:" without a name);
 * --list-repeats says the backend documents that a listing walk may return
 * a key twice (implied for redis schemes, whose SCAN can).
 *
 * SPDX-License-Identifier: MIT
 */
#include "harness.h"

#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

const char *conf_uri;
const char *conf_run_id;
bool conf_private;
bool conf_list_repeats;

static char tmpdir[] = "/tmp/kvstore-conformance-XXXXXX";
static bool tmpdir_made;
static char *uri_buf;

static int rm_entry(const char *path, const struct stat *sb, int flag,
                    struct FTW *ftw)
{
    (void)sb; (void)flag; (void)ftw;
    remove(path);
    return 0;
}

static void cleanup(void)
{
    if (tmpdir_made)
        nftw(tmpdir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
    free(uri_buf);
}

/* Replaces every "{tmpdir}" in `uri` by a directory made on first use. */
static const char *expand_uri(const char *uri)
{
    static const char tag[] = "{tmpdir}";
    if (strstr(uri, tag) == NULL)
        return uri;
    if (mkdtemp(tmpdir) == NULL) {
        perror("mkdtemp");
        exit(2);
    }
    tmpdir_made = true;
    size_t cap = strlen(uri) * 2 + sizeof tmpdir * 4 + 1;
    uri_buf = malloc(cap);
    if (uri_buf == NULL)
        exit(2);
    char *o = uri_buf;
    for (const char *p = uri; *p;) {
        if (strncmp(p, tag, sizeof tag - 1) == 0) {
            o += sprintf(o, "%s", tmpdir);
            p += sizeof tag - 1;
        } else {
            *o++ = *p++;
        }
    }
    *o = '\0';
    return uri_buf;
}

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
        fprintf(stderr, "usage: %s URI [--private] [--list-repeats]\n",
                argv[0]);
        return 2;
    }
    atexit(cleanup);
    conf_uri = expand_uri(argv[1]);
    conf_run_id = make_run_id();
    /* memory: is private per open unless it names a shared store
     * ("memory:NAME"). */
    conf_private = scheme_is(conf_uri, "memory") &&
                   (conf_uri[7] == '\0' || conf_uri[7] == '?');
    conf_list_repeats = scheme_is(conf_uri, "redis") ||
                        scheme_is(conf_uri, "redis+unix");
    for (int i = 2; i < argc; i++) {
        if (strcmp(argv[i], "--private") == 0) {
            conf_private = true;
        } else if (strcmp(argv[i], "--list-repeats") == 0) {
            conf_list_repeats = true;
        } else {
            fprintf(stderr, "%s: unknown option %s\n", argv[0], argv[i]);
            return 2;
        }
    }
    fprintf(stderr, "# conformance: %s (run id %s%s%s)\n", conf_uri,
            conf_run_id, conf_private ? ", private" : "",
            conf_list_repeats ? ", list may repeat" : "");

#define CONF_ENTRY(name) \
    cmocka_unit_test_setup_teardown(test_##name, conf_setup, conf_teardown),
    const struct CMUnitTest tests[] = { CONF_TESTS(CONF_ENTRY) };
#undef CONF_ENTRY
    return cmocka_run_group_tests(tests, NULL, NULL);
}

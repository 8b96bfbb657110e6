/*
 * Test URIs given on the command line (see uri_arg.h).
 *
 * SPDX-License-Identifier: MIT
 */
#include "uri_arg.h"
#include "tmpdir.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* One buffer per expanded URI (the conformance program takes a main URI
 * and --other URIs), freed at exit. */
#define MAX_EXPANDED 8
static char *expanded[MAX_EXPANDED];
static size_t nexpanded;

static void free_expanded(void)
{
    for (size_t i = 0; i < nexpanded; i++)
        free(expanded[i]);
}

const char *test_uri_expand(const char *uri)
{
    static const char tag[] = "{tmpdir}";
    if (strstr(uri, tag) == NULL)
        return uri;
    if (nexpanded == MAX_EXPANDED) {
        fprintf(stderr, "test_uri_expand: more than %d URIs\n", MAX_EXPANDED);
        exit(2);
    }
    const char *dir = ts_process_tmpdir("kvstore-test");
    if (dir == NULL) {
        perror("mkdtemp");
        exit(2);
    }
    size_t n = 0, dlen = strlen(dir);
    for (const char *p = uri; (p = strstr(p, tag)) != NULL; p += sizeof tag - 1)
        n++;
    size_t cap = strlen(uri) + n * dlen + 1;
    char *out = malloc(cap);
    if (out == NULL)
        exit(2);
    if (nexpanded == 0)
        atexit(free_expanded);
    expanded[nexpanded++] = out;
    char *o = out;
    for (const char *p = uri; *p;) {
        if (strncmp(p, tag, sizeof tag - 1) == 0) {
            memcpy(o, dir, dlen);
            o += dlen;
            p += sizeof tag - 1;
        } else {
            *o++ = *p++;
        }
    }
    *o = '\0';
    return out;
}

bool test_uri_is_private_memory(const char *uri)
{
    return strncmp(uri, "memory:", 7) == 0 &&
           (uri[7] == '\0' || uri[7] == '?');
}

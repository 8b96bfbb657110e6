/* The umbrella and backend headers alone must compile as strict C99
 * (built with -std=c99 -pedantic -Werror); the program checks that the
 * run-time version matches the compile-time macros. */
#include <kvstore/kvstore.h>
#include <kvstore/backend.h>

#include <stdio.h>
#include <string.h>

int main(void)
{
    char expect[32];

    snprintf(expect, sizeof expect, "%d.%d.%d", KVSTORE_VERSION_MAJOR,
             KVSTORE_VERSION_MINOR, KVSTORE_VERSION_PATCH);
    if (strcmp(expect, kvstore_version()) != 0) {
        fprintf(stderr, "version %s, headers say %s\n", kvstore_version(),
                expect);
        return 1;
    }
    return 0;
}

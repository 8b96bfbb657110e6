// The public headers must compile as C++11 with -Wall -Wextra -pedantic
// -Werror, and their declarations must link with C linkage.
#include <kvstore/kvstore.h>
#include <kvstore/backend.h>

#include <cstdio>

int main()
{
    kvstore_store *store = nullptr;
    int rc = kvstore_open(&store, "no-such-scheme-for-cxx:");
    if (rc != KVSTORE_ENOSTORE || store != nullptr) {
        std::fprintf(stderr, "open: %d %s\n", rc, kvstore_errmsg());
        return 1;
    }
    return 0;
}

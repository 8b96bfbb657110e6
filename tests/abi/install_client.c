/* A program that knows libkvstore only through its installed headers and
 * pkg-config: every section of the contract, once, against argv[1]. */
#include <kvstore/kvstore.h>

#include <stdio.h>
#include <string.h>

#define CHECK(expr)                                                       \
    do {                                                                  \
        if (!(expr)) {                                                    \
            fprintf(stderr, "%s:%d: %s failed: %s\n", __FILE__, __LINE__, \
                    #expr, kvstore_errmsg());                             \
            return 1;                                                     \
        }                                                                 \
    } while (0)

int main(int argc, char **argv)
{
    kvstore_store *s;
    kvstore_bucket *b;
    kvstore_keys *page;
    kvstore_cas *cas;
    void *v;
    size_t len;
    int64_t n;
    bool ex;
    const char *keys[2] = { "k1", "k2" };
    const void *vals[2] = { "v1", "v2" };
    size_t lens[2] = { 2, 2 };
    void *got[2];
    size_t got_len[2];

    CHECK(argc == 2);
    CHECK(kvstore_open(&s, argv[1]) == KVSTORE_OK);
    CHECK(kvstore_bucket_open(&b, s, "install") == KVSTORE_OK);
    CHECK(kvstore_set(b, "a/../b", "x", 1) == KVSTORE_OK);
    CHECK(kvstore_get(b, "a/../b", &v, &len) == KVSTORE_OK);
    CHECK(len == 1 && memcmp(v, "x", 1) == 0);
    kvstore_free(v);
    CHECK(kvstore_exists(b, "a/../b", &ex) == KVSTORE_OK && ex);
    CHECK(kvstore_increment(b, "n", 41, &n) == KVSTORE_OK && n == 41);
    CHECK(kvstore_increment(b, "n", 1, &n) == KVSTORE_OK && n == 42);
    CHECK(kvstore_cas_open(&cas, b, "n") == KVSTORE_OK);
    CHECK(kvstore_cas_swap(cas, "7", 1) == KVSTORE_OK);
    kvstore_cas_free(cas);
    CHECK(kvstore_set_many(b, keys, vals, lens, 2) == KVSTORE_OK);
    CHECK(kvstore_get_many(b, keys, 2, got, got_len) == KVSTORE_OK);
    CHECK(got[0] && got[1] && got_len[1] == 2);
    kvstore_free(got[0]);
    kvstore_free(got[1]);
    CHECK(kvstore_list_keys(b, NULL, NULL, 0, &page) == KVSTORE_OK);
    CHECK(page->count == 4 && page->cursor == NULL);
    kvstore_keys_free(page);
    CHECK(kvstore_delete_many(b, keys, 2) == KVSTORE_OK);
    CHECK(kvstore_delete(b, "n") == KVSTORE_OK);
    CHECK(kvstore_get(b, "n", &v, &len) == KVSTORE_NOTFOUND && v == NULL);
    CHECK(kvstore_get(b, "", &v, &len) == KVSTORE_EINVAL);
    kvstore_bucket_close(b);
    kvstore_close(s);
    return 0;
}

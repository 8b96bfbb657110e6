/* Every built-in backend's cursor decoding, through the public API: a
 * bucket with keys, listed from an arbitrary cursor and prefix. Any input
 * gives a page or KVSTORE_EINVAL, never a crash, and never a key outside
 * the bucket. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tmpdir.h"

#include <kvstore/kvstore.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

static kvstore_store *stores[2];
static kvstore_bucket *buckets[2];
static size_t nbuckets;

static void fill(kvstore_bucket *b, const char *tag)
{
    char key[64];

    for (int i = 0; i < 50; i++) {
        snprintf(key, sizeof key, "%s/%02d", tag, i);
        kvstore_set(b, key, "v", 1);
    }
}


int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    char uri[4200];
    kvstore_bucket *other;
    const char *uris[2] = { "memory:fuzz", uri };

    (void)argc;
    (void)argv;
    /* The temporary store goes when the fuzzer exits (libFuzzer calls
     * exit). */
    const char *tmp_root = ts_process_tmpdir("kvstore-fuzz");
    if (tmp_root == NULL)
        abort();
    snprintf(uri, sizeof uri, "file://%s", tmp_root);
    for (int i = 0; i < 2; i++) {
        if (kvstore_open(&stores[i], uris[i]) != KVSTORE_OK ||
            kvstore_bucket_open(&buckets[i], stores[i], "mine") != KVSTORE_OK ||
            kvstore_bucket_open(&other, stores[i], "other") != KVSTORE_OK)
            continue;
        fill(buckets[i], "mine");
        fill(other, "other");
        kvstore_bucket_close(other);
        nbuckets++;
    }
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    /* Input: prefix NUL cursor. */
    char *buf = malloc(size + 2);
    const char *prefix, *cursor;
    kvstore_keys *page;

    if (buf == NULL)
        return 0;
    memcpy(buf, data, size);
    buf[size] = buf[size + 1] = '\0';
    prefix = buf;
    cursor = buf + strlen(buf) + 1;
    for (size_t i = 0; i < nbuckets; i++) {
        int rc = kvstore_list_keys(buckets[i], prefix,
                                   *cursor ? cursor : NULL, 7, &page);
        if (rc == KVSTORE_OK) {
            if (page->count > 7)
                abort();
            for (size_t k = 0; k < page->count; k++)
                if (strncmp(page->keys[k], "mine/", 5) != 0)
                    abort(); /* escaped the bucket */
            kvstore_keys_free(page);
        } else if (rc != KVSTORE_EINVAL) {
            abort();
        }
    }
    free(buf);
    return 0;
}

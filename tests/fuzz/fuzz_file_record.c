/* The file backend reading records planted by someone who can write the
 * bucket directory (backends/file/record.c): the input is written as the
 * file of a key, then read back through the public API.
 *
 * Input byte 0 picks the key: a short one (escaped name) or a 300-byte
 * one (hashed name "~<sha256>", whose key is read from the header). The
 * rest is the file's content. Checked against the format in record.c
 * ("KVF1", le32 key length, le64 write id, le64 value length, key, value):
 *  - get returns the value exactly when the header describes this key and
 *    this file size, else KVSTORE_EIO; never anything else, never a crash;
 *  - exists, increment and list_keys agree, and the listing shows the
 *    key only for a valid record (a hashed-name file whose header names
 *    another key must not appear). */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tmpdir.h"

#include "file.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

static char bucket_dir[4200];
static kvstore_store *store;
static kvstore_bucket *bucket;
static char long_key[301];


int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    char uri[4200];

    (void)argc;
    (void)argv;
    memset(long_key, '.', 300);
    /* The temporary store goes when the fuzzer exits (libFuzzer calls
     * exit). */
    const char *tmp_root = ts_process_tmpdir("kvstore-fuzz-record");
    if (tmp_root == NULL)
        abort();
    snprintf(uri, sizeof uri, "file://%s?sync=false", tmp_root);
    snprintf(bucket_dir, sizeof bucket_dir, "%s/b", tmp_root);
    if (kvstore_open(&store, uri) != KVSTORE_OK ||
        kvstore_bucket_open(&bucket, store, "b") != KVSTORE_OK)
        abort();
    return 0;
}

static uint64_t le(const uint8_t *p, int n)
{
    uint64_t v = 0;
    for (int i = n - 1; i >= 0; i--)
        v = v << 8 | p[i];
    return v;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *key;
    char name[KVF_NAME_BUF], path[512];
    size_t klen;
    bool valid;

    if (size == 0)
        return 0;
    key = (data[0] & 1) ? long_key : "k";
    klen = strlen(key);
    data++;
    size--;
    kvf_name_encode(key, klen, name);
    snprintf(path, sizeof path, "%s/%s", bucket_dir, name);
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    if (fd < 0 || (size && write(fd, data, size) != (ssize_t)size))
        abort();
    close(fd);

    valid = size >= KVF_HEADER_LEN + klen && memcmp(data, KVF_MAGIC, 4) == 0 &&
            le(data + 4, 4) == klen &&
            le(data + 16, 8) == size - KVF_HEADER_LEN - klen &&
            memcmp(data + KVF_HEADER_LEN, key, klen) == 0;

    void *v = NULL;
    size_t len = 0;
    int rc = kvstore_get(bucket, key, &v, &len);
    if (valid) {
        if (rc != KVSTORE_OK || len != size - KVF_HEADER_LEN - klen ||
            (len && memcmp(v, data + KVF_HEADER_LEN + klen, len) != 0))
            abort();
    } else if (rc != KVSTORE_EIO || v != NULL) {
        abort(); /* a bad record must be an error, never a value */
    }
    kvstore_free(v);

    bool ex = false;
    rc = kvstore_exists(bucket, key, &ex);
    if (valid ? (rc != KVSTORE_OK || !ex) : rc != KVSTORE_EIO)
        abort();

    kvstore_keys *page = NULL;
    if (kvstore_list_keys(bucket, NULL, NULL, 7, &page) != KVSTORE_OK)
        abort();
    /* The short key's name decodes to it whatever the content; a hashed
     * name counts only if its header names the key. */
    bool listed = page->count == 1 && strcmp(page->keys[0], key) == 0;
    if (page->count > 1 || (page->count == 1 && !listed) ||
        (key == long_key && listed != valid) || (key != long_key && !listed))
        abort();
    kvstore_keys_free(page);

    if (unlink(path) != 0)
        abort();
    return 0;
}

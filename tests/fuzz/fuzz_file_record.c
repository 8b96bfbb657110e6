/* The file backend reading records planted by someone who can write the
 * bucket directory (backends/file/record.c): the input is written as the
 * file of a key, then read back through the public API.
 *
 * Input byte 0 picks the key: a short one (escaped name) or a 300-byte
 * one (hashed name "~<sha256>", whose key is read from the header). The
 * rest is the file's content. Checked against the format in record.c
 * ("KVF1", le32 key length, le64 write id, le64 value length, key, value;
 * or "KVF2", the same fields, then le64 expiry in wall-clock ms, key,
 * value). The bucket has the expiry marker, so expiries are checked
 * everywhere:
 *  - get returns the value exactly when the header describes this key and
 *    this file size and has not expired; an expired header of this key is
 *    KVSTORE_NOTFOUND; anything else KVSTORE_EIO; never a crash;
 *  - exists and list_keys agree, and the listing shows the key only for a
 *    valid live record (a hashed-name file whose header names another key
 *    must not appear); an expired record may be reaped by the listing. */
#include <errno.h>
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
    /* As set_ttl leaves it: listing then checks every record's expiry. */
    char mark[300];
    snprintf(mark, sizeof mark, "%s/%s", bucket_dir, KVF_TTL_MARK);
    int fd = open(mark, O_WRONLY | O_CREAT, 0600);
    if (fd < 0)
        abort();
    close(fd);
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

    /* The header: its length (0: not a record), the expiry. */
    size_t head = 0;
    uint64_t exp = 0;
    if (size >= KVF_HEADER_LEN && memcmp(data, KVF_MAGIC, 4) == 0) {
        head = KVF_HEADER_LEN;
    } else if (size >= KVF_HEADER2_LEN && memcmp(data, KVF_MAGIC2, 4) == 0) {
        head = KVF_HEADER2_LEN;
        exp = le(data + 24, 8);
    }
    uint64_t now = kvf_now_ms();
    if (exp != 0 && exp + 1000 > now && exp < now + 60000) {
        unlink(path); /* too close to now to predict: skip */
        return 0;
    }
    bool gone = exp != 0 && exp <= now;
    bool ours = head && size >= head + klen && le(data + 4, 4) == klen &&
                memcmp(data + head, key, klen) == 0;
    bool expired_here = ours && le(data + 16, 8) <= KVF_VALUE_MAX && gone;
    valid = ours && !gone && le(data + 16, 8) == size - head - klen;

    void *v = NULL;
    size_t len = 0;
    int rc = kvstore_get(bucket, key, &v, &len);
    if (valid) {
        if (rc != KVSTORE_OK || len != size - head - klen ||
            (len && memcmp(v, data + head + klen, len) != 0))
            abort();
    } else if (expired_here) {
        if (rc != KVSTORE_NOTFOUND || v != NULL)
            abort();
    } else if (rc != KVSTORE_EIO || v != NULL) {
        abort(); /* a bad record must be an error, never a value */
    }
    kvstore_free(v);

    bool ex = false;
    rc = kvstore_exists(bucket, key, &ex);
    if (valid ? (rc != KVSTORE_OK || !ex)
        : expired_here ? (rc != KVSTORE_OK || ex)
                       : rc != KVSTORE_EIO)
        abort();

    kvstore_keys *page = NULL;
    if (kvstore_list_keys(bucket, NULL, NULL, 7, &page) != KVSTORE_OK)
        abort();
    /* The short key's name decodes to it whatever the content, unless its
     * header (any header, checked for expiry only) has expired; a hashed
     * name counts only if its header names the key and is live. */
    bool listed = page->count == 1 && strcmp(page->keys[0], key) == 0;
    bool short_listed = !(head && gone);
    if (page->count > 1 || (page->count == 1 && !listed) ||
        (key == long_key && listed != valid) ||
        (key != long_key && listed != short_listed))
        abort();
    kvstore_keys_free(page);

    /* An expired record may have been reaped by the listing. */
    if (unlink(path) != 0 && !(gone && errno == ENOENT))
        abort();
    return 0;
}

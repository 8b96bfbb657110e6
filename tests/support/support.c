/*
 * Helpers shared by the test programs (see support.h).
 *
 * SPDX-License-Identifier: MIT
 */
#include "support.h"
#include "run.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

char *tmp_new(void)
{
    char *dir = ts_mkdtemp("kvstore-test");
    if (dir == NULL)
        fail_msg("mkdtemp under $TMPDIR: %s", strerror(errno));
    return dir;
}

void tmp_free(char *dir)
{
    ts_rmtree(dir);
    free(dir);
}

kvstore_store *open_uri(const char *uri)
{
    kvstore_store *s = NULL;
    int rc = kvstore_open(&s, uri);
    if (rc != KVSTORE_OK)
        fail_msg("open %s: %d %s", uri, rc, kvstore_errmsg());
    assert_non_null(s);
    return s;
}

void open_fails(const char *uri, int code)
{
    kvstore_store *s = (kvstore_store *)&s;
    int rc = kvstore_open(&s, uri);

    if (rc == KVSTORE_OK)
        kvstore_close(s);
    if (rc != code)
        fail_msg("kvstore_open(\"%s\") = %d (%s), expected %d",
                 uri ? uri : "NULL", rc, kvstore_errmsg(), code);
    assert_null(s);
    if (kvstore_errmsg()[0] == '\0')
        fail_msg("kvstore_open(\"%s\") = %d without a message",
                 uri ? uri : "NULL", rc);
}

kvstore_store *open_urif(const char *fmt, ...)
{
    char uri[8400];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(uri, sizeof uri, fmt, ap);
    va_end(ap);
    assert_true(n > 0 && (size_t)n < sizeof uri);
    return open_uri(uri);
}

kvstore_store *open_file_store(const char *dir)
{
    return open_urif("file://%s?sync=false", dir);
}

kvstore_bucket *open_bucket(kvstore_store *s, const char *name)
{
    kvstore_bucket *b = NULL;
    int rc = kvstore_bucket_open(&b, s, name);
    if (rc != KVSTORE_OK)
        fail_msg("bucket_open %s: %d %s", name, rc, kvstore_errmsg());
    assert_non_null(b);
    return b;
}

tmp_store tmp_store_open(const char *uri, const char *bucket)
{
    tmp_store t = { .dir = tmp_new() };
    const ts_placeholder ph = { "dir", t.dir };
    char *full = ts_substitute(uri, &ph, 1);

    assert_non_null(full);
    t.s = open_uri(full);
    free(full);
    if (bucket)
        t.b = open_bucket(t.s, bucket);
    return t;
}

int store_setup(void **state)
{
    const store_fixture *f = *state;
    tmp_store *t = malloc(sizeof *t);

    assert_non_null(t);
    *t = tmp_store_open(f->uri, f->bucket);
    *state = t;
    return 0;
}

int store_teardown(void **state)
{
    tmp_store *t = *state;

    tmp_store_close(t);
    free(t);
    return 0;
}

void tmp_store_close(tmp_store *t)
{
    kvstore_bucket_close(t->b);
    kvstore_close(t->s);
    tmp_free(t->dir);
}

char *get_str(kvstore_store *s, const char *bucket, const char *key)
{
    kvstore_bucket *b = open_bucket(s, bucket);
    void *v = NULL;
    size_t len = 0;
    int rc = kvstore_get(b, key, &v, &len);

    kvstore_bucket_close(b);
    if (rc == KVSTORE_NOTFOUND)
        return NULL;
    if (rc != KVSTORE_OK)
        fail_msg("get %s/%s: %d %s", bucket, key, rc, kvstore_errmsg());
    char *copy = malloc(len + 1);
    assert_non_null(copy);
    memcpy(copy, v, len);
    copy[len] = '\0';
    kvstore_free(v);
    return copy;
}

void set_str(kvstore_bucket *b, const char *key, const char *v)
{
    int rc = kvstore_set(b, key, v, strlen(v));
    if (rc != KVSTORE_OK)
        fail_msg("set %s: %d %s", key, rc, kvstore_errmsg());
}

void expect_str(kvstore_bucket *b, const char *key, const char *want)
{
    void *v = NULL;
    size_t len = 0;
    int rc = kvstore_get(b, key, &v, &len);

    if (want == NULL) {
        if (rc != KVSTORE_NOTFOUND)
            fail_msg("get %s: %d, expected NOTFOUND", key, rc);
        assert_null(v);
        assert_int_equal(len, 0);
        return;
    }
    if (rc != KVSTORE_OK)
        fail_msg("get %s: %d %s", key, rc, kvstore_errmsg());
    assert_non_null(v);
    assert_int_equal(len, strlen(want));
    assert_memory_equal(v, want, len);
    kvstore_free(v);
}

static long walk(kvstore_bucket *b, const char *prefix, const char *cursor,
                 size_t limit, walk_fn each, void *arg, bool einval_first)
{
    size_t max = limit == 0 || limit > KVSTORE_PAGE_MAX ? KVSTORE_PAGE_MAX
                                                         : limit;
    size_t plen = prefix ? strlen(prefix) : 0;
    long pages = 0;
    char *cur = cursor ? strdup(cursor) : NULL;

    do {
        kvstore_keys *page = NULL;
        int rc = kvstore_list_keys(b, prefix, cur, limit, &page);
        free(cur);
        if (rc == KVSTORE_EINVAL && einval_first && pages == 0) {
            assert_null(page);
            assert_true(kvstore_errmsg()[0] != '\0');
            return -1;
        }
        if (rc != KVSTORE_OK)
            fail_msg("list_keys (page %ld): %d %s", pages, rc,
                     kvstore_errmsg());
        assert_non_null(page);
        if (page->count > max)
            fail_msg("page of %zu keys, limit %zu", page->count, max);
        for (size_t i = 0; i < page->count; i++) {
            if (plen && strncmp(page->keys[i], prefix, plen) != 0)
                fail_msg("key '%s' listed outside prefix '%s'",
                         page->keys[i], prefix);
            if (each)
                each(arg, page->keys[i]);
        }
        cur = page->cursor ? strdup(page->cursor) : NULL;
        kvstore_keys_free(page);
        if (++pages > 100000)
            fail_msg("list walk did not end after %ld pages", pages);
    } while (cur != NULL);
    return pages;
}

size_t walk_all(kvstore_bucket *b, const char *prefix, const char *cursor,
                size_t limit, walk_fn each, void *arg)
{
    return (size_t)walk(b, prefix, cursor, limit, each, arg, false);
}

void walk_count(void *arg, const char *key)
{
    (void)key;
    (*(size_t *)arg)++;
}

void walk_ordered(void *arg, const char *key)
{
    walk_order *o = arg;
    if (o->keys > 0 && strcmp(o->last, key) >= 0)
        fail_msg("key '%.60s' listed after '%.60s'", key, o->last);
    snprintf(o->last, sizeof o->last, "%s", key);
    o->keys++;
}

long walk_foreign(kvstore_bucket *b, const char *prefix, const char *cursor,
                  size_t limit, walk_fn each, void *arg)
{
    return walk(b, prefix, cursor, limit, each, arg, true);
}

typedef struct tagged {
    const char *tag;
    int keys;
} tagged;

static void only_tagged(void *arg, const char *key)
{
    tagged *t = arg;
    size_t n = strlen(t->tag);
    if (strncmp(key, t->tag, n) != 0 || key[n] != '/')
        fail_msg("key '%.60s' of another bucket listed in '%s'", key,
                 t->tag);
    t->keys++;
}

int walk_tagged(kvstore_bucket *b, const char *prefix, const char *cursor,
                const char *tag)
{
    tagged t = { tag, 0 };
    return walk_foreign(b, prefix, cursor, 7, only_tagged, &t) < 0 ? -1
                                                                   : t.keys;
}

void fill_tagged(kvstore_bucket *b, const char *tag, int n)
{
    char key[80];

    for (int i = 0; i < n; i++) {
        snprintf(key, sizeof key, "%s/%03d", tag, i);
        set_str(b, key, tag);
    }
}

void cursor_refused(kvstore_bucket *b, const char *prefix,
                    const char *cursor, const char *what)
{
    kvstore_keys *page = (kvstore_keys *)&page;
    int rc = kvstore_list_keys(b, prefix, cursor, 10, &page);

    if (rc == KVSTORE_OK)
        kvstore_keys_free(page);
    if (rc != KVSTORE_EINVAL)
        fail_msg("list_keys with %s cursor = %d, expected EINVAL", what, rc);
    assert_null(page);
    if (kvstore_errmsg()[0] == '\0')
        fail_msg("list_keys with %s cursor: EINVAL without a message", what);
}

void read_small(const char *path, char *buf, size_t cap)
{
    FILE *f = fopen(path, "r");
    size_t n = 0;

    if (f) {
        n = fread(buf, 1, cap - 1, f);
        fclose(f);
    }
    buf[n] = '\0';
}

void write_small(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");

    assert_non_null(f);
    fputs(text, f);
    assert_int_equal(fclose(f), 0);
}

void proc_cmdline(int pid, char *buf, size_t cap)
{
    char path[64];
    snprintf(path, sizeof path, "/proc/%d/cmdline", pid);
    int fd = open(path, O_RDONLY);
    ssize_t n = fd >= 0 ? read(fd, buf, cap - 1) : -1;
    if (fd >= 0)
        close(fd);
    n = n > 0 ? n : 0;
    for (ssize_t i = 0; i < n; i++)
        if (buf[i] == '\0')
            buf[i] = ' ';
    buf[n] = '\0';
}

int run_masked(const char *path, char *const argv[], const char *input,
               const char *visible, const char *secret)
{
    char cmd[4096] = "";
    bool masked = false;
    int in[2], status = -1;

    assert_int_equal(pipe(in), 0);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        int null = open("/dev/null", O_WRONLY);
        dup2(in[0], 0);
        dup2(null, 1);
        dup2(null, 2);
        close(in[1]);
        execv(path, argv);
        _exit(127);
    }
    close(in[0]);
    for (int tries = 0; tries < 1000 && !masked; tries++) {
        proc_cmdline(pid, cmd, sizeof cmd);
        masked = strstr(cmd, visible) && !strstr(cmd, secret);
        if (!masked) {
            struct timespec ts = { 0, 10 * 1000 * 1000 };
            nanosleep(&ts, NULL);
        }
    }
    size_t n = strlen(input);
    bool wrote = write(in[1], input, n) == (ssize_t)n;
    close(in[1]);
    waitpid(pid, &status, 0);
    if (!masked)
        fail_msg("cmdline still shows the password: %s", cmd);
    assert_true(wrote);
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

mode_t mode_of(const char *path)
{
    struct stat st;

    if (lstat(path, &st) != 0)
        fail_msg("lstat %s: %s", path, strerror(errno));
    return st.st_mode & 07777;
}

int count_entries(const char *dir)
{
    DIR *d = opendir(dir);
    struct dirent *de;
    int n = 0;

    assert_non_null(d);
    while ((de = readdir(d)) != NULL)
        if (strcmp(de->d_name, ".") != 0 && strcmp(de->d_name, "..") != 0)
            n++;
    closedir(d);
    return n;
}

/*
 * Conformance suite: fixtures, assertions and a string set for walks.
 *
 * SPDX-License-Identifier: MIT
 */
#include "harness.h"
#include "support.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

extern const char *conf_run_id; /* main.c */

void conf_bucket_name(char *buf, size_t cap, const char *suffix)
{
    int n = snprintf(buf, cap, "%s_%s", conf_run_id, suffix);
    assert_true(n > 0 && (size_t)n < cap);
}

void conf_unique_name(char *buf, size_t cap)
{
    static unsigned counter; /* tests run one at a time */
    char suffix[16];
    snprintf(suffix, sizeof suffix, "t%u", ++counter);
    conf_bucket_name(buf, cap, suffix);
}

char *conf_uri_with(const char *param)
{
    size_t n = strlen(conf_uri) + strlen(param) + 2;
    char *s = malloc(n);
    assert_non_null(s);
    snprintf(s, n, "%s%c%s", conf_uri, strchr(conf_uri, '?') ? '&' : '?',
             param);
    return s;
}

void conf_open_fails_with(const char *param, int code)
{
    char *uri = conf_uri_with(param);
    open_fails(uri, code);
    free(uri);
}

kvstore_bucket *conf_bucket_new(kvstore_store *s, char *name)
{
    char fresh[KVSTORE_BUCKET_NAME_MAX + 1];
    conf_unique_name(fresh, sizeof fresh);
    if (name != NULL)
        memcpy(name, fresh, sizeof fresh);
    return open_bucket(s, fresh);
}

kvstore_store *conf_second_store(conf_ctx *c)
{
    if (conf_private)
        skip();
    assert_null(c->store2);
    c->store2 = open_uri(conf_uri);
    return c->store2;
}

kvstore_bucket *conf_second_bucket(conf_ctx *c, kvstore_store *s)
{
    assert_null(c->bucket2);
    c->bucket2 = open_bucket(s, c->name);
    return c->bucket2;
}

int conf_setup(void **state)
{
    conf_ctx *c = calloc(1, sizeof *c);
    assert_non_null(c);
    *state = c;
    c->store = open_uri(conf_uri);
    conf_unique_name(c->name, sizeof c->name);
    c->bucket = open_bucket(c->store, c->name);
    return 0;
}

void conf_drop_bucket(kvstore_bucket *b)
{
    if (b != NULL && !conf_disposable)
        wipe_bucket(b);
    kvstore_bucket_close(b);
}

int conf_teardown(void **state)
{
    conf_ctx *c = *state;
    if (c == NULL)
        return 0;
    if (c->own_free != NULL)
        c->own_free(c->own);
    kvstore_bucket_close(c->bucket2);
    conf_drop_bucket(c->bucket);
    kvstore_close(c->store);
    kvstore_close(c->store2);
    free(c);
    *state = NULL;
    return 0;
}

void conf_fail_at(const char *file, int line, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vprint_error(fmt, ap);
    va_end(ap);
    print_error("\n");
    _fail(file, line);
}

void conf_assert_value(kvstore_bucket *b, const char *key, const void *data,
                       size_t len, const char *file, int line)
{
    void *v = NULL;
    size_t n = 12345;
    int rc = kvstore_get(b, key, &v, &n);
    if (rc != KVSTORE_OK)
        conf_fail_at(file, line, "get(\"%s\") = %d (%s), expected OK", key, rc,
                     kvstore_errmsg());
    if (v == NULL)
        conf_fail_at(file, line, "get(\"%s\") gave a NULL value", key);
    if (n != len || (len > 0 && memcmp(v, data, len) != 0)) {
        kvstore_free(v);
        conf_fail_at(file, line, "get(\"%s\"): %zu bytes differ from the %zu "
                     "expected", key, n, len);
    }
    kvstore_free(v);
}

void conf_assert_absent(kvstore_bucket *b, const char *key, const char *file,
                        int line)
{
    void *v = (void *)1;
    size_t n = 12345;
    int rc = kvstore_get(b, key, &v, &n);
    if (rc != KVSTORE_NOTFOUND)
        conf_fail_at(file, line, "get(\"%s\") = %d, expected NOTFOUND", key,
                     rc);
    if (v != NULL || n != 0)
        conf_fail_at(file, line, "get(\"%s\"): NOTFOUND but value %p len %zu",
                     key, v, n);
    bool e = true;
    rc = kvstore_exists(b, key, &e);
    if (rc != KVSTORE_OK || e)
        conf_fail_at(file, line, "exists(\"%s\") = %d/%d, expected OK/false",
                     key, rc, (int)e);
}

void conf_assert_fails(int rc, int code, const char *what, const char *file,
                       int line)
{
    if (rc != code)
        conf_fail_at(file, line, "%s = %d (%s), expected %d (%s)", what, rc,
                     rc < 0 ? kvstore_errmsg() : "-", code,
                     kvstore_strerror(code));
    const char *m = kvstore_errmsg();
    if (m == NULL || m[0] == '\0' || strcmp(m, "no error") == 0)
        conf_fail_at(file, line, "%s failed without a message", what);
}

/* ---- string set: chained hash table, grows never (sized for walks) ---- */

#define SET_BUCKETS 4096

typedef struct set_node {
    struct set_node *next;
    unsigned count;
    char key[];
} set_node;

struct conf_set {
    set_node *slots[SET_BUCKETS];
    size_t size;
};

static size_t set_hash(const char *s)
{
    size_t h = 1469598103934665603u;
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 1099511628211u;
    return h % SET_BUCKETS;
}

conf_set *conf_set_new(void)
{
    conf_set *s = calloc(1, sizeof *s);
    assert_non_null(s);
    return s;
}

void conf_set_free(conf_set *s)
{
    if (s == NULL)
        return;
    for (size_t i = 0; i < SET_BUCKETS; i++) {
        set_node *n = s->slots[i];
        while (n != NULL) {
            set_node *next = n->next;
            free(n);
            n = next;
        }
    }
    free(s);
}

static set_node *set_find(const conf_set *s, const char *key)
{
    for (set_node *n = s->slots[set_hash(key)]; n != NULL; n = n->next)
        if (strcmp(n->key, key) == 0)
            return n;
    return NULL;
}

unsigned conf_set_add(conf_set *s, const char *key)
{
    set_node *n = set_find(s, key);
    if (n == NULL) {
        size_t len = strlen(key);
        n = calloc(1, sizeof *n + len + 1);
        assert_non_null(n);
        memcpy(n->key, key, len + 1);
        size_t h = set_hash(key);
        n->next = s->slots[h];
        s->slots[h] = n;
        s->size++;
    }
    return ++n->count;
}

unsigned conf_set_count(const conf_set *s, const char *key)
{
    set_node *n = set_find(s, key);
    return n ? n->count : 0;
}

size_t conf_set_size(const conf_set *s)
{
    return s->size;
}

static void add_to_set(void *arg, const char *key)
{
    conf_set_add(arg, key);
}

size_t conf_walk(kvstore_bucket *b, const char *prefix, const char *cursor,
                 size_t limit, conf_set *seen)
{
    return walk_all(b, prefix, cursor, limit, add_to_set, seen);
}

conf_set *conf_list_all(kvstore_bucket *b, const char *prefix)
{
    conf_set *s = conf_set_new();
    conf_walk(b, prefix, NULL, 0, s);
    return s;
}

/* Sets keys "<prefix><i>" for i in [0, n) with set_many in chunks. */
void conf_fill(kvstore_bucket *b, const char *prefix, size_t n)
{
    enum { CHUNK = 100 };
    char names[CHUNK][64];
    const char *keys[CHUNK];
    const void *vals[CHUNK];
    size_t lens[CHUNK];
    for (size_t i = 0; i < n; i += CHUNK) {
        size_t m = n - i < CHUNK ? n - i : CHUNK;
        for (size_t j = 0; j < m; j++) {
            snprintf(names[j], sizeof names[j], "%s%zu", prefix, i + j);
            keys[j] = names[j];
            vals[j] = "v";
            lens[j] = 1;
        }
        int rc = kvstore_set_many(b, keys, vals, lens, m);
        if (rc != KVSTORE_OK)
            fail_msg("set_many = %d: %s", rc, kvstore_errmsg());
    }
}

/* The first page of `b` with `limit`, which must have a cursor. */
char *conf_first_cursor(kvstore_bucket *b, const char *prefix, size_t limit)
{
    kvstore_keys *page = NULL;
    assert_int_equal(kvstore_list_keys(b, prefix, NULL, limit, &page),
                     KVSTORE_OK);
    /* An empty first page with a cursor is allowed: follow it until a
     * page has keys, so that the cursor points into the middle. */
    int guard = 0;
    while (page->count == 0 && page->cursor != NULL && guard++ < 1000) {
        char *cur = strdup(page->cursor);
        kvstore_keys_free(page);
        page = NULL;
        assert_int_equal(kvstore_list_keys(b, prefix, cur, limit, &page),
                         KVSTORE_OK);
        free(cur);
    }
    assert_non_null(page->cursor);
    char *cur = strdup(page->cursor);
    kvstore_keys_free(page);
    return cur;
}

void conf_cursors_not_shared(kvstore_bucket *a, kvstore_bucket *b,
                             const char *whose)
{
    for (int way = 0; way < 2; way++) {
        char *cur = conf_first_cursor(way ? b : a, NULL, 3);
        cursor_refused(way ? a : b, NULL, cur, whose);
        free(cur);
    }
}

/*
 * Configuration from key/value pairs, the host (opened stores) and the
 * identifier policy: which store and which libkvstore bucket a guest's
 * `open(identifier)` reaches. docs/wasi.md lists the keys.
 *
 * SPDX-License-Identifier: MIT
 */
#include "internal.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void strv_free(char **v, size_t n)
{
    if (!v)
        return;
    for (size_t k = 0; k < n; k++)
        free(v[k]);
    free(v);
}

/* Splits a comma-separated list into a new vector; empty items are
 * dropped. */
static int strv_split(const char *s, char ***out, size_t *n)
{
    size_t cap = 1;
    for (const char *p = s; *p; p++)
        cap += *p == ',';
    char **v = calloc(cap, sizeof(*v));
    size_t k = 0;
    if (!v)
        return KVSTORE_ENOMEM;
    for (const char *p = s;;) {
        size_t len = strcspn(p, ",");
        if (len && !(v[k++] = strndup(p, len))) {
            strv_free(v, k - 1);
            return KVSTORE_ENOMEM;
        }
        if (!p[len])
            break;
        p += len + 1;
    }
    *out = v;
    *n = k;
    return KVSTORE_OK;
}

static int strv_copy(char **src, size_t n, char ***out)
{
    *out = NULL;
    if (!src)
        return KVSTORE_OK;
    char **v = calloc(n ? n : 1, sizeof(*v));
    if (!v)
        return KVSTORE_ENOMEM;
    for (size_t k = 0; k < n; k++)
        if (!(v[k] = strdup(src[k]))) {
            strv_free(v, k);
            return KVSTORE_ENOMEM;
        }
    *out = v;
    return KVSTORE_OK;
}

static void config_clear(kvstore_wasi_config *c)
{
    free(c->redis_url);
    free(c->nats_url);
    free(c->path);
    free(c->store);
    for (size_t k = 0; k < c->nlabels; k++) {
        free(c->labels[k].label);
        free(c->labels[k].uri);
    }
    free(c->prefix);
    free(c->default_bucket);
    strv_free(c->allow, c->nallow);
    strv_free(c->watch, c->nwatch);
}

static void config_defaults(kvstore_wasi_config *c)
{
    memset(c, 0, sizeof(*c));
    c->page_size = WASI_DEFAULT_PAGE;
    c->max_handles = WASI_DEFAULT_HANDLES;
    c->max_cursors = WASI_DEFAULT_CURSORS;
    c->max_batch = WASI_DEFAULT_BATCH;
    c->queue_max = WASI_DEFAULT_QUEUE;
    c->queue_bytes = WASI_DEFAULT_QUEUE_BYTES;
}

KVSTORE_API int kvstore_wasi_config_new(kvstore_wasi_config **out)
{
    if (!out)
        return KVSTORE_EINVAL;
    *out = malloc(sizeof(**out));
    if (!*out)
        return KVSTORE_ENOMEM;
    config_defaults(*out);
    return KVSTORE_OK;
}

KVSTORE_API void kvstore_wasi_config_free(kvstore_wasi_config *c)
{
    if (!c)
        return;
    config_clear(c);
    free(c);
}

static int set_string(char **slot, const char *value)
{
    char *copy = strdup(value);
    if (!copy)
        return KVSTORE_ENOMEM;
    free(*slot);
    *slot = copy;
    return KVSTORE_OK;
}

static int set_number(const char *key, const char *value, uint64_t min,
                      uint64_t max, uint64_t *out)
{
    char *end;
    errno = 0;
    unsigned long long n = strtoull(value, &end, 10);
    (void)key;
    if (errno || end == value || *end || value[0] == '-' || n < min || n > max)
        return KVSTORE_EINVAL;
    *out = n;
    return KVSTORE_OK;
}

static wasi_store_cfg *label_slot(kvstore_wasi_config *c, const char *label)
{
    for (size_t k = 0; k < c->nlabels; k++)
        if (strcmp(c->labels[k].label, label) == 0)
            return &c->labels[k];
    if (c->nlabels == WASI_MAX_LABELS)
        return NULL;
    wasi_store_cfg *s = &c->labels[c->nlabels];
    if (!(s->label = strdup(label)))
        return NULL;
    c->nlabels++;
    return s;
}

static bool valid_label(const char *s)
{
    size_t n = strlen(s);
    if (n == 0 || n > KVSTORE_BUCKET_NAME_MAX)
        return false;
    for (const char *p = s; *p; p++)
        if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
              (*p >= '0' && *p <= '9') || *p == '_' || *p == '-'))
            return false;
    return true;
}

KVSTORE_API int kvstore_wasi_config_set(kvstore_wasi_config *c,
                                        const char *key, const char *value)
{
    uint64_t n;
    int rc;
    if (!c || !key || !value)
        return KVSTORE_EINVAL;
    if (strcmp(key, "wasi_keyvalue_redis_url") == 0)
        return set_string(&c->redis_url, value);
    if (strcmp(key, "wasi_keyvalue_nats_url") == 0)
        return set_string(&c->nats_url, value);
    if (strcmp(key, "wasi_keyvalue_path") == 0)
        return set_string(&c->path, value);
    if (strcmp(key, "store") == 0)
        return set_string(&c->store, value);
    if (strncmp(key, "store.", 6) == 0) {
        if (!valid_label(key + 6))
            return KVSTORE_EINVAL;
        wasi_store_cfg *s = label_slot(c, key + 6);
        if (!s)
            return KVSTORE_ENOMEM;
        s->lent = NULL;
        return set_string(&s->uri, value);
    }
    if (strcmp(key, "bucket_prefix") == 0) {
        /* The prefix is part of every bucket name: same alphabet. */
        if (value[0] && !valid_label(value))
            return KVSTORE_EINVAL;
        return set_string(&c->prefix, value);
    }
    if (strcmp(key, "default_bucket") == 0) {
        if (!valid_label(value))
            return KVSTORE_EINVAL;
        return set_string(&c->default_bucket, value);
    }
    if (strcmp(key, "allow") == 0 || strcmp(key, "watch") == 0) {
        char **v;
        size_t nv;
        if ((rc = strv_split(value, &v, &nv)) != KVSTORE_OK)
            return rc;
        if (key[0] == 'a') {
            strv_free(c->allow, c->nallow);
            c->allow = v;
            c->nallow = nv;
        } else {
            strv_free(c->watch, c->nwatch);
            c->watch = v;
            c->nwatch = nv;
        }
        return KVSTORE_OK;
    }
    if (strcmp(key, "identifiers") == 0) {
        if (strcmp(value, "refuse") == 0)
            c->policy = WASI_ID_REFUSE;
        else if (strcmp(value, "map") == 0)
            c->policy = WASI_ID_MAP;
        else
            return KVSTORE_EINVAL;
        return KVSTORE_OK;
    }
    static const struct {
        const char *key;
        uint64_t min, max;
        size_t off;
        bool wide;
    } nums[] = {
        {"page_size", 1, KVSTORE_PAGE_MAX, offsetof(kvstore_wasi_config, page_size), false},
        {"max_handles", 1, WASI_MAX_HANDLES, offsetof(kvstore_wasi_config, max_handles), false},
        {"max_cursors", 1, WASI_MAX_CURSORS, offsetof(kvstore_wasi_config, max_cursors), false},
        {"max_batch", 1, 100000, offsetof(kvstore_wasi_config, max_batch), false},
        {"watch_queue", 1, WASI_MAX_QUEUE, offsetof(kvstore_wasi_config, queue_max), false},
        {"watch_queue_bytes", 1, UINT32_MAX, offsetof(kvstore_wasi_config, queue_bytes), true},
    };
    for (size_t k = 0; k < sizeof(nums) / sizeof(nums[0]); k++) {
        if (strcmp(key, nums[k].key) != 0)
            continue;
        if ((rc = set_number(key, value, nums[k].min, nums[k].max, &n)) != KVSTORE_OK)
            return rc;
        if (nums[k].wide)
            *(uint64_t *)(void *)((char *)c + nums[k].off) = n;
        else
            *(uint32_t *)(void *)((char *)c + nums[k].off) = (uint32_t)n;
        return KVSTORE_OK;
    }
    return KVSTORE_NOTFOUND;
}

KVSTORE_API int kvstore_wasi_config_lend_store(kvstore_wasi_config *c,
                                               const char *label,
                                               kvstore_store *store)
{
    if (!c || !store)
        return KVSTORE_EINVAL;
    if (!label) {
        c->lent_default = store;
        return KVSTORE_OK;
    }
    if (!valid_label(label))
        return KVSTORE_EINVAL;
    wasi_store_cfg *s = label_slot(c, label);
    if (!s)
        return KVSTORE_ENOMEM;
    free(s->uri);
    s->uri = NULL;
    s->lent = store;
    return KVSTORE_OK;
}

/* ---- host ------------------------------------------------------------- */

static int config_copy(kvstore_wasi_config *dst, const kvstore_wasi_config *src)
{
    *dst = *src;
    dst->redis_url = dst->nats_url = dst->path = dst->store = NULL;
    dst->prefix = dst->default_bucket = NULL;
    dst->allow = dst->watch = NULL;
    dst->nlabels = 0;
    const char *const from[] = {src->redis_url, src->nats_url, src->path,
                                src->store, src->prefix, src->default_bucket};
    char **to[] = {&dst->redis_url, &dst->nats_url, &dst->path, &dst->store,
                   &dst->prefix, &dst->default_bucket};
    for (size_t k = 0; k < 6; k++)
        if (from[k] && !(*to[k] = strdup(from[k])))
            return KVSTORE_ENOMEM;
    for (size_t k = 0; k < src->nlabels; k++) {
        wasi_store_cfg *d = &dst->labels[k];
        d->lent = src->labels[k].lent;
        d->uri = NULL;
        if (!(d->label = strdup(src->labels[k].label)))
            return KVSTORE_ENOMEM;
        dst->nlabels++;
        if (src->labels[k].uri && !(d->uri = strdup(src->labels[k].uri)))
            return KVSTORE_ENOMEM;
    }
    if (strv_copy(src->allow, src->nallow, &dst->allow) != KVSTORE_OK)
        return KVSTORE_ENOMEM;
    if (strv_copy(src->watch, src->nwatch, &dst->watch) != KVSTORE_OK)
        return KVSTORE_ENOMEM;
    if (!dst->prefix && !(dst->prefix = strdup("")))
        return KVSTORE_ENOMEM;
    if (!dst->default_bucket && !(dst->default_bucket = strdup("default")))
        return KVSTORE_ENOMEM;
    return KVSTORE_OK;
}

static int store_open(wasi_store *s, const char *uri, kvstore_store *lent)
{
    if (lent) {
        s->store = lent;
        s->owned = false;
        return KVSTORE_OK;
    }
    s->owned = true;
    return kvstore_open(&s->store, uri);
}

KVSTORE_API int kvstore_wasi_host_new(kvstore_wasi_host **out,
                                      const kvstore_wasi_config *c)
{
    if (!out || !c)
        return KVSTORE_EINVAL;
    *out = NULL;
    kvstore_wasi_host *h = calloc(1, sizeof(*h));
    if (!h)
        return KVSTORE_ENOMEM;
    int rc = config_copy(&h->cfg, c);
    if (rc != KVSTORE_OK) {
        kvstore_wasi_host_free(h);
        return rc;
    }
    /* wasmCloud's precedence: redis, then nats, then a path, else an
     * in-memory store. An explicit `store` or a lent store wins. */
    char *uri = NULL;
    const char *def = "memory:";
    if (c->store)
        def = c->store;
    else if (c->redis_url)
        def = c->redis_url;
    else if (c->nats_url)
        def = c->nats_url;
    else if (c->path) {
        size_t n = strlen(c->path) + sizeof("file://");
        if (!(uri = malloc(n))) {
            kvstore_wasi_host_free(h);
            return KVSTORE_ENOMEM;
        }
        snprintf(uri, n, "file://%s", c->path);
        def = uri;
    }
    rc = store_open(&h->def, def, c->lent_default);
    free(uri);
    for (size_t k = 0; rc == KVSTORE_OK && k < h->cfg.nlabels; k++) {
        h->labels[k].label = h->cfg.labels[k].label;
        rc = store_open(&h->labels[k], h->cfg.labels[k].uri, h->cfg.labels[k].lent);
        h->nlabels = k + 1;
    }
    if (rc != KVSTORE_OK) {
        kvstore_wasi_host_free(h);
        return rc;
    }
    *out = h;
    return KVSTORE_OK;
}

KVSTORE_API void kvstore_wasi_host_free(kvstore_wasi_host *h)
{
    if (!h)
        return;
    if (h->def.owned)
        kvstore_close(h->def.store);
    for (size_t k = 0; k < h->nlabels; k++)
        if (h->labels[k].owned)
            kvstore_close(h->labels[k].store);
    config_clear(&h->cfg);
    free(h);
}

/* ---- identifiers ------------------------------------------------------ */

bool wasi_allowed(const kvstore_wasi_config *c, const char *id, size_t len)
{
    if (!c->allow)
        return true;
    /* "" is the default bucket and is allowed under that name. */
    if (len == 0) {
        id = c->default_bucket;
        len = strlen(id);
    }
    for (size_t k = 0; k < c->nallow; k++)
        if (strlen(c->allow[k]) == len && memcmp(c->allow[k], id, len) == 0)
            return true;
    return false;
}

static bool name_char(unsigned char ch, bool underscore)
{
    return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
           (ch >= '0' && ch <= '9') || ch == '-' || (underscore && ch == '_');
}

/* PREFIX + the identifier's bucket name into name. Under `refuse` the
 * identifier must be a bucket name; under `map` every byte outside
 * [A-Za-z0-9-] (including '_') becomes '_' and two lowercase hex digits,
 * which is reversible. */
static int bucket_name(const kvstore_wasi_config *c, const char *id,
                       size_t len, char *name, char *why, size_t whylen)
{
    size_t plen = strlen(c->prefix), n = plen;
    if (len == 0) {
        id = c->default_bucket;
        len = strlen(id);
    }
    memcpy(name, c->prefix, plen);
    for (size_t k = 0; k < len; k++) {
        unsigned char ch = (unsigned char)id[k];
        if (c->policy == WASI_ID_REFUSE || name_char(ch, false)) {
            if (c->policy == WASI_ID_REFUSE && !name_char(ch, true)) {
                snprintf(why, whylen, "bucket identifier is not a bucket name");
                return KVSTORE_EINVAL;
            }
            if (n + 1 > KVSTORE_BUCKET_NAME_MAX)
                goto too_long;
            name[n++] = (char)ch;
        } else {
            if (n + 3 > KVSTORE_BUCKET_NAME_MAX)
                goto too_long;
            snprintf(name + n, 4, "_%02x", ch);
            n += 3;
        }
    }
    name[n] = '\0';
    return KVSTORE_OK;
too_long:
    snprintf(why, whylen, "bucket identifier is not a bucket name");
    return KVSTORE_EINVAL;
}

KVSTORE_API int kvstore_wasi_bucket_name(const kvstore_wasi_host *h,
                                         const char *id, size_t len,
                                         char *buf)
{
    char why[64];
    if (!h || (!id && len) || !buf)
        return KVSTORE_EINVAL;
    return bucket_name(&h->cfg, id ? id : "", len, buf, why, sizeof(why));
}

int wasi_resolve(kvstore_wasi_instance *i, const char *id, size_t len,
                 kvstore_store **store, char *name)
{
    const kvstore_wasi_host *h = i->host;
    *store = h->def.store;
    /* A Spin-style label names its own store; its bucket is the label. */
    for (size_t k = 0; k < h->nlabels; k++)
        if (strlen(h->labels[k].label) == len &&
            memcmp(h->labels[k].label, id, len) == 0)
            *store = h->labels[k].store;
    return bucket_name(&h->cfg, id, len, name, i->errbuf, sizeof(i->errbuf));
}

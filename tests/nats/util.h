/*
 * Small helpers shared by the nats backend tests.
 *
 * SPDX-License-Identifier: MIT
 */
#ifndef KVSTORE_TEST_NATS_UTIL_H
#define KVSTORE_TEST_NATS_UTIL_H

#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>

#include <kvstore/kvstore.h>
#include <nats/nats.h>

/* Asserts a kvstore call returns `want`, printing kvstore_errmsg() if not. */
#define KV_EXPECT(want, call)                                            \
    do {                                                                 \
        int rc_ = (call);                                                \
        if (rc_ != (want))                                               \
            print_error("%s = %d (%s), want %d\n", #call, rc_,           \
                        kvstore_errmsg(), (int)(want));                  \
        assert_int_equal(rc_, (want));                                   \
    } while (0)
#define KV_OK(call) KV_EXPECT(KVSTORE_OK, call)

static inline void sleep_ms(int ms)
{
    struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000L };
    nanosleep(&ts, NULL);
}

/* A bucket name unique to this run. */
static inline const char *run_bucket(char *buf, size_t n, const char *base)
{
    static unsigned seq;
    snprintf(buf, n, "%s_%ld_%u", base, (long)getpid(), seq++);
    return buf;
}

/* A raw nats.c connection and JetStream context, for interop checks,
 * and with raw_open_kv a handle on one KV bucket. */
typedef struct {
    natsConnection *nc;
    jsCtx *js;
    kvStore *kv; /* NULL unless raw_open_kv */
} raw_nats;

static inline void raw_open(raw_nats *r, const char *url)
{
    r->kv = NULL;
    natsOptions *o = NULL;
    assert_int_equal(natsOptions_Create(&o), NATS_OK);
    assert_int_equal(natsOptions_SetURL(o, url), NATS_OK);
    assert_int_equal(natsConnection_Connect(&r->nc, o), NATS_OK);
    natsOptions_Destroy(o);
    assert_int_equal(natsConnection_JetStream(&r->js, r->nc, NULL), NATS_OK);
}

static inline void raw_open_kv(raw_nats *r, const char *url,
                               const char *bucket)
{
    raw_open(r, url);
    assert_int_equal(js_KeyValue(&r->kv, r->js, bucket), NATS_OK);
}

static inline void raw_close(raw_nats *r)
{
    if (r->kv != NULL)
        kvStore_Destroy(r->kv);
    jsCtx_Destroy(r->js);
    natsConnection_Destroy(r->nc);
}

/* A KV bucket's stream made by hand: its name "KV_<bucket>", its subject
 * "$KV.<bucket>.>" and the config nats.c and the nats CLI give one (file
 * storage, one message per subject, rollups, no deletes, discard new),
 * with direct get as `direct` says. `config` points into the struct:
 * do not copy it. */
typedef struct {
    char name[80];
    char subject[90];
    const char *subjects[1];
    jsStreamConfig config;
} kv_stream;

static inline void kv_stream_init(kv_stream *k, const char *bucket,
                                  bool direct)
{
    snprintf(k->name, sizeof k->name, "KV_%s", bucket);
    snprintf(k->subject, sizeof k->subject, "$KV.%s.>", bucket);
    k->subjects[0] = k->subject;
    jsStreamConfig *sc = &k->config;
    jsStreamConfig_Init(sc);
    sc->Name = k->name;
    sc->Subjects = k->subjects;
    sc->SubjectsLen = 1;
    sc->MaxMsgsPerSubject = 1;
    sc->Storage = js_FileStorage;
    sc->AllowRollup = true;
    sc->DenyDelete = true;
    sc->Discard = js_DiscardNew;
    sc->AllowDirect = direct;
}

/* Reads `key` and asserts it holds the NUL-terminated `want`. */
static inline void check_value(kvstore_bucket *b, const char *key,
                                const char *want)
{
    void *v = NULL;
    size_t len = 0;
    KV_OK(kvstore_get(b, key, &v, &len));
    assert_int_equal(len, strlen(want));
    assert_memory_equal(v, want, len);
    kvstore_free(v);
}

#endif

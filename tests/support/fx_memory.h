/*
 * Test helpers first written for tests/memory and tests/unit, shared with
 * every folder: a recorder of watch events that a test can wait on,
 * starting and joining worker threads, and one-call checks of a listing
 * page, a refused bucket-list cursor and a get_many result. Like
 * support.h, each helper fails the running cmocka test on an unexpected
 * result. Link test_support.
 *
 * SPDX-License-Identifier: MIT
 */
#ifndef KVS_TEST_FX_MEMORY_H
#define KVS_TEST_FX_MEMORY_H

#include "support.h"

#include <pthread.h>
#include <stdatomic.h>

/* STORE_TEST (support.h) on a fresh private memory: store and its
 * bucket "bk", for a test to which neither name matters. */
#define MEMORY_TEST(test) STORE_TEST(test, "memory:", "bk")

/* One recorded event. The key and the value are copied up to 31 bytes
 * (NUL-terminated); `len` is the value's real length. */
typedef struct ev_entry {
    kvstore_event type;
    char key[32];
    char value[32];
    size_t len;
    bool value_null;
} ev_entry;

/* Events in arrival order. `n` counts every event, also those past
 * `cap`, which are not kept. Read ev[] and n only once no callback can
 * run any more (the watch or queue stopped), or through ev_log_count.
 * For the watch_stop guarantee the log also counts the calls that began
 * (`began`) and ended (`ended`), and those that began after the test
 * called ev_log_stopped (`late`); each call first sleeps `delay_us`
 * (set before the watch starts) so that events queue up behind it. */
typedef struct ev_log {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    bool held;
    size_t n;
    atomic_int began, ended, late;
    atomic_bool stopped;
    unsigned delay_us;
    size_t cap;
    ev_entry ev[];
} ev_log;

/* A log keeping up to `cap` events (ev_log_free). */
ev_log *ev_log_new(size_t cap);
void ev_log_free(ev_log *log);
/* A kvstore_watch_fn with the ev_log as its payload: records the event
 * and wakes ev_log_wait. While the log is held, it waits first. */
void ev_log_add(void *log, kvstore_event type, const char *key,
                const void *value, size_t len);
/* Holds (true) or releases (false) the callbacks at ev_log_add, to keep
 * events queued behind the one being delivered. */
void ev_log_hold(ev_log *log, bool held);
/* Says that kvstore_watch_stop (or the queue's free) has returned: a
 * call of ev_log_add that begins after this counts as `late`. */
void ev_log_stopped(ev_log *log);
/* Waits until at least `n` events arrived; fails the test if they have
 * not after 20 s (a deadline only so that a broken build fails instead of
 * hanging: no test asserts how fast events come). */
void ev_log_wait(ev_log *log, size_t n);
/* The number of events so far. */
size_t ev_log_count(ev_log *log);
/* Asserts that event `i` is `type` on `key` with `value` (NULL: a NULL
 * value of length 0, as a delete has; "" is an empty, non-NULL value). */
void ev_log_expect(const ev_log *log, size_t i, kvstore_event type,
                   const char *key, const char *value);

/* A worker for threads_start: puts the values "0", "1", .. "count-1",
 * in this order, under the key "<prefix><id>" through `put` (a kvstore
 * status). Returns non-NULL if a put fails. */
typedef struct seq_writer {
    int (*put)(void *to, const char *key, const char *value);
    void *to;
    const char *prefix;
    int id;
    int count;
} seq_writer;
void *seq_write(void *writer);
/* A seq_writer put into the kvstore_bucket `to` (kvstore_set). */
int put_in_bucket(void *to, const char *key, const char *value);
/* Asserts that `log` holds exactly the SET events of `writers`
 * seq_writers of ids 0.. under `prefix` that put `count` values each:
 * every key's values in the order written, each once. */
void ev_log_expect_sequences(const ev_log *log, const char *prefix,
                             int writers, int count);

/* Starts `n` threads, thread i running fn(args + i * size); fails the
 * test if one cannot start. */
void threads_start(pthread_t *th, size_t n, void *(*fn)(void *), void *args,
                   size_t size);
/* Joins `n` threads, all of them, then fails the test if one returned
 * non-NULL (a thread reports a failure by its return value: a cmocka
 * assert is only safe on the test's own thread). */
void threads_join(const pthread_t *th, size_t n);
/* threads_start then threads_join, for at most 64 threads. */
void threads_run(size_t n, void *(*fn)(void *), void *args, size_t size);

/* Lists one page of `b` (prefix, cursor, limit as for kvstore_list_keys)
 * and asserts that it holds `count` keys, the first one `first` (NULL:
 * any). Returns whether the page has a cursor to a next page. */
bool expect_page(kvstore_bucket *b, const char *prefix, const char *cursor,
                 size_t limit, size_t count, const char *first);

/* kvstore_bucket_list of `s` from `cursor` must be EINVAL with a NULL
 * page; `what` names the cursor in the failure message. */
void bucket_list_refused(kvstore_store *s, const char *cursor,
                         const char *what);

/* Asserts the result of kvstore_get_many: slot i holds `want[i]` (NULL:
 * absent, a NULL value of length 0). Frees the values. */
void expect_many(void *const out[], const size_t lens[],
                 const char *const want[], size_t n);

/* A CAS snapshot of `key` in `b` (kvstore_cas_free); fails on error. */
kvstore_cas *cas_of(kvstore_bucket *b, const char *key);
/* Swaps the string `value` in through `cas`, asserts that the swap
 * returns `want` and frees `cas`. */
void cas_swap_free(kvstore_cas *cas, const char *value, int want);

/* xorshift64: a reproducible pseudo-random sequence for test data (the
 * state must not be 0). */
static inline uint64_t xorshift64(uint64_t *state)
{
    *state ^= *state << 13;
    *state ^= *state >> 7;
    *state ^= *state << 17;
    return *state;
}

#endif /* KVS_TEST_FX_MEMORY_H */

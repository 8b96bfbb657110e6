/*
 * kvstore-sqlite: watches of the writes made through this process.
 *
 * Every write of the process to a database file goes through the group
 * commit of its sq_db, so the leader knows, after each COMMIT, exactly
 * which keys changed and to what: it queues one event per matching key
 * on each watch, in commit order, with a copy of the value written (not a
 * value read later). Each watch has its own thread that calls the user's
 * callback, so a slow callback delays only its own watch, and
 * watch_stop joins that thread, after which the callback never runs.
 *
 * Writes by other processes are not seen (no KVSTORE_CAP_WATCH_CROSS_
 * PROCESS): SQLite has no change feed between processes, and polling
 * `PRAGMA data_version` would say only that something changed, not what.
 *
 * The sq_db's kvstore_watch_list does the matching and queueing.
 *
 * Ownership: a watch is the core's entry in that list, which owns its
 * queued events and its thread.
 *
 * SPDX-License-Identifier: MIT
 */
#include "sqlite.h"

#include <stdlib.h>
#include <string.h>

/* Queues one event on every matching watch. Out of memory drops the
 * event: there is no caller to tell (the write itself has succeeded). */
static void push(sq_db *db, const char *bucket, kvstore_event event,
                 const char *key, const void *value, size_t len)
{
    (void)kvstore_watch_list_push(db->watches, bucket, event, key, value,
                                  len);
}

static void publish_op(sq_db *db, const sq_op *op)
{
    if (op->rc != KVSTORE_OK)
        return;
    for (size_t i = 0; i < op->n; i++) {
        const char *key = op->keys[i];
        switch (op->kind) {
        case OP_PUT:
        case OP_CAS:
            push(db, op->bucket, KVSTORE_EVENT_SET, key, op->values[i],
                 op->lens[i]);
            break;
        case OP_INCR:
            push(db, op->bucket, KVSTORE_EVENT_SET, key, op->text,
                 strlen(op->text));
            break;
        case OP_DEL:
            push(db, op->bucket, KVSTORE_EVENT_DELETE, key, NULL, 0);
            break;
        default:
            break;
        }
    }
}

void sq_watch_publish(sq_db *db, void *const *ops, size_t n)
{
    for (size_t i = 0; i < n; i++)
        publish_op(db, ops[i]);
}

int sq_watch_start(void **out, void *p, const char *prefix,
                   kvstore_watch_fn fn, void *payload)
{
    sq_bucket *b = p;
    int rc = kvstore_watch_list_add(out, b->st->db->watches, b->name, prefix,
                                    fn, payload);
    return rc == KVSTORE_OK ? rc
                            : kvstore_set_error(rc, "sqlite: %s",
                                                kvstore_errmsg());
}

void sq_watch_stop(void *p)
{
    kvstore_watch_list_remove(p);
}

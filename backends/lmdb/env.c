/*
 * One LMDB environment per directory per process, shared by every
 * kvstore_open of that directory: LMDB forbids opening one environment
 * twice in a process (closing either would drop the other's fcntl locks).
 * The core's registry of shared objects (kvstore_shared_get) keeps them:
 * it tells directories apart by device and inode, so two spellings of a
 * path share one environment.
 *
 * SPDX-License-Identifier: MIT
 */
#include "lmdb.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sched.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

int lm_error(int mdb_rc, const char *what)
{
    switch (mdb_rc) {
    case ENOMEM:
        return kvstore_set_error(KVSTORE_ENOMEM, "lmdb: %s: out of memory",
                                 what);
    case EACCES:
    case EROFS:
        return kvstore_set_error(KVSTORE_EACCESS, "lmdb: %s: %s", what,
                                 mdb_strerror(mdb_rc));
    default:
        return kvstore_set_error(KVSTORE_EIO, "lmdb: %s: %s", what,
                                 mdb_strerror(mdb_rc));
    }
}

/* mkdir -p, for a store directory that does not exist yet. */
static int make_path(const char *path)
{
    size_t n = strlen(path);
    char *p = malloc(n + 1);
    if (p == NULL)
        return ENOMEM;
    memcpy(p, path, n + 1);
    for (size_t i = 1; i <= n; i++) {
        if (p[i] != '/' && p[i] != '\0')
            continue;
        char c = p[i];
        p[i] = '\0';
        if (mkdir(p, 0700) != 0 && errno != EEXIST) {
            int err = errno;
            free(p);
            return err;
        }
        p[i] = c;
    }
    free(p);
    return 0;
}

static void env_destroy(void *p)
{
    lm_env *e = p;
    for (size_t i = 0; i < LM_POOL_MAX; i++) {
        uintptr_t v = atomic_exchange(&e->pool[i], 0);
        if (v != 0)
            mdb_txn_abort((MDB_txn *)(v & ~LM_SLOT_BUSY));
    }
    if (e->env != NULL)
        mdb_env_close(e->env);
    pthread_mutex_destroy(&e->resize_mu);
    kvstore_commit_queue_free(e->commits);
    kvstore_watch_list_free(e->watches);
    free(e);
}

/* What env_open needs besides the registry's arguments. */
typedef struct env_args {
    const char *path;
    size_t map_size;
    uint64_t reap_ms;
} env_args;

static int env_open(void **out, void *ctx)
{
    const char *path = ((env_args *)ctx)->path;
    size_t map_size = ((env_args *)ctx)->map_size;
    lm_env *e = calloc(1, sizeof *e);
    if (e == NULL)
        return kvstore_set_error(KVSTORE_ENOMEM, "lmdb: out of memory");
    e->reap_ms = ((env_args *)ctx)->reap_ms;
    /* Not at once: a process that opens and writes once should not pay a
     * pass for it. */
    if (e->reap_ms != 0)
        e->next_reap = lm_now_ms() + e->reap_ms;
    atomic_init(&e->map_users, 0);
    atomic_init(&e->map_resizing, false);
    pthread_mutex_init(&e->resize_mu, NULL);

    if ((e->watches = kvstore_watch_list_new()) == NULL) {
        env_destroy(e);
        return kvstore_set_error(KVSTORE_ENOMEM, "lmdb: out of memory");
    }
    if (lm_commits_new(e) != KVSTORE_OK) {
        env_destroy(e);
        return KVSTORE_ENOMEM;
    }
    int rc = mdb_env_create(&e->env);
    if (rc == 0)
        rc = mdb_env_set_maxdbs(e->env, 0);
    if (rc == 0)
        rc = mdb_env_set_mapsize(e->env, map_size);
    /* MDB_NOTLS: read transactions are not tied to a thread, so any thread
     * may use any handle and the pool can hand transactions around. */
    if (rc == 0)
        rc = mdb_env_open(e->env, path, MDB_NOTLS, 0600);
    if (rc != 0) {
        int code = lm_error(rc, "cannot open the environment");
        env_destroy(e);
        return code;
    }
    int dead = 0;
    mdb_reader_check(e->env, &dead); /* readers left by killed processes */
    if (mdb_env_get_maxkeysize(e->env) < LM_KEY_LIMIT) {
        env_destroy(e);
        return kvstore_set_error(KVSTORE_EIO, "lmdb: liblmdb was built with "
                                 "keys shorter than %d bytes", LM_KEY_LIMIT);
    }
    e->maxkey = LM_KEY_LIMIT;

    /* A read transaction suffices for the main database, so opening a
     * store never waits for another process's writer. */
    MDB_txn *txn = NULL;
    for (int tries = 0; tries < 3; tries++) {
        rc = mdb_txn_begin(e->env, NULL, MDB_RDONLY, &txn);
        if (rc == MDB_MAP_RESIZED) {
            mdb_env_set_mapsize(e->env, 0);
            continue;
        }
        break;
    }
    if (rc == 0)
        rc = mdb_dbi_open(txn, NULL, 0, &e->data);
    if (rc == 0) {
        rc = mdb_txn_commit(txn);
        txn = NULL;
    }
    if (txn != NULL)
        mdb_txn_abort(txn);
    if (rc != 0) {
        int code = lm_error(rc, "cannot open the databases");
        env_destroy(e);
        return code;
    }
    *out = e;
    return KVSTORE_OK;
}

int lm_env_acquire(lm_env **out, const char *path, bool create,
                   size_t map_size, uint64_t reap_ms)
{
    struct stat st;
    if (stat(path, &st) != 0 && errno == ENOENT && create) {
        int err = make_path(path);
        if (err != 0)
            return kvstore_set_error(err == EACCES ? KVSTORE_EACCESS
                                                   : KVSTORE_EIO,
                                     "lmdb: cannot create '%s': %s", path,
                                     strerror(err));
    }
    if (stat(path, &st) != 0) {
        if (errno == ENOENT)
            return kvstore_set_error(KVSTORE_ENOSTORE, "lmdb: no store "
                                     "directory '%s'", path);
        return kvstore_set_error(KVSTORE_EIO, "lmdb: cannot open '%s': %s",
                                 path, strerror(errno));
    }
    if (!S_ISDIR(st.st_mode))
        return kvstore_set_error(KVSTORE_EINVAL, "lmdb: '%s' is not a "
                                 "directory", path);

    void *e;
    int rc = kvstore_shared_get(&e, "lmdb", path, env_open,
                                &(env_args){path, map_size, reap_ms});
    *out = e;
    return rc;
}

void lm_env_ref(lm_env *e)
{
    kvstore_shared_ref(e);
}

void lm_env_release(lm_env *e)
{
    kvstore_shared_put(e, env_destroy);
}

size_t lm_env_mapsize(lm_env *e)
{
    MDB_envinfo info;
    mdb_env_info(e->env, &info);
    return info.me_mapsize;
}

/* Waits out a resize and enters after it (the rare path of map_enter). */
static void map_enter_after_resize(lm_env *e)
{
    for (;;) {
        atomic_fetch_sub(&e->map_users, 1);
        pthread_mutex_lock(&e->resize_mu); /* wait the resize out */
        pthread_mutex_unlock(&e->resize_mu);
        atomic_fetch_add(&e->map_users, 1);
        if (!atomic_load(&e->map_resizing))
            return;
    }
}

static inline void map_enter(lm_env *e)
{
    /* Sequentially consistent on both sides (here and in lm_env_grow):
     * either the resizer sees us counted, or we see its flag. */
    atomic_fetch_add(&e->map_users, 1);
    if (atomic_load(&e->map_resizing))
        map_enter_after_resize(e);
}

void lm_map_enter(lm_env *e)
{
    map_enter(e);
}

void lm_map_leave(lm_env *e)
{
    atomic_fetch_sub_explicit(&e->map_users, 1, memory_order_release);
}

int lm_write_txn(lm_env *e, int nosync,
                 int (*body)(MDB_txn *txn, void *ctx), void *ctx,
                 size_t *mapsize)
{
    lm_map_enter(e);
    /* Inside the map bracket: a resizer reads the flags too. */
    if (nosync >= 0)
        mdb_env_set_flags(e->env, MDB_NOSYNC, nosync);
    if (mapsize != NULL)
        *mapsize = lm_env_mapsize(e);
    MDB_txn *txn = NULL;
    int rc = mdb_txn_begin(e->env, NULL, 0, &txn);
    if (rc == 0) {
        rc = body(txn, ctx);
        if (rc == 0)
            rc = mdb_txn_commit(txn);
        else
            mdb_txn_abort(txn);
    }
    lm_map_leave(e);
    return rc;
}

int lm_env_grow(lm_env *e, size_t seen, bool adopt)
{
    int rc = 0;
    pthread_mutex_lock(&e->resize_mu);
    atomic_store(&e->map_resizing, true);
    /* Transactions are short (none waits for anything while open). */
    while (atomic_load(&e->map_users) != 0)
        sched_yield();
    /* Reset transactions must not outlive a remap. A busy slot is a
     * reader that took it before it could see map_resizing (or one that
     * saw it and is putting the transaction back): wait for it. */
    for (size_t i = 0; i < LM_POOL_MAX; i++) {
        uintptr_t v = atomic_load(&e->pool[i]);
        while ((v & LM_SLOT_BUSY) ||
               !atomic_compare_exchange_strong(&e->pool[i], &v, 0)) {
            if (v & LM_SLOT_BUSY) {
                sched_yield();
                v = atomic_load(&e->pool[i]);
            }
        }
        if (v != 0)
            mdb_txn_abort((MDB_txn *)v);
    }
    if (adopt) {
        rc = mdb_env_set_mapsize(e->env, 0);
    } else if (lm_env_mapsize(e) == seen) { /* else another thread grew it */
        if (seen > SIZE_MAX / 2)
            rc = MDB_MAP_FULL;
        else
            rc = mdb_env_set_mapsize(e->env, seen * 2);
    }
    atomic_store(&e->map_resizing, false);
    pthread_mutex_unlock(&e->resize_mu);
    return rc == 0 ? KVSTORE_OK : lm_error(rc, "cannot grow the map");
}

/* Takes an idle pooled transaction, marking its slot busy: that one
 * compare-and-swap is the whole bracket of the read against a resize
 * (lm_env_grow waits for busy slots), where a fresh transaction counts
 * itself in map_users. Either this reader sees map_resizing after its
 * compare-and-swap or the resizer sees the slot busy (both sequentially
 * consistent). NULL if no slot holds an idle transaction. */
static inline MDB_txn *pool_take(lm_env *e, size_t *slot)
{
    for (size_t i = 0; i < LM_POOL_MAX; i++) {
        uintptr_t v = atomic_load_explicit(&e->pool[i], memory_order_relaxed);
        if (v == 0 || (v & LM_SLOT_BUSY) ||
            !atomic_compare_exchange_strong(&e->pool[i], &v,
                                            v | LM_SLOT_BUSY))
            continue;
        if (atomic_load(&e->map_resizing)) {
            /* Give it back idle for the resizer to abort, and wait. */
            atomic_store_explicit(&e->pool[i], v, memory_order_release);
            pthread_mutex_lock(&e->resize_mu);
            pthread_mutex_unlock(&e->resize_mu);
            return NULL;
        }
        *slot = i;
        return (MDB_txn *)v;
    }
    return NULL;
}

/* One attempt at a read transaction: renews a pooled one, else begins
 * one inside map_enter. On failure the caller holds neither, and the
 * LMDB code is returned. */
static inline int rtxn_try(lm_env *e, MDB_txn **out)
{
    size_t slot;
    MDB_txn *t = pool_take(e, &slot);
    if (t != NULL) {
        int rc = mdb_txn_renew(t);
        if (rc == 0) {
            *out = t;
            return 0;
        }
        mdb_txn_abort(t);
        atomic_store_explicit(&e->pool[slot], 0, memory_order_release);
        return rc;
    }
    map_enter(e);
    /* Straight into *out: a local whose address is taken would cost
     * this inlined path a stack-protector frame. */
    int rc = mdb_txn_begin(e->env, NULL, MDB_RDONLY, out);
    if (rc != 0)
        lm_map_leave(e);
    return rc;
}

/* After a failed first attempt: adopts a map another process grew or
 * clears dead readers, and tries again (8 attempts in all). Kept out of
 * lm_rtxn_begin so that the common path needs no frame of its own. */
__attribute__((noinline)) static int rtxn_recover(lm_env *e, MDB_txn **out,
                                                  int rc)
{
    for (int tries = 1;; tries++) {
        if (rc == MDB_MAP_RESIZED) { /* another process grew the map */
            int g = lm_env_grow(e, 0, true);
            if (g != KVSTORE_OK)
                return g;
        } else {
            int dead = 0;
            if (rc != MDB_READERS_FULL) /* else maybe slots of dead processes */
                return lm_error(rc, "cannot begin a read transaction");
            mdb_reader_check(e->env, &dead);
            if (dead == 0)
                return lm_error(rc, "cannot begin a read transaction");
        }
        if (tries == 8)
            return kvstore_set_error(KVSTORE_EIO, "lmdb: cannot begin a "
                                     "read transaction: the map keeps "
                                     "changing size");
        rc = rtxn_try(e, out);
        if (rc == 0)
            return KVSTORE_OK;
    }
}

int lm_rtxn_begin(lm_env *e, MDB_txn **out)
{
    int rc = rtxn_try(e, out);
    return rc == 0 ? KVSTORE_OK : rtxn_recover(e, out, rc);
}

void lm_rtxn_end(lm_env *e, MDB_txn *txn)
{
    mdb_txn_reset(txn);
    uintptr_t mine = (uintptr_t)txn | LM_SLOT_BUSY;
    /* From a slot: only its taker marked it, so a plain store frees it. */
    for (size_t i = 0; i < LM_POOL_MAX; i++)
        if (atomic_load_explicit(&e->pool[i], memory_order_relaxed) == mine) {
            atomic_store_explicit(&e->pool[i], (uintptr_t)txn,
                                  memory_order_release);
            return;
        }
    /* A fresh one: parked in an empty slot before leaving map_users, so
     * that a resizer, which waits for map_users first, finds it there. */
    if ((uintptr_t)txn & LM_SLOT_BUSY) { /* never from malloc: no slot */
        mdb_txn_abort(txn);
        txn = NULL;
    }
    for (size_t i = 0; i < LM_POOL_MAX && txn != NULL; i++) {
        uintptr_t empty = 0;
        if (atomic_compare_exchange_strong(&e->pool[i], &empty,
                                           (uintptr_t)txn))
            txn = NULL;
    }
    if (txn != NULL)
        mdb_txn_abort(txn);
    lm_map_leave(e);
}

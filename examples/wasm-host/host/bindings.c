/*
 * Binds the wasm2c import names of both wasi:keyvalue drafts (and
 * host.print) to the one implementation in store.c, atomics.c, batch.c
 * and print.c. wasm2c passes each import module's "instance" pointer; the
 * runner passes the guest's kvhost for every module.
 *
 * SPDX-License-Identifier: MIT
 */
#include "imports.h"
#include "wasm2c-names.h"

#define H(inst) ((kvhost *)(void *)(inst))

void Z_wasiZ3AkeyvalueZ2FstoreZ400Z2E2Z2E0Z2DdraftZ_open(struct Z_wasiZ3AkeyvalueZ2FstoreZ400Z2E2Z2E0Z2Ddraft_instance_t *inst, uint32_t a0, uint32_t a1, uint32_t a2)
{
    kv_open(H(inst), a0, a1, a2);
}

void Z_wasiZ3AkeyvalueZ2FstoreZ400Z2E2Z2E0Z2DdraftZ_Z5BmethodZ5DbucketZ2Eget(struct Z_wasiZ3AkeyvalueZ2FstoreZ400Z2E2Z2E0Z2Ddraft_instance_t *inst, uint32_t a0, uint32_t a1, uint32_t a2, uint32_t a3)
{
    kv_get(H(inst), a0, a1, a2, a3);
}

void Z_wasiZ3AkeyvalueZ2FstoreZ400Z2E2Z2E0Z2DdraftZ_Z5BmethodZ5DbucketZ2Eset(struct Z_wasiZ3AkeyvalueZ2FstoreZ400Z2E2Z2E0Z2Ddraft_instance_t *inst, uint32_t a0, uint32_t a1, uint32_t a2, uint32_t a3, uint32_t a4, uint32_t a5)
{
    kv_set(H(inst), a0, a1, a2, a3, a4, a5);
}

void Z_wasiZ3AkeyvalueZ2FstoreZ400Z2E2Z2E0Z2DdraftZ_Z5BmethodZ5DbucketZ2Edelete(struct Z_wasiZ3AkeyvalueZ2FstoreZ400Z2E2Z2E0Z2Ddraft_instance_t *inst, uint32_t a0, uint32_t a1, uint32_t a2, uint32_t a3)
{
    kv_delete(H(inst), a0, a1, a2, a3);
}

void Z_wasiZ3AkeyvalueZ2FstoreZ400Z2E2Z2E0Z2DdraftZ_Z5BmethodZ5DbucketZ2Eexists(struct Z_wasiZ3AkeyvalueZ2FstoreZ400Z2E2Z2E0Z2Ddraft_instance_t *inst, uint32_t a0, uint32_t a1, uint32_t a2, uint32_t a3)
{
    kv_exists(H(inst), a0, a1, a2, a3);
}

void Z_wasiZ3AkeyvalueZ2FstoreZ400Z2E2Z2E0Z2DdraftZ_Z5BresourceZ2DdropZ5Dbucket(struct Z_wasiZ3AkeyvalueZ2FstoreZ400Z2E2Z2E0Z2Ddraft_instance_t *inst, uint32_t a0)
{
    kv_bucket_drop(H(inst), a0);
}

void Z_wasiZ3AkeyvalueZ2FstoreZ400Z2E2Z2E0Z2DdraftZ_Z5BmethodZ5DbucketZ2ElistZ2Dkeys(struct Z_wasiZ3AkeyvalueZ2FstoreZ400Z2E2Z2E0Z2Ddraft_instance_t *inst, uint32_t a0, uint32_t a1, uint64_t a2, uint32_t a3)
{
    kv_list_keys_u64(H(inst), a0, a1, a2, a3);
}

void Z_wasiZ3AkeyvalueZ2FatomicsZ400Z2E2Z2E0Z2DdraftZ_increment(struct Z_wasiZ3AkeyvalueZ2FatomicsZ400Z2E2Z2E0Z2Ddraft_instance_t *inst, uint32_t a0, uint32_t a1, uint32_t a2, uint64_t a3, uint32_t a4)
{
    kv_increment_u64(H(inst), a0, a1, a2, a3, a4);
}

void Z_wasiZ3AkeyvalueZ2FbatchZ400Z2E2Z2E0Z2DdraftZ_getZ2Dmany(struct Z_wasiZ3AkeyvalueZ2FbatchZ400Z2E2Z2E0Z2Ddraft_instance_t *inst, uint32_t a0, uint32_t a1, uint32_t a2, uint32_t a3)
{
    kv_get_many(H(inst), a0, a1, a2, a3);
}

void Z_wasiZ3AkeyvalueZ2FbatchZ400Z2E2Z2E0Z2DdraftZ_setZ2Dmany(struct Z_wasiZ3AkeyvalueZ2FbatchZ400Z2E2Z2E0Z2Ddraft_instance_t *inst, uint32_t a0, uint32_t a1, uint32_t a2, uint32_t a3)
{
    kv_set_many(H(inst), a0, a1, a2, a3);
}

void Z_wasiZ3AkeyvalueZ2FbatchZ400Z2E2Z2E0Z2DdraftZ_deleteZ2Dmany(struct Z_wasiZ3AkeyvalueZ2FbatchZ400Z2E2Z2E0Z2Ddraft_instance_t *inst, uint32_t a0, uint32_t a1, uint32_t a2, uint32_t a3)
{
    kv_delete_many(H(inst), a0, a1, a2, a3);
}

void Z_wasiZ3AkeyvalueZ2FstoreZ400Z2E2Z2E0Z2Ddraft2Z_open(struct Z_wasiZ3AkeyvalueZ2FstoreZ400Z2E2Z2E0Z2Ddraft2_instance_t *inst, uint32_t a0, uint32_t a1, uint32_t a2)
{
    kv_open(H(inst), a0, a1, a2);
}

void Z_wasiZ3AkeyvalueZ2FstoreZ400Z2E2Z2E0Z2Ddraft2Z_Z5BmethodZ5DbucketZ2Eget(struct Z_wasiZ3AkeyvalueZ2FstoreZ400Z2E2Z2E0Z2Ddraft2_instance_t *inst, uint32_t a0, uint32_t a1, uint32_t a2, uint32_t a3)
{
    kv_get(H(inst), a0, a1, a2, a3);
}

void Z_wasiZ3AkeyvalueZ2FstoreZ400Z2E2Z2E0Z2Ddraft2Z_Z5BmethodZ5DbucketZ2Eset(struct Z_wasiZ3AkeyvalueZ2FstoreZ400Z2E2Z2E0Z2Ddraft2_instance_t *inst, uint32_t a0, uint32_t a1, uint32_t a2, uint32_t a3, uint32_t a4, uint32_t a5)
{
    kv_set(H(inst), a0, a1, a2, a3, a4, a5);
}

void Z_wasiZ3AkeyvalueZ2FstoreZ400Z2E2Z2E0Z2Ddraft2Z_Z5BmethodZ5DbucketZ2Edelete(struct Z_wasiZ3AkeyvalueZ2FstoreZ400Z2E2Z2E0Z2Ddraft2_instance_t *inst, uint32_t a0, uint32_t a1, uint32_t a2, uint32_t a3)
{
    kv_delete(H(inst), a0, a1, a2, a3);
}

void Z_wasiZ3AkeyvalueZ2FstoreZ400Z2E2Z2E0Z2Ddraft2Z_Z5BmethodZ5DbucketZ2Eexists(struct Z_wasiZ3AkeyvalueZ2FstoreZ400Z2E2Z2E0Z2Ddraft2_instance_t *inst, uint32_t a0, uint32_t a1, uint32_t a2, uint32_t a3)
{
    kv_exists(H(inst), a0, a1, a2, a3);
}

void Z_wasiZ3AkeyvalueZ2FstoreZ400Z2E2Z2E0Z2Ddraft2Z_Z5BresourceZ2DdropZ5Dbucket(struct Z_wasiZ3AkeyvalueZ2FstoreZ400Z2E2Z2E0Z2Ddraft2_instance_t *inst, uint32_t a0)
{
    kv_bucket_drop(H(inst), a0);
}

void Z_wasiZ3AkeyvalueZ2FstoreZ400Z2E2Z2E0Z2Ddraft2Z_Z5BmethodZ5DbucketZ2ElistZ2Dkeys(struct Z_wasiZ3AkeyvalueZ2FstoreZ400Z2E2Z2E0Z2Ddraft2_instance_t *inst, uint32_t a0, uint32_t a1, uint32_t a2, uint32_t a3, uint32_t a4)
{
    kv_list_keys_string(H(inst), a0, a1, a2, a3, a4);
}

void Z_wasiZ3AkeyvalueZ2FatomicsZ400Z2E2Z2E0Z2Ddraft2Z_increment(struct Z_wasiZ3AkeyvalueZ2FatomicsZ400Z2E2Z2E0Z2Ddraft2_instance_t *inst, uint32_t a0, uint32_t a1, uint32_t a2, uint64_t a3, uint32_t a4)
{
    kv_increment_s64(H(inst), a0, a1, a2, a3, a4);
}

void Z_wasiZ3AkeyvalueZ2FbatchZ400Z2E2Z2E0Z2Ddraft2Z_getZ2Dmany(struct Z_wasiZ3AkeyvalueZ2FbatchZ400Z2E2Z2E0Z2Ddraft2_instance_t *inst, uint32_t a0, uint32_t a1, uint32_t a2, uint32_t a3)
{
    kv_get_many(H(inst), a0, a1, a2, a3);
}

void Z_wasiZ3AkeyvalueZ2FbatchZ400Z2E2Z2E0Z2Ddraft2Z_setZ2Dmany(struct Z_wasiZ3AkeyvalueZ2FbatchZ400Z2E2Z2E0Z2Ddraft2_instance_t *inst, uint32_t a0, uint32_t a1, uint32_t a2, uint32_t a3)
{
    kv_set_many(H(inst), a0, a1, a2, a3);
}

void Z_wasiZ3AkeyvalueZ2FbatchZ400Z2E2Z2E0Z2Ddraft2Z_deleteZ2Dmany(struct Z_wasiZ3AkeyvalueZ2FbatchZ400Z2E2Z2E0Z2Ddraft2_instance_t *inst, uint32_t a0, uint32_t a1, uint32_t a2, uint32_t a3)
{
    kv_delete_many(H(inst), a0, a1, a2, a3);
}

void Z_wasiZ3AkeyvalueZ2FatomicsZ400Z2E2Z2E0Z2Ddraft2Z_Z5BstaticZ5DcasZ2Enew(struct Z_wasiZ3AkeyvalueZ2FatomicsZ400Z2E2Z2E0Z2Ddraft2_instance_t *inst, uint32_t a0, uint32_t a1, uint32_t a2, uint32_t a3)
{
    kv_cas_new(H(inst), a0, a1, a2, a3);
}

void Z_wasiZ3AkeyvalueZ2FatomicsZ400Z2E2Z2E0Z2Ddraft2Z_Z5BmethodZ5DcasZ2Ecurrent(struct Z_wasiZ3AkeyvalueZ2FatomicsZ400Z2E2Z2E0Z2Ddraft2_instance_t *inst, uint32_t a0, uint32_t a1)
{
    kv_cas_current(H(inst), a0, a1);
}

void Z_wasiZ3AkeyvalueZ2FatomicsZ400Z2E2Z2E0Z2Ddraft2Z_swap(struct Z_wasiZ3AkeyvalueZ2FatomicsZ400Z2E2Z2E0Z2Ddraft2_instance_t *inst, uint32_t a0, uint32_t a1, uint32_t a2, uint32_t a3)
{
    kv_cas_swap(H(inst), a0, a1, a2, a3);
}

void Z_wasiZ3AkeyvalueZ2FatomicsZ400Z2E2Z2E0Z2Ddraft2Z_Z5BresourceZ2DdropZ5Dcas(struct Z_wasiZ3AkeyvalueZ2FatomicsZ400Z2E2Z2E0Z2Ddraft2_instance_t *inst, uint32_t a0)
{
    kv_cas_drop(H(inst), a0);
}

void Z_hostZ_print(struct Z_host_instance_t *inst, uint32_t a0, uint32_t a1)
{
    kv_print(H(inst), a0, a1);
}

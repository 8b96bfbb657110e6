/*
 * Binds the wasm2c import names of both wasi:keyvalue drafts to
 * libkvstore-wasi's typed imports, one line each: wasm2c links imports by
 * C name, so this is the table of kvstore_wasi_imports() written out (a
 * run-time engine walks that table instead). wasm2c passes each import
 * module's "instance" pointer: the glue passes the guest's
 * kvstore_wasi_instance for every wasi:keyvalue module and the binding's
 * wh_ctx for `host` (host.print, this example's own output import).
 *
 * SPDX-License-Identifier: MIT
 */
#include "guest.h"
#include "wasm2c-names.h"

#define KV(inst) ((kvstore_wasi_instance *)(void *)(inst))

void Z_wasiZ3AkeyvalueZ2FstoreZ400Z2E2Z2E0Z2DdraftZ_open(struct Z_wasiZ3AkeyvalueZ2FstoreZ400Z2E2Z2E0Z2Ddraft_instance_t *inst, uint32_t a0, uint32_t a1, uint32_t a2)
{
    kvstore_wasi_store_open(KV(inst), a0, a1, a2);
}

void Z_wasiZ3AkeyvalueZ2FstoreZ400Z2E2Z2E0Z2DdraftZ_Z5BmethodZ5DbucketZ2Eget(struct Z_wasiZ3AkeyvalueZ2FstoreZ400Z2E2Z2E0Z2Ddraft_instance_t *inst, uint32_t a0, uint32_t a1, uint32_t a2, uint32_t a3)
{
    kvstore_wasi_bucket_get(KV(inst), a0, a1, a2, a3);
}

void Z_wasiZ3AkeyvalueZ2FstoreZ400Z2E2Z2E0Z2DdraftZ_Z5BmethodZ5DbucketZ2Eset(struct Z_wasiZ3AkeyvalueZ2FstoreZ400Z2E2Z2E0Z2Ddraft_instance_t *inst, uint32_t a0, uint32_t a1, uint32_t a2, uint32_t a3, uint32_t a4, uint32_t a5)
{
    kvstore_wasi_bucket_set(KV(inst), a0, a1, a2, a3, a4, a5);
}

void Z_wasiZ3AkeyvalueZ2FstoreZ400Z2E2Z2E0Z2DdraftZ_Z5BmethodZ5DbucketZ2Edelete(struct Z_wasiZ3AkeyvalueZ2FstoreZ400Z2E2Z2E0Z2Ddraft_instance_t *inst, uint32_t a0, uint32_t a1, uint32_t a2, uint32_t a3)
{
    kvstore_wasi_bucket_delete(KV(inst), a0, a1, a2, a3);
}

void Z_wasiZ3AkeyvalueZ2FstoreZ400Z2E2Z2E0Z2DdraftZ_Z5BmethodZ5DbucketZ2Eexists(struct Z_wasiZ3AkeyvalueZ2FstoreZ400Z2E2Z2E0Z2Ddraft_instance_t *inst, uint32_t a0, uint32_t a1, uint32_t a2, uint32_t a3)
{
    kvstore_wasi_bucket_exists(KV(inst), a0, a1, a2, a3);
}

void Z_wasiZ3AkeyvalueZ2FstoreZ400Z2E2Z2E0Z2DdraftZ_Z5BresourceZ2DdropZ5Dbucket(struct Z_wasiZ3AkeyvalueZ2FstoreZ400Z2E2Z2E0Z2Ddraft_instance_t *inst, uint32_t a0)
{
    kvstore_wasi_bucket_drop(KV(inst), a0);
}

void Z_wasiZ3AkeyvalueZ2FstoreZ400Z2E2Z2E0Z2DdraftZ_Z5BmethodZ5DbucketZ2ElistZ2Dkeys(struct Z_wasiZ3AkeyvalueZ2FstoreZ400Z2E2Z2E0Z2Ddraft_instance_t *inst, uint32_t a0, uint32_t a1, uint64_t a2, uint32_t a3)
{
    kvstore_wasi_draft_list_keys(KV(inst), a0, a1, a2, a3);
}

void Z_wasiZ3AkeyvalueZ2FatomicsZ400Z2E2Z2E0Z2DdraftZ_increment(struct Z_wasiZ3AkeyvalueZ2FatomicsZ400Z2E2Z2E0Z2Ddraft_instance_t *inst, uint32_t a0, uint32_t a1, uint32_t a2, uint64_t a3, uint32_t a4)
{
    kvstore_wasi_draft_increment(KV(inst), a0, a1, a2, a3, a4);
}

void Z_wasiZ3AkeyvalueZ2FbatchZ400Z2E2Z2E0Z2DdraftZ_getZ2Dmany(struct Z_wasiZ3AkeyvalueZ2FbatchZ400Z2E2Z2E0Z2Ddraft_instance_t *inst, uint32_t a0, uint32_t a1, uint32_t a2, uint32_t a3)
{
    kvstore_wasi_get_many(KV(inst), a0, a1, a2, a3);
}

void Z_wasiZ3AkeyvalueZ2FbatchZ400Z2E2Z2E0Z2DdraftZ_setZ2Dmany(struct Z_wasiZ3AkeyvalueZ2FbatchZ400Z2E2Z2E0Z2Ddraft_instance_t *inst, uint32_t a0, uint32_t a1, uint32_t a2, uint32_t a3)
{
    kvstore_wasi_set_many(KV(inst), a0, a1, a2, a3);
}

void Z_wasiZ3AkeyvalueZ2FbatchZ400Z2E2Z2E0Z2DdraftZ_deleteZ2Dmany(struct Z_wasiZ3AkeyvalueZ2FbatchZ400Z2E2Z2E0Z2Ddraft_instance_t *inst, uint32_t a0, uint32_t a1, uint32_t a2, uint32_t a3)
{
    kvstore_wasi_delete_many(KV(inst), a0, a1, a2, a3);
}

void Z_wasiZ3AkeyvalueZ2FstoreZ400Z2E2Z2E0Z2Ddraft2Z_open(struct Z_wasiZ3AkeyvalueZ2FstoreZ400Z2E2Z2E0Z2Ddraft2_instance_t *inst, uint32_t a0, uint32_t a1, uint32_t a2)
{
    kvstore_wasi_store_open(KV(inst), a0, a1, a2);
}

void Z_wasiZ3AkeyvalueZ2FstoreZ400Z2E2Z2E0Z2Ddraft2Z_Z5BmethodZ5DbucketZ2Eget(struct Z_wasiZ3AkeyvalueZ2FstoreZ400Z2E2Z2E0Z2Ddraft2_instance_t *inst, uint32_t a0, uint32_t a1, uint32_t a2, uint32_t a3)
{
    kvstore_wasi_bucket_get(KV(inst), a0, a1, a2, a3);
}

void Z_wasiZ3AkeyvalueZ2FstoreZ400Z2E2Z2E0Z2Ddraft2Z_Z5BmethodZ5DbucketZ2Eset(struct Z_wasiZ3AkeyvalueZ2FstoreZ400Z2E2Z2E0Z2Ddraft2_instance_t *inst, uint32_t a0, uint32_t a1, uint32_t a2, uint32_t a3, uint32_t a4, uint32_t a5)
{
    kvstore_wasi_bucket_set(KV(inst), a0, a1, a2, a3, a4, a5);
}

void Z_wasiZ3AkeyvalueZ2FstoreZ400Z2E2Z2E0Z2Ddraft2Z_Z5BmethodZ5DbucketZ2Edelete(struct Z_wasiZ3AkeyvalueZ2FstoreZ400Z2E2Z2E0Z2Ddraft2_instance_t *inst, uint32_t a0, uint32_t a1, uint32_t a2, uint32_t a3)
{
    kvstore_wasi_bucket_delete(KV(inst), a0, a1, a2, a3);
}

void Z_wasiZ3AkeyvalueZ2FstoreZ400Z2E2Z2E0Z2Ddraft2Z_Z5BmethodZ5DbucketZ2Eexists(struct Z_wasiZ3AkeyvalueZ2FstoreZ400Z2E2Z2E0Z2Ddraft2_instance_t *inst, uint32_t a0, uint32_t a1, uint32_t a2, uint32_t a3)
{
    kvstore_wasi_bucket_exists(KV(inst), a0, a1, a2, a3);
}

void Z_wasiZ3AkeyvalueZ2FstoreZ400Z2E2Z2E0Z2Ddraft2Z_Z5BresourceZ2DdropZ5Dbucket(struct Z_wasiZ3AkeyvalueZ2FstoreZ400Z2E2Z2E0Z2Ddraft2_instance_t *inst, uint32_t a0)
{
    kvstore_wasi_bucket_drop(KV(inst), a0);
}

void Z_wasiZ3AkeyvalueZ2FstoreZ400Z2E2Z2E0Z2Ddraft2Z_Z5BmethodZ5DbucketZ2ElistZ2Dkeys(struct Z_wasiZ3AkeyvalueZ2FstoreZ400Z2E2Z2E0Z2Ddraft2_instance_t *inst, uint32_t a0, uint32_t a1, uint32_t a2, uint32_t a3, uint32_t a4)
{
    kvstore_wasi_draft2_list_keys(KV(inst), a0, a1, a2, a3, a4);
}

void Z_wasiZ3AkeyvalueZ2FatomicsZ400Z2E2Z2E0Z2Ddraft2Z_increment(struct Z_wasiZ3AkeyvalueZ2FatomicsZ400Z2E2Z2E0Z2Ddraft2_instance_t *inst, uint32_t a0, uint32_t a1, uint32_t a2, uint64_t a3, uint32_t a4)
{
    kvstore_wasi_draft2_increment(KV(inst), a0, a1, a2, a3, a4);
}

void Z_wasiZ3AkeyvalueZ2FbatchZ400Z2E2Z2E0Z2Ddraft2Z_getZ2Dmany(struct Z_wasiZ3AkeyvalueZ2FbatchZ400Z2E2Z2E0Z2Ddraft2_instance_t *inst, uint32_t a0, uint32_t a1, uint32_t a2, uint32_t a3)
{
    kvstore_wasi_get_many(KV(inst), a0, a1, a2, a3);
}

void Z_wasiZ3AkeyvalueZ2FbatchZ400Z2E2Z2E0Z2Ddraft2Z_setZ2Dmany(struct Z_wasiZ3AkeyvalueZ2FbatchZ400Z2E2Z2E0Z2Ddraft2_instance_t *inst, uint32_t a0, uint32_t a1, uint32_t a2, uint32_t a3)
{
    kvstore_wasi_set_many(KV(inst), a0, a1, a2, a3);
}

void Z_wasiZ3AkeyvalueZ2FbatchZ400Z2E2Z2E0Z2Ddraft2Z_deleteZ2Dmany(struct Z_wasiZ3AkeyvalueZ2FbatchZ400Z2E2Z2E0Z2Ddraft2_instance_t *inst, uint32_t a0, uint32_t a1, uint32_t a2, uint32_t a3)
{
    kvstore_wasi_delete_many(KV(inst), a0, a1, a2, a3);
}

void Z_wasiZ3AkeyvalueZ2FatomicsZ400Z2E2Z2E0Z2Ddraft2Z_Z5BstaticZ5DcasZ2Enew(struct Z_wasiZ3AkeyvalueZ2FatomicsZ400Z2E2Z2E0Z2Ddraft2_instance_t *inst, uint32_t a0, uint32_t a1, uint32_t a2, uint32_t a3)
{
    kvstore_wasi_cas_new(KV(inst), a0, a1, a2, a3);
}

void Z_wasiZ3AkeyvalueZ2FatomicsZ400Z2E2Z2E0Z2Ddraft2Z_Z5BmethodZ5DcasZ2Ecurrent(struct Z_wasiZ3AkeyvalueZ2FatomicsZ400Z2E2Z2E0Z2Ddraft2_instance_t *inst, uint32_t a0, uint32_t a1)
{
    kvstore_wasi_cas_current(KV(inst), a0, a1);
}

void Z_wasiZ3AkeyvalueZ2FatomicsZ400Z2E2Z2E0Z2Ddraft2Z_swap(struct Z_wasiZ3AkeyvalueZ2FatomicsZ400Z2E2Z2E0Z2Ddraft2_instance_t *inst, uint32_t a0, uint32_t a1, uint32_t a2, uint32_t a3)
{
    kvstore_wasi_cas_swap(KV(inst), a0, a1, a2, a3);
}

void Z_wasiZ3AkeyvalueZ2FatomicsZ400Z2E2Z2E0Z2Ddraft2Z_Z5BresourceZ2DdropZ5Dcas(struct Z_wasiZ3AkeyvalueZ2FatomicsZ400Z2E2Z2E0Z2Ddraft2_instance_t *inst, uint32_t a0)
{
    kvstore_wasi_cas_drop(KV(inst), a0);
}

/* host.print(ptr, len): writes the guest's bytes as they are; an
 * out-of-bounds range traps. */
void Z_hostZ_print(struct Z_host_instance_t *inst, uint32_t ptr, uint32_t len)
{
    wh_ctx *ctx = (wh_ctx *)(void *)inst;
    if ((uint64_t)ptr + len > ctx->mem->size)
        wasm_rt_trap(WASM_RT_TRAP_OOB);
    fwrite(ctx->mem->data + ptr, 1, len, ctx->out);
}

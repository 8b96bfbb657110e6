/*
 * The C names wasm2c 1.0.32 gives the wasi:keyvalue and host imports
 * (module and field names escaped: ':' -> Z3A, '/' -> Z2F, ...), and their
 * prototypes. The glue of each guest includes wasm2c's header and this
 * one, so the compiler checks that they agree.
 *
 * Generated once by hand from the WIT names (README, "Imports"); edit
 * together with bindings.c.
 *
 * SPDX-License-Identifier: MIT
 */
#ifndef WASM_HOST_WASM2C_NAMES_H
#define WASM_HOST_WASM2C_NAMES_H

#include <stdint.h>

struct Z_wasiZ3AkeyvalueZ2FstoreZ400Z2E2Z2E0Z2Ddraft_instance_t;
struct Z_wasiZ3AkeyvalueZ2FatomicsZ400Z2E2Z2E0Z2Ddraft_instance_t;
struct Z_wasiZ3AkeyvalueZ2FbatchZ400Z2E2Z2E0Z2Ddraft_instance_t;
struct Z_wasiZ3AkeyvalueZ2FstoreZ400Z2E2Z2E0Z2Ddraft2_instance_t;
struct Z_wasiZ3AkeyvalueZ2FatomicsZ400Z2E2Z2E0Z2Ddraft2_instance_t;
struct Z_wasiZ3AkeyvalueZ2FbatchZ400Z2E2Z2E0Z2Ddraft2_instance_t;
struct Z_host_instance_t;

/* wasi:keyvalue/store@0.2.0-draft open */
void Z_wasiZ3AkeyvalueZ2FstoreZ400Z2E2Z2E0Z2DdraftZ_open(struct Z_wasiZ3AkeyvalueZ2FstoreZ400Z2E2Z2E0Z2Ddraft_instance_t *, uint32_t, uint32_t, uint32_t);
/* wasi:keyvalue/store@0.2.0-draft [method]bucket.get */
void Z_wasiZ3AkeyvalueZ2FstoreZ400Z2E2Z2E0Z2DdraftZ_Z5BmethodZ5DbucketZ2Eget(struct Z_wasiZ3AkeyvalueZ2FstoreZ400Z2E2Z2E0Z2Ddraft_instance_t *, uint32_t, uint32_t, uint32_t, uint32_t);
/* wasi:keyvalue/store@0.2.0-draft [method]bucket.set */
void Z_wasiZ3AkeyvalueZ2FstoreZ400Z2E2Z2E0Z2DdraftZ_Z5BmethodZ5DbucketZ2Eset(struct Z_wasiZ3AkeyvalueZ2FstoreZ400Z2E2Z2E0Z2Ddraft_instance_t *, uint32_t, uint32_t, uint32_t, uint32_t, uint32_t, uint32_t);
/* wasi:keyvalue/store@0.2.0-draft [method]bucket.delete */
void Z_wasiZ3AkeyvalueZ2FstoreZ400Z2E2Z2E0Z2DdraftZ_Z5BmethodZ5DbucketZ2Edelete(struct Z_wasiZ3AkeyvalueZ2FstoreZ400Z2E2Z2E0Z2Ddraft_instance_t *, uint32_t, uint32_t, uint32_t, uint32_t);
/* wasi:keyvalue/store@0.2.0-draft [method]bucket.exists */
void Z_wasiZ3AkeyvalueZ2FstoreZ400Z2E2Z2E0Z2DdraftZ_Z5BmethodZ5DbucketZ2Eexists(struct Z_wasiZ3AkeyvalueZ2FstoreZ400Z2E2Z2E0Z2Ddraft_instance_t *, uint32_t, uint32_t, uint32_t, uint32_t);
/* wasi:keyvalue/store@0.2.0-draft [resource-drop]bucket */
void Z_wasiZ3AkeyvalueZ2FstoreZ400Z2E2Z2E0Z2DdraftZ_Z5BresourceZ2DdropZ5Dbucket(struct Z_wasiZ3AkeyvalueZ2FstoreZ400Z2E2Z2E0Z2Ddraft_instance_t *, uint32_t);
/* wasi:keyvalue/store@0.2.0-draft [method]bucket.list-keys */
void Z_wasiZ3AkeyvalueZ2FstoreZ400Z2E2Z2E0Z2DdraftZ_Z5BmethodZ5DbucketZ2ElistZ2Dkeys(struct Z_wasiZ3AkeyvalueZ2FstoreZ400Z2E2Z2E0Z2Ddraft_instance_t *, uint32_t, uint32_t, uint64_t, uint32_t);
/* wasi:keyvalue/atomics@0.2.0-draft increment */
void Z_wasiZ3AkeyvalueZ2FatomicsZ400Z2E2Z2E0Z2DdraftZ_increment(struct Z_wasiZ3AkeyvalueZ2FatomicsZ400Z2E2Z2E0Z2Ddraft_instance_t *, uint32_t, uint32_t, uint32_t, uint64_t, uint32_t);
/* wasi:keyvalue/batch@0.2.0-draft get-many */
void Z_wasiZ3AkeyvalueZ2FbatchZ400Z2E2Z2E0Z2DdraftZ_getZ2Dmany(struct Z_wasiZ3AkeyvalueZ2FbatchZ400Z2E2Z2E0Z2Ddraft_instance_t *, uint32_t, uint32_t, uint32_t, uint32_t);
/* wasi:keyvalue/batch@0.2.0-draft set-many */
void Z_wasiZ3AkeyvalueZ2FbatchZ400Z2E2Z2E0Z2DdraftZ_setZ2Dmany(struct Z_wasiZ3AkeyvalueZ2FbatchZ400Z2E2Z2E0Z2Ddraft_instance_t *, uint32_t, uint32_t, uint32_t, uint32_t);
/* wasi:keyvalue/batch@0.2.0-draft delete-many */
void Z_wasiZ3AkeyvalueZ2FbatchZ400Z2E2Z2E0Z2DdraftZ_deleteZ2Dmany(struct Z_wasiZ3AkeyvalueZ2FbatchZ400Z2E2Z2E0Z2Ddraft_instance_t *, uint32_t, uint32_t, uint32_t, uint32_t);
/* wasi:keyvalue/store@0.2.0-draft2 open */
void Z_wasiZ3AkeyvalueZ2FstoreZ400Z2E2Z2E0Z2Ddraft2Z_open(struct Z_wasiZ3AkeyvalueZ2FstoreZ400Z2E2Z2E0Z2Ddraft2_instance_t *, uint32_t, uint32_t, uint32_t);
/* wasi:keyvalue/store@0.2.0-draft2 [method]bucket.get */
void Z_wasiZ3AkeyvalueZ2FstoreZ400Z2E2Z2E0Z2Ddraft2Z_Z5BmethodZ5DbucketZ2Eget(struct Z_wasiZ3AkeyvalueZ2FstoreZ400Z2E2Z2E0Z2Ddraft2_instance_t *, uint32_t, uint32_t, uint32_t, uint32_t);
/* wasi:keyvalue/store@0.2.0-draft2 [method]bucket.set */
void Z_wasiZ3AkeyvalueZ2FstoreZ400Z2E2Z2E0Z2Ddraft2Z_Z5BmethodZ5DbucketZ2Eset(struct Z_wasiZ3AkeyvalueZ2FstoreZ400Z2E2Z2E0Z2Ddraft2_instance_t *, uint32_t, uint32_t, uint32_t, uint32_t, uint32_t, uint32_t);
/* wasi:keyvalue/store@0.2.0-draft2 [method]bucket.delete */
void Z_wasiZ3AkeyvalueZ2FstoreZ400Z2E2Z2E0Z2Ddraft2Z_Z5BmethodZ5DbucketZ2Edelete(struct Z_wasiZ3AkeyvalueZ2FstoreZ400Z2E2Z2E0Z2Ddraft2_instance_t *, uint32_t, uint32_t, uint32_t, uint32_t);
/* wasi:keyvalue/store@0.2.0-draft2 [method]bucket.exists */
void Z_wasiZ3AkeyvalueZ2FstoreZ400Z2E2Z2E0Z2Ddraft2Z_Z5BmethodZ5DbucketZ2Eexists(struct Z_wasiZ3AkeyvalueZ2FstoreZ400Z2E2Z2E0Z2Ddraft2_instance_t *, uint32_t, uint32_t, uint32_t, uint32_t);
/* wasi:keyvalue/store@0.2.0-draft2 [resource-drop]bucket */
void Z_wasiZ3AkeyvalueZ2FstoreZ400Z2E2Z2E0Z2Ddraft2Z_Z5BresourceZ2DdropZ5Dbucket(struct Z_wasiZ3AkeyvalueZ2FstoreZ400Z2E2Z2E0Z2Ddraft2_instance_t *, uint32_t);
/* wasi:keyvalue/store@0.2.0-draft2 [method]bucket.list-keys */
void Z_wasiZ3AkeyvalueZ2FstoreZ400Z2E2Z2E0Z2Ddraft2Z_Z5BmethodZ5DbucketZ2ElistZ2Dkeys(struct Z_wasiZ3AkeyvalueZ2FstoreZ400Z2E2Z2E0Z2Ddraft2_instance_t *, uint32_t, uint32_t, uint32_t, uint32_t, uint32_t);
/* wasi:keyvalue/atomics@0.2.0-draft2 increment */
void Z_wasiZ3AkeyvalueZ2FatomicsZ400Z2E2Z2E0Z2Ddraft2Z_increment(struct Z_wasiZ3AkeyvalueZ2FatomicsZ400Z2E2Z2E0Z2Ddraft2_instance_t *, uint32_t, uint32_t, uint32_t, uint64_t, uint32_t);
/* wasi:keyvalue/batch@0.2.0-draft2 get-many */
void Z_wasiZ3AkeyvalueZ2FbatchZ400Z2E2Z2E0Z2Ddraft2Z_getZ2Dmany(struct Z_wasiZ3AkeyvalueZ2FbatchZ400Z2E2Z2E0Z2Ddraft2_instance_t *, uint32_t, uint32_t, uint32_t, uint32_t);
/* wasi:keyvalue/batch@0.2.0-draft2 set-many */
void Z_wasiZ3AkeyvalueZ2FbatchZ400Z2E2Z2E0Z2Ddraft2Z_setZ2Dmany(struct Z_wasiZ3AkeyvalueZ2FbatchZ400Z2E2Z2E0Z2Ddraft2_instance_t *, uint32_t, uint32_t, uint32_t, uint32_t);
/* wasi:keyvalue/batch@0.2.0-draft2 delete-many */
void Z_wasiZ3AkeyvalueZ2FbatchZ400Z2E2Z2E0Z2Ddraft2Z_deleteZ2Dmany(struct Z_wasiZ3AkeyvalueZ2FbatchZ400Z2E2Z2E0Z2Ddraft2_instance_t *, uint32_t, uint32_t, uint32_t, uint32_t);
/* wasi:keyvalue/atomics@0.2.0-draft2 [static]cas.new */
void Z_wasiZ3AkeyvalueZ2FatomicsZ400Z2E2Z2E0Z2Ddraft2Z_Z5BstaticZ5DcasZ2Enew(struct Z_wasiZ3AkeyvalueZ2FatomicsZ400Z2E2Z2E0Z2Ddraft2_instance_t *, uint32_t, uint32_t, uint32_t, uint32_t);
/* wasi:keyvalue/atomics@0.2.0-draft2 [method]cas.current */
void Z_wasiZ3AkeyvalueZ2FatomicsZ400Z2E2Z2E0Z2Ddraft2Z_Z5BmethodZ5DcasZ2Ecurrent(struct Z_wasiZ3AkeyvalueZ2FatomicsZ400Z2E2Z2E0Z2Ddraft2_instance_t *, uint32_t, uint32_t);
/* wasi:keyvalue/atomics@0.2.0-draft2 swap */
void Z_wasiZ3AkeyvalueZ2FatomicsZ400Z2E2Z2E0Z2Ddraft2Z_swap(struct Z_wasiZ3AkeyvalueZ2FatomicsZ400Z2E2Z2E0Z2Ddraft2_instance_t *, uint32_t, uint32_t, uint32_t, uint32_t);
/* wasi:keyvalue/atomics@0.2.0-draft2 [resource-drop]cas */
void Z_wasiZ3AkeyvalueZ2FatomicsZ400Z2E2Z2E0Z2Ddraft2Z_Z5BresourceZ2DdropZ5Dcas(struct Z_wasiZ3AkeyvalueZ2FatomicsZ400Z2E2Z2E0Z2Ddraft2_instance_t *, uint32_t);
/* host print */
void Z_hostZ_print(struct Z_host_instance_t *, uint32_t, uint32_t);

#endif /* WASM_HOST_WASM2C_NAMES_H */

/* Pins the layout of every public struct. Fields are only ever appended:
 * if one of these fails, an ABI-incompatible change was made (SQLite once
 * changed its VFS layout without bumping the version). The pins are the
 * LP64 values; other data models only check the order. */
#include <kvstore/backend.h>

#include <stddef.h>
#include <stdio.h>

#define P (sizeof(void *))
#define AT(type, field, slot) \
    _Static_assert(offsetof(type, field) == (slot) * P, #type "." #field)

AT(kvstore_keys, keys, 0);
AT(kvstore_keys, count, 1);
AT(kvstore_keys, cursor, 2);
_Static_assert(sizeof(kvstore_keys) == 3 * P, "kvstore_keys size");

AT(kvstore_module, version, 0);
_Static_assert(offsetof(kvstore_module, reserved) == sizeof(unsigned int),
               "kvstore_module.reserved");
AT(kvstore_module, name, 1);
AT(kvstore_module, backends, 2);
_Static_assert(sizeof(kvstore_module) == 3 * P, "kvstore_module size");

/* kvstore_backend, version 1 */
AT(kvstore_backend, version, 0);
AT(kvstore_backend, name, 1);
AT(kvstore_backend, options, 2);
AT(kvstore_backend, store_open, 3);
AT(kvstore_backend, store_close, 4);
AT(kvstore_backend, bucket_open, 5);
AT(kvstore_backend, bucket_close, 6);
AT(kvstore_backend, get, 7);
AT(kvstore_backend, set, 8);
AT(kvstore_backend, del, 9);
AT(kvstore_backend, exists, 10);
AT(kvstore_backend, list_keys, 11);
AT(kvstore_backend, get_many, 12);
AT(kvstore_backend, set_many, 13);
AT(kvstore_backend, delete_many, 14);
AT(kvstore_backend, increment, 15);
AT(kvstore_backend, cas_open, 16);
AT(kvstore_backend, cas_swap, 17);
AT(kvstore_backend, cas_free, 18);
AT(kvstore_backend, watch_start, 19);
AT(kvstore_backend, watch_stop, 20);
/* version 2 */
AT(kvstore_backend, caps, 21);
AT(kvstore_backend, set_ttl, 22);
AT(kvstore_backend, ttl, 23);
AT(kvstore_backend, bucket_list, 24);
AT(kvstore_backend, bucket_remove, 25);
AT(kvstore_backend, bucket_info, 26);
AT(kvstore_backend, get_with, 27); /* appended before 1.1 shipped */
_Static_assert(sizeof(kvstore_backend) == 28 * P, "kvstore_backend size");


/* Values of the contract that are part of the ABI. */
_Static_assert(KVSTORE_OK == 0 && KVSTORE_NOTFOUND == 1, "status values");
_Static_assert(KVSTORE_EINVAL == -1 && KVSTORE_EIO == -11, "status values");
_Static_assert(KVSTORE_EVENT_SET == 1 && KVSTORE_EVENT_DELETE == 2,
               "event values");

#if defined(__LP64__)
_Static_assert(sizeof(kvstore_backend) == 224, "kvstore_backend LP64 size");
AT(kvstore_bucket_stat, version, 0);
AT(kvstore_bucket_stat, keys, 1);
AT(kvstore_bucket_stat, max_value, 2);
AT(kvstore_bucket_stat, ttl_ms, 3);
_Static_assert(sizeof(kvstore_bucket_stat) == 32, "kvstore_bucket_stat");
#endif

int main(void)
{
    printf("layout pins hold (kvstore_backend %zu bytes)\n",
           sizeof(kvstore_backend));
    return 0;
}

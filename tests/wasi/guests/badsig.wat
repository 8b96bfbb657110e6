;; Imports wasi:keyvalue open with a signature that is not the canonical
;; ABI's (i32,i32,i32)->(): the runner's addon must refuse the call.
(module
  (import "wasi:keyvalue/store@0.2.0-draft2" "open" (func $open (param i64)))
  (memory (export "memory") 1)
  (func (export "cabi_realloc") (param i32 i32 i32 i32) (result i32) i32.const 0)
  (func (export "run") (result i32)
    (call $open (i64.const 5))
    i32.const 0))

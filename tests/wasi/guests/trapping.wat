;; A guest that opens a bucket, then passes a dead handle: the import
;; traps, and the runner must exit non-zero saying why.
(module
  (import "wasi:keyvalue/store@0.2.0-draft2" "open" (func $open (param i32 i32 i32)))
  (import "wasi:keyvalue/store@0.2.0-draft2" "[method]bucket.get"
    (func $get (param i32 i32 i32 i32)))
  (memory (export "memory") 1)
  (data (i32.const 16) "app")
  (global $heap (mut i32) (i32.const 1024))
  (func (export "cabi_realloc") (param i32 i32 i32 i32) (result i32)
    (local $p i32)
    global.get $heap
    local.set $p
    global.get $heap
    local.get 3
    i32.add
    global.set $heap
    local.get $p)
  (func (export "run") (result i32)
    (call $open (i32.const 16) (i32.const 3) (i32.const 64))
    ;; handle 77 was never opened
    (call $get (i32.const 77) (i32.const 16) (i32.const 3) (i32.const 96))
    i32.const 0))

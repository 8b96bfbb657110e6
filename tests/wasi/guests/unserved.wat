;; A core module importing something kvstore-wasm-run does not serve:
;; the runner must refuse it by name before running anything.
(module
  (import "wasi:cli/environment@0.2.0" "get-arguments" (func (param i32)))
  (memory (export "memory") 1)
  (func (export "cabi_realloc") (param i32 i32 i32 i32) (result i32) i32.const 0)
  (func (export "_start")))

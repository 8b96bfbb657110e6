// wasi:keyvalue@0.2.0-draft2's store and atomics imports for a component
// transpiled by jco, served by libkvstore: each call is lowered by the
// canonical ABI into a scratch memory, handed to libkvstore-wasi's core
// import (through the kvstore_wasi.node addon, as kvstore-wasm-run does),
// and its results lifted back. jco lifts and lowers on the component's
// side; this is the same work on the host's side, so the component's
// calls end in kvstore_get, kvstore_set... on a real store.
//   const kv = libkvstoreImports(addon, [['store', 'file:///...']]);
//   instantiate(getCoreModule, { ...kv.imports });  ...  kv.free();
// SPDX-License-Identifier: MIT
const STORE = 'wasi:keyvalue/store@0.2.0-draft2';
const ATOMICS = 'wasi:keyvalue/atomics@0.2.0-draft2';
const ERRORS = ['no-such-store', 'access-denied', 'other'];
const dispose = [Symbol.dispose, Symbol.for('dispose')].filter(Boolean);

export function libkvstoreImports(addon, config) {
  const host = addon.createHost(config);
  const inst = addon.createInstance(host, 'draft2');
  const core = addon.importObject(inst);
  const memory = new WebAssembly.Memory({ initial: 1 });
  let top = 0;
  // The scratch memory's cabi_realloc: a bump allocator reset by every call.
  function realloc(old, oldSize, align, size) {
    top = Math.ceil(top / align) * align;
    const p = top;
    top += size;
    const have = memory.buffer.byteLength;
    if (top > have) memory.grow(Math.ceil((top - have) / 65536));
    return p;
  }
  addon.attach(inst, { memory, cabi_realloc: realloc });

  const view = () => new DataView(memory.buffer);
  const u8 = (p) => view().getUint8(p);
  const u32 = (p) => view().getUint32(p, true);
  const bytesAt = (p) => new Uint8Array(memory.buffer, u32(p), u32(p + 4)).slice();
  const stringAt = (p) => new TextDecoder().decode(bytesAt(p));
  function put(data) { // bytes or a string into scratch memory: [ptr, len]
    const b = typeof data === 'string' ? new TextEncoder().encode(data) : data;
    const p = realloc(0, 0, 1, b.length);
    new Uint8Array(memory.buffer, p, b.length).set(b);
    return [p, b.length];
  }
  // Calls a core import: `lower` puts the arguments in scratch memory
  // (after the return area) and returns them flat.
  function call(iface, name, lower) {
    top = 0;
    const ret = realloc(0, 0, 8, 32);
    core[iface][name](...lower(), ret);
    return ret;
  }
  const ok = (val) => ({ tag: 'ok', val });
  const error = (p) => {
    const tag = ERRORS[u8(p)];
    return tag === 'other' ? { tag, val: stringAt(p + 4) } : { tag };
  };
  // result<T, error> with the error at `off`: T lifted by `val`.
  const result = (r, off, val) => (u8(r) ? { tag: 'err', val: error(r + off) } : ok(val(r)));
  const optionBytes = (r) => (u8(r + 4) ? bytesAt(r + 8) : undefined);

  function drop(iface, name, obj) {
    if (obj.handle !== undefined) core[iface][name](obj.handle);
    obj.handle = undefined;
  }
  class Bucket {
    constructor(handle) { this.handle = handle; }
    get(key) {
      return result(call(STORE, '[method]bucket.get', () => [this.handle, ...put(key)]), 4, optionBytes);
    }
    set(key, value) {
      return result(call(STORE, '[method]bucket.set', () => [this.handle, ...put(key), ...put(value)]), 4,
        () => undefined);
    }
    delete(key) {
      return result(call(STORE, '[method]bucket.delete', () => [this.handle, ...put(key)]), 4, () => undefined);
    }
    exists(key) {
      return result(call(STORE, '[method]bucket.exists', () => [this.handle, ...put(key)]), 4,
        (r) => u8(r + 4) === 1);
    }
    listKeys(cursor) {
      const c = () => (cursor === undefined ? [0, 0, 0] : [1, ...put(cursor)]);
      return result(call(STORE, '[method]bucket.list-keys', () => [this.handle, ...c()]), 4, (r) => {
        const keys = [];
        for (let k = 0; k < u32(r + 8); k++) keys.push(stringAt(u32(r + 4) + 8 * k));
        return { keys, cursor: u8(r + 12) ? stringAt(r + 16) : undefined };
      });
    }
  }
  class Cas {
    constructor(handle) { this.handle = handle; }
    static new(bucket, key) {
      return result(call(ATOMICS, '[static]cas.new', () => [bucket.handle, ...put(key)]), 4,
        (r) => new Cas(u32(r + 4)));
    }
    current() { return result(call(ATOMICS, '[method]cas.current', () => [this.handle]), 4, optionBytes); }
  }
  for (const s of dispose) {
    Bucket.prototype[s] = function () { drop(STORE, '[resource-drop]bucket', this); };
    Cas.prototype[s] = function () { drop(ATOMICS, '[resource-drop]cas', this); };
  }
  const imports = {
    'wasi:keyvalue/store': {
      Bucket,
      open: (id) => result(call(STORE, 'open', () => put(id)), 4, (r) => new Bucket(u32(r + 4))),
    },
    'wasi:keyvalue/atomics': {
      Cas,
      increment: (bucket, key, delta) =>
        result(call(ATOMICS, 'increment', () => [bucket.handle, ...put(key), BigInt.asIntN(64, delta)]), 8,
          (r) => view().getBigInt64(r + 8, true)),
      swap(cas, value) {
        // swap consumes the cas: the layer drops its handle.
        const handle = cas.handle;
        cas.handle = undefined;
        const r = call(ATOMICS, 'swap', () => [handle, ...put(value)]);
        if (!u8(r)) return ok(undefined);
        return {
          tag: 'err',
          val: u8(r + 4) === 0 ? { tag: 'store-error', val: error(r + 8) } : { tag: 'cas-failed', val: new Cas(u32(r + 8)) },
        };
      },
    },
  };
  return {
    imports,
    status: () => addon.status(inst),
    free() { addon.freeInstance(inst); addon.freeHost(host); },
  };
}

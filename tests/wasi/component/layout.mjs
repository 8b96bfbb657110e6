// Runs a guest as a real component, transpiled by jco (its JavaScript glue
// lifts and lowers every value by the canonical ABI), with the
// wasi:keyvalue imports implemented below in JavaScript over an in-memory
// map, and prints what the guest printed. layout.sh compares that with
// the guest's output on libkvstore-wasi: equal output means the layer's
// return areas, records, variants and lists sit where the canonical ABI
// puts them, which the name and signature check of check.mjs cannot show.
//   node layout.mjs WIT_DIR GUEST.wasm WORLD     (draft, draft2 or spin)
// SPDX-License-Identifier: MIT
import { componentEmbed, componentNew, transpile } from '@bytecodealliance/jco';
import { readFileSync, writeFileSync, mkdtempSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { pathToFileURL } from 'node:url';
import { witSources, sourceFor } from './wit.mjs';

const [witDir, file, world] = process.argv.slice(2);
const PAGE = 10; // as wasm-host -n 10

const embedded = await componentEmbed({
  binary: readFileSync(file), witSource: sourceFor(witSources(witDir), world), world,
  stringEncoding: 'utf8',
});
const component = await componentNew(embedded, []);
const { files } = await transpile(component, {
  name: world, instantiation: 'sync', noTypescript: true, wasiShim: false,
});

// ---- wasi:keyvalue over a Map, the way libkvstore behaves ----------------
const ok = (val) => ({ tag: 'ok', val });
const err = (val) => ({ tag: 'err', val });
const buckets = new Map();
const draft = world === 'draft';

class Bucket {
  constructor(name) {
    if (!buckets.has(name)) buckets.set(name, new Map());
    this.m = buckets.get(name);
  }
  get(key) { return ok(this.m.has(key) ? this.m.get(key) : undefined); }
  set(key, value) { this.m.set(key, Uint8Array.from(value)); return ok(undefined); }
  delete(key) { this.m.delete(key); return ok(undefined); }
  exists(key) { return ok(this.m.has(key)); }
  listKeys(cursor) {
    const keys = [...this.m.keys()].sort();
    const start = cursor === undefined ? 0 : Number(cursor);
    const next = start + PAGE < keys.length ? start + PAGE : undefined;
    return ok({
      keys: keys.slice(start, start + PAGE),
      cursor: next === undefined ? undefined : draft ? BigInt(next) : String(next),
    });
  }
}

const same = (a, b) => a === b || (a !== undefined && b !== undefined &&
  a.length === b.length && a.every((x, k) => x === b[k]));

class Cas {
  constructor(bucket, key) {
    this.bucket = bucket;
    this.key = key;
    this.snapshot = bucket.m.get(key);
  }
  static new(bucket, key) { return ok(new Cas(bucket, key)); }
  current() { return ok(this.snapshot); }
}

function increment(bucket, key, delta) {
  const old = bucket.m.has(key) ? BigInt(new TextDecoder().decode(bucket.m.get(key))) : 0n;
  const now = BigInt.asIntN(64, old + BigInt.asIntN(64, delta));
  bucket.m.set(key, new TextEncoder().encode(String(now)));
  return ok(draft ? BigInt.asUintN(64, now) : now);
}

const store = { Bucket, open: (id) => ok(new Bucket(id === '' ? 'default' : id)) };
const atomics = {
  Cas,
  increment,
  swap(cas, value) {
    if (!same(cas.bucket.m.get(cas.key), cas.snapshot))
      return err({ tag: 'cas-failed', val: new Cas(cas.bucket, cas.key) });
    cas.bucket.m.set(cas.key, Uint8Array.from(value));
    return ok(undefined);
  },
};
const batch = {
  getMany(bucket, keys) {
    return ok(keys.map((k) => (world === 'spin'
      ? [k, bucket.m.get(k)]
      : bucket.m.has(k) ? [k, bucket.m.get(k)] : undefined)));
  },
  setMany(bucket, kvs) {
    for (const [k, v] of kvs) bucket.m.set(k, Uint8Array.from(v));
    return ok(undefined);
  },
  deleteMany(bucket, keys) {
    for (const k of keys) bucket.m.delete(k);
    return ok(undefined);
  },
};
const host = { print: (bytes) => process.stdout.write(Buffer.from(bytes)) };

// ---- run it ----------------------------------------------------------------
const dir = mkdtempSync(join(tmpdir(), 'kvstore-jco-'));
try {
  for (const [name, bytes] of Object.entries(files)) {
    if (name.endsWith('.js') || name.endsWith('.wasm')) writeFileSync(join(dir, name.replace(/\//g, '_')), bytes);
  }
  const { instantiate } = await import(pathToFileURL(join(dir, `${world}.js`)).href);
  const guest = instantiate(
    (path) => new WebAssembly.Module(readFileSync(join(dir, path))),
    {
      host,
      'wasi:keyvalue/store': store,
      'wasi:keyvalue/atomics': atomics,
      'wasi:keyvalue/batch': batch,
    });
  const status = guest.run();
  process.exitCode = status === 0 ? 0 : 1;
} finally {
  rmSync(dir, { recursive: true, force: true });
}

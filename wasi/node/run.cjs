// kvstore-wasm-run's program, started by the kvstore-wasm-run shell script.
// kvstore-wasm-run: runs a WebAssembly core module whose imports are
// wasi:keyvalue (any supported WIT) plus at most host.print, on Node.js's
// WebAssembly (V8), with the imports served by libkvstore through
// libkvstore-wasi (the kvstore_wasi.node addon). docs/wasi.md.
//
//   kvstore-wasm-run [--store URI] [--config KEY=VALUE]... [--wit draft|draft2|spin]
//                    [--events N] GUEST.wasm
//
// Calls the guest's _start (or run) export; a guest exporting only
// attack(n) is run attack by attack, each in a fresh instance, until one
// returns 0. A guest with watcher exports gets the watched buckets'
// events pumped in after the call (waiting, at most 10 s, for --events
// of them), then its report export, if any, is called. Output and exit
// status follow examples/wasm-host: 0 success, 1 the guest returned
// non-zero, 2 a trap, an import this runner does not serve or bad usage,
// 3 the stores could not be opened.
// SPDX-License-Identifier: MIT
'use strict';
const fs = require('fs');
const path = require('path');

// The addon sits next to this file, installed ($libdir/kvstore/node) as in
// the build tree (build/wasi/node).
const ADDON = process.env.KVSTORE_WASI_NODE_ADDON || path.join(__dirname, 'kvstore_wasi.node');

function usage(code) {
  (code ? process.stderr : process.stdout).write(
    'Usage: kvstore-wasm-run [--store URI] [--config KEY=VALUE]... ' +
    '[--wit draft|draft2|spin] [--events N] GUEST.wasm\n');
  process.exit(code);
}

function fail(code, msg) {
  process.stderr.write('kvstore-wasm-run: ' + msg + '\n');
  process.exit(code);
}

const config = [];
let wit = null, file = null, events = 0;
const argv = process.argv.slice(2);
for (let k = 0; k < argv.length; k++) {
  const a = argv[k];
  const val = () => { if (k + 1 >= argv.length) usage(2); return argv[++k]; };
  if (a === '--store' || a === '-s') config.push(['store', val()]);
  else if (a === '--config' || a === '-c') {
    const kv = val(), eq = kv.indexOf('=');
    if (eq <= 0) fail(2, 'bad --config ' + kv + ' (KEY=VALUE)');
    config.push([kv.slice(0, eq), kv.slice(eq + 1)]);
  } else if (a === '--wit') {
    wit = val();
    if (!['draft', 'draft2', 'spin'].includes(wit)) fail(2, 'bad --wit ' + wit);
  } else if (a === '--events' || a === '-e') {
    events = Number(val());
    if (!Number.isInteger(events) || events < 0) fail(2, 'bad --events');
  } else if (a === '--help' || a === '-h') usage(0);
  else if (a.startsWith('-') || file) usage(2);
  else file = a;
}
if (!file) usage(2);

let addon;
try {
  addon = require(ADDON);
} catch (e) {
  fail(2, 'cannot load ' + ADDON + ': ' + e.message);
}

let wasmModule;
try {
  wasmModule = new WebAssembly.Module(fs.readFileSync(file));
} catch (e) {
  fail(2, file + ': ' + e.message);
}
const name = path.basename(file).replace(/\.wasm$/, '');

// Which WIT: --wit, else the version the imports name (Spin's get-many
// shape has draft2's names, so it must be asked for).
const imports = WebAssembly.Module.imports(wasmModule);
if (!wit) {
  wit = imports.some(i => i.module.endsWith('@0.2.0-draft')) ? 'draft' : 'draft2';
}
// Every import must be one this runner serves: a clear error otherwise.
const served = new Set();
for (const w of wit === 'draft' ? ['draft', 'draft2'] : ['draft2', 'draft']) {
  for (const i of addon.imports(w)) served.add(i.module + '\u0000' + i.name);
}
for (const i of imports) {
  const ok = i.kind === 'function' &&
    (served.has(i.module + '\u0000' + i.name) || (i.module === 'host' && i.name === 'print'));
  if (!ok) fail(2, `${file}: unsupported import ${i.module} ${i.name} (${i.kind})`);
}
const exportNames = WebAssembly.Module.exports(wasmModule).map(e => e.name);
const watcher = exportNames.some(e => /^wasi:keyvalue\/watcher@.*#on-(set|delete)$/.test(e));

let host;
try {
  host = addon.createHost(config);
} catch (e) {
  fail(3, e.message);
}

function sleep(ms) {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

// One instance, one call; returns the export's result, or null after a
// trap (reported as wasm-host does).
function callOnce(exportName, arg) {
  let inst;
  try {
    inst = addon.createInstance(host, wit);
  } catch (e) {
    fail(3, e.message); // e.g. a watch the store cannot start
  }
  let memory = null;
  // One layer instance serves both versions' imports, as a guest may
  // import either (the hostile one does).
  const importObject = addon.importObject(inst);
  importObject.host = {
    print(ptr, len) {
      const buf = Buffer.from(memory.buffer);
      if (ptr < 0 || len < 0 || ptr + len > buf.length) throw new WebAssembly.RuntimeError('print: out of bounds');
      process.stdout.write(buf.subarray(ptr, ptr + len));
    },
  };
  let result = null;
  let trapped = null;
  try {
    const instance = new WebAssembly.Instance(wasmModule, importObject);
    memory = instance.exports.memory;
    addon.attach(inst, instance.exports);
    result = arg === undefined ? instance.exports[exportName]() : instance.exports[exportName](arg);
    if (watcher) {
      let got = 0;
      for (let waited = 0; waited < 10000; waited += 5) {
        const n = addon.pump(inst, 0);
        if (n < 0) throw new Error('watcher export trapped');
        got += n;
        if (got + addon.status(inst).dropped >= events) break;
        sleep(5);
      }
      process.stdout.write(`host: delivered ${got} events, dropped ${addon.status(inst).dropped}\n`);
      if (typeof instance.exports.report === 'function') instance.exports.report();
    }
  } catch (e) {
    const s = addon.status(inst);
    trapped = s.trapped ? s.trapMessage : e.message;
  }
  addon.freeInstance(inst);
  if (trapped !== null) {
    process.stdout.write(`host: ${name} trapped: ${trapped}\n`);
    return null;
  }
  return result === undefined ? 0 : result;
}

let status = 0;
if (exportNames.includes('_start') || exportNames.includes('run')) {
  const r = callOnce(exportNames.includes('_start') ? '_start' : 'run');
  status = r === null ? 2 : r === 0 ? 0 : 1;
} else if (exportNames.includes('attack')) {
  for (let n = 1; ; n++) {
    if (callOnce('attack', n) === 0) break;
  }
} else {
  addon.freeHost(host);
  fail(2, `${file}: exports neither _start, run nor attack`);
}
addon.freeHost(host);
process.exitCode = status;

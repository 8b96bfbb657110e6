// A component built by standard tooling, not by this project: the
// JavaScript guest js-guest/guest.js made into a component by
// componentize-js (StarlingMonkey) against the project's draft2 WIT,
// transpiled by jco, run on Node.js with its wasi:keyvalue imports served
// by libkvstore (kv-libkvstore.mjs, through the kvstore_wasi.node addon).
// Prints what the guest's run() returned; exit 1 if the guest trapped.
//   node js-component.mjs WIT_DIR ADDON STORE_URI
// SPDX-License-Identifier: MIT
import { componentize } from '@bytecodealliance/componentize-js';
import { transpile } from '@bytecodealliance/jco';
import { readFileSync, writeFileSync, mkdtempSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join, dirname } from 'node:path';
import { tmpdir } from 'node:os';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { libkvstoreImports } from './kv-libkvstore.mjs';

const [witDir, addonPath, storeUri] = process.argv.slice(2);
const here = dirname(fileURLToPath(import.meta.url));

function nested(text) {
  const m = text.match(/^package\s+([^;]+);/m);
  if (!m) throw new Error('no package declaration');
  return `${text.slice(0, m.index)}package ${m[1]} {${text.slice(m.index + m[0].length)}\n}\n`;
}

// The WIT goes inline: componentize-js reads files through a WASI
// sandbox that sees only its own directories.
const witWorld = readFileSync(join(here, 'js-guest', 'world.wit'), 'utf8') +
  nested(readFileSync(join(witDir, 'keyvalue-0.2.0-draft2.wit'), 'utf8'));
const { component } = await componentize(readFileSync(join(here, 'js-guest', 'guest.js'), 'utf8'), {
  witWorld,
  worldName: 'js-guest',
  // Nothing but wasi:keyvalue: no WASI clocks, random, stdio or http.
  disableFeatures: ['random', 'stdio', 'clocks', 'http', 'fetch-event'],
});
const { files, imports } = await transpile(component, {
  name: 'guest', instantiation: 'sync', noTypescript: true,
});
console.log(`component: ${component.length} bytes, imports ${imports.join(' ')}`);

const addon = createRequire(import.meta.url)(addonPath);
const kv = libkvstoreImports(addon, [['store', storeUri]]);
const dir = mkdtempSync(join(tmpdir(), 'kvstore-js-component-'));
try {
  for (const [name, bytes] of Object.entries(files))
    if (name.endsWith('.js') || name.endsWith('.wasm')) writeFileSync(join(dir, name), bytes);
  const { instantiate } = await import(pathToFileURL(join(dir, 'guest.js')).href);
  const guest = instantiate((path) => new WebAssembly.Module(readFileSync(join(dir, path))), kv.imports);
  console.log(`run: ${guest.run()}`);
} catch (e) {
  const s = kv.status();
  console.log(`trapped: ${s.trapped ? s.trapMessage : e.message}`);
  process.exitCode = 1;
} finally {
  kv.free();
  rmSync(dir, { recursive: true, force: true });
}

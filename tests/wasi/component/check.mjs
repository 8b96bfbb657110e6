// Wraps each guest core module into a real component with jco (wasm-tools'
// `component embed` + `component new`, which validates the result) against
// the project's WIT (wasi/wit), proving that the modules' import names and
// core signatures are the canonical ABI's lowering of those WIT files, not
// a home-made one. Prints TAP.
//   node check.mjs WIT_DIR [!]GUEST.wasm=WORLD...
// WORLD is a world of wasi/wit/guests.wit (resolved with upstream's
// draft and draft2 packages) or of guests-spin.wit (with Spin's draft2).
// A leading ! marks a module that must NOT make a component of that
// world (the check would pass anything otherwise).
// As /work/shared/spec/wasi-notes.md says, this checks names and core
// signatures only, not memory layouts: those are what the guest tests on
// two engines check.
// SPDX-License-Identifier: MIT
import { componentEmbed, componentNew, componentWit } from '@bytecodealliance/jco';
import { readFileSync } from 'node:fs';
import { witSources, sourceFor } from './wit.mjs';

const [witDir, ...pairs] = process.argv.slice(2);
const sources = witSources(witDir);

let n = 0, failed = 0;
const ok = (d) => console.log(`ok ${++n} - ${d}`);
const notOk = (d, why) => {
  failed++;
  console.log(`not ok ${++n} - ${d}`);
  for (const line of String(why).split('\n')) console.log(`# ${line}`);
};

for (let pair of pairs) {
  const refuse = pair.startsWith('!');
  if (refuse) pair = pair.slice(1);
  const eq = pair.lastIndexOf('=');
  const file = pair.slice(0, eq), world = pair.slice(eq + 1);
  const witSource = sourceFor(sources, world);
  const what = `${file.split('/').pop()} ${refuse ? 'is not' : 'is'} a valid component of world ${world}`;
  let component;
  try {
    const embedded = await componentEmbed({
      binary: readFileSync(file), witSource, world, stringEncoding: 'utf8',
    });
    component = await componentNew(embedded, []);
  } catch (e) {
    if (refuse) ok(what); else notOk(what, e.message || e);
    continue;
  }
  if (refuse) {
    notOk(what, 'jco made a component of it');
    continue;
  }
  ok(what);
  // The component's own WIT names the wasi:keyvalue interfaces it imports.
  const wit = await componentWit(component);
  const want = world === 'draft' ? '@0.2.0-draft;' : '@0.2.0-draft2;';
  const d = `${file.split('/').pop()}: the component imports wasi:keyvalue/store${want.slice(0, -1)}`;
  if (wit.includes(`import wasi:keyvalue/store${want}`)) ok(d); else notOk(d, wit);
}
console.log(`1..${n}`);
process.exitCode = failed ? 1 : 0;

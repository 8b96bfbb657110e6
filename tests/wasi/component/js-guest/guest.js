// A wasi:keyvalue guest written in JavaScript and built into a component
// by standard tooling (componentize-js, StarlingMonkey), not by this
// project's C guests. js-component.mjs runs it with its imports served by
// libkvstore. run() returns one line of what it saw, which the test
// compares, and leaves its writes in the store for the kvstore CLI.
// SPDX-License-Identifier: MIT
import { open } from 'wasi:keyvalue/store@0.2.0-draft2';
import { increment, swap, Cas } from 'wasi:keyvalue/atomics@0.2.0-draft2';

const text = (bytes) => (bytes === undefined ? 'none' : new TextDecoder().decode(bytes));
const bytes = (s) => new TextEncoder().encode(s);

// An import's error variant arrives as an exception carrying it.
function errorOf(f) {
  try {
    f();
    return 'none';
  } catch (e) {
    const p = e.payload;
    return p && p.tag ? (p.val === undefined ? p.tag : `${p.tag}(${p.val})`) : String(e);
  }
}

export function run() {
  const out = [];
  // An exception would only be an `unreachable` trap outside: report it.
  try {
    steps(out);
  } catch (e) {
    out.push(`exception: ${e}`);
  }
  return out.join(' ');
}

function steps(out) {
  const b = open('js');
  b.set('greeting', bytes('hello from componentize-js'));
  out.push('get=' + text(b.get('greeting')));
  out.push('missing=' + text(b.get('missing')));
  b.set('doomed', bytes('x'));
  b.delete('doomed');
  out.push('exists=' + b.exists('greeting') + ',' + b.exists('doomed'));
  // Positive deltas only: componentize-js 0.22 traps lowering a negative
  // s64 argument (unreachable in its bindings, before any import runs).
  out.push('incr=' + increment(b, 'visits', 2n) + ',' + increment(b, 'visits', 40n));
  const cas = Cas.new(b, 'greeting');
  out.push('current=' + text(cas.current()));
  swap(cas, bytes('swapped'));
  out.push('swapped=' + text(b.get('greeting')));
  const keys = [];
  let cursor;
  do {
    const page = b.listKeys(cursor);
    keys.push(...page.keys);
    cursor = page.cursor;
  } while (cursor !== undefined);
  out.push('keys=' + keys.sort().join(','));
  out.push('bad-key=' + errorOf(() => b.get('')));
  out.push('bad-bucket=' + errorOf(() => open('no/such bucket')));
}

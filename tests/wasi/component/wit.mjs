// The WIT sources check.mjs and layout.mjs resolve guests against: the
// guests' package at the top level, the keyvalue packages of
// wasi/wit as nested `package x { ... }` blocks. Upstream's draft and
// draft2 share one resolve; Spin's draft2 (same name and version as
// upstream's) has its own.
// SPDX-License-Identifier: MIT
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

function nested(text) {
  const m = text.match(/^package\s+([^;]+);/m);
  if (!m) throw new Error('no package declaration');
  return `${text.slice(0, m.index)}package ${m[1]} {${text.slice(m.index + m[0].length)}\n}\n`;
}

export function witSources(witDir) {
  const read = (f) => readFileSync(join(witDir, f), 'utf8');
  return {
    upstream: read('guests.wit') + nested(read('keyvalue-0.2.0-draft.wit')) +
      nested(read('keyvalue-0.2.0-draft2.wit')),
    spin: read('guests-spin.wit') + nested(read('keyvalue-spin-2024-10-17.wit')),
  };
}

export const sourceFor = (sources, world) => (world === 'spin' ? sources.spin : sources.upstream);

// SPDX-License-Identifier: MIT
/** The import graph of src/: no cycles (static or dynamic imports), so modules stay layered. */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const src = join(root, 'src');

function tsFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? tsFiles(join(dir, e.name)) : e.name.endsWith('.ts') ? [join(dir, e.name)] : []));
}

/** Relative imports of each file (`from '…'`, `import('…')`, `export … from '…'`), as .ts paths. */
export function importGraph(files: string[]): Map<string, string[]> {
  const g = new Map<string, string[]>();
  for (const f of files) {
    const text = readFileSync(f, 'utf8');
    const deps = [...text.matchAll(/(?:from\s+|import\s*\(\s*)'(\.[^']+)\.js'/g)].map((m) => resolve(dirname(f), `${m[1]}.ts`));
    g.set(f, deps.filter((d) => files.includes(d)));
  }
  return g;
}

/** Every cycle, each as the list of files from one module back to itself. */
export function cycles(g: Map<string, string[]>): string[][] {
  const out: string[][] = [];
  const state = new Map<string, 'open' | 'done'>();
  const stack: string[] = [];
  const visit = (n: string) => {
    state.set(n, 'open');
    stack.push(n);
    for (const d of g.get(n) ?? []) {
      if (state.get(d) === 'open') out.push([...stack.slice(stack.indexOf(d)), d]);
      else if (!state.has(d)) visit(d);
    }
    stack.pop();
    state.set(n, 'done');
  };
  for (const n of g.keys()) if (!state.has(n)) visit(n);
  return out;
}

test('src/ has no import cycle', () => {
  const found = cycles(importGraph(tsFiles(src))).map((c) => c.map((f) => relative(root, f)).join(' -> '));
  assert.deepEqual(found, []);
});

test('the cycle finder finds a cycle through a dynamic import', () => {
  const g = new Map([
    ['a', ['b']],
    ['b', ['c']],
    ['c', ['a']],
    ['d', ['a']],
  ]);
  assert.deepEqual(cycles(g), [['a', 'b', 'c', 'a']]);
  assert.deepEqual(cycles(new Map([['a', ['b']], ['b', []]])), []);
  const files = [join(src, 'embed', 'create-embedder.ts'), join(src, 'embed', 'native-embedder.ts')];
  assert.ok(importGraph(files).get(files[0])!.includes(files[1]), 'create-embedder imports native-embedder (dynamically)');
});

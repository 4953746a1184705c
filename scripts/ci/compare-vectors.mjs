// SPDX-License-Identifier: MIT
/**
 * Compares the 200-d vectors of two `vectorize` outputs (one JSON line each; or a JSON array):
 *   node scripts/ci/compare-vectors.mjs A B (--exact | --within TOL) [--label TEXT]
 * --exact: the same float bits (as printed, which round-trips float32 through JSON numbers);
 * --within: the largest absolute difference must be at most TOL. Prints the largest difference;
 * exits 1 when the check fails or either file holds no vector of 200 finite numbers.
 */
import { readFileSync } from 'node:fs';

const argv = process.argv.slice(2);
const opt = (n) => (argv.includes(n) ? argv[argv.indexOf(n) + 1] : undefined);
const [a, b] = argv;
const exact = argv.includes('--exact');
const tol = opt('--within') === undefined ? undefined : Number(opt('--within'));
const label = opt('--label') ?? `${a} vs ${b}`;
if (!a || !b || (!exact && !(tol >= 0))) {
  console.error('usage: compare-vectors.mjs A B (--exact | --within TOL) [--label TEXT]');
  process.exit(2);
}
function vector(file) {
  const text = readFileSync(file, 'utf8').trim();
  const line = text.split('\n').filter((l) => l.trim().startsWith('{') || l.trim().startsWith('[')).at(-1);
  const v = line ? JSON.parse(line) : undefined;
  const vec = Array.isArray(v) ? v : v?.vector;
  if (!Array.isArray(vec) || vec.length !== 200 || !vec.every(Number.isFinite)) throw new Error(`${file}: no vector of 200 finite numbers`);
  return vec;
}
const va = vector(a);
const vb = vector(b);
const f32 = (v) => Buffer.from(new Float32Array(v).buffer);
const diff = Math.max(...va.map((x, i) => Math.abs(x - vb[i])));
const ok = exact ? f32(va).equals(f32(vb)) && va.every((x, i) => x === vb[i]) : diff <= tol;
console.log(`compare-vectors: ${label}: max |diff| ${diff.toExponential(3)} (${exact ? 'bit-identical required' : `within ${tol}`}): ${ok ? 'ok' : 'FAIL'}`);
process.exit(ok ? 0 : 1);

// SPDX-License-Identifier: MIT
/** nearestByCosine (src/coordinator/similar.ts) against a full sort by the plain cosine formula. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { nearestByCosine, norm } from '../src/coordinator/similar.js';
import { cosine } from './support/collection.js';

let seed = 42;
const rnd = () => ((seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648) - 0.5;

test('the k best by cosine, best first, equal to sorting everything; skip and precomputed norms', () => {
  const items = Array.from({ length: 500 }, (_, i) => ({ i, vector: Float32Array.from({ length: 200 }, rnd) }));
  const q = Float32Array.from({ length: 200 }, rnd);
  const want = items.map((x) => ({ i: x.i, s: cosine(q, x.vector) })).sort((a, b) => b.s - a.s);
  for (const k of [1, 10, 100, 500, 900]) {
    const got = nearestByCosine(q, items, k);
    assert.deepEqual(got.map((g) => g.item.i), want.slice(0, k).map((w) => w.i), `k = ${k}`);
    got.forEach((g, j) => assert.ok(Math.abs(g.score - want[j].s) < 1e-12));
  }
  const norms = items.map((x) => norm(x.vector));
  const skipped = nearestByCosine(q, items, 10, { skip: (_x, i) => i === want[0].i, norms });
  assert.deepEqual(skipped.map((g) => g.item.i), want.slice(1, 11).map((w) => w.i));
});

test('ties keep store order; a zero vector scores 0; a bad k is a RangeError', () => {
  const v = Float32Array.from({ length: 4 }, (_, i) => i + 1);
  const items = [{ id: 'a', vector: v }, { id: 'zero', vector: new Float32Array(4) }, { id: 'b', vector: Float32Array.from(v, (x) => 2 * x) }];
  const got = nearestByCosine(v, items, 3);
  assert.deepEqual(got.map((g) => g.item.id), ['a', 'b', 'zero']);
  assert.equal(got[2].score, 0);
  assert.throws(() => nearestByCosine(v, items, 0), { name: 'RangeError', message: 'Expected a positive integer for k but received 0' });
});

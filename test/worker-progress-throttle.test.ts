// SPDX-License-Identifier: MIT
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ProgressThrottle } from '../src/worker/progress-throttle.js';

test('sends at most one report per interval and the latest value after it', async () => {
  let now = 0;
  const sent: [string, number][] = [];
  const t = new ProgressThrottle((s, f) => sent.push([s, f]), 50, () => now);
  t.report('download', 0.1);
  now = 10;
  t.report('download', 0.2);
  now = 20;
  t.report('inference', 0.3);
  assert.deepEqual(sent, [['download', 0.1]]);
  now = 60;
  await new Promise((r) => setTimeout(r, 80));
  assert.deepEqual(sent, [
    ['download', 0.1],
    ['inference', 0.3],
  ]);
  t.cancel();
});

test('clamps fractions to 0..1 and turns NaN into 0', () => {
  const sent: number[] = [];
  let now = 0;
  const t = new ProgressThrottle((_s, f) => sent.push(f), 10, () => now);
  t.report('x', 7);
  now = 100;
  t.report('x', NaN);
  now = 200;
  t.report('x', -1);
  assert.deepEqual(sent, [1, 0, 0]);
});

test('cancel drops a pending report', async () => {
  let now = 0;
  const sent: number[] = [];
  const t = new ProgressThrottle((_s, f) => sent.push(f), 30, () => now);
  t.report('x', 0.1);
  t.report('x', 0.2);
  t.cancel();
  now = 100;
  await new Promise((r) => setTimeout(r, 50));
  assert.deepEqual(sent, [0.1]);
});

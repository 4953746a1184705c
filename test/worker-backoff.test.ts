// SPDX-License-Identifier: MIT
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Backoff } from '../src/worker/backoff.js';

test('the protocol sequence: 2 s, x1.5, capped at 60 s', () => {
  const b = new Backoff();
  const seq = Array.from({ length: 12 }, () => b.next());
  assert.deepEqual(seq, [2000, 3000, 4500, 6750, 10125, 15187.5, 22781.25, 34171.875, 51257.8125, 60000, 60000, 60000]);
});

test('a connection that stayed up over a minute resets the delay; a short one does not', () => {
  const b = new Backoff();
  b.next();
  b.next();
  b.connectionLasted(30000);
  assert.equal(b.next(), 4500);
  b.connectionLasted(60001);
  assert.equal(b.next(), 2000);
});

test('custom short delays for tests', () => {
  const b = new Backoff({ initialMs: 10, factor: 2, maxMs: 50 });
  assert.deepEqual([b.next(), b.next(), b.next(), b.next()], [10, 20, 40, 50]);
});

test('rejects nonsense settings', () => {
  assert.throws(() => new Backoff({ initialMs: 0 }), RangeError);
  assert.throws(() => new Backoff({ factor: 0.5 }), RangeError);
  assert.throws(() => new Backoff({ initialMs: 100, maxMs: 50 }), RangeError);
});

// SPDX-License-Identifier: MIT
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { firstLine, isObj } from '../src/util/values.js';

test('isObj: plain objects only', () => {
  assert.equal(isObj({}), true);
  assert.equal(isObj({ a: 1 }), true);
  for (const v of [null, undefined, [], [1], 'x', 1, true]) assert.equal(isObj(v), false, String(v));
});

test('firstLine: the first line of an error message or a value, trimmed, cut to max', () => {
  assert.equal(firstLine(new Error('boom \nstack')), 'boom');
  assert.equal(firstLine('a\nb'), 'a');
  assert.equal(firstLine('abcdef', 3), 'abc');
  assert.equal(firstLine(42), '42');
  assert.equal(firstLine(''), '');
});

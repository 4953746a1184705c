// SPDX-License-Identifier: MIT
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { firstLine, isObj, oneLineText } from '../src/util/values.js';

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

test('oneLineText leaves a plain id as it is and puts one holding line breaks, quotes or backslashes on one line', () => {
  assert.equal(oneLineText('dup-final'), 'dup-final');
  assert.equal(oneLineText('http://127.0.0.1:1/}Z-\n'), 'http://127.0.0.1:1/}Z-\\n');
  assert.equal(oneLineText('a\r\n"b"\\'), 'a\\r\\n\\"b\\"\\\\');
  assert.ok(!oneLineText('x\ny\u0000').includes('\n'));
});

// SPDX-License-Identifier: MIT
import assert from 'node:assert/strict';
import { PassThrough } from 'node:stream';
import { test } from 'node:test';
import { canPrompt, promptConnection } from '../src/cli/prompt.js';

function io(answers: string[]) {
  const input = new PassThrough();
  const output = new PassThrough();
  let shown = '';
  output.on('data', (d) => {
    shown += String(d);
    // answer each prompt as it appears
    if (/: $/.test(shown) && answers.length) input.write(answers.shift() + '\n');
  });
  return { input, output, shown: () => shown };
}

test('an empty URL answer means the default server', async () => {
  const s = io(['', 'ABC']);
  const r = await promptConnection({}, s);
  assert.deepEqual(r, { url: 'https://chaarfm.onrender.com', code: 'ABC' });
  assert.match(s.shown(), /Server URL \[https:\/\/chaarfm\.onrender\.com\]: /);
});

test('only what is missing is asked', async () => {
  const s = io(['XYZ']);
  const r = await promptConnection({ url: 'http://h' }, s);
  assert.deepEqual(r, { url: 'http://h', code: 'XYZ' });
  assert.doesNotMatch(s.shown(), /Server URL/);
});

test('an empty code is asked again with a hint', async () => {
  const s = io(['http://h', '', '  ', 'C1']);
  const r = await promptConnection({}, s);
  assert.equal(r.code, 'C1');
  assert.match(s.shown(), /\/ingest page/);
});

test('input that ends before an answer rejects instead of hanging', async () => {
  const input = new PassThrough();
  const output = new PassThrough();
  output.resume();
  const p = promptConnection({}, { input, output });
  input.end();
  await assert.rejects(p);
});

test('canPrompt needs a terminal on both ends', () => {
  assert.equal(canPrompt({ input: new PassThrough(), output: new PassThrough() }), false);
  const tty = Object.assign(new PassThrough(), { isTTY: true });
  assert.equal(canPrompt({ input: tty, output: tty }), true);
});

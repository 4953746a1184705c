// SPDX-License-Identifier: MIT
/**
 * `--threads` has one limit and one message everywhere: the worker and vectorize commands, the
 * native and the portable embedder (and the addon, which refuses over 64 as well).
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { NativeEmbedder } from '../src/embed/native-embedder.js';
import { MAX_THREADS, checkThreads } from '../src/embed/threads.js';
import { WasmEmbedder } from '../src/embed/wasm-embedder.js';

const BIN = join(dirname(fileURLToPath(import.meta.url)), '..', 'src', 'bin.js');

test('1 and the limit are allowed', () => {
  assert.equal(checkThreads(MAX_THREADS), MAX_THREADS);
  assert.equal(checkThreads(1), 1);
  assert.throws(() => checkThreads(MAX_THREADS + 1), RangeError);
});

test('the embedders refuse 0, 65 and 2.5 with one RangeError message', async () => {
  for (const n of [0, 65, 2.5]) {
    const message = `Expected an integer from 1 to 64 for threads but received ${n}`;
    assert.throws(() => new NativeEmbedder({ binding: {} as never, model: {} as never, threads: n } as never), { name: 'RangeError', message });
    await assert.rejects(WasmEmbedder.create({ threads: n } as never), { name: 'RangeError', message });
  }
});

for (const cmd of [['--url', 'http://127.0.0.1:9', '--code', '1234'], ['vectorize', 'missing.mp3']]) {
  test(`the CLI (${cmd[0] === 'vectorize' ? 'vectorize' : 'worker'}) refuses --threads 65 with the same message, before doing anything`, () => {
    const r = spawnSync(process.execPath, [BIN, ...cmd, '--threads', '65'], { encoding: 'utf8', timeout: 20000 });
    assert.equal(r.status, 1, r.stderr);
    assert.match(r.stderr, /Expected an integer from 1 to 64 for --threads but received "65"/);
  });
}

// SPDX-License-Identifier: MIT
/**
 * Tests for src/embed/wasm-embedder.ts on the portable backend (our engine in WebAssembly,
 * src/embed/wasm-engine-thread.ts) and create-embedder: the event loop
 * stays responsive during an embed, concurrent calls give the same vectors as sequential ones
 * (one thread or two), streams and paths agree, abort and close() work, NaN outputs are
 * rejected, and the backend choice explains itself. Nothing here depends on speed: the lag
 * bound is generous and only guards against the CPU work landing on the main thread.
 * The tests that decode audio skip, saying so, without ffmpeg.
 */
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { createReadStream } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, test } from 'node:test';
import { createEmbedder, describeBackend } from '../src/embed/create-embedder.js';
import type { EmbedProgress } from '../src/embed/embedder.js';
import { WasmEmbedder } from '../src/embed/wasm-embedder.js';
import { RowMean } from '../src/embed/wasm-embedder-thread.js';
import { ffmpegSkip as skip } from './support/ffmpeg.js';

let dir: string;
let embedder: WasmEmbedder;
const clip = (name: string) => path.join(dir, name);

/** Chords, a kick and some noise: `seconds` of 44.1 kHz stereo audio in `file` (any format). */
function makeClip(file: string, seconds: number, root = 220): void {
  const chord = [1, 1.26, 1.5].map((k, i) => `${0.15 - 0.03 * i}*sin(2*PI*${(root * k).toFixed(2)}*t)`).join('+');
  const expr = `${chord}+0.4*sin(2*PI*55*t)*exp(-8*mod(t,0.5))+0.05*(random(0)*2-1)`;
  execFileSync('ffmpeg', ['-hide_banner', '-v', 'error', '-y', '-f', 'lavfi', '-i', `aevalsrc='${expr}|${expr}':s=44100:d=${seconds}`, file]);
}

const bits = (v: Float32Array) => Buffer.from(v.buffer, v.byteOffset, v.byteLength);

before(async () => {
  if (skip) return;
  dir = await mkdtemp(path.join(tmpdir(), 'chaarfm-wasm-embedder-'));
  makeClip(clip('a-60s.mp3'), 60);
  makeClip(clip('b-6s.wav'), 6, 196);
  makeClip(clip('c-9s.flac'), 9, 262);
  embedder = (await createEmbedder({ backend: 'wasm', threads: 1 })) as WasmEmbedder;
});

after(async () => {
  await embedder?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
});

test('the event loop keeps ticking while a 60 s clip is embedded', { skip }, async () => {
  let maxLag = 0;
  let last = performance.now();
  const tick = setInterval(() => {
    const now = performance.now();
    maxLag = Math.max(maxLag, now - last - 20);
    last = now;
  }, 20);
  const progress: EmbedProgress[] = [];
  try {
    const r = await embedder.embed(clip('a-60s.mp3'), { onProgress: (p) => progress.push(p) });
    assert.equal(r.vector.length, 200);
    assert.ok(r.vector.every(Number.isFinite));
    assert.ok(Math.abs(r.duration - 60) < 0.1, `duration ${r.duration}`);
    assert.equal(r.patches, 39); // 60 s: 3751 frames -> floor((3751 - 187) / 93) + 1
  } finally {
    clearInterval(tick);
  }
  assert.ok(maxLag < 500, `the main thread stalled for ${maxLag.toFixed(0)} ms`);
  const inference = progress.filter((p) => p.stage === 'inference').map((p) => p.fraction);
  assert.ok(inference.length >= 2, 'inference progress was reported');
  assert.ok(inference.every((f, i) => f >= 0 && f <= 1 && (i === 0 || f >= inference[i - 1])), `fractions ${inference}`);
  assert.equal(inference.at(-1), 1);
});

test('concurrent embeds give the same vectors as sequential ones, on one thread or two', { skip }, async () => {
  const files = [clip('b-6s.wav'), clip('c-9s.flac')];
  const seq = [];
  for (const f of files) seq.push(await embedder.embed(f));
  const par = await Promise.all(files.map((f) => embedder.embed(f)));
  const two = await createEmbedder({ backend: 'wasm', threads: 2 });
  try {
    const par2 = await Promise.all(files.map((f) => two.embed(f)));
    for (let i = 0; i < files.length; i++) {
      assert.deepEqual(bits(par[i].vector), bits(seq[i].vector), `one thread, ${files[i]}`);
      assert.deepEqual(bits(par2[i].vector), bits(seq[i].vector), `two threads, ${files[i]}`);
      assert.equal(par[i].patches, seq[i].patches);
    }
  } finally {
    await two.close();
  }
  assert.notDeepEqual(bits(seq[0].vector), bits(seq[1].vector));
});

test('a readable stream gives the same vector as the file path', { skip }, async () => {
  const fromPath = await embedder.embed(clip('b-6s.wav'));
  const fromStream = await embedder.embed(createReadStream(clip('b-6s.wav')));
  assert.deepEqual(bits(fromStream.vector), bits(fromPath.vector));
  assert.equal(fromStream.duration, fromPath.duration);
});

test('abort rejects with an AbortError and leaves the embedder usable', { skip }, async () => {
  const ac = new AbortController();
  const p = embedder.embed(clip('a-60s.mp3'), {
    signal: ac.signal,
    onProgress: (x) => x.stage === 'inference' && ac.abort(),
  });
  await assert.rejects(p, (e: unknown) => e instanceof Error && e.name === 'AbortError');
  await assert.rejects(embedder.embed(clip('b-6s.wav'), { signal: AbortSignal.abort() }), { name: 'AbortError' });
  const r = await embedder.embed(clip('b-6s.wav'));
  assert.equal(r.vector.length, 200);
});

test('the mean adds rows in order in float32, as numpy mean(axis=0) does on float32 rows', () => {
  const m = new RowMean(2);
  assert.equal(m.mean(), undefined);
  assert.ok(m.add(new Float32Array([1e8, 0.1, 1, 0.2]), 2));
  assert.ok(m.add(new Float32Array([-1e8, 0.3]), 1));
  // numpy: np.mean(np.array([[1e8, .1], [1, .2], [-1e8, .3]], np.float32), axis=0) == [0, 0.2f]
  // (a float64 sum would give 1/3 in the first column)
  assert.deepEqual(Array.from(m.mean()!), [0, Math.fround(0.2)]);
  assert.equal(m.rows, 3);
  assert.equal(new RowMean(1).add(new Float32Array([Infinity]), 1), false);
});

test('rejects a NaN output instead of returning a NaN vector, and NaN patches as input', { skip }, async () => {
  // 3e38 overflows inside the graph: the output is NaN
  const huge = new Float32Array(2 * 187 * 96).fill(1e-3);
  huge.fill(3e38, 187 * 96);
  await assert.rejects(embedder.embedPatches(huge), /MusiCNN output model\/dense\/BiasAdd contains NaN or Inf values \(patch 2\)/);
  // the engine's Relu would hide a NaN input: it is refused before it runs
  await assert.rejects(embedder.embedPatches(new Float32Array(187 * 96).fill(NaN)), /the patches contain NaN or infinite values/);
  const ok = await embedder.embedPatches(new Float32Array(187 * 96).fill(1e-3));
  assert.equal(ok.patches, 1);
});

test('close() fails jobs in flight, stops the threads and refuses new work', { skip }, async () => {
  const e = (await createEmbedder({ backend: 'wasm', threads: 2 })) as WasmEmbedder;
  assert.equal(e.threadCount, 2);
  const running = assert.rejects(e.embed(clip('a-60s.mp3')), /The embedder was closed/);
  await new Promise((r) => setTimeout(r, 300));
  await e.close();
  await running;
  assert.equal(e.threadCount, 0);
  await assert.rejects(e.embed(clip('b-6s.wav')), /The embedder is closed/);
});

test('a process exits on its own after close(), even with a job in flight', { skip }, async () => {
  const mod = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', 'src', 'embed', 'create-embedder.js');
  const script = `
    const { createEmbedder } = await import(${JSON.stringify(mod)});
    const e = await createEmbedder({ backend: 'wasm', threads: 1 });
    const p = e.embed(${JSON.stringify(clip('a-60s.mp3'))}).catch((err) => console.log('rejected:', err.message));
    setTimeout(() => e.close(), 200);
    await p;`;
  const child = spawn(process.execPath, ['--input-type=module', '-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  child.stdout.on('data', (d) => (out += d));
  const code = await new Promise<number | null>((resolve) => {
    const kill = setTimeout(() => child.kill('SIGKILL'), 60_000);
    child.on('exit', (c) => {
      clearTimeout(kill);
      resolve(c);
    });
  });
  assert.equal(code, 0, 'the child process did not exit by itself');
  assert.match(out, /rejected: The embedder was closed/);
});

test('backend choice: wasm or essentia.js when asked (the native cases are in native-loader.test.ts); the wasm one is our engine', { skip }, async () => {
  assert.deepEqual(describeBackend('wasm'), { backend: 'wasm', reason: 'chosen with --backend wasm' });
  assert.deepEqual(describeBackend('essentia.js'), { backend: 'essentia.js', reason: 'chosen with --backend essentia.js' });
  await assert.rejects(createEmbedder({ backend: 'tfjs' as never }), /Expected auto, native, wasm or essentia.js for backend but received "tfjs"/);
  assert.equal(embedder.backend, 'wasm');
});

// SPDX-License-Identifier: MIT
/**
 * The addon's audio front end against the TypeScript reference path:
 *  - resampling (native/src/audio/resample.cc, libsamplerate linked natively) gives exactly the
 *    samples of src/audio/resample.ts (libsamplerate's WASM build): same float32 ratio, same
 *    4096-sample blocks, same end-of-stream rule (a length that is a multiple of 4096 is not
 *    flushed), whatever the chunking; 16 kHz input is copied;
 *  - the frame cutter + mel bands (native/src/audio/mel_frontend.cc) give MelReference's values
 *    bit for bit. Why they are equal: the port performs the same float32 roundings in the same
 *    order (compiled with -ffp-contract=off, so no FMA merges two of them), the same radix-2 FFT
 *    in double, and the same correctly rounded log/exp; the only possible source of difference
 *    is libm (glibc vs V8's fdlibm port) for cos/sin/log10 in double, at most 1 ulp of a double,
 *    far below one float32 ulp of the result (~1e-7), so it could flip a float32 rounding only
 *    by rare chance. The tests assert equality; should a platform's libm ever flip one, they
 *    fail saying how many values and by how much (the spec's budget for the front end is 1e-5:
 *    the wasm mel path, essentia.js, differs from the reference by up to 2e-5).
 * Skips, saying why, when the addon is not built.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { resampleAll } from '../src/audio/resample.js';
import { loadNativeAddon } from '../src/embed/native-addon.js';
import { cutFrames } from '../src/embed/frames.js';
import type { Binding } from '../src/embed/native-binding.js';
import { concatFloat32 } from '../src/util/float32.js';
import { MelReference } from '../src/embed/mel.js';
import { loadTestBinding } from './support/native-addon.js';

const { binding, skip } = loadTestBinding();

/** A music-like mono signal: a chord, a decaying bass hit, a bit of deterministic noise. */
function signal(n: number, rate: number, seed = 1): Float32Array {
  const x = new Float32Array(n);
  let s = seed;
  for (let i = 0; i < n; i++) {
    const t = i / rate;
    s = (s * 1103515245 + 12345) % 2147483648;
    x[i] =
      0.25 * Math.sin(2 * Math.PI * 220 * t) +
      0.15 * Math.sin(2 * Math.PI * 277.18 * t) +
      0.3 * Math.sin(2 * Math.PI * 55 * t) * Math.exp(-8 * (t % 0.5)) +
      0.05 * (s / 2147483648 - 0.5);
  }
  return x;
}

const tsResample = (x: Float32Array, rate: number, chunk: number): Promise<Float32Array> => resampleAll(x, rate, chunk);

/** Number of positions where a and b are not bit-identical (lengths must match). */
function mismatches(a: Float32Array, b: Float32Array): number {
  assert.equal(a.length, b.length, `lengths ${a.length} vs ${b.length}`);
  let n = 0;
  for (let i = 0; i < a.length; i++) if (!Object.is(a[i], b[i])) n++;
  return n;
}

function maxAbsDiff(a: Float32Array, b: Float32Array): number {
  assert.equal(a.length, b.length, `lengths ${a.length} vs ${b.length}`);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

const CASES: { rate: number; n: number; why: string }[] = [
  { rate: 44100, n: 44100 * 12 + 123, why: '44.1 kHz, a remainder to flush' },
  { rate: 44100, n: 4096 * 150, why: '44.1 kHz, a multiple of 4096: the tail is not flushed' },
  { rate: 48000, n: 48000 * 5 + 7, why: '48 kHz' },
  { rate: 22050, n: 22050 * 4 + 1, why: '22.05 kHz (upsampling)' },
  { rate: 8000, n: 8000 * 3 + 333, why: '8 kHz' },
  { rate: 16000, n: 16000 * 3 + 1, why: '16 kHz: copied' },
];

for (const c of CASES) {
  test(`native resampling equals src/audio/resample.ts sample for sample: ${c.why}`, { skip }, async () => {
    const x = signal(c.n, c.rate);
    const ref = await tsResample(x, c.rate, 16384);
    for (const chunk of [16384, 1000, 4096]) {
      const nat = await binding!.resample(x, c.rate, chunk);
      assert.equal(mismatches(ref, nat), 0, `chunk ${chunk}: max diff ${maxAbsDiff(ref, nat)}`);
    }
  });
}

test('native resampling rejects a bad rate with a RangeError naming sampleRate', { skip }, async () => {
  // bad arguments throw at the call; a rate the resampler refuses rejects the promise
  assert.throws(() => binding!.resample(new Float32Array(10), 0), (e: Error) => e instanceof RangeError && /for sampleRate/.test(e.message));
  await assert.rejects(binding!.resample(new Float32Array(10), 16000 * 300), (e: Error) => e instanceof RangeError && /for sampleRate/.test(e.message));
  assert.throws(
    () => binding!.resample([1, 2] as unknown as Float32Array, 44100),
    (e: Error) => e instanceof TypeError && /Expected a Float32Array for pcm/.test(e.message),
  );
});

test('native mel bands equal MelReference bit for bit', { skip }, async (t) => {
  const x = signal(16000 * 20, 16000, 7);
  // an all-zero frame and a full-scale one too
  const extra = new Float32Array(2 * 512);
  extra.fill(1, 512);
  const all = concatFloat32([cutFrames(x), extra]);
  const ref = new MelReference().compute(all);
  const nat = await binding!.melBands(all);
  const worst = maxAbsDiff(ref, nat);
  t.diagnostic(`${all.length / 512} frames: max |diff| ${worst.toExponential(2)}, ${mismatches(ref, nat)} of ${ref.length} values not bit-identical`);
  assert.equal(mismatches(ref, nat), 0, `values not bit-identical (max |diff| ${worst})`);
});

test('native frame cutter + mel equals FrameCutter + MelReference on streamed 16 kHz audio', { skip }, async () => {
  for (const n of [16000 * 4 + 17, 256 * 300, 1, 0]) {
    const x = signal(n, 16000, 3);
    const frames = cutFrames(x);
    const ref = new MelReference().compute(frames);
    const nat = await binding!.frontend(x);
    assert.equal(mismatches(ref, nat), 0, `n=${n}: values not bit-identical (max |diff| ${maxAbsDiff(ref, nat)})`);
  }
});

test('melBands rejects a size that is not whole frames with a RangeError', { skip }, async () => {
  assert.throws(() => binding!.melBands(new Float32Array(513)), (e: Error) => e instanceof RangeError && /frames/.test(e.message));
});

test('the addon loads and works in worker_threads beside the main thread', { skip }, async () => {
  const { Worker } = await import('node:worker_threads');
  const { createRequire } = await import('node:module');
  const file = loadNativeAddon().path;
  const src =
    "const { parentPort, workerData } = require('node:worker_threads');" +
    'const b = require(workerData);' +
    'b.resample(new Float32Array(44100).fill(0.5), 44100).then((y) => parentPort.postMessage(y.length));';
  const inWorker = (w: InstanceType<typeof Worker>) =>
    new Promise<number>((resolve, reject) => {
      w.once('message', (m: number) => resolve(m));
      w.once('error', reject);
    });
  const workers = [0, 1].map(() => new Worker(src, { eval: true, workerData: file }));
  try {
    const main = createRequire(import.meta.url)(file) as Binding;
    const [a, b2, c] = await Promise.all([...workers.map(inWorker), main.resample(new Float32Array(44100).fill(0.5), 44100).then((y) => y.length)]);
    assert.deepEqual([a, b2, c], [16000, 16000, 16000]);
  } finally {
    await Promise.all(workers.map((w) => w.terminate()));
  }
});

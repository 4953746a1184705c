// SPDX-License-Identifier: MIT
/**
 * src/audio/resample.ts: the streaming resampler reproduces one-shot libsamplerate
 * (src_simple, end_of_input = 1) sample for sample whatever the chunking, uses Essentia's
 * float32 ratio, keeps Essentia's end-of-stream rule, and passes 16 kHz through.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import lsr from '@alexanderolsen/libsamplerate-js';
import { ESSENTIA_BLOCK, Resampler, TARGET_RATE, essentiaRatio, resampleAll } from '../src/audio/resample.js';

/** A deterministic test signal: two tones and some LCG noise. */
function signal(n: number, seed = 1): Float32Array {
  const x = new Float32Array(n);
  let s = seed;
  for (let i = 0; i < n; i++) {
    s = (s * 1103515245 + 12345) % 2147483648;
    x[i] = 0.5 * Math.sin(i * 0.05) + 0.2 * Math.sin(i * 1.3) + 0.1 * (s / 2147483648 - 0.5);
  }
  return x;
}

/** libsamplerate's one-shot API at Essentia's float ratio: the reference output. */
async function oneShot(x: Float32Array, rate: number): Promise<Float32Array> {
  const ratio = essentiaRatio(rate);
  let k = 0;
  while (!Number.isInteger(ratio * 2 ** k)) k++;
  const src = await lsr.create(1, 48000, TARGET_RATE, { converterType: 1 });
  src.inputSampleRate = 2 ** k;
  src.outputSampleRate = ratio * 2 ** k;
  const y = src.simple(x);
  src.destroy();
  return y;
}

const streamed = (x: Float32Array, rate: number, chunk: number): Promise<Float32Array> => resampleAll(x, rate, chunk);

test('uses the float32 ratio Essentia computes, not the double one', () => {
  assert.equal(essentiaRatio(44100), Math.fround(16000 / 44100));
  assert.notEqual(essentiaRatio(44100), 16000 / 44100);
  assert.equal(essentiaRatio(16000), 1);
  assert.equal(essentiaRatio(8000), 2);
});

test('streaming output equals one-shot libsamplerate exactly, for any chunking', async () => {
  for (const rate of [44100, 48000, 22050, 8000]) {
    const n = 3 * rate + 1234; // not a multiple of 4096: Essentia flushes the tail
    assert.notEqual(n % ESSENTIA_BLOCK, 0);
    const x = signal(n);
    const ref = await oneShot(x, rate);
    for (const chunk of [n, 4096, 1000, 37]) {
      const y = await streamed(x, rate, chunk);
      assert.deepEqual(y, ref, `${rate} Hz in chunks of ${chunk}`);
    }
    // libsamplerate stops once the next output would pass the end: floor(n * ratio) samples
    assert.ok(Math.abs(ref.length - n * essentiaRatio(rate)) <= 1, `${rate}: ${ref.length} for ${n}`);
  }
});

test('a stream of a multiple of 4096 samples leaves the filter tail unflushed, as Essentia does', async () => {
  const n = 20 * ESSENTIA_BLOCK;
  const x = signal(n, 5);
  const ref = await oneShot(x, 44100);
  const y = await streamed(x, 44100, 3000);
  assert.ok(y.length < ref.length - 10, `${y.length} vs ${ref.length}`);
  assert.deepEqual(y, ref.subarray(0, y.length));
});

test('16 kHz input passes through unchanged, without a converter', async () => {
  const x = signal(10_000);
  const r = await Resampler.create(16000);
  assert.equal(r.passthrough, true);
  const y = new Float32Array(x.length);
  y.set(r.push(x.subarray(0, 4000)), 0);
  y.set(r.push(x.subarray(4000)), 4000);
  assert.equal(r.end().length, 0);
  assert.deepEqual(y, x);
  assert.equal(r.outputSamples, x.length);
});

test('resamples a tone to the same tone at 16 kHz', async () => {
  const rate = 44100;
  const n = rate;
  const x = new Float32Array(n);
  for (let i = 0; i < n; i++) x[i] = Math.sin((2 * Math.PI * 1000 * i) / rate);
  const y = await streamed(x, rate, 4096);
  const ratio = essentiaRatio(rate);
  let worst = 0;
  for (let j = 200; j < y.length - 200; j++) {
    const expected = Math.sin((2 * Math.PI * 1000 * j) / (rate * ratio));
    worst = Math.max(worst, Math.abs(y[j] - expected));
  }
  assert.ok(worst < 1e-3, `max error ${worst}`);
});

test('rejects bad rates and use after end()', async () => {
  await assert.rejects(Resampler.create(0), RangeError);
  await assert.rejects(Resampler.create(16000 * 1000), RangeError);
  const r = await Resampler.create(44100);
  r.push(signal(100));
  r.end();
  assert.equal(r.end().length, 0);
  assert.throws(() => r.push(signal(10)), /after end/);
  r.dispose();
  r.dispose();
});

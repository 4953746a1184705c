// SPDX-License-Identifier: MIT
/**
 * src/embed/frames.ts: Essentia's streaming FrameCutter (512 / 256, first frame centred on
 * sample 0, zero padding, last frame = first whose centre is at or past the end).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FRAME_SIZE, FrameCutter, HOP_SIZE, frameCount } from '../src/embed/frames.js';

/** Sample i has value i + 1, so zeros can only be padding. */
function ramp(n: number): Float32Array {
  return Float32Array.from({ length: n }, (_, i) => i + 1);
}

function cut(x: Float32Array, chunk: number): Float32Array {
  const fc = new FrameCutter();
  const parts: Float32Array[] = [];
  for (let i = 0; i < x.length; i += chunk) parts.push(fc.push(x.subarray(i, i + chunk)));
  parts.push(fc.end());
  const out = new Float32Array(parts.reduce((n, p) => n + p.length, 0));
  let pos = 0;
  for (const p of parts) {
    out.set(p, pos);
    pos += p.length;
  }
  assert.equal(fc.frames, out.length / FRAME_SIZE);
  return out;
}

test('frame count follows Essentia\'s last-frame rule', () => {
  const cases: [number, number][] = [
    [0, 0], [1, 2], [255, 2], [256, 2], [257, 3], [511, 3], [512, 3], [513, 4], [16000, 64], [16128, 64], [16129, 65],
  ];
  for (const [n, frames] of cases) assert.equal(frameCount(n), frames, `${n} samples`);
  // the last frame is the first whose centre (256k) is at or past the end
  for (const n of [1, 256, 257, 1000, 49_439]) {
    const k = frameCount(n) - 1;
    assert.ok(k * HOP_SIZE >= n && (k - 1) * HOP_SIZE < n, `${n}`);
  }
});

test('frames hold samples [256k - 256, 256k + 256) with zeros outside the signal', () => {
  for (const n of [1, 100, 256, 300, 512, 1000, 1024, 5000]) {
    const x = ramp(n);
    const frames = cut(x, n);
    assert.equal(frames.length, frameCount(n) * FRAME_SIZE, `${n} samples`);
    for (let k = 0; k < frameCount(n); k++) {
      for (let i = 0; i < FRAME_SIZE; i++) {
        const t = k * HOP_SIZE - HOP_SIZE + i;
        const want = t >= 0 && t < n ? x[t] : 0;
        assert.equal(frames[k * FRAME_SIZE + i], want, `n=${n} frame ${k} sample ${i}`);
      }
    }
  }
});

test('chunked pushing gives the same frames as one push', () => {
  const x = ramp(10_000);
  const whole = cut(x, x.length);
  for (const chunk of [1, 7, 255, 256, 257, 4096]) assert.deepEqual(cut(x, chunk), whole, `chunks of ${chunk}`);
});

test('frames are returned as soon as they are complete', () => {
  const fc = new FrameCutter();
  assert.equal(fc.push(new Float32Array(255)).length, 0);
  assert.equal(fc.push(new Float32Array(1)).length, FRAME_SIZE); // frame 0 ends at sample 255
  assert.equal(fc.push(new Float32Array(256)).length, FRAME_SIZE);
  assert.equal(fc.end().length, FRAME_SIZE); // 512 samples: 3 frames
  assert.equal(fc.end().length, 0);
  assert.throws(() => fc.push(new Float32Array(1)), /after end/);
  assert.equal(new FrameCutter().end().length, 0);
});

// SPDX-License-Identifier: MIT
/**
 * src/embed/mel.ts: essentia.js's TensorflowInputMusiCNN against the plain-TypeScript reference,
 * frame by frame, and the reference's filter bank against the one essentia.js builds.
 *
 * Tolerances, and why:
 *  - Filter bank: Essentia computes the 98 band-edge frequencies in float32 with expf/logf.
 *    essentia.js's libm (Emscripten's musl) rounds expf differently from a correctly rounded
 *    one for 5 of them, by one float ulp; the reference rounds correctly, as glibc's expf
 *    (native Essentia on Linux) does. So up to 16 bands (3 per edge) may differ, by at most
 *    1e-4 relative; every other weight must be bit-identical.
 *  - Bands: log10(1 + 1e4·x) moves by at most 0.4343 × the relative change of x, so those
 *    weights allow 0.4343 × 1e-4 ≈ 4.4e-5; the FFT (KissFFT in float vs radix-2 in double)
 *    adds float rounding, measured ≤ 4e-6 on music. Bound: 5e-5 absolute. With essentia.js's
 *    own filter bank substituted only the FFT differs: bound 1e-5.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { Resampler } from '../src/audio/resample.js';
import { FRAME_SIZE, FrameCutter } from '../src/embed/frames.js';
import {
  EssentiaMel,
  MEL_BANDS,
  MelFrontend,
  MelReference,
  melFilterBank,
  type MelFilterBank,
} from '../src/embed/mel.js';
import { VIGNESH_WAV } from './support/fixtures.js';

const vignesh = VIGNESH_WAV;
const noFixture = existsSync(vignesh) ? false : `no fixture at ${vignesh} (set CHAARFM_ESSENTIA_FIXTURES)`;

/** 16-bit PCM WAV → float samples (x / 32768) and rate, without ffmpeg. */
function readWav16(path: string): { rate: number; samples: Float32Array } {
  const b = readFileSync(path);
  let pos = 12;
  let rate = 0;
  for (;;) {
    const id = b.toString('latin1', pos, pos + 4);
    const size = b.readUInt32LE(pos + 4);
    if (id === 'fmt ') {
      assert.equal(b.readUInt16LE(pos + 10), 1, 'mono');
      assert.equal(b.readUInt16LE(pos + 22), 16, '16-bit');
      rate = b.readUInt32LE(pos + 12);
    } else if (id === 'data') {
      const samples = new Float32Array(size / 2);
      for (let i = 0; i < samples.length; i++) samples[i] = b.readInt16LE(pos + 8 + 2 * i) / 32768;
      return { rate, samples };
    }
    pos += 8 + size + (size & 1);
  }
}

async function vigneshFrames(): Promise<Float32Array> {
  const { rate, samples } = readWav16(vignesh);
  const r = await Resampler.create(rate);
  const y1 = r.push(samples);
  const y2 = r.end();
  r.dispose();
  const fc = new FrameCutter();
  const a = fc.push(y1);
  const b = fc.push(y2);
  const c = fc.end();
  const out = new Float32Array(a.length + b.length + c.length);
  out.set(a);
  out.set(b, a.length);
  out.set(c, a.length + b.length);
  return out;
}

/** Synthetic frames: silence, tones at many levels, noise, a full-scale square wave. */
function syntheticFrames(): Float32Array {
  const n = 64;
  const frames = new Float32Array(n * FRAME_SIZE);
  let s = 7;
  for (let f = 1; f < n; f++) {
    const level = 10 ** -(f % 6);
    const freq = 40 + 123 * f;
    for (let i = 0; i < FRAME_SIZE; i++) {
      s = (s * 1103515245 + 12345) % 2147483648;
      const tone = f % 5 === 0 ? Math.sign(Math.sin((2 * Math.PI * freq * i) / 16000)) : Math.sin((2 * Math.PI * freq * i) / 16000);
      frames[f * FRAME_SIZE + i] = level * (0.7 * tone + 0.3 * (s / 2147483648 - 0.5));
    }
  }
  return frames;
}

/** essentia.js's own MelBands weights, read back through unit spectra. */
function essentiaBank(): Float32Array[] {
  const M = createRequire(import.meta.url)('essentia.js/dist/essentia-wasm.umd.js');
  const e = new M.EssentiaJS(false);
  const rows: Float32Array[] = [];
  for (let j = 0; j < FRAME_SIZE / 2 + 1; j++) {
    const unit = new Float32Array(FRAME_SIZE / 2 + 1);
    unit[j] = 1;
    const v = M.arrayToVector(unit);
    const r = e.MelBands(v, 8000, 257, false, 0, 'unit_tri', 96, 16000, 'power', 'slaneyMel', 'linear');
    rows.push(M.vectorToArray(r.bands));
    r.bands.delete();
    v.delete();
  }
  e.delete();
  return rows;
}

function weight(bank: MelFilterBank, band: number, bin: number): number {
  return bin >= bank.begin[band] && bin <= bank.end[band] ? bank.weights[bank.offset[band] + bin - bank.begin[band]] : 0;
}

function maxAbsDiff(a: Float32Array, b: Float32Array): number {
  assert.equal(a.length, b.length);
  let worst = 0;
  for (let i = 0; i < a.length; i++) worst = Math.max(worst, Math.abs(a[i] - b[i]));
  return worst;
}

const essRows = essentiaBank();
const bank = melFilterBank();

test('the filter bank is Essentia\'s; it differs from essentia.js only where its expf rounds differently', () => {
  const differing = new Set<number>();
  let worstRel = 0;
  for (let band = 0; band < MEL_BANDS; band++) {
    for (let bin = 0; bin <= FRAME_SIZE / 2; bin++) {
      const mine = weight(bank, band, bin);
      const theirs = essRows[bin][band];
      if (mine === theirs) continue;
      differing.add(band);
      assert.ok(mine !== 0 && theirs !== 0, `band ${band} bin ${bin}: same support`);
      worstRel = Math.max(worstRel, Math.abs(mine - theirs) / Math.abs(theirs));
    }
  }
  assert.ok(differing.size <= 16, `${differing.size} bands differ: ${[...differing]}`);
  assert.ok(worstRel <= 1e-4, `worst relative difference ${worstRel}`);
  // the first band starts at 0 Hz (weight 0 there); the top edge, accumulated in float mel
  // steps, lands just under 8000 Hz, so bin 256 (8000 Hz) is in no band, as in essentia.js
  assert.equal(bank.begin[0], 0);
  assert.equal(weight(bank, 0, 0), 0);
  assert.equal(bank.end[MEL_BANDS - 1], 255);
  assert.ok(essRows[256].every((w) => w === 0));
});

test('essentia.js and the TypeScript reference agree frame by frame', async (t) => {
  if (noFixture) t.diagnostic(`synthetic frames only: ${noFixture}`);
  const music = noFixture ? new Float32Array(0) : await vigneshFrames();
  const frames = new Float32Array([...music, ...syntheticFrames()]);
  const count = frames.length / FRAME_SIZE;
  const essentia = await EssentiaMel.create();
  const theirs = essentia.compute(frames);
  essentia.dispose();
  const mine = new MelReference().compute(frames);
  assert.equal(mine.length, count * MEL_BANDS);
  const worst = maxAbsDiff(mine, theirs);
  assert.ok(worst <= 5e-5, `max |difference| ${worst}`);

  // with essentia.js's own weights only the FFT differs
  const probed = melFilterBank();
  for (let band = 0; band < MEL_BANDS; band++) {
    for (let bin = probed.begin[band]; bin <= probed.end[band]; bin++) {
      probed.weights[probed.offset[band] + bin - probed.begin[band]] = essRows[bin][band];
    }
  }
  const fftOnly = maxAbsDiff(new MelReference(probed).compute(frames), theirs);
  assert.ok(fftOnly <= 1e-5, `max |difference| with essentia.js's bank ${fftOnly}`);
});

test('a silent frame gives exactly zero in both', async () => {
  const zeros = new Float32Array(2 * FRAME_SIZE);
  const essentia = await EssentiaMel.create();
  assert.deepEqual(essentia.compute(zeros), new Float32Array(2 * MEL_BANDS));
  essentia.dispose();
  assert.deepEqual(new MelReference().compute(zeros), new Float32Array(2 * MEL_BANDS));
});

test('MelFrontend uses essentia.js by default and the reference on request', async () => {
  const before = process.listenerCount('unhandledRejection') + process.listenerCount('uncaughtException');
  const def = await MelFrontend.create();
  assert.equal(def.name, 'essentia');
  assert.equal(def.fallbackReason, undefined);
  assert.equal(
    process.listenerCount('unhandledRejection') + process.listenerCount('uncaughtException'),
    before,
    'essentia.js leaves no process hooks behind',
  );
  const ts = await MelFrontend.create({ backend: 'typescript' });
  assert.equal(ts.name, 'typescript');
  const frames = syntheticFrames();
  assert.equal(def.compute(frames, 3).length, 3 * MEL_BANDS);
  assert.ok(maxAbsDiff(def.compute(frames), ts.compute(frames)) <= 5e-5);
  def.dispose();
  ts.dispose();
  await assert.rejects(MelFrontend.create({ backend: 'gpu' as never }), TypeError);
});

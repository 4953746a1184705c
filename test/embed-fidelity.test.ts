// SPDX-License-Identifier: MIT
/**
 * Fidelity of the portable backend (`wasm`: ffmpeg → our engine compiled to WebAssembly: its
 * resampler, frames, mel, MusiCNN → mean) and of the reference backend (`essentia.js`:
 * libsamplerate-js → essentia.js mel → TF.js WASM, the oracle of shared/spec/embedding.md):
 *  - Essentia's own MusiCNN regression case within its 1e-5 tolerance, on both;
 *  - the bar for our engine: on music-like audio (20 s at 44.1 kHz, 60 s at 48 kHz) every
 *    component of the 200-d vector within 1e-4 of the oracle and cosine >= 0.999999, the same
 *    bits on every run and for 1 and 2 threads;
 *  - the too-short error.
 * The regression fixtures are found via CHAARFM_ESSENTIA_FIXTURES or
 * ../shared/fixtures/essentia-regression next to the package; the tests skip, saying so, when
 * they are absent, when the reference backend's optional dependencies are not installed (its
 * tests), or without ffmpeg (all of them).
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { checkEssentiaRegression, fixturesDir, noReference } from './support/fixtures.js';
import { after, before, test } from 'node:test';
import { writeClip } from '../src/audio/synth-clip.js';
import { createEmbedder } from '../src/embed/create-embedder.js';
import type { Embedder } from '../src/embed/embedder.js';
import { AudioTooShortError } from '../src/embed/wasm-embedder.js';
import { ffmpegSkip as skip } from './support/ffmpeg.js';
import { compareVectors as compare } from './support/vector-compare.js';

/** A chord plus a decaying 55 Hz kick, `seconds` long, 44.1 kHz stereo 16-bit WAV. */
function makeClip(file: string, seconds: number): void {
  const expr = '0.2*sin(2*PI*220*t)+0.15*sin(2*PI*277.18*t)+0.15*sin(2*PI*329.63*t)+0.4*sin(2*PI*55*t)*exp(-8*mod(t,0.5))';
  execFileSync('ffmpeg', ['-hide_banner', '-v', 'error', '-y', '-f', 'lavfi', '-i', `aevalsrc='${expr}|${expr}':s=44100:d=${seconds}`, '-c:a', 'pcm_s16le', file]);
}

let dir: string;
let bundled: Embedder;

before(async () => {
  if (skip) return;
  dir = await mkdtemp(path.join(tmpdir(), 'chaarfm-fidelity-'));
  bundled = await createEmbedder({ backend: 'wasm', threads: 1 });
});

after(async () => {
  await bundled?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
});

test("the portable backend reproduces Essentia's MusiCNN regression (vignesh.wav, genre_dortmund, model/Sigmoid) within 1e-5", { skip }, async (t) => {
  const fx = fixturesDir();
  if (!fx) return t.skip('Essentia regression fixtures not found (set CHAARFM_ESSENTIA_FIXTURES)');
  assert.equal(bundled.backend, 'wasm');
  const first = await checkEssentiaRegression(createEmbedder, 'wasm', fx);
  t.diagnostic(`max abs error vs Essentia: ${first.worst.toExponential(2)}`);
  const again = await checkEssentiaRegression(createEmbedder, 'wasm', fx);
  assert.deepEqual(again.vector, first.vector);
});

test("the reference backend (essentia.js) reproduces Essentia's MusiCNN regression within 1e-5", { skip: skip || noReference }, async (t) => {
  const fx = fixturesDir();
  if (!fx) return t.skip('Essentia regression fixtures not found (set CHAARFM_ESSENTIA_FIXTURES)');
  const { worst } = await checkEssentiaRegression(createEmbedder, 'essentia.js', fx);
  t.diagnostic(`max abs error vs Essentia: ${worst.toExponential(2)}`);
});

test('the portable backend meets the bar against the oracle (essentia.js + TF.js) on music: within 1e-4, cosine >= 0.999999; same bits for 1 and 2 threads', { skip: skip || noReference, timeout: 600_000 }, async (t) => {
  const clips = [
    { file: path.join(dir, 'music-20s.wav'), seconds: 20, sampleRate: 44100, seed: 11, patches: 12 },
    { file: path.join(dir, 'music-60s-48k.wav'), seconds: 60, sampleRate: 48000, seed: 5, patches: 39 },
  ];
  for (const c of clips) await writeClip(c.file, { seconds: c.seconds, sampleRate: c.sampleRate, seed: c.seed });
  const oracle = await createEmbedder({ backend: 'essentia.js', threads: 1 });
  const two = await createEmbedder({ backend: 'wasm', threads: 2 });
  try {
    assert.equal(oracle.backend, 'essentia.js');
    for (const c of clips) {
      const [ours, ref, ours2] = await Promise.all([bundled.embed(c.file), oracle.embed(c.file), two.embed(c.file)]);
      assert.equal(ours.patches, c.patches);
      assert.equal(ref.patches, c.patches);
      assert.equal(ours.peak, ref.peak);
      const { maxDiff, cosine } = compare(ours.vector, ref.vector);
      t.diagnostic(`${path.basename(c.file)}: max |wasm engine - oracle| ${maxDiff.toExponential(2)}, cosine ${cosine.toFixed(9)}`);
      assert.ok(maxDiff <= 1e-4, `max diff ${maxDiff}`);
      assert.ok(cosine >= 0.999999, `cosine ${cosine}`);
      assert.deepEqual(Buffer.from(ours2.vector.buffer), Buffer.from(ours.vector.buffer), `${c.file}: 1 and 2 threads differ`);
    }
  } finally {
    await oracle.close();
    await two.close();
  }
});

test('the same file twice gives a bit-identical 200-d vector', { skip }, async () => {
  const file = path.join(dir, 'chord-8s.wav');
  makeClip(file, 8);
  const a = await bundled.embed(file);
  const b = await bundled.embed(file);
  assert.equal(a.vector.length, 200);
  assert.equal(a.patches, 4); // 8 s: 501 frames -> floor((501 - 187) / 93) + 1
  assert.ok(a.vector.every(Number.isFinite));
  assert.deepEqual(Buffer.from(b.vector.buffer), Buffer.from(a.vector.buffer));
});

test('rejects audio shorter than one patch with the decoded duration in the message', { skip }, async () => {
  const file = path.join(dir, 'short-2s.wav');
  makeClip(file, 2);
  await assert.rejects(
    bundled.embed(file),
    (e: unknown) => e instanceof AudioTooShortError && e.message === 'Audio too short (2.0 s; MusiCNN needs 3 s)',
  );
});

// SPDX-License-Identifier: MIT
/**
 * Fidelity of the whole portable path (ffmpeg → libsamplerate → frames → essentia.js mel →
 * patches → TF.js WASM → mean): Essentia's own MusiCNN regression case reproduced within its
 * 1e-5 tolerance, bit-identical vectors on repeated runs, and the too-short error.
 * The regression fixtures are found via CHAARFM_ESSENTIA_FIXTURES or
 * ../shared/fixtures/essentia-regression next to the package; the test skips, saying so,
 * when they are absent. Every test here decodes with ffmpeg and skips, saying so, without one.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { checkEssentiaRegression, fixturesDir } from './support/fixtures.js';
import { after, before, test } from 'node:test';
import { createEmbedder } from '../src/embed/create-embedder.js';
import type { Embedder } from '../src/embed/embedder.js';
import { AudioTooShortError } from '../src/embed/wasm-embedder.js';
import { ffmpegSkip as skip } from './support/ffmpeg.js';

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

test("reproduces Essentia's MusiCNN regression (vignesh.wav, genre_dortmund, model/Sigmoid) within 1e-5", { skip }, async (t) => {
  const fx = fixturesDir();
  if (!fx) return t.skip('Essentia regression fixtures not found (set CHAARFM_ESSENTIA_FIXTURES)');
  const first = await checkEssentiaRegression(createEmbedder, 'wasm', fx);
  t.diagnostic(`max abs error vs Essentia: ${first.worst.toExponential(2)}`);
  const again = await checkEssentiaRegression(createEmbedder, 'wasm', fx);
  assert.deepEqual(again.vector, first.vector);
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

// SPDX-License-Identifier: MIT
/**
 * The wasm engine through its TypeScript surface (src/embed/wasm-engine-binding.ts and the
 * worker thread of src/embed/wasm-engine-worker.ts): Essentia's own regression case within 1e-5,
 * the SIMD128 kernels giving the generic kernels' bits over whole graphs, rows and mel bands
 * against the native addon, and the errors. Skips, saying why, when prebuilds/wasm is not built
 * (`npm run build:wasm`); the native comparisons skip without the addon.
 */
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { decodeToPcm, resolveFfmpeg } from '../src/audio/ffmpeg.js';
import { NON_FINITE_AUDIO } from '../src/embed/embedder.js';
import { parseGraphDef } from '../src/embed/graphdef.js';
import { bundledModelPath } from '../src/embed/model-file.js';
import { graphToSpec } from '../src/embed/native-binding.js';
import { WASM_ENGINE_DIR, loadWasmEngine } from '../src/embed/wasm-engine-binding.js';
import { WasmEngineWorker } from '../src/embed/wasm-engine-worker.js';
import { ESSENTIA_EXPECTED, ESSENTIA_TOLERANCE, fixturesDir } from './support/fixtures.js';
import { loadTestBinding } from './support/native-addon.js';

const skip = existsSync(path.join(WASM_ENGINE_DIR, 'chaarfm-engine.wasm'))
  ? false
  : `the wasm engine is not built (no ${WASM_ENGINE_DIR}/chaarfm-engine.wasm); build it with: npm run build:wasm`;
const PATCH = 187 * 96;

function randomPatches(n: number, seed: number): Float32Array {
  const out = new Float32Array(n * PATCH);
  let s = seed >>> 0;
  for (let i = 0; i < out.length; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    out[i] = -2 + 6 * (s / 2 ** 32); // log-mel-like range
  }
  return out;
}

function maxAbsDiff(a: Float32Array, b: Float32Array): number {
  assert.equal(a.length, b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

test("wasm engine reproduces Essentia's MusiCNN regression (vignesh.wav, genre_dortmund, model/Sigmoid) within 1e-5", { skip }, async (t) => {
  const fx = fixturesDir();
  if (!fx) return t.skip('Essentia regression fixtures not found (set CHAARFM_ESSENTIA_FIXTURES)');
  const ffmpegPath = await resolveFfmpeg();
  const w = await WasmEngineWorker.create({
    modelBytes: readFileSync(path.join(fx, 'genre_dortmund_musicnn_msd.pb')),
    outputs: ['model/Sigmoid'],
  });
  try {
    assert.equal(w.backend, 'wasm simd128');
    const pcm = await decodeToPcm(path.join(fx, 'vignesh.wav'), { ffmpegPath });
    const r = await w.embedPcm(pcm.sampleRate, pcm);
    assert.equal(r.patches, 1);
    assert.equal(r.means[0].length, ESSENTIA_EXPECTED.length);
    const worst = Math.max(...ESSENTIA_EXPECTED.map((v, i) => Math.abs(v - r.means[0][i])));
    assert.ok(worst <= ESSENTIA_TOLERANCE, `values ${Array.from(r.means[0]).join(', ')}; max error ${worst}`);
    t.diagnostic(`max |wasm engine - Essentia| = ${worst.toExponential(2)}`);
  } finally {
    await w.close();
  }
});

test('wasm engine: SIMD128 kernels give the generic kernels\' bits over the whole graph; rows and mel vs the native addon', { skip }, async (t) => {
  const engine = await loadWasmEngine();
  const spec = graphToSpec(parseGraphDef(readFileSync(bundledModelPath()), 'model'), ['model/dense/BiasAdd']);
  const model = engine.createModel(spec);
  try {
    assert.deepEqual(model.outputWidths, [200]);
    const patches = randomPatches(3, 7);
    const [fast] = model.runPatches(patches, true);
    const [generic] = model.runPatches(patches, false);
    assert.equal(fast.length, 3 * 200);
    assert.ok(Buffer.from(fast.buffer).equals(Buffer.from(generic.buffer)), `fast vs generic max diff ${maxAbsDiff(fast, generic)}`);
    // a stream (overlap reuse) with the SIMD128 kernels == the same stream with the generic ones
    const pcm = new Float32Array(16000 * 8);
    for (let i = 0; i < pcm.length; i++) pcm[i] = 0.3 * Math.sin(i * 0.05) + 0.1 * Math.sin(i * 0.31 + Math.sin(i * 1e-3));
    const means = [true, false].map((f) => {
      const s = model.openSession(f);
      try {
        for (let at = 0; at < pcm.length; at += 7000) s.push(pcm.subarray(at, at + 7000));
        const r = s.finish();
        assert.equal(r.finite, true);
        assert.equal(r.patches, 4); // 501 frames
        return r.means[0];
      } finally {
        s.close();
      }
    });
    assert.ok(Buffer.from(means[0].buffer).equals(Buffer.from(means[1].buffer)), 'stream: fast vs generic differ');
    const frames = new Float32Array(512 * 5).map((_, i) => Math.sin(i * 0.013) * 0.5);
    const bands = engine.melBands(frames);
    assert.equal(bands.length, 5 * 96);

    const { binding, skip: noNative } = loadTestBinding();
    if (!binding) return t.diagnostic(`native comparison skipped: ${noNative}`);
    const native = await binding.runPatches(binding.createModel(spec), patches, 1);
    const d = maxAbsDiff(fast, native[0]);
    t.diagnostic(`max |wasm - native (its fast kernels)| = ${d.toExponential(2)}`);
    assert.ok(d <= 1e-4, `rows differ from the native addon by ${d}`);
    const nb = await binding.melBands(frames);
    const dm = maxAbsDiff(bands, nb);
    t.diagnostic(`max |wasm mel - native mel| = ${dm}`);
    assert.equal(dm, 0, 'mel bands differ from the native addon');
  } finally {
    model.free();
  }
});

test('wasm engine: bad input gets a clear error and the engine stays usable', { skip }, async () => {
  const engine = await loadWasmEngine();
  const spec = graphToSpec(parseGraphDef(readFileSync(bundledModelPath()), 'model'), ['model/dense/BiasAdd']);
  assert.throws(() => engine.createModel({ ...spec, outputs: ['model/nope'] }), /wasm engine: createModel: .*model\/nope/);
  const model = engine.createModel(spec);
  try {
    const s = model.openSession();
    s.push(new Float32Array(1000));
    assert.throws(() => s.push(Float32Array.of(0, NaN)), new RegExp(NON_FINITE_AUDIO));
    s.push(new Float32Array(16000 * 3)); // still usable after the refused chunk
    const r = s.finish();
    assert.equal(r.patches, 1);
    assert.throws(() => s.finish(), /finish called twice/);
    s.close();
    assert.throws(() => s.push(new Float32Array(4)), /session is closed/);
    assert.throws(() => model.runPatches(new Float32Array(5)), RangeError);
    assert.throws(() => engine.melBands(new Float32Array(100)), RangeError);
  } finally {
    model.free();
  }
});

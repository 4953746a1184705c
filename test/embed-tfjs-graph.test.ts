// SPDX-License-Identifier: MIT
/**
 * Tests for src/embed/tfjs-graph.ts: the bundled graph runs on TF.js's WASM backend in Node,
 * gives [batch, 200] and [batch, 50] rows, agrees with TF.js's plain CPU backend on random
 * log-mel-like patches, and a patch's row does not depend on the batch it is run in.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { parseGraphDef } from '../src/embed/graphdef.js';
import { bundledModelPath } from '../src/embed/model-file.js';
import { MEL_BANDS, PATCH_FRAMES, loadTfjsGraph } from '../src/embed/tfjs-graph.js';

const PATCH = PATCH_FRAMES * MEL_BANDS;
const OUTPUTS = ['model/dense/BiasAdd', 'model/Sigmoid'];

/** Deterministic pseudo-random values in [0, 4), the range of log10(1 + 1e4 x) mel bands. */
function randomPatches(n: number, seed = 7): Float32Array {
  const x = new Float32Array(n * PATCH);
  let s = seed >>> 0;
  for (let i = 0; i < x.length; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    x[i] = (s / 2 ** 32) * 4;
  }
  return x;
}

/** Largest |a - b| over the arrays. */
function maxAbsDiff(a: Float32Array, b: Float32Array): number {
  assert.equal(a.length, b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

const maxAbs = (a: Float32Array) => a.reduce((m, v) => Math.max(m, Math.abs(v)), 0);

test('WASM backend agrees with the CPU backend and batching does not change a row', async () => {
  const graph = parseGraphDef(readFileSync(bundledModelPath()));
  const x = randomPatches(2);

  const wasm = await loadTfjsGraph(graph, { backend: 'wasm', outputs: OUTPUTS });
  assert.equal(wasm.backend, 'wasm');
  const [emb, tags] = wasm.run(x, 2);
  assert.equal(emb.length, 2 * 200);
  assert.equal(tags.length, 2 * 50);
  assert.ok(emb.every(Number.isFinite) && tags.every((v) => v > 0 && v < 1));
  // the second patch alone gives bit-identical rows: batching never changes a vector
  const [emb1, tags1] = wasm.run(x.subarray(PATCH), 1);
  assert.deepEqual(emb1, emb.subarray(200));
  assert.deepEqual(tags1, tags.subarray(50));
  wasm.dispose();

  const cpu = await loadTfjsGraph(graph, { backend: 'cpu', outputs: OUTPUTS });
  const [cEmb, cTags] = cpu.run(x, 2);
  cpu.dispose();
  // Tolerance: a few float32 ulps of the largest value (different summation orders in the
  // convolutions): 2e-6 relative to max|value| for the 200-d rows, 1e-6 absolute for the
  // sigmoid tags in (0, 1).
  const dEmb = maxAbsDiff(emb, cEmb);
  assert.ok(dEmb <= 2e-6 * Math.max(1, maxAbs(cEmb)), `embedding rows differ by ${dEmb}`);
  const dTags = maxAbsDiff(tags, cTags);
  assert.ok(dTags <= 1e-6, `tag rows differ by ${dTags}`);
});

test('run() rejects a short input buffer with a RangeError naming the sizes', async () => {
  const graph = parseGraphDef(readFileSync(bundledModelPath()));
  const wasm = await loadTfjsGraph(graph, { backend: 'wasm' });
  try {
    assert.throws(() => wasm.run(new Float32Array(PATCH), 2), (e: unknown) => e instanceof RangeError && /Expected 35904 floats for 2 patches but received 17952/.test(e.message));
  } finally {
    wasm.dispose();
  }
});

test('loading fails clearly when an output node is missing', async () => {
  const graph = parseGraphDef(readFileSync(bundledModelPath()));
  await assert.rejects(loadTfjsGraph(graph, { outputs: ['model/none'] }), /The graph has no node named model\/none/);
});

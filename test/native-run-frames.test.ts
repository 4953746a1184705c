// SPDX-License-Identifier: MIT
/**
 * The addon's `runFrames` (the engine's stream path on ready-made log-mel frames, used by the
 * benches): its means are bit for bit the float32 row means of `runPatches` on the patches cut
 * from the same frames (187 every 93), with and without the overlap reuse, for threads 1, 2
 * and 3, run after run, under this process's ISA (CHAARFM_MAX_ISA); bad input is a RangeError
 * or TypeError naming the argument. Skips when the addon is not built.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { parseGraphDef } from '../src/embed/graphdef.js';
import { bundledModelPath, DEFAULT_OUTPUT_NODE } from '../src/embed/model-file.js';
import { graphToSpec } from '../src/embed/native-binding.js';
import { loadTestBinding } from './support/native-addon.js';

const { binding, skip } = loadTestBinding();
const P = 6, WIDTH = 200;

function frames(): Float32Array {
  const n = 187 + 93 * (P - 1) + 40; // a partial patch at the end, dropped as a session drops it
  const x = new Float32Array(n * 96);
  let s = 7;
  for (let i = 0; i < x.length; i++) {
    s = (s * 1664525 + 1013904223) >>> 0;
    x[i] = (s / 2 ** 32) * 4 - 1;
  }
  return x;
}

test('runFrames means == float32 row means of runPatches, reuse on and off, threads 1/2/3, twice: bit for bit', { skip }, async () => {
  const b = binding!;
  const graph = parseGraphDef(readFileSync(bundledModelPath()), 'msd');
  const model = b.createModel(graphToSpec(graph, [DEFAULT_OUTPUT_NODE]));
  const x = frames();
  const patches = new Float32Array(P * 187 * 96);
  for (let p = 0; p < P; p++) patches.set(x.subarray(p * 93 * 96, (p * 93 + 187) * 96), p * 187 * 96);
  const [rows] = await b.runPatches(model, patches, 1);
  const want = new Float32Array(WIDTH);
  for (let p = 0; p < P; p++) for (let j = 0; j < WIDTH; j++) want[j] = want[j] + rows[p * WIDTH + j];
  for (let j = 0; j < WIDTH; j++) want[j] = want[j] / P;
  for (const threads of [1, 2, 3]) {
    for (const reuse of [true, false]) {
      for (let run = 0; run < 2; run++) {
        const r = await b.runFrames(model, x, threads, reuse);
        assert.equal(r.patches, P);
        assert.equal(r.means.length, 1);
        assert.deepEqual(Array.from(r.means[0]), Array.from(want), `threads ${threads}, reuse ${reuse}, run ${run}`);
      }
    }
  }
});

test('runFrames rejects frames that are not whole 96-band rows, and a reuse that is not a boolean', { skip }, async () => {
  const b = binding!;
  const graph = parseGraphDef(readFileSync(bundledModelPath()), 'msd');
  const model = b.createModel(graphToSpec(graph, [DEFAULT_OUTPUT_NODE]));
  assert.throws(() => b.runFrames(model, new Float32Array(95), 1), { name: 'RangeError', message: /multiple of 96 values for frames but received 95/ });
  assert.throws(() => b.runFrames(model, new Float32Array(96), 1, 'yes' as unknown as boolean), { name: 'TypeError', message: /reuse/ });
});

// SPDX-License-Identifier: MIT
/**
 * Tests for src/embed/graphdef.ts and src/embed/model-file.ts: both MusiCNN graphs parse, only
 * the spec's ops occur, the weights have the published shapes; truncated, foreign and
 * out-of-op-set files are rejected with clear errors; the bundled model's checksum is enforced
 * and a bad output node is named.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { fixturesDir } from './support/fixtures.js';
import { ALLOWED_OPS, GraphDefError, parseGraphDef } from '../src/embed/graphdef.js';
import {
  BUNDLED_MODEL_SHA256,
  ModelFileError,
  bundledModelPath,
  checkSha256,
  openModelFile,
  packageRoot,
} from '../src/embed/model-file.js';


const modelBytes = () => readFileSync(bundledModelPath());

test('parses the bundled msd-musicnn-1 graph: ops, placeholder and weight shapes', () => {
  const g = parseGraphDef(modelBytes(), 'msd-musicnn-1.pb');
  assert.equal(g.nodes.length, 264);
  assert.equal(g.weights.size, 104);
  const ops = new Set(g.nodes.map((n) => n.op));
  for (const op of ops) assert.ok(ALLOWED_OPS.has(op), `unexpected op ${op}`);
  for (const op of ['Conv2D', 'FusedBatchNorm', 'MaxPool', 'MatMul', 'Sigmoid', 'StridedSlice']) assert.ok(ops.has(op), op);
  const ph = g.nodes.find((n) => n.name === 'model/Placeholder');
  assert.deepEqual(ph?.attrs.shape, { kind: 'shape', value: [-1, 187, 96] });
  const shape = (name: string) => g.weights.get(name)?.shape;
  assert.deepEqual(shape('conv2d/kernel'), [7, 38, 1, 204]);
  assert.deepEqual(shape('conv2d_1/kernel'), [7, 67, 1, 204]);
  assert.deepEqual(shape('conv2d_2/kernel'), [128, 1, 1, 51]);
  assert.deepEqual(shape('dense/kernel'), [1506, 200]);
  assert.deepEqual(shape('dense_1/kernel'), [200, 50]);
  const k = g.weights.get('conv2d/kernel')!;
  assert.equal(k.dtype, 'float32');
  assert.equal(k.data.length, 7 * 38 * 204);
  assert.ok(Array.from(k.data as Float32Array).every(Number.isFinite));
  const pads = g.weights.get('model/Pad/paddings')!;
  assert.equal(pads.dtype, 'int32');
  assert.deepEqual(pads.shape, [4, 2]);
  // scalars stored in float_val / int_val rather than tensor_content
  const eps = g.weights.get('model/batch_normalization_9/batchnorm/add/y')!;
  assert.deepEqual([eps.dtype, eps.shape, eps.data[0]], ['float32', [], Math.fround(0.001)]);
  const axis = g.weights.get('model/concat/axis')!;
  assert.deepEqual([axis.dtype, axis.shape, axis.data[0]], ['int32', [], 2]);
  // Const values are moved out of the node attributes
  const c = g.nodes.find((n) => n.name === 'conv2d/kernel')!;
  assert.equal(c.op, 'Const');
  assert.equal(c.attrs.value, undefined);
  const conv = g.nodes.find((n) => n.name === 'model/conv2d_2/Conv2D')!;
  assert.deepEqual(conv.attrs.padding, { kind: 's', value: 'SAME' });
  assert.deepEqual(conv.attrs.strides, { kind: 'list', value: { i: [1, 1, 1, 1] } });
});

test('parses the genre_dortmund regression graph (9-genre head)', (t) => {
  const dir = fixturesDir();
  if (!dir) return t.skip('Essentia regression fixtures not found (set CHAARFM_ESSENTIA_FIXTURES)');
  const g = parseGraphDef(readFileSync(path.join(dir, 'genre_dortmund_musicnn_msd.pb')), 'genre_dortmund');
  assert.ok(g.nodes.some((n) => n.name === 'model/Sigmoid' && n.op === 'Sigmoid'));
  assert.deepEqual(g.weights.get('dense_2/kernel')?.shape, [100, 9]);
  assert.deepEqual(g.weights.get('conv2d/kernel')?.shape, [7, 38, 1, 204]);
});

test('rejects a truncated graph with a clear error', () => {
  const bytes = modelBytes();
  for (const n of [100, 1_000_000, bytes.length - 7]) {
    assert.throws(
      () => parseGraphDef(bytes.subarray(0, n), 'cut.pb'),
      (e: unknown) => e instanceof GraphDefError && /^cut\.pb is (not a TensorFlow GraphDef|incomplete)/.test(e.message) && /truncated/.test(e.message),
    );
  }
});

test('rejects a file that is not a graph (WAV, JSON, empty) with a clear error', () => {
  const files: [string, Uint8Array][] = [
    ['package.json', readFileSync(path.join(packageRoot(), 'package.json'))],
    ['empty.pb', new Uint8Array(0)],
    ['riff.wav', Buffer.concat([Buffer.from('RIFF\x24\x00\x00\x00WAVEfmt '), Buffer.alloc(64, 7)])],
  ];
  for (const [name, bytes] of files) {
    assert.throws(
      () => parseGraphDef(bytes, name),
      (e: unknown) => e instanceof GraphDefError && e.message.startsWith(`${name} is not a TensorFlow GraphDef`),
      name,
    );
  }
});

test('rejects a graph with an op outside the MusiCNN set, naming it', () => {
  // GraphDef { node { name: "x" op: "Softmax" } } encoded by hand
  const bytes = Buffer.from([0x0a, 12, 0x0a, 1, 0x78, 0x12, 7, ...Buffer.from('Softmax')]);
  assert.throws(
    () => parseGraphDef(bytes, 'soft.pb'),
    (e: unknown) => e instanceof GraphDefError && /uses ops outside the MusiCNN op set: Softmax/.test(e.message),
  );
});

test('opens the bundled model and checks its sha256', async () => {
  const m = await openModelFile();
  assert.equal(m.bundled, true);
  assert.equal(m.sha256, BUNDLED_MODEL_SHA256);
  assert.equal(m.outputNode, 'model/dense/BiasAdd');
  assert.ok(m.path.endsWith(path.join('models', 'msd-musicnn-1.pb')));
});

test('rejects a model whose checksum does not match, saying so', async () => {
  const dir = await mkdtemp(path.join(tmpdir(), 'chaarfm-graphdef-'));
  try {
    const copy = Buffer.from(modelBytes());
    copy[copy.length - 1] ^= 1;
    const file = path.join(dir, 'msd-musicnn-1.pb');
    await writeFile(file, copy);
    assert.throws(
      () => checkSha256(copy, BUNDLED_MODEL_SHA256, file),
      (e: unknown) => e instanceof ModelFileError && /sha256 [0-9a-f]{64}, expected cdea0722/.test(e.message),
    );
    await assert.rejects(
      openModelFile({ modelPath: file, expectedSha256: BUNDLED_MODEL_SHA256 }),
      (e: unknown) => e instanceof ModelFileError && /corrupted/.test(e.message),
    );
    // --model: the checksum is reported, not enforced
    await writeFile(file, modelBytes());
    const other = await openModelFile({ modelPath: file });
    assert.equal(other.bundled, false);
    assert.equal(other.sha256, BUNDLED_MODEL_SHA256);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('rejects an output node that is not in the graph, listing candidates', async () => {
  await assert.rejects(
    openModelFile({ outputNode: 'model/nope' }),
    (e: unknown) =>
      e instanceof ModelFileError && /"model\/nope"/.test(e.message) && /model\/dense\/BiasAdd/.test(e.message) && /model\/Sigmoid/.test(e.message),
  );
  await assert.rejects(openModelFile({ modelPath: '/nonexistent/model.pb' }), (e: unknown) => e instanceof ModelFileError && /no such file/.test(e.message));
});

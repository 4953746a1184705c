// SPDX-License-Identifier: MIT
/**
 * Runs a parsed frozen MusiCNN graph with TF.js (WASM backend; the CPU backend for checks).
 *
 * Approach: the graph goes to TF.js's own GraphModel executor. Every Const value is moved into
 * one weights buffer (float32 / int32 / bool, with `weightSpecs`), and the nodes, including the
 * now value-less Const nodes, are given as the `modelTopology` (GraphDef in protobuf-JSON form)
 * of `tf.io.fromMemory` + `loadGraphModel`. We chose this over executing ops one by one with
 * tfjs-core because the converter's op mapping already encodes TensorFlow's semantics for
 * every op in the MusiCNN set (SAME padding, FusedBatchNorm's epsilon, StridedSlice masks,
 * Squeeze dims, ...), and because it is how the spec's oracle was measured (2.8e-6 on
 * Essentia's regression); re-implementing 27 op mappings would add risk and no speed: the
 * time is in the WASM (XNNPACK) convolution kernels either way.
 *
 * The WASM backend is set up from the .wasm files inside node_modules/@tensorflow/
 * tfjs-backend-wasm/dist via `setWasmPaths(<that folder>/)`; Node reads them from disk (no
 * fetch). Under Node, TF.js never uses the threaded build, so one backend = one thread: run
 * several worker_threads for parallelism. Backend state is per thread (TF.js has one global
 * engine), so load this module inside the thread that will run it.
 */
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
import { loadGraphModel, type GraphModel } from '@tensorflow/tfjs-converter';
import { createRequire } from 'node:module';
import path from 'node:path';
import type { Attr, ConstTensor, GraphNode, ParsedGraph } from './graphdef.js';

export type TfjsBackend = 'wasm' | 'cpu';

export const INPUT_NODE = 'model/Placeholder';
export const PATCH_FRAMES = 187;
export const MEL_BANDS = 96;

let wasmPathsSet = false;
let active: TfjsBackend | undefined;

/** Folder (with trailing separator) holding tfjs-backend-wasm's .wasm files. */
export function wasmDir(): string {
  const require = createRequire(import.meta.url);
  return path.dirname(require.resolve('@tensorflow/tfjs-backend-wasm')) + path.sep;
}

/** Selects and initialises a TF.js backend in this thread. Idempotent. */
export async function useBackend(name: TfjsBackend): Promise<void> {
  if (name === 'wasm' && !wasmPathsSet) {
    setWasmPaths(wasmDir());
    wasmPathsSet = true;
  }
  // (tf.getBackend() is not asked first: it would initialise the best registered backend.)
  if (active === name) return;
  const ok = await tf.setBackend(name);
  if (!ok) throw new Error(`TF.js could not initialise its ${name} backend`);
  await tf.ready();
  active = name;
}

const b64 = (s: string) => Buffer.from(s, 'utf8').toString('base64');

const shapeJson = (s: number[] | null) =>
  s === null ? { unknownRank: true } : { dim: s.map((d) => ({ size: String(d) })) };

function attrJson(a: Attr): Record<string, unknown> | undefined {
  switch (a.kind) {
    case 's': return { s: b64(a.value) };
    case 'i': return { i: String(a.value) };
    case 'f': return { f: a.value };
    case 'b': return { b: a.value };
    case 'type': return { type: a.value };
    case 'shape': return { shape: shapeJson(a.value) };
    case 'list': {
      const l = a.value;
      return {
        list: {
          ...(l.s && { s: l.s.map(b64) }),
          ...(l.i && { i: l.i.map(String) }),
          ...(l.f && { f: l.f }),
          ...(l.b && { b: l.b }),
          ...(l.type && { type: l.type }),
          ...(l.shape && { shape: l.shape.map(shapeJson) }),
        },
      };
    }
    default: return undefined; // tensor attrs only occur on Const (moved to weights)
  }
}

function nodeJson(n: GraphNode): Record<string, unknown> {
  const attr: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(n.attrs)) {
    const j = attrJson(v);
    if (j) attr[k] = j;
  }
  return { name: n.name, op: n.op, input: n.inputs, attr };
}

type TfDType = 'float32' | 'int32' | 'bool';

function weightDType(t: ConstTensor): TfDType {
  if (t.dtype === 'float32' || t.dtype === 'float64') return 'float32';
  if (t.dtype === 'bool') return 'bool';
  return 'int32';
}

/** Packs every Const tensor into one buffer in TF.js's weights-manifest layout. */
export function packWeights(weights: Map<string, ConstTensor>): {
  specs: tf.io.WeightsManifestEntry[];
  data: ArrayBuffer;
} {
  const specs: tf.io.WeightsManifestEntry[] = [];
  let bytes = 0;
  for (const [name, t] of weights) {
    const dtype = weightDType(t);
    specs.push({ name, shape: t.shape, dtype });
    bytes += t.data.length * (dtype === 'bool' ? 1 : 4);
  }
  const data = new ArrayBuffer(bytes);
  let off = 0;
  for (const [, t] of weights) {
    const dtype = weightDType(t);
    const n = t.data.length;
    if (dtype === 'bool') {
      new Uint8Array(data, off, n).set(t.data as Uint8Array);
      off += n;
      continue;
    }
    const out = dtype === 'float32' ? new Float32Array(data, off, n) : new Int32Array(data, off, n);
    if (t.data instanceof BigInt64Array) {
      for (let i = 0; i < n; i++) out[i] = Number(t.data[i]);
    } else {
      out.set(t.data as ArrayLike<number>);
    }
    off += 4 * n;
  }
  return { specs, data };
}

/** A loaded graph that maps [batch, 187, 96] patches to the requested output rows. */
export interface TfjsGraph {
  readonly backend: TfjsBackend;
  readonly outputs: readonly string[];
  /**
   * Runs `batch` patches (row-major [batch, 187, 96] floats) and returns, per output node,
   * [batch, width] row-major floats. Synchronous: it blocks its thread for the whole batch.
   */
  run(patches: Float32Array, batch: number): Float32Array[];
  dispose(): void;
}

export interface LoadTfjsGraphOptions {
  backend?: TfjsBackend;
  /** Output node names (first is the embedding); default ['model/dense/BiasAdd']. */
  outputs?: string[];
  inputNode?: string;
}

/** Builds the TF.js GraphModel for a parsed graph on the chosen backend (default wasm). */
export async function loadTfjsGraph(graph: ParsedGraph, opts: LoadTfjsGraphOptions = {}): Promise<TfjsGraph> {
  const backend = opts.backend ?? 'wasm';
  const outputs = opts.outputs ?? ['model/dense/BiasAdd'];
  const inputNode = opts.inputNode ?? INPUT_NODE;
  await useBackend(backend);
  const names = new Set(graph.nodes.map((n) => n.name));
  for (const o of [inputNode, ...outputs]) {
    if (!names.has(o)) throw new Error(`The graph has no node named ${o}`);
  }
  const topology = { node: graph.nodes.map(nodeJson), versions: { producer: graph.producer } };
  const { specs, data } = packWeights(graph.weights);
  const model: GraphModel = await loadGraphModel(tf.io.fromMemory({ modelTopology: topology, weightSpecs: specs, weightData: data }));

  const run = (patches: Float32Array, batch: number): Float32Array[] => {
    if (patches.length < batch * PATCH_FRAMES * MEL_BANDS) {
      throw new RangeError(`Expected ${batch * PATCH_FRAMES * MEL_BANDS} floats for ${batch} patches but received ${patches.length}`);
    }
    if (active !== backend) throw new Error(`This graph was loaded on the ${backend} backend but TF.js now runs ${active}`);
    const view = patches.length === batch * PATCH_FRAMES * MEL_BANDS ? patches : patches.subarray(0, batch * PATCH_FRAMES * MEL_BANDS);
    const x = tf.tensor3d(view, [batch, PATCH_FRAMES, MEL_BANDS], 'float32');
    try {
      const out = model.execute({ [inputNode]: x }, [...outputs]);
      const list = Array.isArray(out) ? out : [out];
      try {
        return list.map((t) => t.dataSync() as Float32Array).map((d) => new Float32Array(d));
      } finally {
        for (const t of list) t.dispose();
      }
    } finally {
      x.dispose();
    }
  };

  return {
    backend,
    outputs,
    run,
    dispose: () => model.dispose(),
  };
}

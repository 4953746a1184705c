// SPDX-License-Identifier: MIT
/**
 * The one typed description of the native addon's surface (native/src/addon.cc), plus the
 * conversion of a parsed GraphDef into the plain graph description the addon copies into its
 * GraphSpec (native/src/graph/graph_spec.h).
 *
 * Sync/async: `info`, `createModel` and `sessionClose` are synchronous (cheap: they copy or
 * free); everything that computes returns a Promise and runs on a libuv worker thread, so the
 * JS thread never blocks. One push/finish at a time per session.
 * A wrong argument throws at the call (TypeError/RangeError naming it); failures of the work
 * itself reject the promise. Handles are opaque and type-tagged natively (a session handle is not accepted as a model).
 */
import type { Attr, ParsedGraph } from './graphdef.js';

declare const modelBrand: unique symbol;
declare const sessionBrand: unique symbol;
/** A graph copied into the addon (freed by GC). */
export type ModelHandle = { readonly [modelBrand]: true };
/** One embedding in progress (free it with sessionClose, or it is freed by GC). */
export type SessionHandle = { readonly [sessionBrand]: true };

export type AttrKind = 'none' | 'int' | 'float' | 'bool' | 'string' | 'type' | 'intList' | 'shape';
export interface AttrJs {
  kind: AttrKind;
  i?: number;
  f?: number;
  b?: boolean;
  s?: string;
  ints?: number[];
}
export interface NodeJs {
  name: string;
  op: string;
  /** Node names; control inputs removed, ":0" suffixes removed. */
  inputs: string[];
  attrs: Record<string, AttrJs>;
}
export interface ConstJs {
  name: string;
  shape: number[];
  /** Float constants (float64 ones are rounded to float32). */
  f32?: Float32Array;
  /** Integer (and bool) constants. */
  ints?: number[];
}
export interface GraphSpecJs {
  nodes: NodeJs[];
  consts: ConstJs[];
  /** Default "model/Placeholder". */
  input: string;
  outputs: string[];
}

export interface NativeInfo {
  /** The engine's name: 'musicnn' (native/src/addon.cc has no other). */
  engine: string;
  napiVersion: number;
  /** The resampler and its SIMD variant, e.g. "sinc-medium (libsamplerate 0.2.2, reimplemented) avx512". */
  resampler: string;
  /** The kernels' instruction set: this CPU's best, capped by CHAARFM_MAX_ISA. */
  isa: 'avx512' | 'avx2' | 'neon' | 'wasm128' | 'generic';
  /** This CPU's best instruction set (ignoring the cap). */
  cpuIsa: 'avx512' | 'avx2' | 'neon' | 'generic';
}

export interface PushProgress {
  /** Source-rate samples pushed so far. */
  inputSamples: number;
  /** Mel frames computed so far, and the complete patches among them. */
  frames: number;
  patches: number;
  /** Largest absolute sample so far. */
  peak: number;
}

export interface FinishResult {
  /** Mean over the patches of each output, in the order of graph.outputs. */
  means: Float32Array[];
  patches: number;
  frames: number;
  inputSamples: number;
  /** Samples at 16 kHz after resampling. */
  outputSamples: number;
  peak: number;
  /** False when any output value was NaN or Inf. */
  finite: boolean;
}

export interface Binding {
  /** sync */
  info(): NativeInfo;
  /** sync: copies the graph (weights included) into the addon. */
  createModel(graph: GraphSpecJs): ModelHandle;
  /** async: builds an engine instance for one embedding of PCM at `sampleRate`. */
  openSession(model: ModelHandle, sampleRate: number, threads: number): Promise<SessionHandle>;
  /** async: resample -> frames -> mel -> engine, for one chunk of mono PCM (copied). */
  sessionPush(session: SessionHandle, pcm: Float32Array): Promise<PushProgress>;
  /** async: flushes the stream and returns the means; the session is then spent (freed). */
  sessionFinish(session: SessionHandle): Promise<FinishResult>;
  /** sync: frees the session now, or when its running call ends. Idempotent. */
  sessionClose(session: SessionHandle): void;
  /** async: runs ready-made patches (n x 187 x 96); one Float32Array (n x width) per output. */
  runPatches(model: ModelHandle, patches: Float32Array, threads: number): Promise<Float32Array[]>;
  /**
   * async: ready-made log-mel frames (n x 96) through the engine's stream path (patches of 187
   * every 93, overlap reuse unless `reuse` is false), as a session runs them; the means (tests, bench).
   */
  runFrames(model: ModelHandle, frames: Float32Array, threads: number, reuse?: boolean): Promise<{ means: Float32Array[]; patches: number }>;
  /** async: the whole signal through the streaming resampler, pushed `chunk` samples at a time, its dot products on `threads` threads (default 1). */
  resample(pcm: Float32Array, sampleRate: number, chunk?: number, threads?: number): Promise<Float32Array>;
  /** async: count x 512 frames -> count x 96 log-mel bands. */
  melBands(frames: Float32Array): Promise<Float32Array>;
  /** async: 16 kHz PCM -> frame cutter -> mel bands (frames x 96). */
  frontend(pcm16k: Float32Array): Promise<Float32Array>;
}

const REQUIRED: (keyof Binding)[] = [
  'info', 'createModel', 'openSession', 'sessionPush', 'sessionFinish', 'sessionClose',
  'runPatches', 'runFrames', 'resample', 'melBands', 'frontend',
];

/** Checks that a loaded module is this addon (a stale build may lack functions). */
export function asBinding(mod: unknown, where: string): Binding {
  const missing = REQUIRED.filter((k) => typeof (mod as Record<string, unknown> | null)?.[k] !== 'function');
  if (missing.length) {
    throw new Error(`the addon at ${where} is not a chaarfm addon of this version (missing ${missing.join(', ')}); rebuild it`);
  }
  return mod as Binding;
}

function inputName(input: string): string | null {
  if (input.startsWith('^')) return null;
  return input.endsWith(':0') ? input.slice(0, -2) : input;
}

function attrToJs(a: Attr): AttrJs | null {
  switch (a.kind) {
    case 'i': return { kind: 'int', i: a.value };
    case 'f': return { kind: 'float', f: a.value };
    case 'b': return { kind: 'bool', b: a.value };
    case 's': return { kind: 'string', s: a.value };
    case 'type': return { kind: 'type', s: a.value };
    case 'shape': return { kind: 'shape', ints: a.value ?? [] };
    case 'list': {
      const l = a.value;
      const other = l.s?.length || l.f?.length || l.b?.length || l.type?.length || l.shape?.length;
      return l.i?.length || !other ? { kind: 'intList', ints: l.i ?? [] } : { kind: 'none' };
    }
    default: return null; // tensors (Const values are in consts) and unknown kinds
  }
}

/** A parsed GraphDef as the addon's GraphSpec, reading `outputs`. */
export function graphToSpec(graph: ParsedGraph, outputs: string[], input = 'model/Placeholder'): GraphSpecJs {
  const nodes: NodeJs[] = graph.nodes.map((n) => {
    const attrs: Record<string, AttrJs> = {};
    for (const [k, v] of Object.entries(n.attrs)) {
      const a = attrToJs(v);
      if (a) attrs[k] = a;
    }
    return { name: n.name, op: n.op, inputs: n.inputs.map(inputName).filter((x): x is string => x !== null), attrs };
  });
  const consts: ConstJs[] = [];
  for (const [name, t] of graph.weights) {
    if (t.dtype === 'float32') consts.push({ name, shape: t.shape, f32: t.data as Float32Array });
    else if (t.dtype === 'float64') consts.push({ name, shape: t.shape, f32: Float32Array.from(t.data as Float64Array) });
    else consts.push({ name, shape: t.shape, ints: Array.from(t.data as ArrayLike<number | bigint>, Number) });
  }
  return { nodes, consts, input, outputs };
}

// SPDX-License-Identifier: MIT
/**
 * The WebAssembly build of our own engine (native/wasm; prebuilds/wasm/chaarfm-engine.{wasm,cjs}
 * and chaarfm-engine-relaxed.{wasm,cjs}, built by `npm run build:wasm`), with a surface that mirrors the native Binding
 * (native-binding.ts): a model from the graph as one flat buffer (graph-blob.ts), sessions that
 * take mono PCM chunks at the file's own rate (the engine's own resampler, native/src/audio,
 * its SIMD128 dot product: bit-identical to libsamplerate 0.2.2 as Essentia feeds it; then
 * frames, mel and MusiCNN) and finish with the mean of each output; runPatches, resample and
 * melBands.
 *
 * Differences from the addon, on purpose: every call is synchronous (the module has no threads
 * and is meant to run on a worker thread, one engine per thread, as the portable backend does).
 * One module instance per thread; it is not thread-safe. A failed call throws an Error with the
 * engine's message and changes nothing else.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { graphToBlob } from './graph-blob.js';
import { packageRoot } from './model-file.js';
import type { GraphSpecJs } from './native-binding.js';

interface EngineModule {
  ENV: Record<string, string>;
  HEAPU8: Uint8Array;
  HEAPF32: Float32Array;
  UTF8ToString(ptr: number): string;
  _malloc(n: number): number;
  _free(p: number): void;
  _chaarfm_last_error(): number;
  _chaarfm_isa(): number;
  _chaarfm_resampler_variant(): number;
  _chaarfm_resample(pcm: number, n: number, rate: number, chunk: number, out: number, outN: number): number;
  _chaarfm_model_create(blob: number, size: number): number;
  _chaarfm_model_free(m: number): void;
  _chaarfm_model_outputs(m: number): number;
  _chaarfm_model_output_width(m: number, i: number): number;
  _chaarfm_session_open(m: number, fast: number, sampleRate: number): number;
  _chaarfm_session_push(s: number, pcm: number, n: number): number;
  _chaarfm_session_push_bands(s: number, bands: number, count: number): number;
  _chaarfm_session_frames(s: number): number;
  _chaarfm_session_patches_so_far(s: number): number;
  _chaarfm_session_input_samples(s: number): number;
  _chaarfm_session_output_samples(s: number): number;
  _chaarfm_session_peak(s: number): number;
  HEAPU32: Uint32Array;
  _chaarfm_session_finish(s: number): number;
  _chaarfm_session_outputs(s: number): number;
  _chaarfm_session_output_width(s: number, i: number): number;
  _chaarfm_session_mean(s: number, i: number): number;
  _chaarfm_session_patches(s: number): number;
  _chaarfm_session_finite(s: number): number;
  _chaarfm_session_close(s: number): void;
  _chaarfm_mel_bands(frames: number, count: number, bands: number): number;
  _chaarfm_run_patches(m: number, patches: number, n: number, fast: number, out: number): number;
}

/** Where the built module lies: prebuilds/wasm at the package root (also in the executables' unpacked tree). */
export const WASM_ENGINE_DIR = path.join(packageRoot(), 'prebuilds', 'wasm');

/** As the addon's (native-binding.ts): what a session has taken and computed so far. */
export interface WasmProgress {
  /** Source-rate samples pushed so far. */
  inputSamples: number;
  /** Mel frames computed so far, and the complete patches among them. */
  frames: number;
  patches: number;
  /** Largest absolute sample so far. */
  peak: number;
}

export interface WasmFinishResult extends WasmProgress {
  /** Mean over the patches of each output, in the order of graph.outputs. */
  means: Float32Array[];
  /** Samples at 16 kHz after resampling. */
  outputSamples: number;
  /** False when any output value was NaN or Inf. */
  finite: boolean;
}

/** One embedding in progress: mono PCM at the session's rate in, means out. Close it (finish does not). */
export interface WasmSession {
  /** Copies the chunk in and runs it through the resampler, frames, mel and the engine. */
  push(pcm: Float32Array): WasmProgress;
  /** count x 96 log-mel frames straight to the engine (benches); not to be mixed with push. */
  pushBands(bands: Float32Array): WasmProgress;
  finish(): WasmFinishResult;
  close(): void;
}

export interface WasmModel {
  readonly outputWidths: number[];
  /** One embedding of mono PCM at `sampleRate` (within 256x of 16 kHz); fast = false: the generic reference kernels (tests). */
  openSession(sampleRate: number, fast?: boolean): WasmSession;
  /** n x 187 x 96 patches -> one Float32Array (n x width) per output. */
  runPatches(patches: Float32Array, fast?: boolean): Float32Array[];
  free(): void;
}

export interface WasmEngine {
  /** Which of the two modules runs (chooseWasmVariant). */
  variant: WasmVariant;
  /**
   * The kernels' ISA (native/src/kernels/cpu_features.h): 'wasm-relaxed' (SIMD128 with relaxed
   * SIMD's multiply-add), 'wasm128' (SIMD128: the generic kernels' bits), or 'generic'.
   */
  isa: string;
  /** The resampler's dot-product variant: 'wasm128', or 'generic' under CHAARFM_MAX_ISA=generic. */
  resamplerVariant: string;
  createModel(graph: GraphSpecJs): WasmModel;
  /** The whole signal through a fresh resampler, pushed `chunk` samples at a time (tests, benches). */
  resample(pcm: Float32Array, sampleRate: number, chunk?: number): Float32Array;
  /** count x 512 frames -> count x 96 log-mel bands. */
  melBands(frames: Float32Array): Float32Array;
}

/**
 * The two builds of the engine: 'simd128' (chaarfm-engine.wasm; its kernels give the native
 * generic build's bits) and 'relaxed' (chaarfm-engine-relaxed.wasm; the kernels' multiply-adds
 * as relaxed SIMD's f32x4.relaxed_madd, which the runtime fuses where the CPU has FMA: within
 * 1e-5 of generic, the same bits across threads and runs on one machine, not across CPUs).
 */
export type WasmVariant = 'relaxed' | 'simd128';

/** A module whose one function is f32x4.relaxed_madd (0xfd 0x85 0x02): valid where the runtime has relaxed SIMD. */
const RELAXED_SIMD_PROBE = Uint8Array.from([
  0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00, // magic, version 1
  0x01, 0x08, 0x01, 0x60, 0x03, 0x7b, 0x7b, 0x7b, 0x01, 0x7b, // type: (v128 v128 v128) -> v128
  0x03, 0x02, 0x01, 0x00, // one function of that type
  0x0a, 0x0d, 0x01, 0x0b, 0x00, 0x20, 0x00, 0x20, 0x01, 0x20, 0x02, 0xfd, 0x85, 0x02, 0x0b, // its body
]);

/** True where this runtime validates relaxed SIMD (V8 in Node >= 22; not Node 20). */
export function runtimeHasRelaxedSimd(): boolean {
  return WebAssembly.validate(RELAXED_SIMD_PROBE);
}

/**
 * The module to load: 'relaxed' where the runtime has relaxed SIMD and CHAARFM_MAX_ISA does not
 * cap the kernels at 128-bit SIMD or below (unset, avx512, avx2: the fastest there is);
 * 'simd128' under CHAARFM_MAX_ISA=wasm128, neon, generic or a value that is not an ISA (which
 * the engine itself then refuses with a message, using the generic kernels, as the addon does).
 */
export function chooseWasmVariant(cap = process.env.CHAARFM_MAX_ISA, relaxed = runtimeHasRelaxedSimd()): WasmVariant {
  const c = (cap ?? '').toLowerCase();
  return relaxed && (c === '' || c === 'avx512' || c === 'avx2') ? 'relaxed' : 'simd128';
}

const MODULE_NAMES: Record<WasmVariant, string> = { simd128: 'chaarfm-engine', relaxed: 'chaarfm-engine-relaxed' };

/**
 * Instantiates the module (one per thread): `variant` as chooseWasmVariant() picks by default.
 * CHAARFM_MAX_ISA reaches the module's own dispatch (generic caps its kernels and resampler).
 * Throws, naming the file, when that module is not built.
 */
export async function loadWasmEngine(dir = WASM_ENGINE_DIR, variant: WasmVariant = chooseWasmVariant()): Promise<WasmEngine> {
  const name = MODULE_NAMES[variant];
  const wasm = path.join(dir, `${name}.wasm`);
  let wasmBinary: Uint8Array;
  try {
    wasmBinary = readFileSync(wasm);
  } catch {
    throw new Error(`the wasm engine is not built (no ${wasm}); build it with: npm run build:wasm`);
  }
  const factory = createRequire(import.meta.url)(path.join(dir, `${name}.cjs`)) as (o: {
    wasmBinary: Uint8Array;
    preRun: ((m: EngineModule) => void)[];
  }) => Promise<EngineModule>;
  const cap = process.env.CHAARFM_MAX_ISA;
  // the module's getenv sees its own ENV, not process.env: the cap is handed over before main
  const m = await factory({ wasmBinary, preRun: [(mod) => { if (cap) mod.ENV.CHAARFM_MAX_ISA = cap; }] });
  return new Engine(m, variant);
}

class Engine implements WasmEngine {
  readonly isa: string;
  readonly resamplerVariant: string;
  constructor(
    private readonly m: EngineModule,
    readonly variant: WasmVariant,
  ) {
    this.isa = m.UTF8ToString(m._chaarfm_isa());
    this.resamplerVariant = m.UTF8ToString(m._chaarfm_resampler_variant());
  }

  fail(what: string): never {
    throw new Error(`wasm engine: ${what}: ${this.m.UTF8ToString(this.m._chaarfm_last_error())}`);
  }

  /** Copies floats into a fresh allocation (freed by the caller). */
  floatsIn(a: Float32Array): number {
    const p = this.m._malloc(Math.max(4, a.byteLength));
    if (!p) throw new Error('wasm engine: out of memory');
    this.m.HEAPF32.set(a, p >>> 2);
    return p;
  }

  floatsOut(p: number, n: number): Float32Array {
    return this.m.HEAPF32.slice(p >>> 2, (p >>> 2) + n);
  }

  createModel(graph: GraphSpecJs): WasmModel {
    const blob = graphToBlob(graph);
    const p = this.m._malloc(blob.length);
    if (!p) throw new Error('wasm engine: out of memory');
    try {
      this.m.HEAPU8.set(blob, p);
      const h = this.m._chaarfm_model_create(p, blob.length);
      if (!h) this.fail('createModel');
      return new Model(this, this.m, h);
    } finally {
      this.m._free(p);
    }
  }

  resample(pcm: Float32Array, sampleRate: number, chunk = 65536): Float32Array {
    if (!Number.isInteger(chunk) || chunk < 1) throw new RangeError(`Expected a positive integer for chunk but received ${chunk}`);
    const ip = this.floatsIn(pcm);
    const slots = this.m._malloc(8); // float* out, size_t n
    try {
      if (!slots) throw new Error('wasm engine: out of memory');
      if (this.m._chaarfm_resample(ip, pcm.length, sampleRate, chunk, slots, slots + 4) !== 0) this.fail('resample');
      const op = this.m.HEAPU32[slots >>> 2], n = this.m.HEAPU32[(slots >>> 2) + 1];
      try {
        return this.floatsOut(op, n);
      } finally {
        this.m._free(op);
      }
    } finally {
      this.m._free(ip);
      if (slots) this.m._free(slots);
    }
  }

  melBands(frames: Float32Array): Float32Array {
    if (frames.length % 512 !== 0) throw new RangeError(`melBands: ${frames.length} samples is not a whole number of 512-sample frames`);
    const count = frames.length / 512;
    const fp = this.floatsIn(frames);
    const bp = this.m._malloc(Math.max(4, count * 96 * 4));
    try {
      if (this.m._chaarfm_mel_bands(fp, count, bp) !== 0) this.fail('melBands');
      return this.floatsOut(bp, count * 96);
    } finally {
      this.m._free(fp);
      this.m._free(bp);
    }
  }
}

class Model implements WasmModel {
  readonly outputWidths: number[];
  private freed = false;
  constructor(private readonly e: Engine, private readonly m: EngineModule, private readonly h: number) {
    const n = m._chaarfm_model_outputs(h);
    this.outputWidths = Array.from({ length: n }, (_, i) => m._chaarfm_model_output_width(h, i));
  }

  private handle(): number {
    if (this.freed) throw new Error('wasm engine: the model was freed');
    return this.h;
  }

  openSession(sampleRate: number, fast = true): WasmSession {
    if (typeof sampleRate !== 'number') throw new TypeError(`Expected a number for sampleRate but received ${typeof sampleRate}`);
    const s = this.m._chaarfm_session_open(this.handle(), fast ? 1 : 0, sampleRate);
    if (!s) this.e.fail('openSession');
    return new Session(this.e, this.m, s);
  }

  runPatches(patches: Float32Array, fast = true): Float32Array[] {
    const per = 187 * 96;
    if (patches.length % per !== 0) throw new RangeError(`runPatches: ${patches.length} values is not a whole number of 187 x 96 patches`);
    const n = patches.length / per;
    const total = this.outputWidths.reduce((a, w) => a + w * n, 0);
    const pp = this.e.floatsIn(patches);
    const op = this.m._malloc(Math.max(4, total * 4));
    try {
      if (this.m._chaarfm_run_patches(this.handle(), pp, n, fast ? 1 : 0, op) !== 0) this.e.fail('runPatches');
      let at = op;
      return this.outputWidths.map((w) => {
        const r = this.e.floatsOut(at, w * n);
        at += w * n * 4;
        return r;
      });
    } finally {
      this.m._free(pp);
      this.m._free(op);
    }
  }

  free(): void {
    if (this.freed) return;
    this.freed = true;
    this.m._chaarfm_model_free(this.h);
  }
}

class Session implements WasmSession {
  private h: number;
  private buf = 0;
  private bufLen = 0;
  constructor(private readonly e: Engine, private readonly m: EngineModule, h: number) {
    this.h = h;
  }

  private handle(): number {
    if (!this.h) throw new Error('wasm engine: the session is closed');
    return this.h;
  }

  /** Copies `a` into the session's buffer in the module (grown as needed). */
  private stage(a: Float32Array): number {
    if (a.length > this.bufLen) {
      if (this.buf) this.m._free(this.buf);
      this.buf = this.m._malloc(a.length * 4);
      if (!this.buf) {
        this.bufLen = 0;
        throw new Error('wasm engine: out of memory');
      }
      this.bufLen = a.length;
    }
    this.m.HEAPF32.set(a, this.buf >>> 2);
    return this.buf;
  }

  private progress(h: number): WasmProgress {
    return {
      inputSamples: this.m._chaarfm_session_input_samples(h),
      frames: this.m._chaarfm_session_frames(h),
      patches: this.m._chaarfm_session_patches_so_far(h),
      peak: this.m._chaarfm_session_peak(h),
    };
  }

  push(pcm: Float32Array): WasmProgress {
    const h = this.handle();
    if (this.m._chaarfm_session_push(h, this.stage(pcm), pcm.length) !== 0) this.e.fail('push');
    return this.progress(h);
  }

  pushBands(bands: Float32Array): WasmProgress {
    const h = this.handle();
    if (bands.length % 96 !== 0) throw new RangeError(`pushBands: ${bands.length} values is not a whole number of 96-band frames`);
    if (this.m._chaarfm_session_push_bands(h, this.stage(bands), bands.length / 96) !== 0) this.e.fail('pushBands');
    return this.progress(h);
  }

  finish(): WasmFinishResult {
    const h = this.handle();
    if (this.m._chaarfm_session_finish(h) !== 0) this.e.fail('finish');
    const means: Float32Array[] = [];
    for (let i = 0; i < this.m._chaarfm_session_outputs(h); i++) {
      means.push(this.e.floatsOut(this.m._chaarfm_session_mean(h, i), this.m._chaarfm_session_output_width(h, i)));
    }
    return {
      ...this.progress(h),
      means,
      patches: this.m._chaarfm_session_patches(h),
      outputSamples: this.m._chaarfm_session_output_samples(h),
      finite: this.m._chaarfm_session_finite(h) === 1,
    };
  }

  close(): void {
    if (!this.h) return;
    if (this.buf) this.m._free(this.buf);
    this.buf = 0;
    this.m._chaarfm_session_close(this.h);
    this.h = 0;
  }
}

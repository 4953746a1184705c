// SPDX-License-Identifier: MIT
/**
 * The MusiCNN input features: 96 log-compressed mel bands per 512-sample frame, as Essentia's
 * TensorflowInputMusiCNN computes them (src/algorithms/spectral/tensorflowinputmusicnn.cpp):
 *   Windowing  hann, normalized false, zeroPhase true (the frame is rotated by 256), window
 *              w[i] = 0.5 - 0.5 cos(2πi / 511) rounded to float32
 *   Spectrum   magnitude of the 512-point FFT, 257 bins
 *   MelBands   96 bands, 0–8000 Hz, sampleRate 16000, slaneyMel warping, linear weighting,
 *              unit_tri normalisation, power: band = Σ |X_j|² · w_bj
 *   then       log10(1 + 10000 · band)   (UnaryOperator scale/shift, then log10)
 *
 * Two implementations with one interface ({@link MelBackend}):
 *  - 'essentia': essentia.js (the WASM build of Essentia 2.1-beta6-dev), its
 *    `TensorflowInputMusiCNN` called once per frame. essentia.js 0.1.3 has no batched or
 *    stateful form of it: every call builds and configures the algorithm (most of the cost,
 *    about 1 ms a frame), and `EssentiaTFInputExtractor.computeFrameWise` is only a loop over
 *    that which never frees its vectors. So we call the WASM binding directly and free every
 *    vector we create.
 *  - 'typescript': {@link MelReference}, the same computation in plain TypeScript: every step
 *    in float32 as Essentia does (window, filter bank, band sums, log10), except the FFT, which
 *    is a radix-2 FFT in double. No FFT here can match Essentia bit for bit anyway: essentia.js
 *    uses KissFFT, Essentia's Python wheels FFTW. About 80x faster than essentia.js.
 * The two differ by at most ~2e-5 per value (tests bound 5e-5), for two reasons:
 *  - the FFT (float KissFFT vs double): ≤ ~4e-6;
 *  - the filter bank: Essentia computes the band edges in float32 with expf/logf
 *    (mel2hzSlaney). Emscripten's libm rounds expf differently from a correctly rounded one for
 *    5 of the 98 edges (1 float ulp each), so 14 of essentia.js's bands have weights up to
 *    8e-5 (relative) off the correctly rounded ones. The reference rounds correctly, as glibc's
 *    expf (≤ 0.502 ulp) nearly always does under native Essentia on Linux (an inference: no
 *    native Essentia was available to compare with).
 * `MelFrontend.create()` uses essentia.js and falls back to the reference, saying why, only when
 * essentia.js cannot load (or when asked for 'typescript').
 *
 * Loading essentia.js installs `process.on('unhandledRejection', abort)` and an
 * `uncaughtException` re-thrower (Emscripten's Node glue); we remove both again, or any
 * unhandled rejection elsewhere in the process would abort the WASM runtime.
 */
import { createRequire } from 'node:module';
import { FRAME_SIZE } from './frames.js';

export const MEL_BANDS = 96;
const SAMPLE_RATE = 16000;
const BINS = FRAME_SIZE / 2 + 1;

export type MelBackendName = 'essentia' | 'typescript';

/** Frames (count × 512, row-major) in, bands (count × 96) out. Synchronous. */
export interface MelBackend {
  readonly name: MelBackendName;
  compute(frames: Float32Array, count?: number): Float32Array;
  dispose(): void;
}

const f32 = Math.fround;

/** Essentia's hz2melSlaney / mel2hzSlaney (essentiamath.h), in float32. */
const LIN_SLOPE = f32(3 / 200);
const MIN_LOG_HZ = 1000;
const MIN_LOG_MEL = f32(MIN_LOG_HZ * LIN_SLOPE);
const LOG_STEP = f32(Math.log(6.4) / 27);

function hz2melSlaney(hz: number): number {
  if (hz < MIN_LOG_HZ) return f32(hz * LIN_SLOPE);
  return f32(MIN_LOG_MEL + f32(f32(Math.log(f32(hz / MIN_LOG_HZ))) / LOG_STEP));
}

function mel2hzSlaney(mel: number): number {
  if (mel < MIN_LOG_MEL) return f32(mel / LIN_SLOPE);
  return f32(MIN_LOG_HZ * f32(Math.exp(f32(f32(mel - MIN_LOG_MEL) * LOG_STEP))));
}

export interface MelFilterBank {
  /** First and last spectrum bin of each band (inclusive). */
  begin: Int32Array;
  end: Int32Array;
  /** Weights of band b at bins begin[b]..end[b], packed; band b starts at offset[b]. */
  offset: Int32Array;
  weights: Float32Array;
}

/** MelBands' filter bank as Essentia builds it (melbands.cpp + triangularbands.cpp), in float32. */
export function melFilterBank(): MelFilterBank {
  const lo = hz2melSlaney(0);
  const hi = hz2melSlaney(SAMPLE_RATE / 2);
  const inc = f32(f32(hi - lo) / (MEL_BANDS + 1));
  const freqs = new Float32Array(MEL_BANDS + 2);
  let mel = lo;
  for (let i = 0; i < freqs.length; i++) {
    freqs[i] = mel2hzSlaney(mel);
    mel = f32(mel + inc);
  }
  const scale = f32(SAMPLE_RATE / 2 / (BINS - 1));
  const begin = new Int32Array(MEL_BANDS);
  const end = new Int32Array(MEL_BANDS);
  const offset = new Int32Array(MEL_BANDS + 1);
  const weights: number[] = [];
  for (let b = 0; b < MEL_BANDS; b++) {
    const [f0, f1, f2] = [freqs[b], freqs[b + 1], freqs[b + 2]];
    const step1 = f32(f1 - f0);
    const step2 = f32(f2 - f1);
    begin[b] = Math.ceil(f32(f0 / scale));
    end[b] = Math.floor(f32(f2 / scale));
    if (end[b] >= BINS) throw new Error('mel filter bank exceeds the spectrum');
    const norm = f32(f32(step1 + step2) / 2); // unit_tri: the triangle's area
    offset[b] = weights.length;
    for (let j = begin[b]; j <= end[b]; j++) {
      const bin = f32(j * scale);
      const w = bin < f1 ? f32(f32(bin - f0) / step1) : f32(f32(f2 - bin) / step2);
      weights.push(f32(w / norm));
    }
  }
  offset[MEL_BANDS] = weights.length;
  return { begin, end, offset, weights: Float32Array.from(weights) };
}

/** The plain-TypeScript computation (see the file header). */
export class MelReference implements MelBackend {
  readonly name = 'typescript';
  private readonly window = new Float32Array(FRAME_SIZE);
  private readonly re = new Float64Array(FRAME_SIZE / 2);
  private readonly im = new Float64Array(FRAME_SIZE / 2);
  private readonly cos = new Float64Array(FRAME_SIZE / 2);
  private readonly sin = new Float64Array(FRAME_SIZE / 2);
  private readonly bitrev = new Int32Array(FRAME_SIZE / 2);
  private readonly mag = new Float32Array(BINS);

  /** `bank` replaces Essentia's filter bank (tests use essentia.js's own, probed). */
  constructor(private readonly bank: MelFilterBank = melFilterBank()) {
    const n = FRAME_SIZE;
    for (let i = 0; i < n; i++) this.window[i] = 0.5 - 0.5 * Math.cos((2 * Math.PI * i) / (n - 1));
    for (let k = 0; k < n / 2; k++) {
      this.cos[k] = Math.cos((2 * Math.PI * k) / n);
      this.sin[k] = Math.sin((2 * Math.PI * k) / n);
    }
    const half = n / 2;
    const bits = Math.log2(half);
    for (let i = 0; i < half; i++) {
      let r = 0;
      for (let b = 0; b < bits; b++) r |= ((i >> b) & 1) << (bits - 1 - b);
      this.bitrev[i] = r;
    }
  }

  compute(frames: Float32Array, count = frames.length / FRAME_SIZE): Float32Array {
    const out = new Float32Array(count * MEL_BANDS);
    for (let f = 0; f < count; f++) this.computeFrame(frames, f * FRAME_SIZE, out, f * MEL_BANDS);
    return out;
  }

  /** One frame at frames[at..at+512) to out[outAt..outAt+96). */
  computeFrame(frames: Float32Array, at: number, out: Float32Array, outAt: number): void {
    this.spectrum(frames, at);
    const { begin, end, offset, weights } = this.bank;
    const mag = this.mag;
    for (let b = 0; b < MEL_BANDS; b++) {
      let sum = 0;
      for (let j = begin[b], w = offset[b]; j <= end[b]; j++, w++) {
        sum = f32(sum + f32(f32(mag[j] * mag[j]) * weights[w]));
      }
      const x = f32(f32(sum * 10000) + 1);
      out[outAt + b] = Math.log10(x < 1e-30 ? f32(1e-30) : x);
    }
  }

  /** |FFT| of the zero-phase windowed frame into this.mag: a 256-point complex FFT of the
   *  even/odd samples, then the split to 257 real-input bins. */
  private spectrum(frames: Float32Array, at: number): void {
    const n = FRAME_SIZE;
    const half = n / 2;
    const { re, im, window, bitrev } = this;
    // zero phase: windowed[i] = frame[(i + 256) % 512] * w[(i + 256) % 512], in float32
    for (let i = 0; i < half; i++) {
      const a = (2 * i + half) % n;
      const b = (2 * i + 1 + half) % n;
      const r = bitrev[i];
      re[r] = f32(frames[at + a] * window[a]);
      im[r] = f32(frames[at + b] * window[b]);
    }
    for (let size = 2; size <= half; size *= 2) {
      const step = n / size; // twiddle stride in the 512-point table
      const h = size / 2;
      for (let start = 0; start < half; start += size) {
        for (let k = 0; k < h; k++) {
          const c = this.cos[k * step];
          const s = -this.sin[k * step];
          const i0 = start + k;
          const i1 = i0 + h;
          const tr = re[i1] * c - im[i1] * s;
          const ti = re[i1] * s + im[i1] * c;
          re[i1] = re[i0] - tr;
          im[i1] = im[i0] - ti;
          re[i0] += tr;
          im[i0] += ti;
        }
      }
    }
    for (let k = 0; k <= half; k++) {
      const k1 = k % half;
      const k2 = (half - k) % half;
      const er = 0.5 * (re[k1] + re[k2]);
      const ei = 0.5 * (im[k1] - im[k2]);
      const or = 0.5 * (im[k1] + im[k2]);
      const oi = -0.5 * (re[k1] - re[k2]);
      const c = k < half ? this.cos[k] : -1;
      const s = k < half ? -this.sin[k] : 0;
      const xr = er + or * c - oi * s;
      const xi = ei + or * s + oi * c;
      this.mag[k] = Math.sqrt(xr * xr + xi * xi);
    }
  }

  dispose(): void {}
}

interface EssentiaVector {
  delete(): void;
}
interface EssentiaWasmModule {
  calledRun?: boolean;
  onRuntimeInitialized?: () => void;
  EssentiaJS: new (debug: boolean) => {
    version: string;
    TensorflowInputMusiCNN(frame: EssentiaVector): { bands: EssentiaVector };
    shutdown?(): void;
    delete?(): void;
  };
  arrayToVector(a: Float32Array): EssentiaVector;
  vectorToArray(v: EssentiaVector): Float32Array;
}

let wasmModule: Promise<EssentiaWasmModule> | null = null;

/** Loads essentia.js's WASM build once per thread, undoing its global process hooks. */
function loadEssentiaWasm(): Promise<EssentiaWasmModule> {
  wasmModule ??= (async () => {
    // Emscripten's Node glue adds these two hooks; take back exactly the ones it added.
    const listeners = () => [...process.listeners('unhandledRejection'), ...process.listeners('uncaughtException')];
    const before = new Set<unknown>(listeners());
    let mod: EssentiaWasmModule;
    try {
      mod = createRequire(import.meta.url)('essentia.js/dist/essentia-wasm.umd.js') as EssentiaWasmModule;
    } finally {
      for (const l of process.listeners('unhandledRejection')) {
        if (!before.has(l)) process.removeListener('unhandledRejection', l);
      }
      for (const l of process.listeners('uncaughtException')) {
        if (!before.has(l)) process.removeListener('uncaughtException', l);
      }
    }
    if (!mod.calledRun) await new Promise<void>((resolve) => (mod.onRuntimeInitialized = resolve));
    return mod;
  })();
  wasmModule.catch(() => (wasmModule = null));
  return wasmModule;
}

/** essentia.js's TensorflowInputMusiCNN, frame by frame (see the file header). */
export class EssentiaMel implements MelBackend {
  readonly name = 'essentia';
  private constructor(
    private readonly mod: EssentiaWasmModule,
    private essentia: InstanceType<EssentiaWasmModule['EssentiaJS']> | null,
  ) {}

  static async create(): Promise<EssentiaMel> {
    const mod = await loadEssentiaWasm();
    return new EssentiaMel(mod, new mod.EssentiaJS(false));
  }

  /** The Essentia version essentia.js was built from, e.g. "2.1-beta6-dev". */
  get version(): string {
    return this.essentia?.version ?? '';
  }

  compute(frames: Float32Array, count = frames.length / FRAME_SIZE): Float32Array {
    const essentia = this.essentia;
    if (!essentia) throw new Error('EssentiaMel used after dispose()');
    const out = new Float32Array(count * MEL_BANDS);
    for (let f = 0; f < count; f++) {
      const vec = this.mod.arrayToVector(frames.subarray(f * FRAME_SIZE, (f + 1) * FRAME_SIZE));
      try {
        const { bands } = essentia.TensorflowInputMusiCNN(vec);
        try {
          out.set(this.mod.vectorToArray(bands), f * MEL_BANDS);
        } finally {
          bands.delete();
        }
      } finally {
        vec.delete();
      }
    }
    return out;
  }

  dispose(): void {
    this.essentia?.delete?.();
    this.essentia = null;
  }
}

export interface MelFrontendOptions {
  /** Default 'essentia'; falls back to 'typescript' when essentia.js cannot load. */
  backend?: MelBackendName;
  /** Told once when the fallback is taken, with the reason. */
  onFallback?: (reason: string) => void;
}

/** The mel stage for the pipeline: one backend, chosen at create(). */
export class MelFrontend implements MelBackend {
  private constructor(
    private readonly impl: MelBackend,
    /** Why essentia.js is not used, when it was wanted but failed to load. */
    readonly fallbackReason?: string,
  ) {}

  static async create(opts: MelFrontendOptions = {}): Promise<MelFrontend> {
    const backend = opts.backend ?? 'essentia';
    if (backend !== 'essentia' && backend !== 'typescript') {
      throw new TypeError(`Expected 'essentia' or 'typescript' for backend but received ${String(backend)}`);
    }
    if (backend === 'typescript') return new MelFrontend(new MelReference());
    try {
      return new MelFrontend(await EssentiaMel.create());
    } catch (err) {
      const reason = `essentia.js could not load (${(err as Error).message}); using the TypeScript mel reference`;
      opts.onFallback?.(reason);
      return new MelFrontend(new MelReference(), reason);
    }
  }

  get name(): MelBackendName {
    return this.impl.name;
  }

  compute(frames: Float32Array, count?: number): Float32Array {
    return this.impl.compute(frames, count);
  }

  dispose(): void {
    this.impl.dispose();
  }
}

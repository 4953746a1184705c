// SPDX-License-Identifier: MIT
/**
 * Streaming resampler to 16 kHz that reproduces Essentia's streaming `Resample` (the one inside
 * MonoLoader) sample for sample, with libsamplerate's SRC_SINC_MEDIUM_QUALITY (quality 1) in
 * float, through the WASM build in @alexanderolsen/libsamplerate-js.
 *
 * What Essentia does (src/algorithms/standard/resample.cpp, streaming namespace), and so we do:
 *  - The ratio is computed in float: `Real factor = 16000.f / inputRate`, then stored in the
 *    double `src_ratio`. It is not the double 16000/44100; over a 4-minute track the
 *    difference shifts samples by a large fraction of a sample, so we give libsamplerate the
 *    float value exactly (as outputRate/inputRate = m/2^k, both integers).
 *  - Ratio exactly 1 (16 kHz input): no converter, the samples are copied.
 *  - Input goes to `src_process` in blocks of 4096 samples with end_of_input = 0; at the end
 *    of the stream whatever is left (< 4096 samples) goes in one call with end_of_input = 1,
 *    which flushes the filter tail. When the stream length is a multiple of 4096 nothing is
 *    left, Essentia returns before that call and the tail (~half a filter length) is never
 *    flushed; we reproduce that too.
 *  - libsamplerate's output does not depend on how the input is chunked (checked in tests), so
 *    the only thing the block size decides is that end-of-stream rule.
 *
 * libsamplerate-js exposes no end_of_input flag: its `full()` always passes 0. Its `simple()`
 * calls `src_simple`, which sets end_of_input = 1 on the module's one shared SRC_DATA and
 * leaves it set, so one throw-away `simple()` call before the last `full()` makes that call
 * flush. `end()` checks that the flush happened (output length ≈ input × ratio) and throws if
 * a future libsamplerate-js changes this. Because the flag cannot be cleared, each Resampler
 * owns a fresh WASM instance (about 26 MB of memory, freed by GC after `dispose()`).
 *
 * Usage (plain synchronous after the async create, so a worker thread can drive it):
 *   const r = await Resampler.create(44100); out = r.push(chunk) ...; out = r.end(); r.dispose();
 */
import type { SRC } from '@alexanderolsen/libsamplerate-js/dist/src.js';
import { concatFloat32 } from '../util/float32.js';

/** MusiCNN's input rate. */
export const TARGET_RATE = 16000;
/** Essentia's streaming Resample preferred (acquire) size. */
export const ESSENTIA_BLOCK = 4096;
/** libsamplerate's SRC_SINC_MEDIUM_QUALITY, Essentia's default `quality` = 1. */
const SINC_MEDIUM = 1;

/** The ratio Essentia uses for this input rate: float32(16000 / rate). */
export function essentiaRatio(inputRate: number): number {
  return Math.fround(TARGET_RATE / inputRate);
}

/** Integer rates whose double quotient equals `ratio` exactly (ratio is a float32 value). */
function exactRates(ratio: number): { inRate: number; outRate: number } {
  let k = 0;
  while (!Number.isInteger(ratio * 2 ** k)) k++;
  const outRate = ratio * 2 ** k;
  const inRate = 2 ** k;
  if (inRate > 0x7fffffff || outRate > 0x7fffffff) throw new RangeError(`resample ratio ${ratio} is out of range`);
  return { inRate, outRate };
}

function concat(parts: Float32Array[], total: number): Float32Array {
  if (parts.length === 1) return parts[0];
  const out = new Float32Array(total);
  let pos = 0;
  for (const p of parts) {
    out.set(p, pos);
    pos += p.length;
  }
  return out;
}

export class Resampler {
  /** float32(16000 / inputRate), as Essentia computes it. */
  readonly ratio: number;
  /** True for 16 kHz input: samples are copied, as in Essentia. */
  readonly passthrough: boolean;
  private src: SRC | null;
  private readonly block = new Float32Array(ESSENTIA_BLOCK);
  private filled = 0;
  private inCount = 0;
  private outCount = 0;
  private ended = false;

  private constructor(
    readonly inputRate: number,
    src: SRC | null,
  ) {
    this.ratio = essentiaRatio(inputRate);
    this.passthrough = src === null;
    this.src = src;
  }

  /** Loads a fresh libsamplerate WASM instance (not needed, and not loaded, at 16 kHz). */
  static async create(inputRate: number): Promise<Resampler> {
    if (!Number.isFinite(inputRate) || inputRate <= 0) {
      throw new RangeError(`Expected a positive sample rate for inputRate but received ${inputRate}`);
    }
    const ratio = essentiaRatio(inputRate);
    if (ratio === 1) return new Resampler(inputRate, null);
    if (!(ratio >= 1 / 256 && ratio <= 256)) {
      throw new RangeError(`Expected an input rate within 256x of 16000 Hz but received ${inputRate}`);
    }
    const lsr = (await import('@alexanderolsen/libsamplerate-js')).default;
    // create() validates rates <= 192 kHz; start from a valid pair, then set the exact one
    // (the setters re-initialise the converter without that check).
    const src = await lsr.create(1, 48000, TARGET_RATE, { converterType: SINC_MEDIUM });
    const { inRate, outRate } = exactRates(ratio);
    src.inputSampleRate = inRate;
    src.outputSampleRate = outRate;
    return new Resampler(inputRate, src);
  }

  /** Input samples pushed so far. */
  get inputSamples(): number {
    return this.inCount;
  }

  /** Output samples returned so far. */
  get outputSamples(): number {
    return this.outCount;
  }

  /** Feeds mono samples at `inputRate`; returns the 16 kHz samples now ready (maybe none). */
  push(chunk: Float32Array): Float32Array {
    if (this.ended) throw new Error('Resampler.push() after end()');
    this.inCount += chunk.length;
    if (this.passthrough) {
      this.outCount += chunk.length;
      return chunk.slice();
    }
    const parts: Float32Array[] = [];
    let total = 0;
    let pos = 0;
    while (pos < chunk.length) {
      const n = Math.min(ESSENTIA_BLOCK - this.filled, chunk.length - pos);
      this.block.set(chunk.subarray(pos, pos + n), this.filled);
      this.filled += n;
      pos += n;
      if (this.filled === ESSENTIA_BLOCK) {
        const out = this.convert(this.block);
        parts.push(out);
        total += out.length;
        this.filled = 0;
      }
    }
    return parts.length ? concat(parts, total) : new Float32Array(0);
  }

  /** Ends the stream: returns the last samples (the filter tail, by Essentia's rule). */
  end(): Float32Array {
    if (this.ended) return new Float32Array(0);
    this.ended = true;
    if (this.passthrough || this.filled === 0) return new Float32Array(0);
    const src = this.src!;
    src.simple(new Float32Array(1)); // leaves end_of_input = 1 in the module's SRC_DATA
    const out = this.convert(this.block.subarray(0, this.filled));
    const expected = this.inCount * this.ratio;
    if (Math.abs(this.outCount - expected) > 2) {
      throw new Error(
        `libsamplerate-js did not flush the resampler (${this.outCount} samples out for ${expected.toFixed(1)} expected); ` +
          'this version of @alexanderolsen/libsamplerate-js is not supported',
      );
    }
    return out;
  }

  /** Frees the converter. Idempotent. */
  dispose(): void {
    if (this.src && !this.src.isDestroyed) this.src.destroy();
    this.src = null;
  }

  private convert(input: Float32Array): Float32Array {
    if (!this.src) throw new Error('Resampler used after dispose()');
    const out = this.src.full(input);
    this.outCount += out.length;
    return out;
  }
}

/** Resamples a whole signal to 16 kHz, fed in `chunk`-sample pieces (output does not depend on it). */
export async function resampleAll(x: Float32Array, inputRate: number, chunk = 16384): Promise<Float32Array> {
  const r = await Resampler.create(inputRate);
  try {
    const parts: Float32Array[] = [];
    for (let i = 0; i < x.length; i += chunk) parts.push(r.push(x.subarray(i, i + chunk)));
    parts.push(r.end());
    return concatFloat32(parts);
  } finally {
    r.dispose();
  }
}

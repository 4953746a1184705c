// SPDX-License-Identifier: MIT
/**
 * The audio front end of the portable embedding path: media file → MusiCNN input patches,
 * exactly as Essentia's `MonoLoader(sampleRate=16000)` + the first stages of
 * `TensorflowPredictMusiCNN` compute them (spec/embedding.md steps 1–5).
 *
 *   decodeToPcm (ffmpeg, mono at the file's rate)       src/audio/ffmpeg.ts
 *   → Resampler (libsamplerate sinc-medium, 16 kHz)      src/audio/resample.ts
 *   → FrameCutter (512 / 256, centred, zero-padded)      src/embed/frames.ts
 *   → MelFrontend (96 log-mel bands per frame)           src/embed/mel.ts
 *   → PatchAssembler (187 frames, hop 93, rest dropped)  src/embed/patches.ts
 *
 * Two ways in:
 *  - {@link melPatches}(input, opts): everything in this thread; an async generator of patch
 *    batches. The last item it yields always carries `summary` (its `count` may be 0).
 *      for await (const b of melPatches(file)) { if (b.count) run(b.patches, b.count); if (b.summary) … }
 *  - {@link FrontendPipeline}: the CPU stages only, synchronous after `create()`, for a
 *    worker thread fed with PCM chunks that the main thread decodes with decodeToPcm():
 *      const p = await FrontendPipeline.create(pcm.sampleRate);  // in the worker
 *      for each chunk: batches = p.push(chunk);  at the end: batches = p.end(); p.summary(); p.dispose()
 * No patches (audio shorter than about 3 s) is not an error here: `summary.patches` is 0 and
 * the caller fails the job, as Essentia gives no rows to average.
 */
import type { Readable } from 'node:stream';
import { decodeToPcm } from '../audio/ffmpeg.js';
import { Resampler } from '../audio/resample.js';
import { FrameCutter, FRAME_SIZE } from './frames.js';
import { MelFrontend, type MelBackendName } from './mel.js';
import { PatchAssembler, type PatchBatch } from './patches.js';

export interface PipelineOptions {
  /** Patches per batch; default 8 (8 × 187 × 96 floats = 575 KB). */
  batchSize?: number;
  /** Mel implementation; default 'essentia' (essentia.js), see mel.ts. */
  melBackend?: MelBackendName;
  /** Told when essentia.js cannot load and the TypeScript mel reference is used instead. */
  onFallback?: (reason: string) => void;
}

export interface FrontendSummary {
  /** Source sample rate (Hz) and channels. */
  sampleRate: number;
  channels: number;
  /** Seconds of audio decoded (source samples / source rate). */
  duration: number;
  /** Mono samples decoded at the source rate, and after resampling to 16 kHz. */
  sourceSamples: number;
  samples16k: number;
  /** Mel frames computed, patches produced. */
  frames: number;
  patches: number;
  /** The mel implementation that ran. */
  melBackend: MelBackendName;
}

export interface FrontendProgress {
  /** Seconds of source audio processed so far. */
  seconds: number;
  frames: number;
  patches: number;
}

/** The synchronous CPU stages, PCM chunk in, patch batches out. */
export class FrontendPipeline {
  private readonly cutter = new FrameCutter();
  private readonly assembler: PatchAssembler;
  private ended = false;

  private constructor(
    readonly sampleRate: number,
    readonly channels: number,
    private readonly resampler: Resampler,
    private readonly mel: MelFrontend,
    batchSize: number,
  ) {
    this.assembler = new PatchAssembler(batchSize);
  }

  /** `channels` is only reported back in the summary. */
  static async create(sampleRate: number, opts: PipelineOptions & { channels?: number } = {}): Promise<FrontendPipeline> {
    const resampler = await Resampler.create(sampleRate);
    try {
      const mel = await MelFrontend.create({ backend: opts.melBackend, onFallback: opts.onFallback });
      return new FrontendPipeline(sampleRate, opts.channels ?? 1, resampler, mel, opts.batchSize ?? 8);
    } catch (err) {
      resampler.dispose();
      throw err;
    }
  }

  /** Mono PCM at `sampleRate` in; the batches of patches that filled up. */
  push(pcm: Float32Array): PatchBatch[] {
    if (this.ended) throw new Error('FrontendPipeline.push() after end()');
    return this.frames(this.cutter.push(this.resampler.push(pcm)));
  }

  /** Flushes every stage; the remaining batches (the last one may be partly filled). */
  end(): PatchBatch[] {
    if (this.ended) return [];
    this.ended = true;
    const out = this.frames(this.cutter.push(this.resampler.end()));
    out.push(...this.frames(this.cutter.end()));
    const last = this.assembler.end();
    if (last) out.push(last);
    return out;
  }

  progress(): FrontendProgress {
    return {
      seconds: this.resampler.inputSamples / this.sampleRate,
      frames: this.assembler.frames,
      patches: this.assembler.patches,
    };
  }

  summary(): FrontendSummary {
    return {
      sampleRate: this.sampleRate,
      channels: this.channels,
      duration: this.resampler.inputSamples / this.sampleRate,
      sourceSamples: this.resampler.inputSamples,
      samples16k: this.cutter.samples,
      frames: this.assembler.frames,
      patches: this.assembler.patches,
      melBackend: this.mel.name,
    };
  }

  dispose(): void {
    this.resampler.dispose();
    this.mel.dispose();
  }

  private frames(frames: Float32Array): PatchBatch[] {
    if (frames.length === 0) return [];
    return this.assembler.push(this.mel.compute(frames, frames.length / FRAME_SIZE));
  }
}

export interface FrontendOptions extends PipelineOptions {
  ffmpegPath?: string;
  signal?: AbortSignal;
  onProgress?: (p: FrontendProgress) => void;
}

export interface FrontendBatch extends PatchBatch {
  /** Present on the last item only. */
  summary?: FrontendSummary;
}

const yieldToEventLoop = () => new Promise<void>((resolve) => setImmediate(resolve));

/** Decodes `input` and yields its MusiCNN patches in batches (see the file header). */
export async function* melPatches(input: string | Readable, opts: FrontendOptions = {}): AsyncGenerator<FrontendBatch> {
  const { signal } = opts;
  const pcm = await decodeToPcm(input, { ffmpegPath: opts.ffmpegPath, signal });
  let pipeline: FrontendPipeline | null = null;
  try {
    pipeline = await FrontendPipeline.create(pcm.sampleRate, { ...opts, channels: pcm.channels });
    for await (const chunk of pcm) {
      signal?.throwIfAborted();
      const batches = pipeline.push(chunk);
      opts.onProgress?.(pipeline.progress());
      for (const b of batches) yield b;
      await yieldToEventLoop();
    }
    signal?.throwIfAborted();
    const last = pipeline.end();
    const summary = pipeline.summary();
    opts.onProgress?.(pipeline.progress());
    for (let i = 0; i < last.length - 1; i++) yield last[i];
    const tail = last.at(-1);
    yield tail
      ? { ...tail, summary }
      : { patches: new Float32Array(0), count: 0, first: summary.patches, summary };
  } finally {
    pcm.close();
    pipeline?.dispose();
  }
}


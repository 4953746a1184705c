// SPDX-License-Identifier: MIT
/**
 * The thread-pool Embedder behind two backends: ffmpeg decoding on the main thread (a child
 * process), everything else (resampling, mel bands, MusiCNN) in worker_threads, so the event
 * loop stays free for WebSocket pings during a long track. The threads run either
 *  - `wasm` (the portable backend, default): our own engine compiled to WebAssembly
 *    (wasm-engine-thread.ts: its resampler, mel and MusiCNN kernels, prebuilds/wasm), or
 *  - `essentia.js` (the reference backend): libsamplerate-js, essentia.js and TF.js WASM
 *    (wasm-embedder-thread.ts), optional dependencies, for the fidelity tests and cross-checks.
 *
 * - One model load per thread; `threads` (default 1) threads form a small pool and every
 *   embed() call goes whole to the thread with the fewest jobs. Any number of calls may run at
 *   once; a thread interleaves its jobs chunk by chunk and batch by batch.
 * - PCM goes to the thread in chunks with their buffers transferred; at most `maxInFlightSeconds`
 *   of audio per job is waiting there (the thread acknowledges each chunk), so memory stays
 *   bounded on a 10-minute track and decoding is paced by inference.
 * - Progress: {stage: 'inference', fraction} where fraction = audio covered by finished
 *   patches / decoded (or announced) duration; {stage: 'decode', fraction: 0} at the start.
 * - Abort: the signal stops ffmpeg, drops the job in its thread and rejects with an Error
 *   named 'AbortError' (code 'ABORT_ERR', cause = signal.reason).
 * - Errors: no complete patch -> AudioTooShortError `Audio too short (x.x s; MusiCNN needs 3 s)`;
 *   a NaN/Inf output row -> an error saying so; a crashed thread fails only its own jobs and is
 *   replaced for the next call.
 * - Idle threads are unref'd, so an unclosed embedder does not keep the process alive.
 */
import type { Readable } from 'node:stream';
import { Worker } from 'node:worker_threads';
import { silentLogger, type Logger } from '../log/logger.js';
import { NON_FINITE_AUDIO, type Embedder, type EmbedOptions, type EmbedProgress, type EmbedResult } from './embedder.js';
import { checkThreads } from './threads.js';
import type { FromThread, ThreadInit, ToThread } from './wasm-embedder-thread.js';
import type { WasmVariant } from './wasm-engine-binding.js';

/** Decoded mono PCM at the file's own rate. */
export interface PcmStream {
  sampleRate: number;
  /** Seconds, when the container announces it (for progress only). */
  duration?: number;
  chunks: AsyncIterable<Float32Array>;
  /** Stops the decoder (called when the job ends early). */
  close?(): void;
}

export type DecodeFn = (
  input: string | Readable,
  opts: { signal: AbortSignal; ffmpegPath?: string; tmpDir?: string },
) => Promise<PcmStream>;

export type PoolEngine = 'wasm' | 'essentia.js';

export interface WasmEmbedderOptions {
  /** What the threads run (see the header); default 'wasm'. */
  engine?: PoolEngine;
  /** The wasm engine's folder (default prebuilds/wasm of the package). */
  engineDir?: string;
  /** Which wasm engine module the threads load (wasm-engine-binding.ts); default chooseWasmVariant()'s. */
  wasmVariant?: WasmVariant;
  /** The model file's bytes (already checked). */
  modelBytes: Uint8Array;
  outputNode: string;
  tagsNode?: string;
  /** Decoder (create-embedder passes ffmpeg's, src/audio/ffmpeg.ts). */
  decode: DecodeFn;
  ffmpegPath?: string;
  tmpDir?: string;
  /** Threads in the pool (each holds the model once); default 1. */
  threads?: number;
  /** Patches per graph call of the reference backend (TF.js); default 4. Results do not depend on it. The wasm engine batches inside (MusicnnRunner). */
  batchSize?: number;
  /** Seconds of PCM a job may have queued in its thread; default 8. */
  maxInFlightSeconds?: number;
  /** Gets the threads' one-time warnings (each distinct message once). */
  logger?: Logger;
}

/** Seconds of audio covered by the first n patches (187 frames, hop 93, 256-sample hop, 16 kHz). */
export function patchSeconds(n: number): number {
  return n <= 0 ? 0 : (((n - 1) * 93 + 187) * 256) / 16000;
}

export class AudioTooShortError extends Error {
  constructor(readonly seconds: number) {
    super(`Audio too short (${seconds.toFixed(1)} s; MusiCNN needs 3 s)`);
    this.name = 'AudioTooShortError';
  }
}

export function abortError(signal?: AbortSignal): Error {
  const e = new Error('The embedding was aborted', { cause: signal?.reason });
  e.name = 'AbortError';
  (e as NodeJS.ErrnoException).code = 'ABORT_ERR';
  return e;
}

interface JobState {
  id: number;
  resolve(r: { rows: number; means: Float32Array[] }): void;
  reject(e: Error): void;
  onProgress?: (p: EmbedProgress) => void;
  /** Sizes (samples) of chunks not yet acknowledged. */
  inFlight: number[];
  wake?: () => void;
  total?: number;
}

class PoolThread {
  readonly jobs = new Map<number, JobState>();
  readonly ready: Promise<void>;
  dead?: Error;
  /** True once the model has loaded (a thread that never loads is not replaced). */
  loaded = false;
  private readonly worker: Worker;

  constructor(engine: PoolEngine, init: ThreadInit, onDeath: (t: PoolThread) => void, private readonly warn: (m: string) => void) {
    const copy = new Uint8Array(init.modelBytes); // each thread gets its own copy, transferred
    const script = engine === 'wasm' ? './wasm-engine-thread.js' : './wasm-embedder-thread.js';
    this.worker = new Worker(new URL(script, import.meta.url), {
      // a parent started with `--input-type=module -e ...` must not pass --input-type on; other
      // parents keep the default inheritance (Node 24's test runner gives its children every
      // default option in execArgv, per-process ones too, which a Worker given them refuses)
      execArgv: process.execArgv.some((a) => a.startsWith('--input-type')) ? process.execArgv.filter((a) => !a.startsWith('--input-type')) : undefined,
      workerData: { ...init, modelBytes: copy },
      transferList: [copy.buffer as ArrayBuffer],
    });
    this.ready = new Promise((resolve, reject) => {
      const die = (err: Error) => {
        if (this.dead) return;
        this.dead = err;
        reject(err);
        for (const j of this.jobs.values()) {
          j.reject(err);
          j.wake?.();
        }
        this.jobs.clear();
        onDeath(this);
      };
      this.worker.on('message', (m: FromThread) => {
        if (m.type === 'ready') {
          this.loaded = true;
          if (this.jobs.size === 0) this.worker.unref(); // idle threads never hold the process
          resolve();
        } else if (m.type === 'init-error') {
          die(new Error(`The embedding thread could not load the model: ${m.message}`));
          void this.worker.terminate();
        } else this.onMessage(m);
      });
      this.worker.on('error', (err) => die(new Error(`The embedding thread failed: ${err.message}`, { cause: err })));
      this.worker.on('exit', (code) => die(new Error(`The embedding thread exited (code ${code})`)));
    });
    this.ready.catch(() => {});
  }

  private onMessage(m: Exclude<FromThread, { type: 'ready' | 'init-error' }>): void {
    if (m.type === 'warn') return this.warn(m.message);
    const job = this.jobs.get(m.id);
    if (!job) return;
    if (m.type === 'ack') {
      job.inFlight.shift();
      job.wake?.();
    } else if (m.type === 'progress') {
      if (job.total) job.onProgress?.({ stage: 'inference', fraction: Math.min(1, patchSeconds(m.patches) / job.total) });
    } else {
      this.end(job);
      if (m.type === 'done' && m.rows > 0) job.onProgress?.({ stage: 'inference', fraction: 1 });
      if (m.type === 'done') job.resolve(m);
      else job.reject(new Error(m.message));
    }
  }

  send(m: ToThread, transfer?: ArrayBuffer[]): void {
    if (!this.dead) this.worker.postMessage(m, transfer);
  }

  begin(job: JobState): void {
    this.jobs.set(job.id, job);
    this.worker.ref();
  }

  end(job: JobState): void {
    this.jobs.delete(job.id);
    job.wake?.();
    if (this.jobs.size === 0) this.worker.unref();
  }

  async terminate(): Promise<void> {
    this.dead ??= new Error('The embedder was closed');
    await this.worker.terminate();
  }
}

/** Largest absolute sample value of `data` and `prev`; throws on a NaN or infinite sample. */
function peakOf(data: Float32Array, prev: number): number {
  let p = prev;
  let finite = true;
  for (let i = 0; i < data.length; i++) {
    const a = Math.abs(data[i]);
    finite &&= a <= 3.4028234663852886e38;
    if (a > p) p = a;
  }
  if (!finite) throw new Error(NON_FINITE_AUDIO);
  return p;
}

export class WasmEmbedder implements Embedder {
  readonly backend: PoolEngine;
  private pool: PoolThread[] = [];
  private nextId = 1;
  private closed = false;
  private readonly warned = new Set<string>();
  private readonly init: ThreadInit;

  private constructor(private readonly opts: WasmEmbedderOptions) {
    const outputs = [opts.outputNode, ...(opts.tagsNode ? [opts.tagsNode] : [])];
    this.backend = opts.engine ?? 'wasm';
    if (this.backend !== 'wasm' && this.backend !== 'essentia.js') {
      throw new TypeError(`Expected wasm or essentia.js for engine but received ${JSON.stringify(this.backend)}`);
    }
    this.init = {
      chaarfmEmbedder: true, modelBytes: opts.modelBytes, outputs, batchSize: opts.batchSize ?? 4,
      ...(opts.engineDir && { engineDir: opts.engineDir }),
      ...(opts.wasmVariant && { wasmVariant: opts.wasmVariant }),
    };
  }

  /** Starts the threads and waits until each has loaded the model. */
  static async create(opts: WasmEmbedderOptions): Promise<WasmEmbedder> {
    const threads = checkThreads(opts.threads ?? 1);
    const e = new WasmEmbedder(opts);
    for (let i = 0; i < threads; i++) e.pool.push(e.spawn());
    try {
      await Promise.all(e.pool.map((t) => t.ready));
    } catch (err) {
      await e.close();
      throw err;
    }
    return e;
  }

  private spawn(): PoolThread {
    const onDeath = (dead: PoolThread) => {
      const i = this.pool.indexOf(dead);
      // a thread that crashed after loading is replaced for later calls; one that could not
      // load the model stays dead (its error is what later calls get), so no respawn loop
      if (i >= 0 && !this.closed && dead.loaded) this.pool[i] = this.spawn();
    };
    return new PoolThread(this.backend, this.init, onDeath, (message) => {
      if (this.warned.has(message)) return;
      this.warned.add(message);
      (this.opts.logger ?? silentLogger).warn(message);
    });
  }

  /** Threads currently running (0 after close()). */
  get threadCount(): number {
    return this.pool.filter((t) => !t.dead).length;
  }

  private pick(): PoolThread {
    const live = this.pool.filter((t) => !t.dead);
    return (live.length ? live : this.pool).reduce((a, b) => (b.jobs.size < a.jobs.size ? b : a));
  }

  embed(input: string | Readable, opts: EmbedOptions = {}): Promise<EmbedResult> {
    return this.run(opts, (thread, job, signal) => this.feedAudio(input, thread, job, signal));
  }

  /** Embeds ready-made [n, 187, 96] patches (tests and alternative front ends). */
  embedPatches(patches: Float32Array, opts: EmbedOptions = {}): Promise<EmbedResult> {
    return this.run(opts, async (thread, job) => {
      thread.send({ type: 'start', id: job.id, sampleRate: 0 });
      thread.send({ type: 'patches', id: job.id, patches });
      thread.send({ type: 'end', id: job.id });
      return { seconds: 0, peak: Number.NaN };
    });
  }

  private async run(
    opts: EmbedOptions,
    feed: (t: PoolThread, j: JobState, s: AbortSignal) => Promise<{ seconds: number; peak: number }>,
  ): Promise<EmbedResult> {
    if (this.closed) throw new Error('The embedder is closed');
    const signal = opts.signal;
    if (signal?.aborted) throw abortError(signal);
    const ac = new AbortController();
    let job!: JobState;
    const result = new Promise<{ rows: number; means: Float32Array[] }>((resolve, reject) => {
      job = { id: this.nextId++, resolve, reject, onProgress: opts.onProgress, inFlight: [] };
    });
    result.catch(() => {});
    const thread = this.pick();
    thread.begin(job); // at once, so that calls made together spread over the pool
    const onAbort = () => {
      ac.abort(signal?.reason);
      if (thread.jobs.has(job.id)) {
        thread.send({ type: 'cancel', id: job.id });
        thread.end(job);
      }
      job.reject(abortError(signal));
      job.wake?.();
    };
    signal?.addEventListener('abort', onAbort, { once: true });
    try {
      await Promise.race([thread.ready, result]);
      opts.onProgress?.({ stage: 'decode', fraction: 0 });
      const feeding = feed(thread, job, ac.signal);
      feeding.catch(() => {});
      // whichever fails first wins: the decoder, or the thread (which also ends the decoder)
      const { seconds, peak } = await Promise.race([feeding, result.then(() => feeding)]);
      const { rows, means } = await result;
      if (rows === 0) throw new AudioTooShortError(seconds);
      return {
        vector: means[0],
        duration: seconds,
        patches: rows,
        ...(Number.isFinite(peak) && { peak }),
        ...(means[1] && { tags: means[1] }),
      };
    } catch (err) {
      if (thread.jobs.has(job.id)) {
        thread.send({ type: 'cancel', id: job.id });
        thread.end(job);
      }
      ac.abort(err);
      if (signal?.aborted) throw abortError(signal);
      throw err;
    } finally {
      signal?.removeEventListener('abort', onAbort);
    }
  }

  /** Decodes on this thread and streams PCM to the job's thread; returns decoded seconds. */
  private async feedAudio(
    input: string | Readable,
    thread: PoolThread,
    job: JobState,
    signal: AbortSignal,
  ): Promise<{ seconds: number; peak: number }> {
    const pcm = await this.opts.decode(input, { signal, ffmpegPath: this.opts.ffmpegPath, tmpDir: this.opts.tmpDir });
    let rate = 0;
    let samples = 0;
    let peak = 0;
    try {
      rate = pcm.sampleRate;
      if (pcm.duration && pcm.duration > 0) job.total = pcm.duration;
      const limit = rate * (this.opts.maxInFlightSeconds ?? 8);
      thread.send({ type: 'start', id: job.id, sampleRate: rate });
      for await (const chunk of pcm.chunks) {
        if (signal.aborted || !thread.jobs.has(job.id)) break;
        if (chunk.length === 0) continue;
        // wait until the thread has room (acks shrink inFlight)
        while (job.inFlight.reduce((a, b) => a + b, 0) >= limit && thread.jobs.has(job.id) && !signal.aborted) {
          await new Promise<void>((r) => (job.wake = r));
        }
        if (signal.aborted || !thread.jobs.has(job.id)) break;
        const own = chunk.byteOffset === 0 && chunk.byteLength === chunk.buffer.byteLength && !(chunk.buffer instanceof SharedArrayBuffer);
        const data = own ? chunk : chunk.slice();
        samples += data.length;
        peak = peakOf(data, peak);
        job.inFlight.push(data.length);
        thread.send({ type: 'pcm', id: job.id, pcm: data }, [data.buffer as ArrayBuffer]);
      }
    } finally {
      pcm.close?.();
    }
    if (signal.aborted) throw abortError(signal);
    const seconds = samples / rate;
    job.total = seconds;
    thread.send({ type: 'end', id: job.id });
    return { seconds, peak };
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    const err = new Error('The embedder was closed');
    await Promise.all(
      this.pool.map(async (t) => {
        for (const j of t.jobs.values()) j.reject(err);
        t.jobs.clear();
        await t.terminate();
      }),
    );
    this.pool = [];
  }
}

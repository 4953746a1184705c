// SPDX-License-Identifier: MIT
/**
 * The worker_threads side of the reference backend (`--backend essentia.js`: libsamplerate-js,
 * essentia.js, TF.js WASM; optional dependencies): all CPU work of an embedding runs here. The
 * portable backend's thread (wasm-engine-thread.ts, our engine in WebAssembly) speaks the same
 * protocol, defined here.
 *
 * The thread parses the model once (bytes arrive in workerData), loads it on TF.js's WASM
 * backend and then serves any number of jobs at once. Per job, the main thread posts `start`,
 * then decoded mono PCM chunks at the file's own rate (`pcm`, buffers transferred), then `end`.
 * The thread runs each chunk through the audio front end (resample to 16 kHz, frames, mel
 * bands, patches), queues the finished patches and runs them through the graph in batches of
 * `batchSize`; every row is folded into a running sum at once, so a job holds at most one
 * chunk, one patch window and one batch, whatever the track's length.
 *
 * Scheduling: one unit of work (one chunk through the front end, or one batch through the
 * graph) per macrotask, jobs served round-robin, so `cancel` and new chunks are seen between
 * units. Each consumed chunk is acknowledged (`ack`) so the main thread can bound how much PCM
 * is in flight.
 *
 * Mean: rows are summed in patch order in float32 (each addition rounded to float32), then
 * divided by the row count in float32. This is bit-for-bit what the Python worker's
 * `np.mean(rows, axis=0)` does on Essentia's C-contiguous float32 [n, 200] output: numpy only
 * sums pairwise along the contiguous axis, so an axis-0 reduction adds rows one after another.
 */
import { isMainThread, parentPort, workerData } from 'node:worker_threads';
import { parseGraphDef } from './graphdef.js';
import { FrontendPipeline } from './frontend.js';
import type { PatchBatch } from './patches.js';
import { MEL_BANDS, PATCH_FRAMES, loadTfjsGraph, type TfjsGraph } from './tfjs-graph.js';
import type { WasmVariant } from './wasm-engine-binding.js';

export const PATCH = PATCH_FRAMES * MEL_BANDS;

export interface ThreadInit {
  chaarfmEmbedder: true;
  modelBytes: Uint8Array;
  /** Output node first, then the optional tags node. */
  outputs: string[];
  batchSize: number;
  /** The wasm engine's folder (wasm-engine-thread.ts; default: prebuilds/wasm of the package). */
  engineDir?: string;
  /** The wasm engine module (default: chooseWasmVariant() in the thread). */
  wasmVariant?: WasmVariant;
}

export type ToThread =
  | { type: 'start'; id: number; sampleRate: number }
  | { type: 'pcm'; id: number; pcm: Float32Array }
  /** Ready-made [n, 187, 96] patches (tests, other front ends). */
  | { type: 'patches'; id: number; patches: Float32Array }
  | { type: 'end'; id: number }
  | { type: 'cancel'; id: number };

export type FromThread =
  | { type: 'ready' }
  | { type: 'init-error'; message: string }
  | { type: 'ack'; id: number }
  /** Something the user should know once (e.g. the mel fallback). */
  | { type: 'warn'; message: string }
  | { type: 'progress'; id: number; patches: number }
  | { type: 'done'; id: number; rows: number; means: Float32Array[] }
  | { type: 'error'; id: number; message: string };

/** One job's audio front end: PCM at the source rate in, finished [187, 96] patches out. */
export interface JobFrontEnd {
  push(pcm: Float32Array): Float32Array[];
  /** Flushes the resampler and the zero-padded last frames. */
  end(): Float32Array[];
  dispose?(): void;
}

/** Splits front-end batches into single-patch views (each batch is a fresh array). */
function views(batches: PatchBatch[]): Float32Array[] {
  const out: Float32Array[] = [];
  for (const b of batches) for (let k = 0; k < b.count; k++) out.push(b.patches.subarray(k * PATCH, (k + 1) * PATCH));
  return out;
}

/** Adapter over the shared front end (src/embed/frontend.ts). */
async function createJobFrontEnd(sampleRate: number, batchSize: number, warn: (m: string) => void): Promise<JobFrontEnd> {
  const p = await FrontendPipeline.create(sampleRate, { batchSize, onFallback: warn });
  return {
    push: (pcm) => views(p.push(pcm)),
    end: () => views(p.end()),
    dispose: () => p.dispose(),
  };
}

/** Running float32 sums of output rows, in arrival order (see the header). */
export class RowMean {
  private sums: Float32Array | undefined;
  rows = 0;
  constructor(readonly width: number) {}
  /** Adds `count` rows from `data` (row-major); returns false if a value is NaN or Inf. */
  add(data: Float32Array, count: number): boolean {
    const w = this.width;
    for (let r = 0; r < count; r++) {
      const row = data.subarray(r * w, (r + 1) * w);
      for (let j = 0; j < w; j++) if (!Number.isFinite(row[j])) return false;
      if (!this.sums) this.sums = Float32Array.from(row);
      else for (let j = 0; j < w; j++) this.sums[j] = this.sums[j] + row[j];
      this.rows++;
    }
    return true;
  }
  /** The mean (float32 division by the row count), or undefined with no rows. */
  mean(): Float32Array | undefined {
    if (!this.sums) return undefined;
    const out = new Float32Array(this.width);
    for (let j = 0; j < this.width; j++) out[j] = this.sums[j] / this.rows;
    return out;
  }
}

interface Job {
  id: number;
  fe?: JobFrontEnd;
  /** False while the front end is being created. */
  live: boolean;
  input: (Float32Array | null)[]; // null = end of input
  ready: Float32Array[]; // finished patches awaiting inference
  ended: boolean;
  means?: RowMean[];
}

class ThreadServer {
  private jobs = new Map<number, Job>();
  private order: number[] = [];
  private next = 0;
  private scheduled = false;
  private batch: Float32Array;

  constructor(
    private graph: TfjsGraph,
    private batchSize: number,
    private post: (m: FromThread, transfer?: ArrayBuffer[]) => void,
  ) {
    this.batch = new Float32Array(batchSize * PATCH);
  }

  handle(m: ToThread): void {
    if (m.type === 'start') {
      const job: Job = { id: m.id, input: [], ready: [], ended: false, live: m.sampleRate <= 0 };
      this.jobs.set(m.id, job);
      this.order.push(m.id);
      if (!job.live) {
        createJobFrontEnd(m.sampleRate, this.batchSize, (message) => this.post({ type: 'warn', message })).then(
          (fe) => {
            if (!this.jobs.has(job.id)) return fe.dispose?.();
            job.fe = fe;
            job.live = true;
            this.schedule();
          },
          (err) => this.jobs.has(job.id) && this.fail(job, `Audio front end failed: ${(err as Error).message}`),
        );
      }
      return;
    }
    const job = this.jobs.get(m.id);
    if (!job) return; // cancelled or failed already
    if (m.type === 'cancel') this.drop(job);
    else if (m.type === 'pcm') job.input.push(m.pcm);
    else if (m.type === 'end') job.input.push(null);
    else if (m.type === 'patches') {
      for (let k = 0; k + PATCH <= m.patches.length; k += PATCH) job.ready.push(m.patches.subarray(k, k + PATCH));
      this.post({ type: 'ack', id: job.id });
    }
    this.schedule();
  }

  private drop(job: Job): void {
    this.jobs.delete(job.id);
    this.order = this.order.filter((x) => x !== job.id);
    try {
      job.fe?.dispose?.();
    } catch {
      // nothing to do: the job is gone either way
    }
  }

  private fail(job: Job, message: string): void {
    this.drop(job);
    this.post({ type: 'error', id: job.id, message });
  }

  private schedule(): void {
    if (this.scheduled) return;
    this.scheduled = true;
    setImmediate(() => {
      this.scheduled = false;
      if (this.step()) this.schedule();
    });
  }

  /** Does one unit of work for the next job that has some; returns whether any job has more. */
  private step(): boolean {
    for (let tries = 0; tries < this.order.length; tries++) {
      this.next = (this.next + 1) % this.order.length;
      const job = this.jobs.get(this.order[this.next])!;
      const unit = this.unit(job);
      if (unit) {
        try {
          unit();
        } catch (err) {
          this.fail(job, (err as Error).message ?? String(err));
        }
        return this.order.length > 0;
      }
    }
    return false;
  }

  /** The next unit of work for a job, or undefined when it waits for input. */
  private unit(job: Job): (() => void) | undefined {
    if (!job.live) return undefined;
    const inputDone = job.ended && job.input.length === 0;
    if (job.ready.length >= this.batchSize || (inputDone && job.ready.length > 0)) return () => this.infer(job);
    if (job.input.length > 0) return () => this.feed(job);
    if (inputDone) return () => this.finish(job);
    return undefined;
  }

  private feed(job: Job): void {
    const chunk = job.input.shift()!;
    if (chunk === null) {
      job.ended = true;
      if (job.fe) job.ready.push(...job.fe.end());
      return;
    }
    if (!job.fe) throw new Error('PCM sent to a job started without a sample rate');
    job.ready.push(...job.fe.push(chunk));
    this.post({ type: 'ack', id: job.id });
  }

  private infer(job: Job): void {
    const n = Math.min(this.batchSize, job.ready.length);
    for (let k = 0; k < n; k++) this.batch.set(job.ready[k], k * PATCH);
    job.ready.splice(0, n);
    const outs = this.graph.run(this.batch, n);
    if (!job.means) job.means = outs.map((o) => new RowMean(o.length / n));
    for (let i = 0; i < outs.length; i++) {
      if (!job.means[i].add(outs[i], n)) {
        const node = this.graph.outputs[i];
        this.fail(job, `MusiCNN output ${node} contains NaN or Inf values (patch ${job.means[i].rows + 1})`);
        return;
      }
    }
    this.post({ type: 'progress', id: job.id, patches: job.means[0].rows });
  }

  private finish(job: Job): void {
    this.drop(job);
    const means = (job.means ?? []).map((m) => m.mean()!);
    this.post({ type: 'done', id: job.id, rows: job.means?.[0].rows ?? 0, means }, means.map((m) => m.buffer as ArrayBuffer));
  }
}

async function main(): Promise<void> {
  const port = parentPort!;
  const init = workerData as ThreadInit;
  const post = (m: FromThread, transfer?: ArrayBuffer[]) => port.postMessage(m, transfer);
  let server: ThreadServer;
  try {
    const graph = parseGraphDef(init.modelBytes, 'model');
    const tf = await loadTfjsGraph(graph, { backend: 'wasm', outputs: init.outputs });
    server = new ThreadServer(tf, init.batchSize, post);
  } catch (err) {
    post({ type: 'init-error', message: (err as Error).message ?? String(err) });
    return;
  }
  port.on('message', (m: ToThread) => server.handle(m));
  post({ type: 'ready' });
}

if (!isMainThread && (workerData as Partial<ThreadInit> | null)?.chaarfmEmbedder) void main();

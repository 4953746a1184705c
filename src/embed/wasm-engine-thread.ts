// SPDX-License-Identifier: MIT
/**
 * The worker_threads side of the portable backend: one instance of our own engine compiled to
 * WebAssembly (wasm-engine-binding.ts, prebuilds/wasm) per thread, loaded once with the model,
 * serving any number of jobs. It speaks the pool's protocol (ThreadInit / ToThread / FromThread
 * of wasm-embedder-thread.ts, the reference backend's thread), so WasmEmbedder drives either.
 * Per job the main thread posts `start` (the source rate), mono PCM chunks at that rate (`pcm`,
 * buffers transferred) and `end`; each chunk goes through the engine's own resampler, frames, mel
 * and MusiCNN at once, then is acknowledged (`ack`, and `progress` when patches completed), so a
 * job holds one chunk and what the engine keeps (the resampler's filter reach, one patch of
 * frames, one batch). Messages are handled one at a time, so `cancel` and other jobs' chunks are
 * seen between chunks. Ready-made patches (`patches`) go through the engine's runPatches and are
 * averaged as the reference thread does (RowMean).
 */
import { isMainThread, parentPort, workerData } from 'node:worker_threads';
import { parseGraphDef } from './graphdef.js';
import { graphToSpec } from './native-binding.js';
import { loadWasmEngine, type WasmModel, type WasmSession } from './wasm-engine-binding.js';
import type { FromThread, ThreadInit, ToThread } from './wasm-embedder-thread.js';

const PATCH = 187 * 96;

interface Job {
  session?: WasmSession;
  /** Ready-made patches (a job started with sampleRate 0). */
  patches: Float32Array[];
  reported: number;
}

/** Float32 running sums of rows in arrival order, then a float32 division (the reference thread's RowMean). */
function meanRows(rows: Float32Array, width: number, n: number): Float32Array {
  const sum = Float32Array.from(rows.subarray(0, width));
  for (let r = 1; r < n; r++) for (let j = 0; j < width; j++) sum[j] = sum[j] + rows[r * width + j];
  for (let j = 0; j < width; j++) sum[j] = sum[j] / n;
  return sum;
}

class EngineServer {
  private jobs = new Map<number, Job>();
  constructor(private model: WasmModel, private outputs: string[], private post: (m: FromThread, t?: ArrayBuffer[]) => void) {}

  handle(m: ToThread): void {
    if (m.type === 'start') {
      try {
        this.jobs.set(m.id, { session: m.sampleRate > 0 ? this.model.openSession(m.sampleRate) : undefined, patches: [], reported: 0 });
      } catch (err) {
        this.post({ type: 'error', id: m.id, message: `Audio front end failed: ${(err as Error).message}` });
      }
      return;
    }
    const job = this.jobs.get(m.id);
    if (!job) return; // cancelled or failed already
    try {
      if (m.type === 'cancel') this.drop(m.id);
      else if (m.type === 'patches') {
        // the engine's SIMD Relu (max(x, 0)) would turn a NaN into 0: refuse such input outright
        if (!m.patches.every(Number.isFinite)) throw new Error('the patches contain NaN or infinite values');
        job.patches.push(m.patches);
        this.post({ type: 'ack', id: m.id });
      } else if (m.type === 'pcm') {
        if (!job.session) throw new Error('PCM sent to a job started without a sample rate');
        const p = job.session.push(m.pcm);
        this.post({ type: 'ack', id: m.id });
        if (p.patches > job.reported) {
          job.reported = p.patches;
          this.post({ type: 'progress', id: m.id, patches: p.patches });
        }
      } else if (m.type === 'end') this.finish(m.id, job);
    } catch (err) {
      this.fail(m.id, (err as Error).message ?? String(err));
    }
  }

  private finish(id: number, job: Job): void {
    let rows: number, means: Float32Array[], finite: boolean;
    if (job.session) {
      const r = job.session.finish();
      rows = r.patches;
      means = rows > 0 ? r.means : [];
      finite = r.finite;
    } else {
      const all = new Float32Array(job.patches.reduce((a, p) => a + p.length, 0));
      let at = 0;
      for (const p of job.patches) all.set(p, (at += p.length) - p.length);
      rows = Math.floor(all.length / PATCH);
      const outs = rows > 0 ? this.model.runPatches(all.subarray(0, rows * PATCH)) : [];
      means = outs.map((o, i) => meanRows(o, this.model.outputWidths[i], rows));
      for (const [i, o] of outs.entries()) {
        const bad = o.findIndex((x) => !Number.isFinite(x));
        if (bad >= 0) {
          const patch = Math.floor(bad / this.model.outputWidths[i]) + 1;
          throw new Error(`MusiCNN output ${this.outputs[i]} contains NaN or Inf values (patch ${patch})`);
        }
      }
      finite = true;
    }
    this.drop(id);
    if (!finite) throw new Error(`MusiCNN output ${this.outputs.join(' or ')} contains NaN or Inf values (mean of ${rows} patches)`);
    this.post({ type: 'done', id, rows, means }, means.map((x) => x.buffer as ArrayBuffer));
  }

  private drop(id: number): void {
    const job = this.jobs.get(id);
    if (!job) return;
    this.jobs.delete(id);
    job.session?.close();
  }

  private fail(id: number, message: string): void {
    this.drop(id);
    this.post({ type: 'error', id, message });
  }
}

async function main(): Promise<void> {
  const port = parentPort!;
  const init = workerData as ThreadInit;
  const post = (m: FromThread, t?: ArrayBuffer[]) => port.postMessage(m, t);
  let server: EngineServer;
  try {
    const engine = await loadWasmEngine(init.engineDir, init.wasmVariant);
    const model = engine.createModel(graphToSpec(parseGraphDef(init.modelBytes, 'model'), init.outputs));
    server = new EngineServer(model, init.outputs, post);
  } catch (err) {
    post({ type: 'init-error', message: (err as Error).message ?? String(err) });
    return;
  }
  port.on('message', (m: ToThread) => server.handle(m));
  post({ type: 'ready' });
}

if (!isMainThread && (workerData as Partial<ThreadInit> | null)?.chaarfmEmbedder) void main();

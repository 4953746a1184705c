// SPDX-License-Identifier: MIT
/**
 * The worker_threads side of the wasm engine (wasm-engine-worker.ts): one engine instance (one
 * WebAssembly module, wasm-engine-binding.ts) per thread, loaded once with the model, serving
 * any number of jobs. Per job the main thread posts `start` (the source rate), PCM chunks at that
 * rate (`pcm`, buffers transferred) and `end`; each chunk is resampled to 16 kHz here
 * (src/audio/resample.ts, libsamplerate-js, until the engine's own resampler is in) and pushed
 * through the engine's frames, mel and MusiCNN at once, then acknowledged (`ack`), so a job holds
 * one chunk and what the engine keeps (one patch of frames, one batch). Messages are handled one
 * at a time, so `cancel` and other jobs' chunks are seen between chunks.
 */
import { isMainThread, parentPort, workerData } from 'node:worker_threads';
import { Resampler } from '../audio/resample.js';
import { parseGraphDef } from './graphdef.js';
import { graphToSpec } from './native-binding.js';
import { loadWasmEngine, type WasmModel, type WasmSession } from './wasm-engine-binding.js';

export interface EngineThreadInit {
  chaarfmWasmEngine: true;
  modelBytes: Uint8Array;
  /** Output node first, then the optional tags node. */
  outputs: string[];
  /** The module's folder (default: prebuilds/wasm of the package). */
  dir?: string;
}

export type ToEngineThread =
  | { type: 'start'; id: number; sampleRate: number }
  | { type: 'pcm'; id: number; pcm: Float32Array }
  | { type: 'end'; id: number }
  | { type: 'cancel'; id: number };

export type FromEngineThread =
  | { type: 'ready'; backend: string }
  | { type: 'init-error'; message: string }
  | { type: 'ack'; id: number; frames: number }
  | { type: 'done'; id: number; patches: number; frames: number; inputSamples: number; means: Float32Array[] }
  | { type: 'error'; id: number; message: string };

interface Job {
  resampler?: Resampler;
  session: WasmSession;
  inputSamples: number;
  /** Messages that arrived while the resampler was being created. */
  pending: ToEngineThread[];
}

class EngineServer {
  private jobs = new Map<number, Job>();
  constructor(private model: WasmModel, private post: (m: FromEngineThread, t?: ArrayBuffer[]) => void) {}

  handle(m: ToEngineThread): void {
    if (m.type === 'start') {
      let session: WasmSession;
      try {
        session = this.model.openSession();
      } catch (err) {
        this.post({ type: 'error', id: m.id, message: (err as Error).message });
        return;
      }
      const job: Job = { session, inputSamples: 0, pending: [] };
      this.jobs.set(m.id, job);
      Resampler.create(m.sampleRate).then(
        (r) => {
          if (this.jobs.get(m.id) !== job) return r.dispose();
          job.resampler = r;
          for (const p of job.pending.splice(0)) this.run(m.id, job, p);
        },
        (err) => this.fail(m.id, `Audio front end failed: ${(err as Error).message}`),
      );
      return;
    }
    const job = this.jobs.get(m.id);
    if (!job) return; // cancelled or failed already
    if (m.type === 'cancel') this.drop(m.id);
    else if (!job.resampler) job.pending.push(m);
    else this.run(m.id, job, m);
  }

  private run(id: number, job: Job, m: ToEngineThread): void {
    try {
      if (m.type === 'pcm') {
        job.inputSamples += m.pcm.length;
        const frames = job.session.push(job.resampler!.push(m.pcm));
        this.post({ type: 'ack', id, frames });
      } else if (m.type === 'end') {
        job.session.push(job.resampler!.end());
        const r = job.session.finish();
        this.drop(id);
        if (!r.finite) throw new Error('MusiCNN output contains NaN or Inf values');
        this.post({ type: 'done', id, patches: r.patches, frames: r.frames, inputSamples: job.inputSamples, means: r.means },
          r.means.map((x) => x.buffer as ArrayBuffer));
      }
    } catch (err) {
      this.fail(id, (err as Error).message ?? String(err));
    }
  }

  private drop(id: number): void {
    const job = this.jobs.get(id);
    if (!job) return;
    this.jobs.delete(id);
    job.session.close();
    job.resampler?.dispose();
  }

  private fail(id: number, message: string): void {
    this.drop(id);
    this.post({ type: 'error', id, message });
  }
}

async function main(): Promise<void> {
  const port = parentPort!;
  const init = workerData as EngineThreadInit;
  const post = (m: FromEngineThread, t?: ArrayBuffer[]) => port.postMessage(m, t);
  let server: EngineServer;
  let backend: string;
  try {
    const engine = await loadWasmEngine(init.dir);
    backend = engine.backend;
    const model = engine.createModel(graphToSpec(parseGraphDef(init.modelBytes, 'model'), init.outputs));
    server = new EngineServer(model, post);
  } catch (err) {
    post({ type: 'init-error', message: (err as Error).message ?? String(err) });
    return;
  }
  port.on('message', (m: ToEngineThread) => server.handle(m));
  post({ type: 'ready', backend });
}

if (!isMainThread && (workerData as Partial<EngineThreadInit> | null)?.chaarfmWasmEngine) void main();

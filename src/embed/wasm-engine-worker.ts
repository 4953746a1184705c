// SPDX-License-Identifier: MIT
/**
 * The main-thread side of the wasm engine: one worker thread (wasm-engine-thread.ts) holding one
 * engine instance with the model; `embedPcm` streams a job's mono PCM chunks (at the source rate)
 * to it and resolves with the means. At most `maxInFlight` chunks are posted and not yet
 * acknowledged, so memory stays bounded on long tracks. Several jobs may run at once on one
 * thread (their chunks interleave); for parallelism, one WasmEngineWorker per thread.
 */
import { Worker } from 'node:worker_threads';
import type { EngineThreadInit, FromEngineThread, ToEngineThread } from './wasm-engine-thread.js';

export interface EnginePcmResult {
  means: Float32Array[];
  patches: number;
  frames: number;
  inputSamples: number;
}

interface Pending {
  resolve(r: EnginePcmResult): void;
  reject(e: Error): void;
  acked: number;
  wake?: () => void;
}

export class WasmEngineWorker {
  private pending = new Map<number, Pending>();
  private nextId = 1;
  private dead: Error | undefined;

  private constructor(private worker: Worker, readonly backend: string, private maxInFlight: number) {
    worker.on('message', (m: FromEngineThread) => this.onMessage(m));
    worker.on('error', (e) => this.die(e));
    worker.on('exit', (code) => this.die(new Error(`wasm engine thread exited (code ${code})`)));
  }

  static async create(init: Omit<EngineThreadInit, 'chaarfmWasmEngine'>, maxInFlight = 4): Promise<WasmEngineWorker> {
    const worker = new Worker(new URL('./wasm-engine-thread.js', import.meta.url), {
      workerData: { ...init, chaarfmWasmEngine: true },
    });
    const backend = await new Promise<string>((resolve, reject) => {
      worker.once('message', (m: FromEngineThread) => {
        if (m.type === 'ready') resolve(m.backend);
        else reject(new Error(m.type === 'init-error' ? m.message : `unexpected ${m.type} from the engine thread`));
      });
      worker.once('error', reject);
    }).catch(async (e: Error) => {
      await worker.terminate();
      throw e;
    });
    return new WasmEngineWorker(worker, backend, maxInFlight);
  }

  private die(e: Error): void {
    this.dead ??= e;
    for (const p of this.pending.values()) p.reject(e);
    this.pending.clear();
  }

  private onMessage(m: FromEngineThread): void {
    if (m.type === 'ready' || m.type === 'init-error') return;
    const p = this.pending.get(m.id);
    if (!p) return;
    if (m.type === 'ack') {
      p.acked++;
      p.wake?.();
    } else if (m.type === 'done') {
      this.pending.delete(m.id);
      p.resolve({ means: m.means, patches: m.patches, frames: m.frames, inputSamples: m.inputSamples });
    } else {
      this.pending.delete(m.id);
      p.reject(new Error(m.message));
      p.wake?.();
    }
  }

  private send(m: ToEngineThread, transfer?: ArrayBuffer[]): void {
    this.worker.postMessage(m, transfer);
  }

  /** Streams the chunks (copied or transferred: each must own its buffer) and returns the means. */
  async embedPcm(sampleRate: number, chunks: AsyncIterable<Float32Array> | Iterable<Float32Array>): Promise<EnginePcmResult> {
    if (this.dead) throw this.dead;
    const id = this.nextId++;
    let failed: Error | undefined;
    const done = new Promise<EnginePcmResult>((resolve, reject) => {
      this.pending.set(id, { resolve, reject: (e) => { failed = e; reject(e); }, acked: 0 });
    });
    done.catch(() => undefined); // observed below
    this.send({ type: 'start', id, sampleRate });
    let sent = 0;
    try {
      for await (const c of chunks) {
        const p = this.pending.get(id);
        if (!p) break; // failed: `done` rejects
        while (sent - p.acked >= this.maxInFlight && !failed) await new Promise<void>((r) => (p.wake = r));
        if (failed) break;
        const own = c.byteOffset === 0 && c.byteLength === c.buffer.byteLength ? c : c.slice();
        this.send({ type: 'pcm', id, pcm: own }, [own.buffer as ArrayBuffer]);
        sent++;
      }
    } catch (err) {
      this.send({ type: 'cancel', id });
      this.pending.delete(id);
      throw err;
    }
    if (!failed) this.send({ type: 'end', id });
    return done;
  }

  async close(): Promise<void> {
    this.die(new Error('the wasm engine was closed'));
    await this.worker.terminate();
  }
}

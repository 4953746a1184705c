// SPDX-License-Identifier: MIT
/**
 * The native Embedder: ffmpeg decodes on the main thread (a child process, as for the portable
 * path); every chunk of PCM goes to the addon's session (resample -> frames -> mel -> MusiCNN
 * engine), each call async on a libuv worker, so the event loop keeps answering pings.
 *
 * Same behaviour as WasmEmbedder (src/embed/wasm-embedder.ts):
 *  - progress {stage: 'decode', fraction: 0} at the start, then {stage: 'inference', fraction}
 *    with fraction = audio covered by complete patches / announced (or decoded) duration;
 *  - abort: ffmpeg is stopped, the session freed, the promise rejects with AbortError;
 *  - no complete patch -> AudioTooShortError `Audio too short (x.x s; MusiCNN needs 3 s)`;
 *  - a NaN/Inf output -> an error saying so; `peak` (largest |sample|); `tags` when tagsNode.
 * Memory: one chunk in flight per embed (the next is read from ffmpeg while it is processed);
 * ffmpeg is paced by pipe backpressure. Several embed() calls may run at once; each has its own
 * session using `threads` threads: the front end (resample + mel) runs on the libuv worker and
 * the engine on an inference thread of the session's own; with 1 thread they take turns, with 2
 * or more they overlap and the engine uses `threads - 1` threads (bit-identical results; the
 * reported patches may then lead the engine by up to 8, see native/README.md).
 * `close()` frees every session (running ones when their current call ends) and the model.
 */
import type { Readable } from 'node:stream';
import { resolveFfmpeg } from '../audio/ffmpeg.js';
import { silentLogger, type Logger } from '../log/logger.js';
import { defaultThreads, ffmpegDecoder, type CreateEmbedderOptions } from './create-embedder.js';
import type { Embedder, EmbedOptions, EmbedResult } from './embedder.js';
import { openModelFile } from './model-file.js';
import { checkThreads } from './threads.js';
import { asBinding, graphToSpec, type Binding, type ModelHandle, type SessionHandle } from './native-binding.js';
import { AudioTooShortError, abortError, patchSeconds, type DecodeFn } from './wasm-embedder.js';

export interface NativeEmbedderOptions {
  binding: Binding;
  model: ModelHandle;
  /** Output names, in the model's order: [outputNode, tagsNode?]. */
  outputs: string[];
  decode: DecodeFn;
  ffmpegPath?: string;
  tmpDir?: string;
  /** Engine threads per embedding (default: one per core, at most 8). */
  threads?: number;
  logger?: Logger;
}

export class NativeEmbedder implements Embedder {
  readonly backend = 'native';
  private closed = false;
  private readonly sessions = new Set<SessionHandle>();
  private readonly threads: number;

  constructor(private readonly opts: NativeEmbedderOptions) {
    this.threads = checkThreads(opts.threads ?? defaultThreads());
  }

  /** Embeddings in progress. */
  get activeSessions(): number {
    return this.sessions.size;
  }

  async embed(input: string | Readable, opts: EmbedOptions = {}): Promise<EmbedResult> {
    if (this.closed) throw new Error('The embedder is closed');
    const signal = opts.signal;
    if (signal?.aborted) throw abortError(signal);
    const b = this.opts.binding;
    const ac = new AbortController();
    const onAbort = () => ac.abort(signal?.reason);
    signal?.addEventListener('abort', onAbort, { once: true });
    // Each awaited step also ends on abort. Not Promise.race with one long-lived promise: every
    // race would leave a reaction on it holding that step's result (a PCM chunk) until the end.
    const race = <T>(p: Promise<T>): Promise<T> =>
      new Promise<T>((resolve, reject) => {
        const stop = () => reject(abortError(signal));
        if (ac.signal.aborted) return stop();
        ac.signal.addEventListener('abort', stop, { once: true });
        p.then(
          (v) => (ac.signal.removeEventListener('abort', stop), resolve(v)),
          (e: unknown) => (ac.signal.removeEventListener('abort', stop), reject(e)),
        );
      });
    let session: SessionHandle | undefined;
    try {
      opts.onProgress?.({ stage: 'decode', fraction: 0 });
      const pcm = await race(this.opts.decode(input, { signal: ac.signal, ffmpegPath: this.opts.ffmpegPath, tmpDir: this.opts.tmpDir }));
      let samples = 0;
      const rate = pcm.sampleRate;
      let total = pcm.duration && pcm.duration > 0 ? pcm.duration : undefined;
      let lastPatches = 0;
      const it = pcm.chunks[Symbol.asyncIterator]();
      try {
        session = await race(b.openSession(this.opts.model, rate, this.threads));
        this.sessions.add(session);
        if (this.closed) throw new Error('The embedder was closed');
        // read the next chunk from ffmpeg while the addon works on this one
        let next = it.next();
        for (;;) {
          const r = await race(next);
          if (r.done) break;
          const chunk = r.value;
          if (chunk.length === 0) {
            next = it.next();
            continue;
          }
          samples += chunk.length;
          const pushing = b.sessionPush(session, chunk);
          next = it.next();
          next.catch(() => {});
          const p = await race(pushing);
          if (this.closed) throw new Error('The embedder was closed');
          if (p.patches > lastPatches && total) {
            lastPatches = p.patches;
            opts.onProgress?.({ stage: 'inference', fraction: Math.min(1, patchSeconds(p.patches) / total) });
          }
        }
      } finally {
        pcm.close?.();
        void it.return?.()?.catch?.(() => {});
      }
      const seconds = rate > 0 ? samples / rate : 0;
      total = seconds;
      const res = await race(b.sessionFinish(session));
      if (this.closed) throw new Error('The embedder was closed');
      if (res.patches === 0) throw new AudioTooShortError(seconds);
      if (!res.finite) {
        throw new Error(`MusiCNN output ${this.opts.outputs.join(' or ')} contains NaN or Inf values (mean of ${res.patches} patches)`);
      }
      opts.onProgress?.({ stage: 'inference', fraction: 1 });
      return {
        vector: res.means[0],
        duration: seconds,
        patches: res.patches,
        ...(samples > 0 && { peak: res.peak }),
        ...(res.means[1] && { tags: res.means[1] }),
      };
    } catch (err) {
      ac.abort(err);
      if (signal?.aborted) throw abortError(signal);
      throw err;
    } finally {
      signal?.removeEventListener('abort', onAbort);
      if (session) {
        this.sessions.delete(session);
        b.sessionClose(session);
      }
    }
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const s of this.sessions) this.opts.binding.sessionClose(s);
    this.sessions.clear();
  }
}

/** Entry point used by create-embedder.ts once the addon has loaded. */
export async function createNativeEmbedder(binding: unknown, opts: CreateEmbedderOptions = {}): Promise<Embedder> {
  const b = asBinding(binding, 'the loaded native addon');
  const log = opts.logger ?? silentLogger;
  const model = await openModelFile({ modelPath: opts.modelPath, outputNode: opts.outputNode, tagsNode: opts.tagsNode });
  if (!model.bundled) log.info('using a custom model', { path: model.path, sha256: model.sha256 });
  const outputs = [model.outputNode, ...(model.tagsNode ? [model.tagsNode] : [])];
  const handle = b.createModel(graphToSpec(model.graph, outputs));
  const ffmpegPath = await resolveFfmpeg({ ffmpegPath: opts.ffmpegPath });
  const info = b.info();
  if (info.engine !== 'musicnn') log.warn('the native addon was built with a stand-in engine: its vectors are not MusiCNN', { engine: info.engine });
  return new NativeEmbedder({
    binding: b,
    model: handle,
    outputs,
    decode: ffmpegDecoder(),
    ffmpegPath,
    tmpDir: opts.tmpDir,
    threads: opts.threads ?? defaultThreads(),
    logger: log,
  });
}

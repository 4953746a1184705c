// SPDX-License-Identifier: MIT
/**
 * Stand-in Media and Embedder for worker tests: the real worker runs, only the audio work is
 * replaced. The vector is derived from the file's bytes, so a test can check it round-trips.
 */
import { createHash } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Embedder, EmbedOptions, EmbedResult } from '../../src/embed/embedder.js';
import type { FetchedAudio, JobContext, Media } from '../../src/media/media.js';
import type { DownloadPayload, GenrePayload, GenreResultData } from '../../src/protocol/messages.js';
import { JobError, fileSizeOutOfRange } from '../../src/worker/job-error.js';

export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(Object.assign(new Error('aborted'), { name: 'AbortError' }));
    const onAbort = () => {
      clearTimeout(t);
      reject(Object.assign(new Error('aborted'), { name: 'AbortError' }));
    };
    const t = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/** The vector the stand-in embedder computes for some bytes. */
export function vectorFor(bytes: Buffer): Float32Array {
  const h = createHash('sha256').update(bytes).digest();
  const v = new Float32Array(200);
  for (let i = 0; i < 200; i++) v[i] = (h[i % 32] - 128) / 37 + i / 1000;
  return v;
}

/** The 50 tag scores the stand-in embedder gives with `tags` (a sigmoid of the first 50 values). */
export function tagScoresFor(v: Float32Array): Float32Array {
  return Float32Array.from(v.subarray(0, 50), (x) => 1 / (1 + Math.exp(-x)));
}

export class StubMedia implements Media {
  fetchCalls = 0;
  /** Per-call behaviour chosen from the title: "fail" throws, "big" is over the size limit, "slow" waits. */
  constructor(private readonly opts: { delayMs?: number; progressSteps?: number } = {}) {}

  async fetch(p: DownloadPayload, ctx: JobContext): Promise<FetchedAudio> {
    this.fetchCalls++;
    const title = p.title ?? 'untitled';
    const steps = this.opts.progressSteps ?? 0;
    for (let i = 1; i <= steps; i++) {
      await sleep((this.opts.delayMs ?? 0) / Math.max(1, steps), ctx.signal);
      ctx.onProgress('download', i / steps);
    }
    if (!steps && this.opts.delayMs) await sleep(this.opts.delayMs, ctx.signal);
    if (title === 'fail') throw new Error('HTTP Error 404: Not Found');
    if (title === 'big') throw fileSizeOutOfRange(60 * 1024 * 1024);
    const path = join(ctx.workDir, 'audio.bin');
    await writeFile(path, `${p.artist}|${title}|${p.youtube_url}`);
    return {
      path,
      artist: p.artist ?? 'YouTube Artist',
      title,
      youtubeId: 'vid' + title.replace(/\W/g, ''),
      sourceUrl: p.youtube_url,
      metadataDuration: null,
      sizeBytes: 10,
    };
  }

  async fetchGenre(p: GenrePayload): Promise<GenreResultData> {
    if (p.genre === 'broken') throw new JobError('Download failed: genre search returned nothing');
    const n = p.limit ?? 3;
    return { genre: p.genre, tracks: Array.from({ length: n }, (_, i) => ({ youtube_url: `https://www.youtube.com/watch?v=g${i}` })) };
  }
}

export class StubEmbedder implements Embedder {
  readonly backend = 'stub';
  running = 0;
  maxRunning = 0;
  closed = false;
  /** `tags`: also give 50 tag scores (as an embedder asked for model/Sigmoid does), derived from the vector. */
  constructor(private readonly opts: { delayMs?: number; nan?: boolean; tags?: boolean } = {}) {}

  async embed(input: string | NodeJS.ReadableStream, opts: EmbedOptions = {}): Promise<EmbedResult> {
    if (typeof input !== 'string') throw new TypeError('stub takes paths');
    this.running++;
    this.maxRunning = Math.max(this.maxRunning, this.running);
    try {
      const bytes = await readFile(input);
      const steps = 10;
      for (let i = 1; i <= steps; i++) {
        await sleep((this.opts.delayMs ?? 0) / steps, opts.signal);
        opts.onProgress?.({ stage: 'inference', fraction: i / steps });
      }
      const v = vectorFor(bytes);
      if (this.opts.nan || bytes.includes('nan')) v[7] = NaN;
      if (this.opts.tags) return { vector: v, duration: 200, patches: 10, tags: tagScoresFor(v) };
      return { vector: v, duration: 200, patches: 10 };
    } finally {
      this.running--;
    }
  }

  async close(): Promise<void> {
    this.closed = true;
  }
}

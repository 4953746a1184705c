// SPDX-License-Identifier: MIT
/**
 * Runs one job from the server through the Media and Embedder interfaces and turns every
 * outcome into exactly one `result` message of the protocol: success data of the spec's shape,
 * or `failed` with a readable error. It never throws.
 */
import type { Embedder } from '../embed/embedder.js';
import { topTags } from '../embed/msd-tags.js';
import type { Logger } from '../log/logger.js';
import type { Media } from '../media/media.js';
import {
  isGenrePayload,
  type DownloadResultData,
  type JobMessage,
  type ResultMessage,
} from '../protocol/messages.js';
import { createJobDir, removeJobDir } from '../util/job-dirs.js';
import { DOWNLOAD_FAILED, JobError, SourceLimitError, VECTORIZATION_FAILED } from './job-error.js';

/** Top MSD tags sent with a result when the embedder computed them (our extra `data.tags`). */
export const RESULT_TAGS = 3;
/** Decoded vs metadata duration difference that is worth a warning, seconds. */
const DURATION_WARN_S = 10;
/** A track whose loudest sample is below -90 dBFS is silence, not music: its vector would be noise. */
export const SILENCE_PEAK = Math.pow(10, -90 / 20);

export interface JobRunnerDeps {
  media: Media;
  /** Resolved lazily so a genre-only worker never loads a model. */
  embedder: () => Promise<Embedder>;
  /** Root folder of the per-job temp folders. */
  tmpRoot: string;
  log: Logger;
  /** A job that runs longer than this fails with a timeout. 0 = no limit. */
  timeoutMs?: number;
}

export interface JobOutcome {
  result: ResultMessage;
  /** Short human label: "Artist - Title", the URL, or "genre: X". */
  label: string;
  ms: number;
  /** Set when the job was aborted from outside (shutdown, socket closed): nothing to send. */
  aborted: boolean;
  /** The job failed on the source's limits (SourceLimitError), not on its track. */
  sourceLimited: boolean;
}

export interface RunContext {
  signal: AbortSignal;
  onProgress(stage: string, fraction: number): void;
  /** Called when the label improves (e.g. after metadata arrives). */
  onLabel?(label: string): void;
}

export function jobLabel(job: JobMessage): string {
  const p = job.payload;
  if (isGenrePayload(p)) return `genre: ${p.genre}`;
  if (p.artist || p.title) return [p.artist, p.title].filter(Boolean).join(' - ');
  return p.youtube_url ?? job.job_id;
}

function errorText(e: unknown): string {
  if (e instanceof Error) return e.message.split('\n')[0].slice(0, 500);
  return String(e).slice(0, 500);
}

function isAbort(e: unknown): boolean {
  return e instanceof Error && (e.name === 'AbortError' || (e as NodeJS.ErrnoException).code === 'ABORT_ERR');
}

/** Vector check: the right length, every value finite. */
export function checkVector(v: Float32Array, expected = 200): string | null {
  if (v.length !== expected) return `vector has ${v.length} values, expected ${expected}`;
  for (let i = 0; i < v.length; i++) if (!Number.isFinite(v[i])) return `vector has a non-finite value at index ${i}`;
  return null;
}

export async function runJob(job: JobMessage, deps: JobRunnerDeps, ctx: RunContext): Promise<JobOutcome> {
  const started = Date.now();
  let label = jobLabel(job);
  const log = deps.log.child({ job: job.job_id.slice(0, 8) });
  const ac = new AbortController();
  const onOuterAbort = () => ac.abort(ctx.signal.reason);
  if (ctx.signal.aborted) ac.abort(ctx.signal.reason);
  else ctx.signal.addEventListener('abort', onOuterAbort, { once: true });
  let timedOut = false;
  const timer =
    deps.timeoutMs && deps.timeoutMs > 0
      ? setTimeout(() => {
          timedOut = true;
          ac.abort(new Error('job timeout'));
        }, deps.timeoutMs)
      : null;
  timer?.unref?.();

  const fail = (error: string): ResultMessage => ({ type: 'result', job_id: job.job_id, status: 'failed', error });
  let workDir: string | null = null;
  let result: ResultMessage;
  let sourceLimited = false;
  try {
    workDir = await createJobDir(deps.tmpRoot);
    const deadline = deps.timeoutMs && deps.timeoutMs > 0 ? started + deps.timeoutMs : undefined;
    const jctx = { workDir, signal: ac.signal, deadline, log, onProgress: ctx.onProgress };
    if (isGenrePayload(job.payload)) {
      let data;
      try {
        data = await deps.media.fetchGenre(job.payload, jctx);
      } catch (e) {
        if (e instanceof JobError || ac.signal.aborted) throw e;
        throw new JobError(`${DOWNLOAD_FAILED}: ${errorText(e)}`, { cause: e });
      }
      result = { type: 'result', job_id: job.job_id, status: 'success', data };
    } else {
      let audio;
      try {
        audio = await deps.media.fetch(job.payload, jctx);
      } catch (e) {
        if (e instanceof JobError || ac.signal.aborted) throw e;
        throw new JobError(`${DOWNLOAD_FAILED}: ${errorText(e)}`, { cause: e });
      }
      label = `${audio.artist} - ${audio.title}`;
      ctx.onLabel?.(label);
      let embedded;
      try {
        const embedder = await deps.embedder();
        embedded = await embedder.embed(audio.path, {
          signal: ac.signal,
          onProgress: (p) => ctx.onProgress(p.stage, p.fraction),
        });
      } catch (e) {
        if (e instanceof JobError || ac.signal.aborted) throw e;
        throw new JobError(`${VECTORIZATION_FAILED}: ${errorText(e)}`, { cause: e });
      }
      const bad = checkVector(embedded.vector);
      if (bad) throw new JobError(`${VECTORIZATION_FAILED}: ${bad}`);
      if (embedded.peak !== undefined && embedded.peak < SILENCE_PEAK) {
        const db = embedded.peak > 0 ? `${(20 * Math.log10(embedded.peak)).toFixed(1)} dBFS` : '-inf dBFS';
        throw new JobError(`${VECTORIZATION_FAILED}: the audio is silent (peak ${db})`);
      }
      if (audio.metadataDuration != null && Math.abs(audio.metadataDuration - embedded.duration) > DURATION_WARN_S)
        log.warn('decoded duration differs from the metadata duration', {
          decoded_s: Number(embedded.duration.toFixed(1)),
          metadata_s: audio.metadataDuration,
        });
      const data: DownloadResultData = {
        artist: audio.artist,
        title: audio.title,
        youtube_id: audio.youtubeId,
        vector: Array.from(embedded.vector),
        source_url: audio.sourceUrl,
      };
      if (embedded.tags?.length)
        data.tags = topTags(embedded.tags, RESULT_TAGS).map((t) => ({ name: t.name, score: Number(t.score.toFixed(4)) }));
      result = { type: 'result', job_id: job.job_id, status: 'success', data };
    }
  } catch (e) {
    if (timedOut) result = fail(`Job timed out after ${Math.round((deps.timeoutMs ?? 0) / 1000)} s`);
    else if (ctx.signal.aborted) result = fail('Job aborted');
    else if (e instanceof JobError) {
      result = fail(e.message);
      sourceLimited = e instanceof SourceLimitError;
    }
    else if (isAbort(e)) result = fail('Job aborted');
    else {
      log.error('unexpected job error', { error: e instanceof Error ? (e.stack ?? e.message) : String(e) });
      result = fail(`${VECTORIZATION_FAILED}: ${errorText(e)}`);
    }
  } finally {
    if (timer) clearTimeout(timer);
    ctx.signal.removeEventListener('abort', onOuterAbort);
    if (workDir) await removeJobDir(workDir).catch((e) => log.warn('could not remove job folder', { dir: workDir, error: errorText(e) }));
  }
  return { result, label, ms: Date.now() - started, aborted: ctx.signal.aborted, sourceLimited };
}

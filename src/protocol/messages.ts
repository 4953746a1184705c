// SPDX-License-Identifier: MIT
/**
 * The ChaarFM remote-worker wire protocol (../shared/spec/protocol.md): message types and
 * validation of every frame a server sends. All frames are text frames holding one JSON object.
 */
import { preview } from '../util/preview.js';

/** Frames over this size are refused without parsing. */
export const MAX_FRAME_BYTES = 1024 * 1024;

export interface DownloadPayload {
  job_type?: 'download';
  artist: string | null;
  title: string | null;
  table_name?: string | null;
  youtube_url: string | null;
}

export interface QualityConfig {
  min_views?: number;
  min_likes?: number;
  min_like_ratio?: number;
  min_duration?: number;
  max_duration?: number;
  diversity_top_pct?: number;
  diversity_mid_pct?: number;
  diversity_bottom_pct?: number;
}

export interface GenrePayload {
  job_type: 'fetch_genre';
  genre: string;
  limit: number | null;
  quality_config: QualityConfig | null;
}

export type JobPayload = DownloadPayload | GenrePayload;

export interface JobMessage {
  type: 'job';
  job_id: string;
  payload: JobPayload;
}

export interface PingMessage {
  type: 'ping';
}

export type ServerMessage = JobMessage | PingMessage;

export interface DownloadResultData {
  artist: string;
  title: string;
  youtube_id: string;
  vector: number[];
  source_url: string | null;
  /**
   * Our addition: the top MSD tags of `model/Sigmoid`, highest first. The original server
   * reads only the fields above, so it ignores this one.
   */
  tags?: { name: string; score: number }[];
}

export interface GenreResultData {
  tracks: { youtube_url: string }[];
  genre: string;
}

export type ResultMessage =
  | { type: 'result'; job_id: string; status: 'success'; data: DownloadResultData | GenreResultData }
  | { type: 'result'; job_id: string; status: 'failed'; error: string };

export interface PongMessage {
  type: 'pong';
}

/** Our addition (ignored by older servers): sent once on every connect. */
export interface HelloMessage {
  type: 'hello';
  worker: { name: string; version: string; backend: string; jobs: number; platform: string };
}

/** Our addition (ignored by older servers): at most twice a second during a job. */
export interface ProgressMessage {
  type: 'progress';
  job_id: string;
  stage: string;
  fraction: number;
}

/**
 * Our addition (ignored by older servers): sent just before the `failed` result of a job that
 * failed because the source limits this worker (YouTube's bot check, HTTP 429), not because of
 * its track. Our coordinator does not count such an attempt against `--retries`.
 */
export interface RateLimitedMessage {
  type: 'rate_limited';
  job_id: string;
  reason: string;
}

export type WorkerMessage = ResultMessage | PongMessage | HelloMessage | ProgressMessage | RateLimitedMessage;

export function isGenrePayload(p: JobPayload): p is GenrePayload {
  return (p as GenrePayload).job_type === 'fetch_genre';
}

/** The outcome of parsing one incoming frame. */
export type ParsedFrame =
  | { ok: true; message: ServerMessage }
  /** `jobId` is set when the frame carried a usable job id, so a `failed` result can answer it. */
  | { ok: false; reason: string; jobId?: string };

function isObj(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function describe(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  return typeof v === 'string' ? `a string` : `a ${typeof v}`;
}

function optStringOrNull(obj: Record<string, unknown>, key: string): string | null | undefined | Error {
  const v = obj[key];
  if (v === undefined || v === null) return null;
  if (typeof v === 'string') return v;
  return new Error(`Expected a string or null for payload.${key} but received ${describe(v)}`);
}

const QUALITY_KEYS = [
  'min_views',
  'min_likes',
  'min_like_ratio',
  'min_duration',
  'max_duration',
  'diversity_top_pct',
  'diversity_mid_pct',
  'diversity_bottom_pct',
] as const;

function validatePayload(p: unknown): JobPayload | Error {
  if (!isObj(p)) return new Error(`Expected an object for payload but received ${describe(p)}`);
  const jt = p.job_type;
  if (jt === 'fetch_genre') {
    if (typeof p.genre !== 'string' || p.genre.trim() === '')
      return new Error(`Expected a non-empty string for payload.genre but received ${describe(p.genre)}`);
    let limit: number | null = null;
    if (p.limit !== undefined && p.limit !== null) {
      if (typeof p.limit !== 'number' || !Number.isInteger(p.limit) || p.limit < 0 || p.limit > 100000)
        return new Error(`Expected an integer 0..100000 or null for payload.limit but received ${preview(p.limit)}`);
      limit = p.limit;
    }
    let qc: QualityConfig | null = null;
    if (p.quality_config !== undefined && p.quality_config !== null) {
      if (!isObj(p.quality_config))
        return new Error(`Expected an object or null for payload.quality_config but received ${describe(p.quality_config)}`);
      qc = {};
      for (const k of QUALITY_KEYS) {
        const v = p.quality_config[k];
        if (v === undefined || v === null) continue;
        if (typeof v !== 'number' || !Number.isFinite(v))
          return new Error(`Expected a number for payload.quality_config.${k} but received ${describe(v)}`);
        qc[k] = v;
      }
    }
    return { job_type: 'fetch_genre', genre: p.genre, limit, quality_config: qc };
  }
  if (jt !== undefined && jt !== null && jt !== 'download')
    return new Error(`Unknown payload.job_type ${preview(jt)}`);
  const artist = optStringOrNull(p, 'artist');
  if (artist instanceof Error) return artist;
  const title = optStringOrNull(p, 'title');
  if (title instanceof Error) return title;
  const url = optStringOrNull(p, 'youtube_url');
  if (url instanceof Error) return url;
  const table = optStringOrNull(p, 'table_name');
  if (table instanceof Error) return table;
  const youtube_url = url && url.trim() !== '' ? url.trim() : null;
  if (youtube_url === null && !(artist && artist.trim()) && !(title && title.trim()))
    return new Error('A download job needs payload.youtube_url or payload.artist/title');
  if (youtube_url !== null && !/^https?:\/\//i.test(youtube_url))
    return new Error(`Expected an http(s) URL for payload.youtube_url but received ${JSON.stringify(youtube_url.slice(0, 80))}`);
  return { artist: artist ?? null, title: title ?? null, table_name: table ?? null, youtube_url };
}

/** Parse and validate one incoming frame. Never throws. */
export function parseServerFrame(data: string | Buffer, isBinary = false): ParsedFrame {
  const size = typeof data === 'string' ? Buffer.byteLength(data) : data.length;
  if (size > MAX_FRAME_BYTES) return { ok: false, reason: `frame of ${size} bytes is over the 1 MiB limit` };
  if (isBinary) return { ok: false, reason: 'binary frame (the protocol uses text frames)' };
  let v: unknown;
  try {
    v = JSON.parse(typeof data === 'string' ? data : data.toString('utf8'));
  } catch {
    return { ok: false, reason: 'frame is not JSON' };
  }
  if (!isObj(v)) return { ok: false, reason: `frame is ${describe(v)}, not a JSON object` };
  const type = v.type;
  if (type === 'ping') return { ok: true, message: { type: 'ping' } };
  if (type === 'job') {
    const id = v.job_id;
    if (typeof id !== 'string' || id.length === 0 || id.length > 200)
      return { ok: false, reason: `job frame without a usable job_id (received ${describe(id)})` };
    const payload = validatePayload(v.payload);
    if (payload instanceof Error) return { ok: false, reason: payload.message, jobId: id };
    return { ok: true, message: { type: 'job', job_id: id, payload } };
  }
  if (typeof type !== 'string') return { ok: false, reason: 'frame has no string "type"' };
  return { ok: false, reason: `unknown message type ${JSON.stringify(type.slice(0, 40))}` };
}

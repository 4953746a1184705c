// SPDX-License-Identifier: MIT
/**
 * Checks on what workers send: results (a download's 200 finite floats and its metadata, a
 * genre job's track list, a failure's reason), and the `hello` our workers add. Each check
 * returns the cleaned value or an Error whose message is the logged reason for refusing it.
 */
export const VECTOR_LENGTH = 200;
/** Tracks a genre result may carry (the worker takes at most 200 search entries). */
export const MAX_GENRE_TRACKS = 1000;

export interface CheckedDownload {
  artist: string;
  title: string;
  youtubeId: string;
  sourceUrl: string | null;
  vector: Float32Array;
  /** Top MSD tag names from our workers' extra `tags` field; null when absent or malformed. */
  tags: string[] | null;
}

/** Tag names kept from one result. */
export const MAX_TAGS = 10;

/**
 * Our workers' extra `data.tags`: [{name, score}, ...] highest first (plain names accepted too).
 * An extra field: a malformed one is dropped (null), never a reason to refuse the vector.
 */
export function checkTags(v: unknown): string[] | null {
  if (!Array.isArray(v) || v.length === 0) return null;
  const names: string[] = [];
  for (const t of v.slice(0, MAX_TAGS)) {
    const name = text(isObj(t) ? t.name : t, 60);
    if (!name) return null;
    names.push(name);
  }
  return names;
}

export interface WorkerInfo {
  name: string;
  version: string;
  backend: string;
  platform: string;
  jobs: number | null;
}

function isObj(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function kind(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return `an array of ${v.length}`;
  return `a ${typeof v}`;
}

function text(v: unknown, max: number): string | null {
  if (typeof v !== 'string') return null;
  // Control characters out; long values cut.
  return v.replace(/[\u0000-\u001f\u007f]/g, ' ').trim().slice(0, max);
}

export function checkDownloadData(data: unknown): CheckedDownload | Error {
  if (!isObj(data)) return new Error(`Expected an object for data but received ${kind(data)}`);
  const v = data.vector;
  if (!Array.isArray(v)) return new Error(`Expected an array of ${VECTOR_LENGTH} numbers for data.vector but received ${kind(v)}`);
  if (v.length !== VECTOR_LENGTH)
    return new Error(`Expected ${VECTOR_LENGTH} values in data.vector but received ${v.length}`);
  const out = new Float32Array(VECTOR_LENGTH);
  for (let i = 0; i < VECTOR_LENGTH; i++) {
    const x = v[i];
    if (typeof x !== 'number' || !Number.isFinite(x))
      return new Error(`Expected a finite number for data.vector[${i}] but received ${typeof x === 'number' ? String(x) : kind(x)}`);
    if (Math.abs(x) > 3.4e38) return new Error(`data.vector[${i}] = ${x} does not fit a float32`);
    out[i] = x;
  }
  const artist = text(data.artist, 300);
  const title = text(data.title, 300);
  if (artist === null) return new Error(`Expected a string for data.artist but received ${kind(data.artist)}`);
  if (title === null) return new Error(`Expected a string for data.title but received ${kind(data.title)}`);
  const yid = data.youtube_id === undefined || data.youtube_id === null ? '' : text(data.youtube_id, 64);
  if (yid === null) return new Error(`Expected a string for data.youtube_id but received ${kind(data.youtube_id)}`);
  let sourceUrl: string | null = null;
  if (data.source_url !== undefined && data.source_url !== null) {
    sourceUrl = text(data.source_url, 2000);
    if (sourceUrl === null) return new Error(`Expected a string or null for data.source_url but received ${kind(data.source_url)}`);
  }
  return { artist, title, youtubeId: yid, sourceUrl, vector: out, tags: checkTags(data.tags) };
}

/** The URLs of a genre result, each a well-formed http(s) URL. */
export function checkGenreData(data: unknown): string[] | Error {
  if (!isObj(data)) return new Error(`Expected an object for data but received ${kind(data)}`);
  const t = data.tracks;
  if (!Array.isArray(t)) return new Error(`Expected an array for data.tracks but received ${kind(t)}`);
  if (t.length > MAX_GENRE_TRACKS) return new Error(`Expected at most ${MAX_GENRE_TRACKS} tracks but received ${t.length}`);
  const urls: string[] = [];
  for (let i = 0; i < t.length; i++) {
    const e = t[i];
    const u = isObj(e) ? e.youtube_url : undefined;
    if (typeof u !== 'string' || !/^https?:\/\/\S+$/i.test(u) || u.length > 2000)
      return new Error(`Expected an http(s) URL for data.tracks[${i}].youtube_url but received ${kind(u)}`);
    urls.push(u);
  }
  return urls;
}

/** Our workers' hello: strings cut to 100 characters, unknown fields dropped. */
export function checkHello(msg: Record<string, unknown>): WorkerInfo | Error {
  const w = msg.worker;
  if (!isObj(w)) return new Error(`Expected an object for worker but received ${kind(w)}`);
  const jobs = typeof w.jobs === 'number' && Number.isInteger(w.jobs) && w.jobs > 0 && w.jobs < 10000 ? w.jobs : null;
  return {
    name: text(w.name, 100) ?? '',
    version: text(w.version, 100) ?? '',
    backend: text(w.backend, 100) ?? '',
    platform: text(w.platform, 100) ?? '',
    jobs,
  };
}

// SPDX-License-Identifier: MIT
/**
 * A page's (or the API's) `start` message turned into the jobs it asks for: one URL
 * (`single`), a genre fetch (`genre`), pasted or uploaded tracks (`tracks`); `lastfm` is
 * answered with what to do instead. Bad input gets a message of the form "Expected X for Y but
 * received Z" and queues nothing.
 */
import type { GenrePayload } from '../protocol/messages.js';
import { preview } from '../util/preview.js';
import type { NewJob } from './store.js';
import { parseTracks, type TrackInput } from './tracks.js';

export interface ControlMessage {
  type: string;
  mode?: unknown;
  youtubeUrl?: unknown;
  genre?: unknown;
  requestedCount?: unknown;
  useMax?: unknown;
  lines?: unknown;
  text?: unknown;
}

export interface ControlOutcome {
  ok: boolean;
  message: string;
  added?: number;
  duplicates?: number;
  invalid?: { line: number; text: string; reason: string }[];
}

export function toNewJob(t: TrackInput): NewJob {
  return { kind: 'download', payload: t.payload, dedupeKey: t.dedupeKey, label: t.label };
}

/** The jobs a start message with a mode other than `queue` asks for, or the refusal to send back. */
export function jobsForStart(msg: ControlMessage): { jobs: NewJob[]; invalid: NonNullable<ControlOutcome['invalid']> } | { refused: ControlOutcome } {
  const mode = msg.mode;
  if (mode === 'single') {
    const u = typeof msg.youtubeUrl === 'string' ? msg.youtubeUrl.trim() : '';
    const p = parseTracks(u);
    if (!u || p.tracks.length !== 1 || !p.tracks[0].payload.youtube_url)
      return { refused: { ok: false, message: `Expected an http(s) URL for youtubeUrl but received ${JSON.stringify(u.slice(0, 80))}` } };
    return { jobs: [toNewJob(p.tracks[0])], invalid: [] };
  }
  if (mode === 'genre') {
    const genre = typeof msg.genre === 'string' ? msg.genre.trim().slice(0, 100) : '';
    if (!genre) return { refused: { ok: false, message: 'Expected a genre name for genre' } };
    let count: number | null = null;
    if (msg.useMax !== true && msg.requestedCount !== undefined && msg.requestedCount !== null) {
      // no Number() of an object: one whose toString is not a function makes it throw
      const n = typeof msg.requestedCount === 'object' ? NaN : Number(msg.requestedCount);
      if (!Number.isInteger(n) || n < 1 || n > 10000)
        return { refused: { ok: false, message: `Expected an integer from 1 to 10000 for requestedCount but received ${preview(msg.requestedCount)}` } };
      count = n;
    }
    const payload: GenrePayload = { job_type: 'fetch_genre', genre, limit: count, quality_config: null };
    return { jobs: [{ kind: 'fetch_genre', payload, dedupeKey: null, label: `genre: ${genre}`, requestedCount: count }], invalid: [] };
  }
  if (mode === 'tracks') {
    const text = Array.isArray(msg.lines) ? msg.lines.filter((l) => typeof l === 'string').join('\n') : typeof msg.text === 'string' ? msg.text : '';
    const p = parseTracks(text);
    if (!p.tracks.length) return { refused: { ok: false, message: 'No tracks in the input (one URL or "Artist - Title" per line)', invalid: p.invalid } };
    return { jobs: p.tracks.map(toNewJob), invalid: p.invalid };
  }
  if (mode === 'lastfm') return { refused: { ok: false, message: 'Last.fm import is not available on this coordinator: paste the tracks or upload a file instead' } };
  return { refused: { ok: false, message: `Unknown start mode ${preview(mode)}` } };
}

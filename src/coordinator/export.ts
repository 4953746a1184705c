// SPDX-License-Identifier: MIT
/**
 * Stored results as files: JSON lines (one object per track, vector included), CSV (metadata
 * then one column per vector value, v0..v199) and NumPy `.npy` (float32 [n, 200], rows in the
 * same order as the JSONL and CSV exports, so row i of the matrix is line i of the others).
 */
import { encodeNpy } from '../util/npy.js';
import type { ResultRow } from './store.js';
import { VECTOR_LENGTH } from './validate.js';

export function resultJson(r: ResultRow): Record<string, unknown> {
  return {
    job_id: r.jobId,
    artist: r.artist,
    title: r.title,
    youtube_id: r.youtubeId,
    source_url: r.sourceUrl,
    worker: r.worker,
    queued_at: new Date(r.queuedAt).toISOString(),
    started_at: new Date(r.startedAt).toISOString(),
    finished_at: new Date(r.finishedAt).toISOString(),
    ms: r.finishedAt - r.startedAt,
    vector: Array.from(r.vector),
  };
}

export function toJsonl(rows: ResultRow[]): string {
  return rows.map((r) => JSON.stringify(resultJson(r)) + '\n').join('');
}

function csvCell(v: unknown): string {
  const s = v === null || v === undefined ? '' : String(v);
  // A leading = + - @ would be read as a formula by spreadsheets.
  const safe = /^[=+\-@]/.test(s) && !/^-?\d/.test(s) ? `'${s}` : s;
  return /[",\r\n]/.test(safe) ? `"${safe.replace(/"/g, '""')}"` : safe;
}

export function toCsv(rows: ResultRow[]): string {
  const head = ['job_id', 'artist', 'title', 'youtube_id', 'source_url', 'worker', 'started_at', 'finished_at', 'ms'];
  const vcols = Array.from({ length: VECTOR_LENGTH }, (_, i) => `v${i}`);
  const lines = [[...head, ...vcols].join(',')];
  for (const r of rows) {
    const meta = [r.jobId, r.artist, r.title, r.youtubeId, r.sourceUrl, r.worker, new Date(r.startedAt).toISOString(), new Date(r.finishedAt).toISOString(), r.finishedAt - r.startedAt];
    lines.push([...meta.map(csvCell), ...Array.from(r.vector, (x) => String(x))].join(','));
  }
  return lines.join('\n') + '\n';
}

export function toNpy(rows: ResultRow[]): Buffer {
  return encodeNpy(
    rows.map((r) => r.vector),
    VECTOR_LENGTH,
  );
}

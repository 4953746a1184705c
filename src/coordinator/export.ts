// SPDX-License-Identifier: MIT
/**
 * Stored results as files: JSON lines (one object per track, vector included), CSV (metadata
 * then one column per vector value, v0..v199) and NumPy `.npy` (float32 [n, 200], rows in the
 * same order as the JSONL and CSV exports, so row i of the matrix is line i of the others).
 * Written as a stream, one page of results at a time: a session of a million results never
 * sits in memory as one string.
 */
import { npyHeader, npyRows } from '../util/npy.js';
import type { ResultPages, ResultRow } from './store.js';
import { VECTOR_LENGTH } from './validate.js';

export type ExportFormat = 'jsonl' | 'csv' | 'npy';

export const EXPORT_TYPES: Record<ExportFormat, string> = {
  jsonl: 'application/x-ndjson; charset=utf-8',
  csv: 'text/csv; charset=utf-8',
  npy: 'application/octet-stream',
};

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

function csvCell(v: unknown): string {
  const s = v === null || v === undefined ? '' : String(v);
  // A leading = + - @ would be read as a formula by spreadsheets.
  const safe = /^[=+\-@]/.test(s) && !/^-?\d/.test(s) ? `'${s}` : s;
  return /[",\r\n]/.test(safe) ? `"${safe.replace(/"/g, '""')}"` : safe;
}

const CSV_HEAD = [
  ...['job_id', 'artist', 'title', 'youtube_id', 'source_url', 'worker', 'started_at', 'finished_at', 'ms'],
  ...Array.from({ length: VECTOR_LENGTH }, (_, i) => `v${i}`),
].join(',');

function csvLine(r: ResultRow): string {
  const meta = [r.jobId, r.artist, r.title, r.youtubeId, r.sourceUrl, r.worker, new Date(r.startedAt).toISOString(), new Date(r.finishedAt).toISOString(), r.finishedAt - r.startedAt];
  return [...meta.map(csvCell), ...Array.from(r.vector, (x) => String(x))].join(',') + '\n';
}

/** The export file in pieces: a head (CSV columns, .npy header with the row count), then one piece per page. */
export async function* exportChunks(format: ExportFormat, results: ResultPages): AsyncGenerator<string | Buffer> {
  if (format === 'csv') yield CSV_HEAD + '\n';
  if (format === 'npy') yield npyHeader(results.count, VECTOR_LENGTH);
  for await (const page of results.pages) {
    if (format === 'jsonl') yield page.map((r) => JSON.stringify(resultJson(r)) + '\n').join('');
    else if (format === 'csv') yield page.map(csvLine).join('');
    else
      yield npyRows(
        page.map((r) => r.vector),
        VECTOR_LENGTH,
      );
  }
}

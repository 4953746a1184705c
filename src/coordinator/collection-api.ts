// SPDX-License-Identifier: MIT
/**
 * The collection routes of the JSON API (./api.ts hands them over):
 *
 *   GET /api/sessions/{code}/map?from=N&epoch=E     PCA map: xy of every track, metadata from N on
 *   GET /api/sessions/{code}/similar?result=ID&k=10 the k stored tracks nearest to result ID (cosine)
 *   GET /api/sessions/{code}/throughput             results per minute over the last hour
 *
 * A result ID is the job id the exports and /results carry (`job_id`).
 */
import { collectionsOf } from './collection-map.js';
import { HttpError } from './http-error.js';
import { MAX_K } from './similar.js';
import type { SessionRow, Store } from './store.js';

export const COLLECTION_ROUTES = ['map', 'similar', 'throughput'];
const HOUR_MINUTES = 60;

function intParam(u: URL, name: string, def: number | null, min: number, max: number): number | null {
  const v = u.searchParams.get(name);
  if (v === null) return def;
  if (!/^\d{1,10}$/.test(v) || Number(v) < min || Number(v) > max)
    throw new HttpError(400, `Expected an integer from ${min} to ${max} for ${name} but received ${JSON.stringify(v.slice(0, 40))}`);
  return Number(v);
}

export async function collectionRoute(store: Store, s: SessionRow, sub: string, u: URL): Promise<unknown> {
  const col = collectionsOf(store);
  if (sub === 'map') {
    const from = intParam(u, 'from', 0, 0, 1e9)!;
    const epoch = intParam(u, 'epoch', null, 0, 1e9);
    return col.map(s.code, from, epoch);
  }
  if (sub === 'similar') {
    const id = u.searchParams.get('result');
    if (id === null || id.trim() === '') throw new HttpError(400, 'Expected result=<result id> (the job_id of a stored result) in the query');
    const k = intParam(u, 'k', 10, 1, MAX_K)!;
    const out = await col.similar(s.code, id, k);
    if (!out) throw new HttpError(404, `No stored result ${JSON.stringify(id.slice(0, 80))} in this session`);
    return { result: out.track, k, nearest: out.nearest };
  }
  if (sub === 'throughput') {
    const now = Date.now();
    const perMinute = await col.perMinute(s.code, HOUR_MINUTES, now);
    return { bucket_s: 60, since: new Date(now - HOUR_MINUTES * 60_000).toISOString(), per_minute: perMinute };
  }
  throw new HttpError(404, `No collection route ${JSON.stringify(sub)}`);
}

// SPDX-License-Identifier: MIT
/**
 * The HTTP side: `/api/keepalive`, the JSON API for the page and for scripts, exports, and the
 * /ingest page. Every route that names a code answers 404 for an unknown one (counted by the
 * rate limiter; past its budget an address gets 429).
 *
 *   POST /api/sessions                          make a pairing code
 *   GET  /api/sessions/{code}                   status: queue, workers, throughput, ETA
 *   POST /api/sessions/{code}/jobs              queue tracks: JSON {lines|text|tracks, start} or a text/CSV body
 *   POST /api/sessions/{code}/control           {"type":"start|pause|resume|stop", ...} as the page sends
 *   GET  /api/sessions/{code}/jobs?state=       jobs (queued, active, done, failed, cancelled)
 *   GET  /api/sessions/{code}/results           stored results with vectors (?limit, ?offset, ?vectors=0)
 *   GET  /api/sessions/{code}/map, /similar?result=ID&k=10, /throughput  see ./collection-api.ts
 *   GET  /ingest                                the page
 *   GET  /api/sessions/{code}/export.{jsonl,csv,npy}
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { Logger } from '../log/logger.js';
import { preview } from '../util/preview.js';
import { newCode } from './codes.js';
import { COLLECTION_ROUTES, collectionRoute } from './collection-api.js';
import { EXPORT_TYPES, exportChunks, resultJson, type ExportFormat } from './export.js';
import { HttpError } from './http-error.js';
import { INGEST_HTML } from './ingest-page.js';
import type { ClientAddress } from './client-address.js';
import type { FailureLimiter } from './rate-limit.js';
import type { ControlMessage, Scheduler } from './scheduler.js';
import type { JobRow, JobState, SessionRow, Store } from './store.js';
import { artistTitleTrack, parseTracks, urlTrack, type TrackInput } from './tracks.js';

export const MAX_BODY_BYTES = 8 * 1024 * 1024;

export interface ApiContext {
  scheduler: Scheduler;
  store: Store;
  limiter: FailureLimiter;
  /** Codes made per address (a budget like the refusal limiter's). */
  createLimiter: FailureLimiter;
  log: Logger;
  /** The client of a request (through trusted proxies). */
  remoteOf: ClientAddress;
}

function send(res: ServerResponse, status: number, body: unknown): void {
  const s = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store' }).end(s);
}

const bodies = new WeakMap<IncomingMessage, Promise<string>>();

/** The request body, read once (later calls get the same text). */
function readBody(req: IncomingMessage): Promise<string> {
  let p = bodies.get(req);
  if (!p) bodies.set(req, (p = readBodyOnce(req)));
  return p;
}

async function readBodyOnce(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  let n = 0;
  for await (const c of req as AsyncIterable<Buffer>) {
    n += c.length;
    if (n > MAX_BODY_BYTES) throw new HttpError(413, `Request body over ${MAX_BODY_BYTES} bytes`);
    chunks.push(c);
  }
  return Buffer.concat(chunks).toString('utf8');
}

async function readJson(req: IncomingMessage): Promise<Record<string, unknown>> {
  const text = await readBody(req);
  if (text.trim() === '') return {};
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch {
    throw new HttpError(400, 'Expected a JSON object for the request body but received text that is not JSON');
  }
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new HttpError(400, 'Expected a JSON object for the request body');
  return v as Record<string, unknown>;
}

/** The address clients used, behind a TLS proxy too (X-Forwarded-Proto/-Host). */
export function baseUrl(req: IncomingMessage): string {
  const first = (v: string | string[] | undefined) => (Array.isArray(v) ? v[0] : v)?.split(',')[0].trim();
  const host = first(req.headers['x-forwarded-host']) || req.headers.host || 'localhost';
  const proto = first(req.headers['x-forwarded-proto']) === 'https' ? 'https' : 'http';
  return `${proto}://${host}`;
}

function jobJson(j: JobRow): Record<string, unknown> {
  return {
    id: j.id,
    kind: j.kind,
    label: j.label,
    state: j.state,
    attempts: j.attempts,
    last_error: j.lastError,
    worker: j.worker,
    payload: j.payload,
    created_at: new Date(j.createdAt).toISOString(),
    started_at: j.startedAt ? new Date(j.startedAt).toISOString() : null,
    finished_at: j.finishedAt ? new Date(j.finishedAt).toISOString() : null,
  };
}

function intParam(u: URL, name: string, def: number, max: number): number {
  const v = u.searchParams.get(name);
  if (v === null) return def;
  if (!/^\d+$/.test(v) || Number(v) > max) throw new HttpError(400, `Expected an integer from 0 to ${max} for ${name} but received ${JSON.stringify(v)}`);
  return Number(v);
}

/** Tracks from a JSON body: {lines: [...]}, {text: "..."} or {tracks: [{url}|{youtube_url}|{artist, title}]}. */
function tracksFromJson(body: Record<string, unknown>): { tracks: TrackInput[]; invalid: unknown[] } {
  const invalid: unknown[] = [];
  const tracks: TrackInput[] = [];
  if (Array.isArray(body.lines) || typeof body.text === 'string') {
    const text = Array.isArray(body.lines) ? body.lines.map((l) => (typeof l === 'object' && l !== null ? '(not text)' : String(l)).replace(/[\r\n]+/g, ' ')).join('\n') : String(body.text);
    const p = parseTracks(text);
    return { tracks: p.tracks, invalid: p.invalid };
  }
  if (Array.isArray(body.tracks)) {
    body.tracks.forEach((t: unknown, i) => {
      const o = (typeof t === 'object' && t !== null ? t : {}) as Record<string, unknown>;
      const url = typeof o.url === 'string' ? o.url : typeof o.youtube_url === 'string' ? o.youtube_url : null;
      if (url && /^https?:\/\/\S+$/i.test(url.trim())) {
        try {
          tracks.push(urlTrack(url.trim()));
          return;
        } catch {
          /* falls through */
        }
      }
      if (typeof o.artist === 'string' && typeof o.title === 'string' && o.artist.trim() && o.title.trim())
        tracks.push(artistTitleTrack(o.artist, o.title));
      else invalid.push({ index: i, reason: 'expected {url} or {artist, title}' });
    });
    return { tracks, invalid };
  }
  throw new HttpError(400, 'Expected "lines", "text" or "tracks" in the request body');
}

/** Handle one HTTP request. Never throws. */
export async function handleHttp(req: IncomingMessage, res: ServerResponse, ctx: ApiContext): Promise<void> {
  try {
    // The whole body first, whatever the route: an answer sent while the client is still
    // uploading closes the connection under it, and the client never sees the answer.
    await readBody(req);
    await route(req, res, ctx);
  } catch (e) {
    if (e instanceof HttpError) send(res, e.status, { error: e.message });
    else if (req.destroyed || (e as NodeJS.ErrnoException).code === 'ECONNRESET') {
      // the client went away part-way through its request: nobody to answer, nothing wrong here
      ctx.log.debug('request aborted by the client', { url: req.url?.slice(0, 200) });
    } else {
      ctx.log.error('request failed', { url: req.url?.slice(0, 200), error: e instanceof Error ? (e.stack ?? e.message) : String(e) });
      if (!res.headersSent) send(res, 500, { error: 'internal error' });
      else res.end();
    }
  }
}

async function route(req: IncomingMessage, res: ServerResponse, ctx: ApiContext): Promise<void> {
  // Appended to a fixed origin, never resolved against it: a path like `//host` or `/\\x` is a path here.
  let u: URL;
  try {
    const target = req.url ?? '/';
    u = new URL(`http://x${target.startsWith('/') ? '' : '/'}${target}`);
  } catch {
    throw new HttpError(400, 'Malformed request path');
  }
  const path = u.pathname;
  const method = req.method ?? 'GET';
  if (path === '/api/keepalive') return send(res, 200, { ok: true });
  if (path === '/' && method === 'GET') return void res.writeHead(302, { location: '/ingest' }).end();
  if (path === '/ingest' && method === 'GET') {
    return void res
      .writeHead(200, {
        'content-type': 'text/html; charset=utf-8',
        'cache-control': 'no-store',
        'content-security-policy': "default-src 'self'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; connect-src 'self' ws: wss:",
      })
      .end(INGEST_HTML);
  }
  if (path === '/api/sessions' && method === 'POST') {
    const remote = ctx.remoteOf(req);
    if (ctx.limiter.blocked(remote)) throw new HttpError(429, 'Too many refused requests from this address; try again in a minute');
    if (ctx.createLimiter.blocked(remote)) throw new HttpError(429, 'Too many new codes from this address; try again in a minute');
    ctx.createLimiter.hit(remote); // counted before any await: parallel requests share one budget
    const body = await readJson(req);
    let ttlMs: number | undefined;
    if (body.ttl_hours !== undefined) {
      const h = typeof body.ttl_hours === 'object' ? NaN : Number(body.ttl_hours);
      if (!(h > 0 && h <= 24 * 366)) throw new HttpError(400, `Expected a number of hours from 0 to 8784 for ttl_hours but received ${preview(body.ttl_hours)}`);
      ttlMs = h * 3600_000;
    }
    const row = await ctx.scheduler.createSession(newCode(), ttlMs);
    const base = baseUrl(req);
    ctx.log.info('pairing code made', { code: row.code, remote });
    return send(res, 201, {
      code: row.code,
      expires_at: new Date(row.expiresAt).toISOString(),
      worker_command: `npx chaarfm-worker --url ${base} --code ${row.code}`,
      worker_socket: `${base.replace(/^http/, 'ws')}/ws/remote/${row.code}/worker`,
      status_url: `${base}/api/sessions/${row.code}`,
    });
  }
  const m = /^\/api\/sessions\/([^/]+)(?:\/([a-z.]+))?$/.exec(path);
  if (!m) throw new HttpError(404, `No route for ${method} ${path.slice(0, 100)}`);
  const remote = ctx.remoteOf(req);
  if (ctx.limiter.blocked(remote)) throw new HttpError(429, 'Too many refused requests from this address; try again in a minute');
  let raw = '';
  try {
    raw = decodeURIComponent(m[1]);
  } catch {
    /* a malformed escape names no session */
  }
  const r = await ctx.scheduler.resolve(raw);
  // decided now, against the count now: parallel attempts cannot all pass the check above
  if (!ctx.limiter.settle(remote, !r.ok)) throw new HttpError(429, 'Too many refused requests from this address; try again in a minute');
  if (!r.ok) {
    throw new HttpError(r.why === 'expired' ? 410 : 404, r.why === 'expired' ? 'pairing code expired' : 'unknown pairing code');
  }
  await sessionRoute(req, res, ctx, r.session, m[2] ?? '', method, u);
}

async function sessionRoute(req: IncomingMessage, res: ServerResponse, ctx: ApiContext, s: SessionRow, sub: string, method: string, u: URL): Promise<void> {
  const code = s.code;
  if (sub === '' && method === 'GET') return send(res, 200, await ctx.scheduler.status(s));
  if (sub === 'jobs' && method === 'POST') {
    const type = String(req.headers['content-type'] ?? '');
    let tracks: TrackInput[];
    let invalid: unknown[];
    let start = true;
    if (/json/i.test(type)) {
      const body = await readJson(req);
      ({ tracks, invalid } = tracksFromJson(body));
      start = body.start !== false;
    } else {
      const p = parseTracks(await readBody(req));
      tracks = p.tracks;
      invalid = p.invalid;
      start = u.searchParams.get('start') !== 'false';
    }
    const out = await ctx.scheduler.enqueue(s, tracks, start);
    return send(res, 200, { ...out, invalid });
  }
  if (sub === 'control' && method === 'POST') {
    const body = await readJson(req);
    if (typeof body.type !== 'string') throw new HttpError(400, 'Expected "type": start|pause|resume|stop in the request body');
    const out = await ctx.scheduler.control(s, body as unknown as ControlMessage);
    return send(res, out.ok ? 200 : 409, out);
  }
  if (sub === 'jobs' && method === 'GET') {
    const state = u.searchParams.get('state');
    const states: JobState[] = ['queued', 'active', 'done', 'failed', 'cancelled'];
    if (state !== null && !states.includes(state as JobState))
      throw new HttpError(400, `Expected one of ${states.join('|')} for state but received ${JSON.stringify(state.slice(0, 40))}`);
    const jobs = await ctx.store.listJobs(code, {
      state: (state as JobState | null) ?? undefined,
      limit: intParam(u, 'limit', 1000, 100000),
      offset: intParam(u, 'offset', 0, 1e9),
    });
    return send(res, 200, jobs.map(jobJson));
  }
  if (sub === 'results' && method === 'GET') {
    const rows = await ctx.store.listResults(code, { limit: intParam(u, 'limit', 1000, 100000), offset: intParam(u, 'offset', 0, 1e9) });
    const withVectors = u.searchParams.get('vectors') !== '0';
    return send(res, 200, rows.map((r) => {
      const j = resultJson(r);
      if (!withVectors) delete j.vector;
      return j;
    }));
  }
  if (COLLECTION_ROUTES.includes(sub) && method === 'GET') return send(res, 200, await collectionRoute(ctx.store, s, sub, u));
  if (sub.startsWith('export.') && method === 'GET') {
    const fmt = sub.slice(7);
    if (!Object.hasOwn(EXPORT_TYPES, fmt)) throw new HttpError(404, `Expected export.jsonl, export.csv or export.npy but received ${JSON.stringify(sub)}`);
    const format = fmt as ExportFormat;
    const results = await ctx.store.resultPages(code);
    res.writeHead(200, { 'content-type': EXPORT_TYPES[format], 'content-disposition': `attachment; filename="chaarfm-${code}.${format}"` });
    // page by page, waiting for the client to take each (a slow reader holds one page, not the export)
    return pipeline(Readable.from(exportChunks(format, results)), res);
  }
  throw new HttpError(404, `No route for ${method} /api/sessions/{code}/${sub}`);
}

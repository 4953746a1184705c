// SPDX-License-Identifier: MIT
/**
 * Fuzz pass on the coordinator: a real `serve` child process on a SQLite file gets a few
 * thousand seeded random and mutated inputs: HTTP requests (methods, paths, codes in every
 * typed form and random ones, query strings, headers, JSON/text/CSV bodies mutated from valid
 * API calls), worker-socket frames (results with wrong vectors, non-finite values, wrong job
 * ids, other sockets' jobs, oversize and non-UTF-8 frames, odd hellos and progress), page-socket
 * control frames, and socket opens with bad paths and codes, from many loopback addresses so the
 * refusal limit (429) stays one possible answer among others. Every HTTP request must get an
 * answer below 500; a liveness probe after each batch must come back. Then the store must be
 * whole: `PRAGMA integrity_check`, valid job states, every stored result 200 finite floats equal
 * to a vector that was sent for that job, done jobs and results one to one, the API's counts
 * and exports equal to the database, and the jobs of a session the fuzz never named unchanged.
 * Last, a real flow still works: tracks queued over the API, a stand-in worker, stored results.
 * Replay a failure with CHAARFM_FUZZ_SEED=<the printed seed>.
 */
import assert from 'node:assert/strict';
import { request } from 'node:http';
import { connect } from 'node:net';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { decodeNpy } from '../../src/util/npy.js';
import { RawClient, api, goodResult, newSession, socketUrl, stubWorker } from '../support/coordinator.js';
import { waitUntil } from '../support/wait.js';
import { vectorFor } from '../support/stand-ins.js';
import { readOnlySqlite } from '../support/stores.js';
import type { WorkerHandle } from '../../src/worker/worker.js';
import { BIN, Child } from './support/fuzz-process.js';
import { Rng, deepNestText, fuzzSeed, mutateBytes, mutateFrame, oddValue, randomFrame, toFrame } from './support/fuzz-mutate.js';

const STEPS = Number(process.env.CHAARFM_FUZZ_STEPS ?? 5000);
const BATCH = 200;
const RETRIES = 3;
const HTTP_TIMEOUT_MS = 20000;
const STATES = ['queued', 'active', 'done', 'failed', 'cancelled'];

let child: Child | null = null;
let dir = '';
const clients: RawClient[] = [];
let worker: WorkerHandle | null = null;

after(async () => {
  for (const c of clients) c.close();
  await worker?.stop().catch(() => {});
  child?.kill();
  if (dir) await rm(dir, { recursive: true, force: true });
});

interface Answer {
  status: number | null;
  error?: string;
  body: Buffer;
}

/** One HTTP request from `localAddress`; resolves with the status, or the socket error. Rejects on a hang. */
function httpCall(port: number, localAddress: string, method: string, path: string, headers: Record<string, string>, body?: Buffer): Promise<Answer> {
  return new Promise((resolve, reject) => {
    let req;
    try {
      req = request({ host: '127.0.0.1', port, method, path, headers, localAddress, agent: false });
    } catch (e) {
      return resolve({ status: null, error: `client refused: ${(e as Error).message}`, body: Buffer.alloc(0) });
    }
    const timer = setTimeout(() => {
      req.destroy();
      reject(new Error(`no answer within ${HTTP_TIMEOUT_MS} ms to ${method} ${path.slice(0, 200)} (hang)`));
    }, HTTP_TIMEOUT_MS);
    req.on('response', (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        clearTimeout(timer);
        resolve({ status: res.statusCode ?? null, body: Buffer.concat(chunks) });
      });
      res.on('error', (e) => {
        clearTimeout(timer);
        resolve({ status: res.statusCode ?? null, error: e.message, body: Buffer.concat(chunks) });
      });
    });
    req.on('error', (e) => {
      clearTimeout(timer);
      resolve({ status: null, error: (e as NodeJS.ErrnoException).code ?? e.message, body: Buffer.alloc(0) });
    });
    if (body) req.end(body);
    else req.end();
  });
}

/** Raw bytes to the port (malformed HTTP): resolves with what came back before the close. */
function rawCall(port: number, localAddress: string, data: Buffer): Promise<string> {
  return new Promise((resolve, reject) => {
    const s = connect({ host: '127.0.0.1', port, localAddress });
    let got = '';
    const timer = setTimeout(() => {
      s.destroy();
      reject(new Error(`raw request neither answered nor closed within ${HTTP_TIMEOUT_MS} ms`));
    }, HTTP_TIMEOUT_MS);
    s.on('data', (d) => {
      got += d.toString('latin1');
      // the answer is enough: do not wait for keep-alive to time out
      if (/\r\n\r\n/.test(got)) s.end();
    });
    s.on('error', () => {});
    s.on('close', () => {
      clearTimeout(timer);
      resolve(got);
    });
    s.write(data);
    // half-close so a request waiting for more bytes is answered or dropped now
    s.end();
  });
}

/** A path-safe rendering of any text: bytes outside printable ASCII percent-encoded. */
function pathSafe(s: string): string {
  return [...Buffer.from(s, 'utf8')].map((b) => (b > 0x20 && b < 0x7f && b !== 0x23 ? String.fromCharCode(b) : `%${b.toString(16).padStart(2, '0').toUpperCase()}`)).join('');
}

/** The typed forms of a code the server must accept (case, dashes, spaces, O for 0, I/L for 1). */
function codeForms(r: Rng, code: string): string {
  const plain = code.replace(/-/g, '');
  const forms = [code, code.toLowerCase(), plain, `${plain.slice(0, 5)}%20${plain.slice(5)}`, code.replace(/0/g, 'O').replace(/1/g, r.pick(['I', 'l', 'L']))];
  return r.pick(forms);
}

function ytUrl(r: Rng): string {
  const abc = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-';
  return `https://www.youtube.com/watch?v=${Array.from({ length: 11 }, () => r.pick([...abc])).join('')}`;
}

function jobBodies(r: Rng): Record<string, unknown>[] {
  return [
    { lines: [ytUrl(r), `Artist ${r.int(0, 99)} - Title ${r.int(0, 999)}`, 'not a track'], start: r.chance(0.5) },
    { text: `${ytUrl(r)}\nBand - Song ${r.int(0, 999)}\n\n  \nhttps://example.com/a.mp3`, start: r.chance(0.5) },
    { tracks: [{ url: ytUrl(r) }, { youtube_url: ytUrl(r) }, { artist: 'A', title: `T${r.int(0, 999)}` }, { artist: '' }, 7] },
  ];
}

function controlBodies(r: Rng): Record<string, unknown>[] {
  return [
    { type: 'start', mode: 'single', youtubeUrl: ytUrl(r) },
    { type: 'start', mode: 'genre', genre: 'rock', requestedCount: r.int(1, 5), useMax: false },
    { type: 'start', mode: 'tracks', lines: [`X - Y${r.int(0, 999)}`, ytUrl(r)] },
    { type: 'start', mode: 'tracks', text: `X - Z${r.int(0, 999)}` },
    { type: 'start', mode: 'queue' },
    { type: 'start', mode: 'lastfm', username: 'someone', requestedCount: null, useMax: true },
    { type: 'pause' },
    { type: 'resume' },
    { type: r.chance(0.2) ? 'stop' : 'resume' },
  ];
}

function textBody(r: Rng): string {
  return r.pick([
    `url\n${ytUrl(r)}\nhttps://example.com/x.ogg\n`,
    `artist,title\n"Quoted, Band",Song ${r.int(0, 99)}\nPlain,"Broken quote\n,\n`,
    `title;artist\nA;B\n`,
    `${ytUrl(r)}\r\nA - B\r\n`,
    r.text(r.int(0, 2000)),
    'x'.repeat(r.int(0, 200000)),
    '"'.repeat(r.int(1, 5000)),
    'url,artist,title\n' + Array.from({ length: r.int(0, 200) }, () => `${r.chance(0.5) ? ytUrl(r) : ''},${r.text(5)},${r.text(5)}`).join('\n'),
  ]);
}

test('coordinator: thousands of random and mutated requests and frames, no 5xx, no crash, no hang, store intact', { timeout: 300000 }, async () => {
  const seed = fuzzSeed();
  const r = new Rng(seed);
  console.log(`fuzz-coordinator seed ${seed} (replay with CHAARFM_FUZZ_SEED=${seed}), ${STEPS} steps`);
  const t0 = Date.now();
  dir = await mkdtemp(join(tmpdir(), 'cfw-fuzz-coord-'));
  const dbPath = join(dir, 'fuzz.db');
  child = new Child([BIN, 'serve', '--port', '0', '--db', dbPath, '--new-code', '--log-format', 'json', '--retries', String(RETRIES), '--lease', '10m']);
  const c = child;
  const code = await waitUntil(() => /^([0-9A-Z]{5}-[0-9A-Z]{5})\n/.exec(c.out)?.[1], 20000, 'pairing code on stdout');
  const base = await waitUntil(() => /listening on (http:\/\/[\d.]+:\d+)/.exec(c.err)?.[1], 10000, 'listening line');
  const port = Number(new URL(base).port);

  // A session the fuzz never names: its queued jobs must come out unchanged.
  const guarded = await newSession(base);
  const q = await api(base, `/api/sessions/${guarded}/jobs`, {
    body: { lines: ['Guarded Band - First', 'https://www.youtube.com/watch?v=aaaaaaaaaaa', 'https://example.com/guarded.mp3', 'Guarded Band - Last'], start: false },
  });
  assert.equal(q.status, 200);
  const db = readOnlySqlite(dbPath);
  const snapshot = () => ({
    session: db.prepare('SELECT code, created_at, expires_at, status, message FROM sessions WHERE code = ?').get(guarded),
    jobs: db.prepare('SELECT * FROM jobs WHERE code = ? ORDER BY seq').all(guarded),
  });
  const guardedBefore = snapshot();
  assert.equal((guardedBefore.jobs as unknown[]).length, 4);

  // The fuzzed session starts with work so that the raw workers hold jobs.
  await api(base, `/api/sessions/${code}/jobs`, { body: { lines: Array.from({ length: 30 }, (_, i) => `Seed Artist - Track ${i}`) } });
  // jobs are never deleted, and what they ask for never changes, whatever happens to their state
  const seedJobs = db.prepare('SELECT id, kind, payload, dedupe_key, label, created_at FROM jobs WHERE code = ?').all(code);
  assert.equal(seedJobs.length, 30);

  const addr = (k: number) => `127.0.0.${2 + (k % 250)}`;
  let addrTurn = 0;
  const nextAddr = () => addr(addrTurn++);
  const workers: RawClient[] = [];
  const uis: RawClient[] = [];
  const openWorker = async () => {
    const w = await RawClient.connect(socketUrl(base, code, 'worker'), { localAddress: nextAddr() });
    clients.push(w);
    return w;
  };
  for (let i = 0; i < 3; i++) workers.push(await openWorker());
  for (let i = 0; i < 2; i++) {
    const u = await RawClient.connect(socketUrl(base, code, 'ui'), { localAddress: nextAddr() });
    clients.push(u);
    uis.push(u);
  }
  for (const w of workers) assert.equal(w.closed, null, `worker socket refused: ${JSON.stringify(w.closed)}`);

  /** Every vector sent in a result frame that parsed, by job id (a stored vector must be one of them). */
  const sentVectors = new Map<string, Set<string>>();
  const noteSent = (frame: string | Buffer) => {
    let m: unknown;
    try {
      m = JSON.parse(frame.toString());
    } catch {
      return;
    }
    const o = m as { job_id?: unknown; data?: { vector?: unknown } };
    if (typeof o?.job_id !== 'string' || !Array.isArray(o.data?.vector) || o.data.vector.length !== 200) return;
    const key = o.data.vector.map((x) => (typeof x === 'number' ? Math.fround(x) : 'bad')).join(',');
    sentVectors.set(o.job_id, (sentVectors.get(o.job_id) ?? new Set()).add(key));
  };

  const counts: Record<string, number> = {};
  const tally = (k: string) => (counts[k] = (counts[k] ?? 0) + 1);
  const statusSeen: Record<string, number> = {};
  const bad: string[] = [];
  // resets after an oversized header or body: an answer (counted in the summary); any other reset is in `bad`
  let expectedResets = 0;

  const oneHttp = async () => {
    const who = r.int(0, 9) < 7 ? codeForms(r, code) : r.pick([pathSafe(r.text(r.int(0, 12))), '00000-00000', 'ZZZZZ-ZZZZZ', '%zz', '%', '..', '', 'x'.repeat(r.int(100, 5000)), guarded.replace(/./g, 'Q')]);
    const sub = r.pick(['', '/jobs', '/jobs', '/control', '/control', '/results', '/export.jsonl', '/export.csv', '/export.npy', '/export.xml', '/export.', '/JOBS', '/jobs/', '/x/y', '/' + pathSafe(r.text(6))]);
    let path = r.pick([
      ...Array.from({ length: 8 }, () => `/api/sessions/${who}${sub}`),
      '/api/sessions',
      '/api/keepalive',
      '/ingest',
      '/',
      '/ws/remote/' + who + '/worker',
      '/' + pathSafe(r.text(r.int(0, 40))),
      '//api//sessions',
      '/api/sessions/' + pathSafe(r.text(r.int(1, 30))),
      '/' + 'a/'.repeat(r.int(1, 3000)),
    ]);
    // mostly the method the route takes, so the fuzz gets past routing
    const right = /\/(jobs|control)$|^\/api\/sessions$/.test(path) ? (/jobs$/.test(path) && r.chance(0.3) ? 'GET' : 'POST') : 'GET';
    const method = r.chance(0.75) ? right : r.pick(['GET', 'POST', 'PUT', 'DELETE', 'PATCH', 'HEAD', 'OPTIONS', 'TRACE', 'FUZZ']);
    if (r.chance(0.4)) {
      const qs = Array.from({ length: r.int(1, 4) }, () => {
        const k = r.pick(['state', 'limit', 'offset', 'vectors', 'start', pathSafe(r.text(3))]);
        const v = r.pick(['queued', 'active', 'done', 'failed', 'cancelled', 'QUEUED', '', '0', '-1', '1e9', '100001', '99999999999999999999', 'false', 'abc', pathSafe(r.text(5))]);
        return `${k}=${v}`;
      });
      path += '?' + qs.join('&');
    }
    const headers: Record<string, string> = {};
    const ct = r.pick(['application/json', 'application/json; charset=utf-8', 'text/plain', 'text/csv', 'multipart/form-data; boundary=x', 'application/x-www-form-urlencoded', 'JSON', '', 'none']);
    if (ct !== 'none') headers['content-type'] = ct;
    if (r.chance(0.1)) headers['x-forwarded-host'] = pathSafe(r.text(r.int(0, 30)));
    if (r.chance(0.1)) headers['x-forwarded-proto'] = r.pick(['https', 'http', 'gopher', '']);
    if (r.chance(0.05)) headers['content-encoding'] = 'gzip';
    // over Node's 16 KiB header limit: refused with 431 by the HTTP layer (sent without a body below)
    const hugeHeader = r.chance(0.02);
    if (hugeHeader) headers['x-huge'] = 'h'.repeat(r.int(17000, 40000));
    if (r.chance(0.05)) headers.host = pathSafe(r.text(10));
    let body: Buffer | undefined;
    if (method !== 'GET' && method !== 'HEAD' ? r.chance(0.9) : r.chance(0.1)) {
      const roll = r.int(0, 9);
      const tmpl = path.includes('/control') ? controlBodies(r) : path.endsWith('/api/sessions') ? [{ ttl_hours: r.pick([1, 0, -1, 1e9, '2', null]) }] : jobBodies(r);
      const t = r.pick(tmpl);
      if (roll < 3) body = Buffer.from(JSON.stringify(t));
      else if (roll < 6) {
        const m = mutateFrame(r, t);
        body = Buffer.isBuffer(m) ? m : Buffer.from(m);
      } else if (roll < 8) body = Buffer.from(textBody(r));
      else if (roll < 9) body = Buffer.from(r.chance(0.5) ? deepNestText(r.int(100, 200000)) : toFrame(r, { ...t, [r.pick(Object.keys(t))]: oddValue(r) }));
      else {
        const f = randomFrame(r);
        body = Buffer.isBuffer(f) ? f : Buffer.from(f);
      }
      if (r.chance(0.05)) body = Buffer.concat([body, mutateBytes(r, 'x'.repeat(r.int(1, 2) * 1024 * 1024))]);
    }
    // Node's parser refuses a method it does not know before any route runs (400, then a
    // reset while a body is still coming): such requests go without a body.
    if (method === 'FUZZ' || hugeHeader) body = undefined;
    // Node's client sends GET/DELETE/OPTIONS/TRACE bodies without framing unless told the length
    if (body) headers['content-length'] = String(body.length);
    // one address in ten keeps knocking, so it meets the refusal limit (429)
    const a = await httpCall(port, r.chance(0.1) ? '127.0.0.253' : nextAddr(), method, path, headers, body);
    tally('http');
    const s = a.status === null ? `error ${a.error}` : String(a.status);
    statusSeen[s] = (statusSeen[s] ?? 0) + 1;
    if (a.status === null) {
      if (a.error?.startsWith('client refused')) return;
      // a reset is an answer only for a body the server refuses part-way (over 8 MiB) or a header it will not read
      // (Node's HTTP layer answers 431 and closes while the client may still be sending: seen as ECONNRESET)
      // (whether the client sees the 431 or the reset is a race: the same seed gives either)
      if (hugeHeader || (body?.length ?? 0) > 8 * 1024 * 1024) {
        expectedResets++;
        return;
      }
      bad.push(`${method} ${path.slice(0, 120)} (${body?.length ?? 0} bytes; headers ${JSON.stringify(headers).slice(0, 300)}): ${a.error}`);
    } else if (a.status >= 500) bad.push(`${method} ${path.slice(0, 120)} ${headers['content-type'] ?? ''} body ${JSON.stringify(body?.subarray(0, 300).toString() ?? '')}: ${a.status} ${a.body.subarray(0, 200).toString()}`);
  };

  const oneWorkerFrame = async (k: number) => {
    let w = workers[k];
    if (w.closed) {
      w = workers[k] = await openWorker();
      tally('worker-reconnect');
      if (w.closed) return;
    }
    const jobs = w.jobs();
    const held = jobs.length ? jobs[jobs.length - 1] : null;
    const others = workers.filter((o) => o !== w).flatMap((o) => o.jobs().slice(-1));
    const id = r.int(0, 9) < 7 && held ? held.job_id : r.pick([others[0]?.job_id ?? 'nobody', pathSafe(r.text(8)), '', 'x'.repeat(300)]);
    const isGenre = held?.payload.job_type === 'fetch_genre';
    const good = isGenre && id === held?.job_id
      ? { type: 'result', job_id: id, status: 'success', data: { genre: 'rock', tracks: Array.from({ length: r.int(0, 4) }, () => ({ youtube_url: ytUrl(r) })) } }
      : goodResult(id, r.float() * 4 - 2);
    const roll = r.int(0, 99);
    let frame: string | Buffer;
    let binary = false;
    if (roll < 25) frame = JSON.stringify(good);
    else if (roll < 35) frame = toFrame(r, { type: 'result', job_id: id, status: r.chance(0.9) ? 'failed' : oddValue(r), error: r.chance(0.5) ? 'Download failed: HTTP Error 404' : oddValue(r) });
    else if (roll < 60) frame = mutateFrame(r, good);
    else if (roll < 70) {
      // vectors that must be refused
      const v = Array.from({ length: 200 }, (_, i) => i / 100);
      const broken = r.pick<() => unknown>([
        () => v.slice(0, 199),
        () => [...v, 1],
        () => v.map((x, i) => (i === 7 ? null : x)),
        () => v.map((x, i) => (i === 7 ? '1.5' : x)),
        () => v.map((x, i) => (i === 199 ? 1e39 : x)),
        () => v.map((x, i) => (i === 0 ? -1e300 : x)),
        () => [],
        () => 'NaN',
        () => ({ 0: 1, length: 200 }),
        () => Array.from({ length: 200000 }, () => 0),
      ])();
      frame = JSON.stringify({ ...good, data: { ...(good.data as object), vector: broken } });
      if (r.chance(0.3)) frame = frame.replace(/\b0\.07\b/, r.pick(['NaN', 'Infinity', '-Infinity', '1e999']));
    } else if (roll < 76) frame = toFrame(r, r.chance(0.5) ? { type: 'hello', worker: r.chance(0.5) ? oddValue(r) : { name: oddValue(r), version: oddValue(r), backend: 'x'.repeat(500), jobs: oddValue(r), platform: oddValue(r) } } : { type: 'progress', job_id: id, stage: oddValue(r), fraction: r.pick([0.5, -1, 2, NaN, null, '0.5']) });
    else if (roll < 90) frame = randomFrame(r);
    else if (roll < 96) {
      binary = true;
      frame = r.chance(0.5) ? r.bytes(r.int(0, 300)) : Buffer.from(JSON.stringify(good));
    } else if (roll < 98) {
      frame = Buffer.from([0x7b, 0x22, 0xc3, 0x28, 0x7d]); // text frame, not UTF-8: the ws layer closes the socket (1007)
      tally('socket-closing');
    } else {
      frame = JSON.stringify({ ...good, pad: 'x'.repeat(1024 * 1024) }); // over the 1 MiB frame cap: closed with 1009
      tally('socket-closing');
    }
    if (!binary && Buffer.isBuffer(frame) && roll < 96) frame = frame.toString('utf8');
    if (!binary) noteSent(frame);
    try {
      w.ws.send(frame, { binary });
    } catch {
      /* closed meanwhile */
    }
    tally('worker-frame');
  };

  const oneUiFrame = async () => {
    const k = r.int(0, uis.length - 1);
    let u = uis[k];
    if (u.closed) {
      u = uis[k] = await RawClient.connect(socketUrl(base, code, 'ui'), { localAddress: nextAddr() });
      clients.push(u);
      tally('ui-reconnect');
      if (u.closed) return;
    }
    const t = r.pick(controlBodies(r));
    const roll = r.int(0, 99);
    let frame: string | Buffer;
    if (roll < 30) frame = JSON.stringify(t);
    else if (roll < 80) frame = mutateFrame(r, t);
    else if (roll < 97) frame = randomFrame(r);
    else if (roll < 98) frame = r.bytes(r.int(0, 100)); // binary
    else {
      frame = JSON.stringify({ ...t, pad: 'x'.repeat(1024 * 1024) }); // over the 1 MiB cap: closed with 1009
      tally('socket-closing');
    }
    try {
      if (Buffer.isBuffer(frame) && roll >= 97) u.ws.send(frame, { binary: true });
      else u.ws.send(Buffer.isBuffer(frame) ? frame.toString('utf8') : frame);
    } catch {
      /* closed meanwhile */
    }
    tally('ui-frame');
  };

  const oneSocketOpen = async () => {
    const role = r.pick(['worker', 'ui'] as const);
    const url = r.pick([
      socketUrl(base, pathSafe(r.text(r.int(1, 12))), role),
      socketUrl(base, 'ZZZZZ-ZZZZZ', role),
      `${base.replace(/^http/, 'ws')}/ws/remote/${codeForms(r, code)}/${r.pick(['admin', 'worker/x', 'UI', ''])}`,
      `${base.replace(/^http/, 'ws')}/ws/remote/%zz/${role}`,
      `${base.replace(/^http/, 'ws')}/ws/remote//${role}`,
      `${base.replace(/^http/, 'ws')}/${pathSafe(r.text(8))}`,
    ]);
    const s = await RawClient.connect(url, { localAddress: nextAddr() });
    if (s.unexpected !== null && s.unexpected >= 500) bad.push(`socket open ${url}: HTTP ${s.unexpected}`);
    s.close();
    tally('socket-open');
  };

  const oneRaw = async () => {
    const reqs = [
      `GET /api/keepalive HTTP/1.1\r\nHost: x\r\n\r\n`,
      `POST /api/sessions/${code}/jobs HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 5\r\n\r\n{"lin`,
      `GET /ws/remote/${code}/worker HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: bad\r\n\r\n`,
      `GET /ws/remote/${code}/ui HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n`,
      `POST /api/sessions HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n`,
    ];
    const data = r.chance(0.5) ? mutateBytes(r, r.pick(reqs)) : r.chance(0.5) ? Buffer.from(r.pick(reqs)) : r.bytes(r.int(1, 500));
    const got = await rawCall(port, nextAddr(), data);
    const m = /^HTTP\/1\.1 (\d{3})/.exec(got);
    if (m && Number(m[1]) >= 500) bad.push(`raw ${JSON.stringify(data.subarray(0, 120).toString('latin1'))}: ${m[1]}`);
    tally('raw-http');
  };

  for (let step = 0; step < STEPS; ) {
    for (let k = 0; k < BATCH && step < STEPS; k++, step++) {
      const roll = r.int(0, 99);
      if (roll < 45) await oneHttp();
      else if (roll < 80) await oneWorkerFrame(r.int(0, workers.length - 1));
      else if (roll < 90) await oneUiFrame();
      else if (roll < 96) await oneSocketOpen();
      else await oneRaw();
    }
    // liveness probe: an HTTP answer and a status read of the fuzzed session
    const probe = await httpCall(port, '127.0.0.1', 'GET', `/api/sessions/${code}`, {});
    if (probe.status !== 200) await new Promise((res) => setTimeout(res, 500));
    assert.equal(probe.status, 200, `status after ${step} steps: ${probe.status} ${probe.error ?? ''}; exit ${JSON.stringify(c.exit)}; stderr tail: ${c.err.slice(-3000)}`);
    assert.ok(c.alive, `coordinator exited after ${step} steps: ${c.err.slice(-3000)}`);
  }
  const tried = Object.entries(counts);

  // quiesce: close the fuzz sockets; their jobs go back to the queue
  for (const cl of clients) cl.close();
  await waitUntil(() => (db.prepare("SELECT COUNT(*) AS n FROM jobs WHERE state = 'active'").get() as { n: number }).n === 0, 20000, 'no active job after the fuzz sockets closed');
  await new Promise((res) => setTimeout(res, 200));

  assert.deepEqual(bad, [], `bad answers (seed ${seed})`);
  assert.ok(c.alive, 'coordinator still running');

  // the store is whole
  assert.equal((db.prepare('PRAGMA integrity_check').get() as { integrity_check: string }).integrity_check, 'ok');
  const jobs = db.prepare('SELECT * FROM jobs').all() as { id: string; code: string; kind: string; payload: string; state: string; attempts: number; last_error: string | null; worker: string | null }[];
  const jobById = new Map(jobs.map((j) => [j.id, j]));
  for (const j of jobs) {
    assert.ok(STATES.includes(j.state), `job ${j.id} state ${j.state}`);
    assert.ok(j.kind === 'download' || j.kind === 'fetch_genre', `job ${j.id} kind ${j.kind}`);
    assert.doesNotThrow(() => JSON.parse(j.payload), `job ${j.id} payload`);
    assert.ok(j.attempts >= 0 && j.attempts <= RETRIES, `job ${j.id} attempts ${j.attempts}`);
    if (j.state === 'failed') assert.ok(j.last_error, `failed job ${j.id} without an error`);
  }
  const results = (db.prepare('SELECT job_id, code, vector FROM results ORDER BY n').all() as { job_id: string; code: string; vector: Uint8Array }[]).map((r) => ({ ...r, vector: Buffer.from(r.vector) }));
  for (const res of results) {
    assert.equal(res.vector.length, 800, `result ${res.job_id}: ${res.vector.length} bytes`);
    const v = Array.from({ length: 200 }, (_, i) => res.vector.readFloatLE(i * 4));
    assert.ok(v.every(Number.isFinite), `result ${res.job_id}: a non-finite value`);
    const j = jobById.get(res.job_id);
    assert.ok(j, `result ${res.job_id} without its job`);
    assert.equal(j.state, 'done');
    assert.equal(j.kind, 'download');
    assert.equal(j.code, res.code);
    assert.ok(sentVectors.get(res.job_id)?.has(v.join(',')), `result ${res.job_id}: a vector no worker sent for that job`);
  }
  const withResult = new Set(results.map((x) => x.job_id));
  for (const j of jobs) if (j.kind === 'download' && j.state === 'done') assert.ok(withResult.has(j.id), `done job ${j.id} without a result`);

  // the API says what the database holds
  const sessions = (db.prepare('SELECT code FROM sessions').all() as { code: string }[]).map((s) => s.code);
  for (const s of [code, guarded, ...sessions.filter((x) => x !== code && x !== guarded).slice(0, 5)]) {
    const st = await api<{ queue: Record<string, number> }>(base, `/api/sessions/${s}`);
    assert.equal(st.status, 200);
    const dbCounts = Object.fromEntries(STATES.map((k) => [k, 0]));
    for (const row of db.prepare('SELECT state, COUNT(*) AS n FROM jobs WHERE code = ? GROUP BY state').all(s) as { state: string; n: number }[]) dbCounts[row.state] = row.n;
    for (const k of STATES) assert.equal(st.body.queue[k] ?? 0, dbCounts[k], `${s} ${k}`);
    const listed = await api<unknown[]>(base, `/api/sessions/${s}/jobs?limit=100000`);
    assert.equal(listed.body.length, jobs.filter((j) => j.code === s).length, `${s} job list`);
    const rs = await api<unknown[]>(base, `/api/sessions/${s}/results?vectors=0&limit=100000`);
    const mine = results.filter((x) => x.code === s);
    assert.equal(rs.body.length, mine.length, `${s} results`);
    const npy = await fetch(`${base}/api/sessions/${s}/export.npy`);
    assert.equal(npy.status, 200);
    const { shape, data } = decodeNpy(Buffer.from(await npy.arrayBuffer()));
    assert.deepEqual(shape, [mine.length, 200]);
    assert.deepEqual(Buffer.from(data.buffer, data.byteOffset, data.byteLength), Buffer.concat(mine.map((x) => x.vector)), `${s} export.npy`);
  }
  assert.deepEqual(snapshot(), guardedBefore, 'the session the fuzz never named is unchanged');
  const seedAfter = db.prepare(`SELECT id, kind, payload, dedupe_key, label, created_at FROM jobs WHERE id IN (${seedJobs.map(() => '?').join(',')})`);
  assert.deepEqual(
    new Set(seedAfter.all(...seedJobs.map((j) => (j as { id: string }).id)).map((j) => JSON.stringify(j))),
    new Set(seedJobs.map((j) => JSON.stringify(j))),
    'the jobs queued before the fuzz are all there, asking for the same tracks',
  );

  // a real flow still works
  const fresh = await newSession(base);
  const lines = ['Valid Band - Song One', 'Valid Band - Song Two'];
  const added = await api<{ added: number }>(base, `/api/sessions/${fresh}/jobs`, { body: { lines } });
  assert.equal(added.body.added, 2);
  worker = await stubWorker(base, fresh, { jobs: 2 });
  await waitUntil(async () => (await api<{ status: string }>(base, `/api/sessions/${fresh}`)).body.status === 'complete', 30000, 'the valid session completes');
  const stored = (await api<{ artist: string; title: string; vector: number[] }[]>(base, `/api/sessions/${fresh}/results`)).body;
  assert.equal(stored.length, 2);
  for (const s of stored) {
    assert.equal(s.artist, 'Valid Band');
    assert.deepEqual(s.vector, Array.from(vectorFor(Buffer.from(`${s.artist}|${s.title}|null`))));
  }
  await worker.stop();
  worker = null;

  assert.deepEqual(c.crashSigns(), [], 'no uncaught errors, stack traces or error-level log lines');
  db.close();
  await c.stop();
  assert.equal(c.exit?.code, 0, `clean exit; stderr tail: ${c.err.slice(-1000)}`);
  const after = readOnlySqlite(dbPath);
  assert.equal((after.prepare('PRAGMA integrity_check').get() as { integrity_check: string }).integrity_check, 'ok');
  after.close();
  console.log(
    `fuzz-coordinator: seed ${seed}, ${STEPS} inputs tried (${tried.map(([k, v]) => `${k} ${v}`).join(', ')}); HTTP answers ${JSON.stringify(statusSeen)} (of the resets, ${expectedResets} after an oversized header or body); ` +
      `${results.length} results stored, ${jobs.length} jobs, 0 crashes, 0 hangs, 0 corrupted stores, ${((Date.now() - t0) / 1000).toFixed(1)} s`,
  );
});

// SPDX-License-Identifier: MIT
/**
 * The JSON API and exports against a real coordinator: making codes, queueing pasted lines,
 * uploaded CSV and track objects (with de-duplication and per-line reasons), control, job
 * lists, results, and the JSONL/CSV/.npy exports, whose rows line up.
 */
import assert from 'node:assert/strict';
import { afterEach, test } from 'node:test';
import type { CoordinatorHandle } from '../src/coordinator/server.js';
import { decodeNpy } from '../src/util/npy.js';
import type { WorkerHandle } from '../src/worker/worker.js';
import { api, coordinator, newSession, status, stubWorker } from './support/coordinator.js';
import { waitUntil } from './support/wait.js';

let srv: CoordinatorHandle | null = null;
const workers: WorkerHandle[] = [];

afterEach(async () => {
  await Promise.all(workers.splice(0).map((w) => w.stop()));
  await srv?.close();
  srv = null;
});

test('/api/keepalive answers {"ok":true}; unknown routes 404 with a JSON error', async () => {
  srv = await coordinator();
  assert.deepEqual(await api(srv.url, '/api/keepalive'), { status: 200, body: { ok: true } });
  const r = await api(srv.url, '/api/nope');
  assert.equal(r.status, 404);
  assert.match(String(r.body.error), /No route for GET \/api\/nope/);
});

test('POST /api/sessions makes a 50-bit code with the worker command', async () => {
  srv = await coordinator();
  const r = await api<{ code: string; worker_command: string; worker_socket: string; expires_at: string }>(srv.url, '/api/sessions', { method: 'POST' });
  assert.equal(r.status, 201);
  assert.match(r.body.code, /^[0-9A-HJKMNP-TV-Z]{5}-[0-9A-HJKMNP-TV-Z]{5}$/);
  assert.equal(r.body.worker_command, `npx chaarfm-worker --url ${srv.url} --code ${r.body.code}`);
  assert.equal(r.body.worker_socket, `${srv.url.replace('http', 'ws')}/ws/remote/${r.body.code}/worker`);
  assert.ok(Date.parse(r.body.expires_at) > Date.now());
  const st = await status(srv.url, r.body.code);
  assert.equal(st.status, 'idle');
  assert.equal(st.worker_count, 0);
  assert.equal((await api(srv.url, '/api/sessions/ZZZZZ-ZZZZZ')).status, 404);
});

test('queueing pasted lines: URLs and "Artist - Title", duplicates skipped, bad lines reported', async () => {
  srv = await coordinator();
  const code = await newSession(srv.url);
  const lines = [
    'https://www.youtube.com/watch?v=dQw4w9WgXcQ',
    'https://youtu.be/dQw4w9WgXcQ', // same video
    'Daft Punk - One More Time',
    'daft punk – one more time!', // same after normalising
    '# a comment',
    '',
    'just some words',
    'Björk - Jóga',
    'Bjork - Joga',
  ];
  const r = await api<{ added: number; duplicates: number; invalid: { line: number; reason: string }[] }>(srv.url, `/api/sessions/${code}/jobs`, {
    body: { lines, start: false },
  });
  assert.equal(r.body.added, 3);
  assert.equal(r.body.duplicates, 3);
  assert.deepEqual(r.body.invalid.map((i) => i.line), [7]);
  assert.match(r.body.invalid[0].reason, /expected an http\(s\) URL or "Artist - Title"/);
  // Queued again later: all duplicates.
  const again = await api(srv.url, `/api/sessions/${code}/jobs`, { body: { lines, start: false } });
  assert.equal(again.body.added, 0);
  const st = await status(srv.url, code);
  assert.equal(st.status, 'idle', 'start: false leaves it idle');
  assert.equal(st.queue.queued, 3);
  const jobs = (await api<{ payload: unknown }[]>(srv.url, `/api/sessions/${code}/jobs`)).body;
  assert.deepEqual(jobs.map((j) => j.payload), [
    { artist: null, title: null, youtube_url: 'https://www.youtube.com/watch?v=dQw4w9WgXcQ' },
    { artist: 'Daft Punk', title: 'One More Time', youtube_url: null },
    { artist: 'Björk', title: 'Jóga', youtube_url: null },
  ]);
});

test('an uploaded CSV with a header, a plain text body, and track objects', async () => {
  srv = await coordinator();
  const code = await newSession(srv.url);
  const csv = 'title,artist,url\n"Hello, Goodbye",The Beatles,\nX,Y,https://example.com/x.mp3\n,,\n';
  const r = await api<{ added: number; invalid: unknown[] }>(srv.url, `/api/sessions/${code}/jobs?start=false`, { raw: csv, type: 'text/csv' });
  assert.equal(r.body.added, 2);
  assert.equal(r.body.invalid.length, 1);
  const t = await api<{ added: number }>(srv.url, `/api/sessions/${code}/jobs?start=false`, { raw: 'A - B\nhttps://example.com/y.mp3\n' });
  assert.equal(t.body.added, 2);
  const o = await api<{ added: number; invalid: unknown[] }>(srv.url, `/api/sessions/${code}/jobs`, {
    body: { tracks: [{ url: 'https://example.com/z.mp3' }, { artist: 'C', title: 'D' }, { nothing: 1 }], start: false },
  });
  assert.equal(o.body.added, 2);
  assert.equal(o.body.invalid.length, 1);
  const labels = (await api<{ label: string }[]>(srv.url, `/api/sessions/${code}/jobs`)).body.map((j) => j.label);
  assert.deepEqual(labels, ['The Beatles - Hello, Goodbye', 'https://example.com/x.mp3', 'A - B', 'https://example.com/y.mp3', 'https://example.com/z.mp3', 'C - D']);
});

test('bad requests are refused with a reason: not JSON, no tracks, bad state, bad control', async () => {
  srv = await coordinator();
  const code = await newSession(srv.url);
  const bad = await fetch(`${srv.url}/api/sessions/${code}/jobs`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{' });
  assert.equal(bad.status, 400);
  assert.match(((await bad.json()) as { error: string }).error, /not JSON/);
  assert.equal((await api(srv.url, `/api/sessions/${code}/jobs`, { body: { foo: 1 } })).status, 400);
  assert.equal((await api(srv.url, `/api/sessions/${code}/jobs?state=weird`)).status, 400);
  const c = await api(srv.url, `/api/sessions/${code}/control`, { body: { type: 'resume' } });
  assert.equal(c.status, 409);
  assert.match(String(c.body.message), /Nothing to resume/);
  const l = await api(srv.url, `/api/sessions/${code}/control`, { body: { type: 'start', mode: 'lastfm', username: 'x' } });
  assert.equal(l.status, 409);
  assert.match(String(l.body.message), /Last.fm import is not available/);
  const big = await fetch(`${srv.url}/api/sessions/${code}/jobs`, { method: 'POST', headers: { 'content-type': 'text/plain' }, body: 'A - B\n'.repeat(1_500_000) });
  assert.equal(big.status, 413);
});

test('results and exports: JSONL, CSV and .npy rows line up and hold the stored vectors', async () => {
  srv = await coordinator();
  const code = await newSession(srv.url);
  workers.push(await stubWorker(srv.url, code, { name: 'exporter' }));
  await api(srv.url, `/api/sessions/${code}/jobs`, { body: { lines: ['A1 - T1', 'A2 - T2', 'A3 - T3'] } });
  await waitUntil(async () => (await status(srv!.url, code)).status === 'complete', 5000, 'complete');
  const results = (await api<{ job_id: string; artist: string; title: string; worker: string; vector: number[]; ms: number }[]>(srv.url, `/api/sessions/${code}/results`)).body;
  assert.equal(results.length, 3);
  const jsonl = await (await fetch(`${srv.url}/api/sessions/${code}/export.jsonl`)).text();
  const rows = jsonl.trim().split('\n').map((l) => JSON.parse(l) as { job_id: string; vector: number[]; worker: string });
  assert.deepEqual(rows.map((r) => r.job_id), results.map((r) => r.job_id));
  assert.ok(rows.every((r) => r.worker === 'exporter'));
  const csvRes = await fetch(`${srv.url}/api/sessions/${code}/export.csv`);
  assert.match(String(csvRes.headers.get('content-disposition')), /attachment; filename="chaarfm-.*\.csv"/);
  const csv = (await csvRes.text()).trim().split('\n');
  assert.equal(csv.length, 4);
  const head = csv[0].split(',');
  assert.equal(head.length, 9 + 200);
  assert.equal(head[9], 'v0');
  const npyRes = await fetch(`${srv.url}/api/sessions/${code}/export.npy`);
  const npy = decodeNpy(Buffer.from(await npyRes.arrayBuffer()));
  assert.deepEqual(npy.shape, [3, 200]);
  for (let i = 0; i < 3; i++) {
    const cells = csv[i + 1].split(',');
    assert.equal(cells[0], rows[i].job_id);
    for (const k of [0, 57, 199]) {
      assert.equal(npy.data[i * 200 + k], Math.fround(rows[i].vector[k]), 'npy = jsonl');
      assert.equal(Number(cells[9 + k]), rows[i].vector[k], 'csv = jsonl');
    }
  }
  assert.equal((await api(srv.url, `/api/sessions/${code}/export.xml`)).status, 404);
});

test('making codes is limited per address', async () => {
  srv = await coordinator({ codesPerMinute: 3 });
  const got = [];
  for (let i = 0; i < 5; i++) got.push((await api(srv.url, '/api/sessions', { method: 'POST' })).status);
  assert.deepEqual(got, [201, 201, 201, 429, 429]);
});

test('the worker command follows X-Forwarded-Proto/-Host behind a TLS proxy', async () => {
  srv = await coordinator();
  const r = await fetch(`${srv.url}/api/sessions`, { method: 'POST', headers: { 'x-forwarded-proto': 'https', 'x-forwarded-host': 'ingest.example.org' } });
  const body = (await r.json()) as { code: string; worker_command: string; worker_socket: string };
  assert.equal(body.worker_command, `npx chaarfm-worker --url https://ingest.example.org --code ${body.code}`);
  assert.equal(body.worker_socket, `wss://ingest.example.org/ws/remote/${body.code}/worker`);
});

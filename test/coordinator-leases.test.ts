// SPDX-License-Identifier: MIT
/**
 * The coordinator's promises about time and loss: the worker learns the lease from the upgrade
 * response and ends a job before it runs out; a track that kills every worker that takes it is
 * failed after `drops` lost sockets (a worker that says goodbye does not count); a lease that ran
 * out while the coordinator was down counts an attempt after the restart; and with
 * --accept-any-code guesses leave nothing behind, neither rows nor session runtimes.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, afterEach, test } from 'node:test';
import WebSocket from 'ws';
import type { CoordinatorHandle } from '../src/coordinator/server.js';
import { startCoordinator } from '../src/coordinator/server.js';
import { SqliteStore } from '../src/coordinator/store-sqlite.js';
import { LEASE_HEADER, jobTimeoutFor, parseLeaseHeader } from '../src/protocol/lease.js';
import type { WorkerHandle } from '../src/worker/worker.js';
import { RawClient, api, capturedLogs, coordinator, newSession, socketUrl, status, stubWorker } from './support/coordinator.js';
import { StubMedia } from './support/stand-ins.js';
import { STORES, dropPgSchemas, readOnlySqlite } from './support/stores.js';
import { waitUntil } from './support/wait.js';

let srv: CoordinatorHandle | null = null;
const workers: WorkerHandle[] = [];
const raws: RawClient[] = [];
const dirs: string[] = [];

after(async () => {
  await dropPgSchemas();
  for (const d of dirs) await rm(d, { recursive: true, force: true });
});

afterEach(async () => {
  for (const r of raws.splice(0)) r.close();
  await Promise.all(workers.splice(0).map((w) => w.stop()));
  await srv?.close();
  srv = null;
});

type JobJson = { id: string; state: string; attempts: number; last_error: string | null };

test('the worker job limit: its own, cut to end a tenth of the lease (at most 30 s) before the lease; a malformed header is no lease', () => {
  assert.equal(jobTimeoutFor(20 * 60_000, 15 * 60_000), 15 * 60_000 - 30_000);
  assert.equal(jobTimeoutFor(20 * 60_000, 2000), 1800);
  assert.equal(jobTimeoutFor(60_000, 15 * 60_000), 60_000, 'a shorter limit of its own stays');
  assert.equal(jobTimeoutFor(0, 10_000), 9000, 'no limit of its own: the lease sets one');
  assert.equal(jobTimeoutFor(20 * 60_000, null), 20 * 60_000, 'a server that names no lease (the deployed ones)');
  assert.equal(parseLeaseHeader('900000'), 900_000);
  for (const bad of [undefined, '', 'soon', '-5', '0', '1e9', '12.5']) assert.equal(parseLeaseHeader(bad), null, String(bad));
});

test('the coordinator names its lease in the upgrade response, and no frame changes', async () => {
  srv = await coordinator({ leaseMs: 4321 });
  const code = await newSession(srv.url);
  const ws = new WebSocket(socketUrl(srv.url, code));
  const header = await new Promise<string | string[] | undefined>((resolve, reject) => {
    ws.on('upgrade', (res) => resolve(res.headers[LEASE_HEADER]));
    ws.on('error', reject);
  });
  ws.terminate();
  assert.equal(header, '4321');
});

test('a worker ends a job itself before the lease runs out, instead of computing on after it was given away', async () => {
  const logs = capturedLogs();
  srv = await coordinator({ leaseMs: 1500, retries: 1, logger: logs.logger() });
  const code = await newSession(srv.url);
  const w = await stubWorker(srv.url, code, { media: new StubMedia({ delayMs: 60_000 }) });
  workers.push(w);
  let closes = 0;
  w.on('disconnected', () => closes++);
  await api(srv.url, `/api/sessions/${code}/jobs`, { body: { lines: ['Hang - Forever'] } });
  const job = await waitUntil(async () => (await api<JobJson[]>(srv!.url, `/api/sessions/${code}/jobs?state=failed`)).body[0], 5000, 'the job failed');
  assert.match(job.last_error ?? '', /^Job timed out after 1 s$/, 'failed by the worker, not by the lease');
  assert.equal(logs.lines.filter((l) => l.msg === 'job lease expired').length, 0);
  assert.equal(closes, 0, 'the worker socket was never dropped');
  assert.equal((await status(srv.url, code)).worker_count, 1);
});

for (const kind of STORES) {
  test(`[${kind.name}] a track that kills every worker that takes it fails after 3 lost sockets, with that reason`, { skip: kind.skip }, async () => {
    srv = await coordinator({ drops: 3, retries: 5 }, kind);
    const code = await newSession(srv.url);
    await api(srv.url, `/api/sessions/${code}/jobs`, { body: { lines: ['Deadly - Track', 'Fine - Track'] } });
    let deadly = '';
    for (let i = 0; i < 3; i++) {
      const raw = await RawClient.connect(socketUrl(srv.url, code));
      raws.push(raw);
      await waitUntil(() => raw.jobs().length === 1, 3000, `job sent to worker ${i + 1}`);
      deadly ||= raw.jobs()[0].job_id;
      assert.equal(raw.jobs()[0].job_id, deadly, 'the same track every time, at the front');
      raw.close(); // no close frame: a crashed or OOM-killed worker
      if (i < 2) await waitUntil(async () => (await api<JobJson[]>(srv!.url, `/api/sessions/${code}/jobs?state=queued`)).body.length === 2, 3000, 'back in the queue');
    }
    const failed = await waitUntil(async () => (await api<JobJson[]>(srv!.url, `/api/sessions/${code}/jobs?state=failed`)).body[0], 3000, 'failed');
    assert.equal(failed.id, deadly);
    assert.equal(failed.attempts, 0, 'lost sockets are not attempts');
    assert.match(failed.last_error ?? '', /^Lost 3 worker\(s\) while running it \(the track may crash the worker or exhaust its memory\); the last closed with code 1006/);
    const next = await RawClient.connect(socketUrl(srv.url, code));
    raws.push(next);
    await waitUntil(() => next.jobs().length === 1, 3000, 'the other track is sent');
    assert.notEqual(next.jobs()[0].job_id, deadly);
  });
}

test('a worker that says goodbye (close 1001) mid-job does not count against the track', async () => {
  srv = await coordinator({ drops: 2 });
  const code = await newSession(srv.url);
  await api(srv.url, `/api/sessions/${code}/jobs`, { body: { lines: ['Long - Track'] } });
  for (let i = 0; i < 4; i++) {
    const raw = await RawClient.connect(socketUrl(srv.url, code));
    raws.push(raw);
    await waitUntil(() => raw.jobs().length === 1, 3000, 'job sent');
    raw.ws.close(1001, 'worker shutting down');
    await waitUntil(async () => (await api<JobJson[]>(srv!.url, `/api/sessions/${code}/jobs?state=queued`)).body.length === 1, 3000, 'back in the queue');
  }
  const [j] = await srv.store.listJobs(code);
  assert.deepEqual([j.state, j.drops, j.attempts], ['queued', 0, 0]);
});

test('a lease that ran out while the coordinator was down counts an attempt at the restart', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'chaarfm-lease-'));
  dirs.push(dir);
  const db = join(dir, 'c.db');
  const s = new SqliteStore(db);
  const now = Date.now();
  await s.createSession('C', now + 60_000, now);
  await s.addJobs('C', [
    { kind: 'download', payload: { artist: 'A', title: 'ran out', youtube_url: null }, dedupeKey: 'a', label: 'ran out' },
    { kind: 'download', payload: { artist: 'A', title: 'still live', youtube_url: null }, dedupeKey: 'b', label: 'still live' },
  ]);
  await s.claimNext('C', { worker: 'w', token: 't1', owner: 'old' }, now - 60_000, now - 1000);
  await s.claimNext('C', { worker: 'w', token: 't2', owner: 'old' }, now - 1000, now + 600_000);
  await s.close(); // as a kill -9 leaves it: both active
  srv = await startCoordinator({ port: 0, db, heartbeatMs: 0, retries: 1 });
  await srv.close();
  srv = null;
  const d = readOnlySqlite(db);
  const rows = d.prepare('SELECT label, state, attempts FROM jobs ORDER BY label').all() as { label: string; state: string; attempts: number }[];
  d.close();
  assert.deepEqual(
    rows.map((r) => [r.label, r.state, r.attempts]),
    [
      ['ran out', 'failed', 1],
      ['still live', 'queued', 0],
    ],
  );
});

test('--accept-any-code: guessed codes (and a stop or pause on them) leave no session row and no session in memory; a used one is kept', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'chaarfm-any-'));
  dirs.push(dir);
  const db = join(dir, 'c.db');
  srv = await startCoordinator({ port: 0, db, heartbeatMs: 0, acceptAnyCode: true });
  for (let i = 0; i < 60; i++) {
    const raw = await RawClient.connect(socketUrl(srv.url, `guess-${i}`));
    assert.equal(raw.closed, null, 'any code opens a session');
    const page = await RawClient.connect(socketUrl(srv.url, `page-${i}`, 'ui'));
    page.send({ type: i % 2 ? 'stop' : 'pause' });
    await waitUntil(() => page.messages.some((m) => m.type === 'control'), 3000, 'control answered');
    assert.equal((await api(srv.url, `/api/sessions/api-${i}`)).status, 200);
    raw.close();
    page.close();
  }
  await waitUntil(() => srv!.scheduler.liveSessions === 0, 5000, 'every session runtime released');
  const used = await api<{ added: number }>(srv.url, '/api/sessions/1234/jobs', { body: { lines: ['A - B'], start: false } });
  assert.equal(used.body.added, 1);
  await srv.close();
  srv = null;
  const d = readOnlySqlite(db);
  const codes = (d.prepare('SELECT code FROM sessions').all() as { code: string }[]).map((r) => r.code);
  d.close();
  assert.deepEqual(codes, ['1234']);
});

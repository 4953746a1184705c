// SPDX-License-Identifier: MIT
/**
 * Scale-out on PostgreSQL: two coordinators (as two processes behind one address would) share
 * one database. Jobs queued through one are done by workers on both, each exactly once; a
 * pause made through one holds the other; and the jobs of a coordinator that stops answering
 * go back to the queue for the other. Skips, saying why, when no PostgreSQL is reachable.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, test } from 'node:test';
import type { CoordinatorHandle } from '../src/coordinator/server.js';
import { startCoordinator } from '../src/coordinator/server.js';
import type { Store } from '../src/coordinator/store.js';
import type { WorkerHandle } from '../src/worker/worker.js';
import { RawClient, api, newSession, socketUrl, status, stubWorker } from './support/coordinator.js';
import { waitUntil } from './support/wait.js';
import { PG_URL, dropPgSchemas, freshPgStore, pgSkip } from './support/stores.js';

const handles: CoordinatorHandle[] = [];
const stores: Store[] = [];
const workers: WorkerHandle[] = [];
const raws: RawClient[] = [];

after(async () => {
  for (const r of raws) r.close();
  await Promise.all(workers.map((w) => w.stop()));
  for (const h of handles) await h.close();
  for (const s of stores) await s.close().catch(() => {});
  await dropPgSchemas();
});

async function pair(): Promise<[CoordinatorHandle, CoordinatorHandle]> {
  const schema = `t_${randomBytes(6).toString('hex')}`;
  const out: CoordinatorHandle[] = [];
  for (let i = 0; i < 2; i++) {
    const store = await freshPgStore(schema);
    stores.push(store);
    const h = await startCoordinator({ port: 0, store, heartbeatMs: 0, tickMs: 100, staleMs: 1000 });
    handles.push(h);
    out.push(h);
  }
  return out as [CoordinatorHandle, CoordinatorHandle];
}

test('two coordinators on one database: every job done once, by workers on both', { skip: pgSkip ?? false }, async () => {
  const [a, b] = await pair();
  const code = await newSession(a.url);
  for (const [h, n] of [[a, 'a1'], [a, 'a2'], [b, 'b1'], [b, 'b2']] as const) workers.push(await stubWorker(h.url, code, { name: n, delayMs: 20 }));
  const lines = Array.from({ length: 40 }, (_, i) => `X ${i} - Y ${i}`);
  assert.equal((await api(a.url, `/api/sessions/${code}/jobs`, { body: { lines } })).body.added, 40);
  await waitUntil(async () => (await status(b.url, code)).queue.done === 40, 20000, 'all done');
  const results = (await api<{ job_id: string; worker: string }[]>(b.url, `/api/sessions/${code}/results`)).body;
  assert.equal(results.length, 40);
  assert.equal(new Set(results.map((r) => r.job_id)).size, 40);
  const names = new Set(results.map((r) => r.worker));
  assert.ok([...names].some((n) => n.startsWith('a')) && [...names].some((n) => n.startsWith('b')), `both sides worked: ${[...names].join(',')}`);
});

test('a pause through one coordinator holds the workers of the other', { skip: pgSkip ?? false }, async () => {
  const [a, b] = await pair();
  const code = await newSession(a.url);
  await api(a.url, `/api/sessions/${code}/jobs`, { body: { lines: ['P - 1', 'P - 2'], start: false } });
  await api(a.url, `/api/sessions/${code}/control`, { body: { type: 'start', mode: 'queue' } });
  await api(a.url, `/api/sessions/${code}/control`, { body: { type: 'pause' } });
  const w = await RawClient.connect(socketUrl(b.url, code));
  raws.push(w);
  await new Promise((r) => setTimeout(r, 400));
  assert.equal(w.jobs().length, 0, 'no job while paused elsewhere');
  await api(a.url, `/api/sessions/${code}/control`, { body: { type: 'resume' } });
  await waitUntil(() => w.jobs().length === 1, 3000, 'job after resume elsewhere');
});

test('jobs held by a coordinator that stops answering go back to the queue for the other', { skip: pgSkip ?? false }, async () => {
  const [a, b] = await pair();
  const code = await newSession(a.url);
  const onA = await RawClient.connect(socketUrl(a.url, code));
  raws.push(onA);
  await api(a.url, `/api/sessions/${code}/jobs`, { body: { lines: ['Held - 1'] } });
  const held = (await waitUntil(() => onA.jobs()[0], 3000, 'job on a')).job_id;
  // Freeze a: no heartbeat any more, its sockets stay as they are (a hung process).
  a.scheduler.stopTicking();
  const onB = await RawClient.connect(socketUrl(b.url, code));
  raws.push(onB);
  const job = await waitUntil(() => onB.jobs()[0], 8000, 'job moved to b');
  assert.equal(job.job_id, held);
  // a's late result is refused: its claim is gone.
  onA.send({ type: 'result', job_id: held, status: 'success', data: { artist: 'a', title: 't', youtube_id: 'x', source_url: null, vector: Array(200).fill(0.1) } });
  await new Promise((r) => setTimeout(r, 200));
  assert.equal((await api<unknown[]>(b.url, `/api/sessions/${code}/results`)).body.length, 0);
});

test('--db postgres://…?schema=name keeps the tables in that schema (made when missing)', { skip: pgSkip ?? false }, async () => {
  const { openStore } = await import('../src/coordinator/server.js');
  const schema = `t_${randomBytes(6).toString('hex')}`;
  const u = new URL(PG_URL);
  u.searchParams.set('schema', schema);
  const store = await openStore(u.toString());
  stores.push(store);
  await store.createSession('ABCDEFGHJK', Date.now() + 60_000, Date.now());
  const pg = (await import('pg')).default;
  const c = new pg.Client({ connectionString: PG_URL });
  await c.connect();
  try {
    const t = await c.query('SELECT table_name FROM information_schema.tables WHERE table_schema = $1 ORDER BY table_name', [schema]);
    assert.ok(['jobs', 'results', 'sessions'].every((n) => t.rows.some((r: { table_name: string }) => r.table_name === n)), JSON.stringify(t.rows));
    const n = await c.query(`SELECT count(*)::int AS n FROM ${schema}.sessions`);
    assert.equal(n.rows[0].n, 1);
  } finally {
    await store.close();
    await c.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
    await c.end();
  }
});

test('a database made before results had tags gets the column; its results read back with no tags', { skip: pgSkip ?? false }, async () => {
  const schema = `t_${randomBytes(6).toString('hex')}`;
  const pg = (await import('pg')).default;
  const c = new pg.Client({ connectionString: PG_URL });
  await c.connect();
  try {
    await c.query(`CREATE SCHEMA ${schema}`);
    await c.query(`CREATE TABLE ${schema}.results (n BIGSERIAL PRIMARY KEY, job_id TEXT NOT NULL UNIQUE, code TEXT NOT NULL, artist TEXT NOT NULL, title TEXT NOT NULL,
      youtube_id TEXT NOT NULL, source_url TEXT, vector BYTEA NOT NULL, worker TEXT NOT NULL, queued_at BIGINT NOT NULL, started_at BIGINT NOT NULL, finished_at BIGINT NOT NULL)`);
    await c.query(`INSERT INTO ${schema}.results (job_id, code, artist, title, youtube_id, vector, worker, queued_at, started_at, finished_at) VALUES ('j1', 'C', 'Old', 'Row', 'y', $1, 'w', 1, 2, 3)`, [Buffer.alloc(800)]);
  } finally {
    await c.end();
  }
  const s = await freshPgStore(schema);
  stores.push(s);
  assert.deepEqual((await s.listVectors({ code: 'C' })).map((r) => [r.jobId, r.title, r.tags, r.vector.length]), [['j1', 'Row', null, 200]]);
});

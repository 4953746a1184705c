// SPDX-License-Identifier: MIT
/**
 * The SQLite store's durability (the store contract is in coordinator-store.test.ts): a real `chaarfm-worker serve` child process killed with
 * SIGKILL mid-run loses no queued job and no stored result, its in-flight jobs go back to the
 * queue at restart, and the workers reconnect on their own and finish the queue.
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { SqliteStore, loadSqlite } from '../src/coordinator/store-sqlite.js';
import type { NewJob } from '../src/coordinator/store.js';
import type { WorkerHandle } from '../src/worker/worker.js';
import { api, newSession, status, stubWorker } from './support/coordinator.js';
import { waitUntil } from './support/wait.js';

const here = dirname(fileURLToPath(import.meta.url));
const BIN = join(here, '..', 'src', 'bin.js');
const dirs: string[] = [];
const children: ChildProcess[] = [];
const workers: WorkerHandle[] = [];

after(async () => {
  await Promise.all(workers.map((w) => w.stop()));
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  for (const d of dirs) await rm(d, { recursive: true, force: true });
});

async function tmp(): Promise<string> {
  const d = await mkdtemp(join(tmpdir(), 'cfw-coord-'));
  dirs.push(d);
  return d;
}

test('a SQLite file made before results had tags gets the column; its results read back with no tags', async () => {
  const dir = await tmp();
  const path = join(dir, 'old.db');
  const db = new (loadSqlite().DatabaseSync)(path);
  db.exec(`CREATE TABLE results (n INTEGER PRIMARY KEY AUTOINCREMENT, job_id TEXT NOT NULL UNIQUE, code TEXT NOT NULL, artist TEXT NOT NULL, title TEXT NOT NULL,
    youtube_id TEXT NOT NULL, source_url TEXT, vector BLOB NOT NULL, worker TEXT NOT NULL, queued_at INTEGER NOT NULL, started_at INTEGER NOT NULL, finished_at INTEGER NOT NULL)`);
  db.prepare('INSERT INTO results (job_id, code, artist, title, youtube_id, source_url, vector, worker, queued_at, started_at, finished_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)').run(
    'j1', 'C', 'Old', 'Row', 'y', null, Buffer.alloc(800), 'w', 1, 2, 3,
  );
  db.close();
  const s = new SqliteStore(path);
  try {
    const rows = await s.listVectors({ code: 'C' });
    assert.deepEqual(rows.map((r) => [r.jobId, r.title, r.tags, r.vector.length]), [['j1', 'Row', null, 200]]);
  } finally {
    await s.close();
  }
});

test('a SQLite file made by the first release (jobs without drops and owner) opens, and its queued job is claimed, dropped and counted', async () => {
  const dir = await tmp();
  const path = join(dir, 'first.db');
  const db = new (loadSqlite().DatabaseSync)(path);
  db.exec(`CREATE TABLE jobs (id TEXT PRIMARY KEY, code TEXT NOT NULL, seq INTEGER NOT NULL, kind TEXT NOT NULL, payload TEXT NOT NULL, dedupe_key TEXT,
    label TEXT NOT NULL, state TEXT NOT NULL, attempts INTEGER NOT NULL DEFAULT 0, last_error TEXT, worker TEXT, claim TEXT, requested_count INTEGER,
    created_at INTEGER NOT NULL, started_at INTEGER, finished_at INTEGER, lease_until INTEGER);
    CREATE INDEX jobs_state ON jobs (state);`);
  db.prepare("INSERT INTO jobs (id, code, seq, kind, payload, dedupe_key, label, state, created_at) VALUES ('j1', 'C', 1, 'download', ?, 'k', 'Old - Job', 'queued', 1)").run(
    JSON.stringify({ artist: 'Old', title: 'Job', youtube_url: null }),
  );
  db.close();
  const s = new SqliteStore(path);
  try {
    const j = (await s.claimNext('C', { worker: 'w', token: 't', owner: 'o' }, 1, 2))!;
    assert.deepEqual([j.id, j.label, j.drops], ['j1', 'Old - Job', 0]);
    assert.equal(await s.dropHeld(j.id, 't', 3, 'socket closed', 3), 'queued');
    assert.equal((await s.getJob('j1'))?.drops, 1);
  } finally {
    await s.close();
  }
});

test('a SQLite file keeps queued jobs across close and reopen; active ones come back at the front', async () => {
  const dir = await tmp();
  const path = join(dir, 'q.db');
  let s = new SqliteStore(path);
  await s.createSession('C', Date.now() + 60_000, Date.now());
  const mk = (label: string): NewJob => ({ kind: 'download', payload: { artist: 'A', title: label, youtube_url: null }, dedupeKey: label, label });
  await s.addJobs('C', [mk('a'), mk('b'), mk('c')]);
  await s.claimNext('C', { worker: 'w', token: 't', owner: 'o' }, 1, 2);
  await s.close();
  s = new SqliteStore(path);
  assert.equal(await s.recoverActive(Date.now(), 0), 1);
  assert.deepEqual((await s.listJobs('C', { state: 'queued' })).map((j) => j.label), ['a', 'b', 'c']);
  await s.close();
});

function startServe(port: number, db: string): Promise<{ child: ChildProcess; url: string; log: () => string }> {
  const child = spawn(process.execPath, [BIN, 'serve', '--port', String(port), '--db', db, '--log-format', 'json'], { stdio: ['ignore', 'pipe', 'pipe'] });
  children.push(child);
  let err = '';
  child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
  return new Promise((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`serve did not start: ${err}`)), 10000);
    child.stderr!.on('data', () => {
      const m = /listening on (http:\/\/[\d.]+:\d+)/.exec(err);
      if (m) {
        clearTimeout(t);
        resolve({ child, url: m[1], log: () => err });
      }
    });
    child.on('exit', (code) => reject(new Error(`serve exited with ${code}: ${err}`)));
  });
}

test('kill -9 of the server loses no queued job or stored result; workers reconnect and finish', async () => {
  const dir = await tmp();
  const db = join(dir, 'coord.db');
  const first = await startServe(0, db);
  const port = Number(new URL(first.url).port);
  const code = await newSession(first.url);
  const lines = Array.from({ length: 40 }, (_, i) => `Band ${i} - Tune ${i}`);
  assert.equal((await api(first.url, `/api/sessions/${code}/jobs`, { body: { lines } })).body.added, 40);
  for (const name of ['k1', 'k2']) workers.push(await stubWorker(first.url, code, { name, delayMs: 60 }));
  await waitUntil(async () => (await status(first.url, code)).queue.done >= 8, 10000, '8 results');
  const before = (await api<{ job_id: string }[]>(first.url, `/api/sessions/${code}/results`)).body.map((r) => r.job_id);
  first.child.kill('SIGKILL');
  await new Promise((r) => first.child.once('exit', r));

  const second = await startServe(port, db);
  assert.equal(second.url, first.url);
  const st = await waitUntil(async () => {
    const s = await status(second.url, code);
    return s.status === 'complete' && s;
  }, 20000, 'queue finished after the restart');
  assert.equal(st.queue.done, 40);
  assert.equal(st.queue.failed + st.queue.queued + st.queue.active, 0);
  assert.equal(st.worker_count, 2, 'both workers reconnected on their own');
  const results = (await api<{ job_id: string; title: string }[]>(second.url, `/api/sessions/${code}/results`)).body;
  assert.equal(results.length, 40);
  assert.equal(new Set(results.map((r) => r.title)).size, 40, 'every track once');
  const after = new Set(results.map((r) => r.job_id));
  for (const id of before) assert.ok(after.has(id), `result ${id} stored before the kill survived`);
  assert.match(second.log(), /job\(s\) in flight when the last run ended went back to the front of the queue/);
  second.child.kill('SIGTERM');
  await new Promise((r) => second.child.once('exit', r));
});

test("node:sqlite's ExperimentalWarning is held back while it loads, and nothing else is", async () => {
  const { withoutSqliteWarning, loadSqlite } = await import('../src/coordinator/store-sqlite.js');
  const seen: string[] = [];
  const onWarning = (w: Error) => seen.push(`${w.name}: ${w.message}`);
  process.on('warning', onWarning);
  try {
    const sqliteWarning = 'SQLite is an experimental feature and might change at any time';
    withoutSqliteWarning(() => {
      process.emitWarning(sqliteWarning, 'ExperimentalWarning');
      process.emitWarning('Some other feature is experimental', 'ExperimentalWarning');
      process.emitWarning('SQLite said something else', 'DeprecationWarning');
    });
    assert.equal(typeof loadSqlite().DatabaseSync, 'function');
    process.emitWarning(sqliteWarning, 'ExperimentalWarning'); // outside the load: not held back
    await new Promise((r) => setImmediate(r));
    assert.deepEqual(seen, [
      'ExperimentalWarning: Some other feature is experimental',
      'DeprecationWarning: SQLite said something else',
      `ExperimentalWarning: ${sqliteWarning}`,
    ]);
  } finally {
    process.off('warning', onWarning);
  }
});

test('statements are prepared once: the number held does not grow with the jobs that pass', async () => {
  const s = new SqliteStore(':memory:');
  const claim = { worker: 'w', token: 't', owner: 'o' };
  const round = async (r: number) => {
    await s.addJobs('C', Array.from({ length: 50 }, (_, i): NewJob => ({ kind: 'download', payload: { artist: 'A', title: `${r}-${i}`, youtube_url: null }, dedupeKey: `${r}-${i}`, label: `${r}-${i}` })));
    await s.addJobs('C', [{ kind: 'download', payload: { artist: 'A', title: `f${r}`, youtube_url: null }, dedupeKey: `f${r}`, label: `f${r}` }], { front: true });
    for (let i = 0; i < 51; i++) {
      const j = (await s.claimNext('C', claim, 1, 2))!;
      if (i % 3 === 0) await s.requeueFront(j.id, 't');
      else if (i % 3 === 1) await s.failAttempt(j.id, 't', 'x', 1, 3, false);
      else await s.dropHeld(j.id, 't', 1, 'lost', 3);
    }
    await s.recoverActive(Date.now(), 0, 3);
  };
  await s.createSession('C', Date.now() + 60_000, Date.now());
  await round(1);
  const held = s.preparedStatements;
  for (let r = 2; r <= 5; r++) await round(r);
  assert.equal(s.preparedStatements, held, `${held} statements after one round, ${s.preparedStatements} after five`);
  assert.ok(held < 40, `${held} statements`);
  await s.close();
});

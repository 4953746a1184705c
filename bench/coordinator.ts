// SPDX-License-Identifier: MIT
/**
 * Coordinator throughput and memory: a real `chaarfm-worker serve` child process, simulated
 * workers on loopback that answer every job at once with a valid 200-float result.
 *  1. jobs/s: N jobs queued in one request, W workers; from the request until the status says
 *     all N are done (each job dispatched, its result validated and committed). Printed with
 *     the ratio to the store alone (claim + commit in-process, no sockets) measured in the
 *     same run.
 *  2. RSS of the server with S idle worker sockets, and per socket.
 * Run: `npm run build && node dist/bench/coordinator.js [--workers 500] [--jobs 20000]
 * [--sockets 1000] [--pg postgres://...]`. Targets (issue 5): >= 2,000 jobs/s on SQLite,
 * 1,000 sockets under 300 MB. Not part of the tests.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import WebSocket from 'ws';
import { SqliteStore } from '../src/coordinator/store-sqlite.js';

const here = dirname(fileURLToPath(import.meta.url));
const BIN = join(here, '..', 'src', 'bin.js');

function arg(name: string, def: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1] : def;
}
const W = Number(arg('workers', '500'));
const N = Number(arg('jobs', '20000'));
const S = Number(arg('sockets', '1000'));
const PG = arg('pg', '');

function rssMb(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) / 1024 : NaN;
}

async function serve(db: string): Promise<{ child: ChildProcess; url: string }> {
  const child = spawn(process.execPath, [BIN, 'serve', '--port', '0', '--db', db, '--log-format', 'json'], { stdio: ['ignore', 'ignore', 'pipe'] });
  let err = '';
  return new Promise((resolve, reject) => {
    child.stderr!.on('data', (d: Buffer) => {
      err += d.toString();
      const m = /listening on (http:\/\/[\d.]+:\d+)/.exec(err);
      if (m) resolve({ child, url: m[1] });
      if (err.length > 100_000) err = err.slice(-10_000);
    });
    child.on('exit', (c) => reject(new Error(`serve exited ${c}: ${err}`)));
  });
}

async function post(url: string, body: unknown): Promise<Record<string, unknown>> {
  const r = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  return (await r.json()) as Record<string, unknown>;
}

const VECTOR = JSON.stringify(Array.from({ length: 200 }, (_, i) => Math.sin(i) / 3));

function openWorkers(url: string, code: string, n: number, answer: boolean): Promise<WebSocket[]> {
  const wsUrl = `${url.replace('http', 'ws')}/ws/remote/${code}/worker`;
  return Promise.all(
    Array.from({ length: n }, (_, i) => {
      const ws = new WebSocket(wsUrl, { perMessageDeflate: false });
      if (answer)
        ws.on('message', (d) => {
          const m = JSON.parse(String(d)) as { type: string; job_id: string };
          if (m.type === 'job')
            ws.send(`{"type":"result","job_id":"${m.job_id}","status":"success","data":{"artist":"a","title":"t","youtube_id":"x${i}","source_url":null,"vector":${VECTOR}}}`);
        });
      return new Promise<WebSocket>((res, rej) => {
        ws.once('open', () => res(ws));
        ws.once('error', rej);
      });
    }),
  );
}

async function throughput(db: string): Promise<number> {
  const { child, url } = await serve(db);
  try {
    const { code } = (await post(`${url}/api/sessions`, {})) as { code: string };
    const sockets = await openWorkers(url, code, W, true);
    const lines = Array.from({ length: N }, (_, i) => `Bench ${i} - Track ${i}`);
    const t0 = performance.now();
    await post(`${url}/api/sessions/${code}/jobs`, { lines });
    for (;;) {
      const st = (await (await fetch(`${url}/api/sessions/${code}`)).json()) as { queue: { done: number } };
      if (st.queue.done >= N) break;
      await new Promise((r) => setTimeout(r, 50));
    }
    const s = (performance.now() - t0) / 1000;
    for (const ws of sockets) ws.terminate();
    return N / s;
  } finally {
    child.kill('SIGKILL');
  }
}

async function storeAlone(path: string): Promise<number> {
  const s = new SqliteStore(path);
  const n = Math.min(N, 5000);
  const t0 = performance.now();
  {
    await s.createSession('B', Date.now() + 1e9, Date.now());
    await s.addJobs('B', Array.from({ length: n }, (_, i) => ({ kind: 'download' as const, payload: { artist: 'a', title: `t${i}`, youtube_url: null }, dedupeKey: `k${i}`, label: `t${i}` })));
    const v = new Float32Array(200).fill(0.1);
    const claim = { worker: 'w', token: 't', owner: 'o' };
    // What the coordinator does per job: store a result and claim the next job in one commit.
    for (let j = await s.claimNext('B', claim, 1, 2); j; )
      j = (await s.completeAndClaim(j.id, 't', { artist: 'a', title: 't', youtubeId: 'x', sourceUrl: null, vector: v, worker: 'w', finishedAt: 3 }, { code: 'B', claim, now: 1, leaseUntil: 2 })).next;
    await s.close();
    return n / ((performance.now() - t0) / 1000);
  }
}

async function idleRss(db: string): Promise<{ base: number; loaded: number }> {
  const { child, url } = await serve(db);
  try {
    const { code } = (await post(`${url}/api/sessions`, {})) as { code: string };
    await new Promise((r) => setTimeout(r, 500));
    const base = rssMb(child.pid!);
    const sockets: WebSocket[] = [];
    for (let i = 0; i < S; i += 100) sockets.push(...(await openWorkers(url, code, Math.min(100, S - i), false)));
    await new Promise((r) => setTimeout(r, 1000));
    const loaded = rssMb(child.pid!);
    for (const ws of sockets) ws.terminate();
    return { base, loaded };
  } finally {
    child.kill('SIGKILL');
  }
}

const dir = await mkdtemp(join(tmpdir(), 'chaarfm-coord-bench-'));
try {
  console.log(`coordinator bench: ${W} workers, ${N} jobs, ${S} idle sockets`);
  const alone = await storeAlone(join(dir, 'alone.db'));
  console.log(`store alone (SQLite, in-process: result + next claim, one commit each): ${alone.toFixed(0)} jobs/s  (baseline)`);
  const sq = await throughput(join(dir, 'bench.db'));
  console.log(`coordinator on SQLite: ${sq.toFixed(0)} jobs/s  (${(sq / alone).toFixed(2)}x the store alone; target >= 2000)`);
  if (PG) {
    const pg = await throughput(PG);
    console.log(`coordinator on PostgreSQL: ${pg.toFixed(0)} jobs/s  (${(pg / sq).toFixed(2)}x SQLite)`);
  }
  const rss = await idleRss(join(dir, 'rss.db'));
  console.log(
    `RSS: ${rss.base.toFixed(0)} MB idle, ${rss.loaded.toFixed(0)} MB with ${S} idle worker sockets (${(((rss.loaded - rss.base) * 1024) / S).toFixed(1)} kB per socket; target < 300 MB)`,
  );
  if (PG) {
    const p = await idleRss(PG);
    console.log(`RSS on PostgreSQL: ${p.base.toFixed(0)} MB idle, ${p.loaded.toFixed(0)} MB with ${S} sockets`);
  }
} finally {
  await rm(dir, { recursive: true, force: true });
}

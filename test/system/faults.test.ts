// SPDX-License-Identifier: MIT
/**
 * Fault injection with the real pieces: `serve` coordinators (SQLite; then PostgreSQL with two
 * coordinator processes), four worker CLIs (`--jobs 2`, native backend when built) talking to
 * them through a TCP proxy, and generated tracks served over local HTTP to the real yt-dlp.
 * A seeded schedule (CHAARFM_FAULT_SEED; the seed is printed) injects, at random moments:
 * kill -9 of a worker mid-download and mid-inference (restarted), kill -9 of a coordinator
 * (restarted), connections cut, stalled beyond the lease and corrupted by dropped bytes, a
 * socket that takes a job and never answers, and a full disk in one worker's temp folder.
 *
 * At the end: every track has exactly one stored result or one failed job with its reason
 * (API and the store read directly), every stored vector equals `vectorize` on the same file
 * bit for bit, no job was sent to a worker after its result was stored, no job folder is
 * left, and every process that was not killed is still up. A table compares faults, retries
 * and drain time with a run without faults on the same store.
 *
 * CHAARFM_FAULT_TRACKS changes the number of tracks (default 60; 16 short ones on the
 * portable backend, when the native addon is not built).
 */
import assert from 'node:assert/strict';
import { execFile, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, readdirSync, rmSync, writeSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { after, before, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { promisify } from 'node:util';
import { isLogEvent, LogEvent } from '../../src/log/events.js';
import { CODECS, MediaServer, makeMusicClip } from '../support/media-server.js';
import { RawClient, api, socketUrl } from '../support/coordinator.js';
import { loadTestBinding } from '../support/native-addon.js';
import { PG_URL, pgSkip, readOnlySqlite } from '../support/stores.js';
import { waitUntil } from '../support/wait.js';
import { checkCoordinatorLogs, checkWorkerLogs, unlandedFaults } from './support/fault-checks.js';
import { FAULT_KINDS, faultSeed, makeSchedule, rng, type FaultEvent, type FaultKind } from './support/fault-schedule.js';
import { BIN, CoordinatorRole, WorkerRole, type Proc } from './support/processes.js';
import { TcpProxy } from './support/tcp-proxy.js';

const run = promisify(execFile);

const haveTools = ['ffmpeg', 'yt-dlp'].every((t) => spawnSync(t, ['--version']).status === 0 || spawnSync(t, ['-version']).status === 0);
const toolSkip = haveTools ? false : 'needs ffmpeg and yt-dlp on PATH';
const native = loadTestBinding();
const BACKEND: 'native' | 'wasm' = native.skip ? 'wasm' : 'native';
const TRACKS = Number(process.env.CHAARFM_FAULT_TRACKS ?? (BACKEND === 'native' ? 60 : 16));
const [MIN_S, MAX_S] = BACKEND === 'native' ? [5, 40] : [5, 12];
const LEASE_S = 30;
const RETRIES = 5;
const WORKERS = 4;
const SEED = faultSeed();
/** Downloads run at this many bytes per second per connection, so "mid-download" lasts. */
const MEDIA_RATE = 160_000;

/** Faults per faulty run, by kind. */
const FAULTS: Record<FaultKind, number> = {
  'kill-worker-download': 2,
  'kill-worker-inference': 2,
  'kill-coordinator': 1,
  'proxy-cut': 2,
  'proxy-stall': 1,
  'proxy-drop-bytes': 2,
  'no-answer-worker': 1,
  'disk-full': 1,
};

interface Track {
  file: string;
  url: string;
  seconds: number;
  /** Where in which generated clip this track is cut from. */
  offset: number;
  base: string;
}

interface Summary {
  store: string;
  faults: boolean;
  injected: Partial<Record<FaultKind, number>>;
  missed: string[];
  done: number;
  failed: number;
  /** Jobs started on a worker more than once. */
  restarted: number;
  /** Failed attempts counted by the coordinator (lease expiries, failed results). */
  failedAttempts: number;
  /** Leases that ran out (coordinator logs). */
  leaseExpiries: number;
  drainS: number;
}

let work = '';
let media: MediaServer | null = null;
let mediaProxy: TcpProxy | null = null;
let tracks: Track[] = [];
const expected = new Map<string, Float32Array>();
const summaries: Summary[] = [];
const cleanups: (() => Promise<void> | void)[] = [];

console.log(`# fault seed ${SEED} (replay: CHAARFM_FAULT_SEED=${SEED}); backend ${BACKEND}${native.skip ? ` (${native.skip})` : ''}; ${TRACKS} tracks of ${MIN_S}-${MAX_S} s`);

before(async () => {
  if (toolSkip) return;
  work = await mkdtemp(join(tmpdir(), 'cfw-faults-'));
  const dir = join(work, 'media');
  mkdirSync(dir);
  // Track lengths come from a fixed seed: the same tracks whatever the fault seed.
  // Each track is a slice (its own offset and length) of one of 8 generated clips, encoded
  // to MP3: much faster than generating every track.
  const r = rng(20261129);
  const t0 = Date.now();
  const BASES = 8;
  const baseS = MAX_S + 10;
  const bases = Array.from({ length: BASES }, (_, k) => join(work, `base-${k}.wav`));
  bases.forEach((b, k) => makeMusicClip(b, { seconds: baseS, rate: 44100, channels: 2, codec: CODECS.wav, seed: k }));
  tracks = [];
  for (let i = 0; i < TRACKS; i++) {
    const seconds = Math.round((MIN_S + r() * (MAX_S - MIN_S)) * 10) / 10;
    const offset = Math.round(r() * (baseS - seconds) * 10) / 10;
    tracks.push({ file: join(dir, `track-${String(i).padStart(2, '0')}.mp3`), url: '', seconds, offset, base: bases[i % BASES] });
  }
  const slice = (t: Track) =>
    run('ffmpeg', ['-hide_banner', '-v', 'error', '-y', '-ss', String(t.offset), '-t', String(t.seconds), '-i', t.base, ...CODECS.mp3, t.file]);
  for (let i = 0; i < tracks.length; i += 2) await Promise.all(tracks.slice(i, i + 2).map(slice));
  media = await MediaServer.start(dir);
  const mediaPort = Number(new URL(media.url('x')).port);
  mediaProxy = await TcpProxy.start([mediaPort], { downRateBps: MEDIA_RATE });
  for (const t of tracks) t.url = `${mediaProxy.url}/${basename(t.file)}`;
  const t1 = Date.now();
  // The reference: vectorize on the same files with the same backend.
  const out = await run(process.execPath, [BIN, 'vectorize', '--backend', BACKEND, '--tmp-dir', join(work, 'vec-tmp'), ...tracks.map((t) => t.file)], {
    maxBuffer: 64 << 20,
  });
  for (const line of out.stdout.trim().split('\n')) {
    const o = JSON.parse(line) as { source: string; vector: number[] };
    expected.set(basename(o.source), Float32Array.from(o.vector));
  }
  assert.equal(expected.size, TRACKS, `vectorize gave ${expected.size} vectors for ${TRACKS} files: ${out.stderr}`);
  const audio = tracks.reduce((a, t) => a + t.seconds, 0);
  console.log(`# ${TRACKS} tracks (${audio.toFixed(0)} s of audio) made in ${((t1 - t0) / 1000).toFixed(1)} s; vectorize --backend ${BACKEND} took ${((Date.now() - t1) / 1000).toFixed(1)} s`);
});

after(async () => {
  for (const c of cleanups.splice(0).reverse()) await Promise.resolve(c()).catch((e: unknown) => console.log(`# cleanup: ${String(e)}`));
  await mediaProxy?.close();
  await media?.stop();
  if (work) await rm(work, { recursive: true, force: true });
  if (summaries.length) console.log(table(summaries));
  // Whatever would keep this file's process from exiting, for the record.
  setTimeout(() => console.log(`# still open after the suite: ${process.getActiveResourcesInfo().join(', ')}`), 3000).unref();
});

function table(rows: Summary[]): string {
  const head = ['store', 'faults', ...FAULT_KINDS.map((k) => k.replace('kill-worker-', 'kill-w-')), 'done', 'failed', 'retried jobs', 'failed attempts', 'lease expiries', 'drain s', 'cost'];
  const base = new Map(rows.filter((r) => !r.faults).map((r) => [r.store, r.drainS]));
  const body = rows.map((r) => {
    const b = base.get(r.store);
    return [
      r.store,
      r.faults ? 'yes' : 'no',
      ...FAULT_KINDS.map((k) => String(r.injected[k] ?? 0)),
      String(r.done),
      String(r.failed),
      String(r.restarted),
      String(r.failedAttempts),
      String(r.leaseExpiries),
      r.drainS.toFixed(1),
      r.faults && b ? `${r.drainS >= b ? '+' : ''}${(r.drainS - b).toFixed(1)} s (x${(r.drainS / b).toFixed(2)})` : '-',
    ];
  });
  const w = head.map((h, i) => Math.max(h.length, ...body.map((b) => b[i].length)));
  const fmt = (cells: string[]) => '# | ' + cells.map((c, i) => c.padEnd(w[i])).join(' | ') + ' |';
  const missed = rows.flatMap((r) => r.missed.map((m) => `#   ${r.store}${r.faults ? ' with faults' : ''}: ${m}`));
  return [
    `# fault-injection summary (seed ${SEED}, ${TRACKS} tracks, backend ${BACKEND}, ${WORKERS} workers x --jobs 2, lease ${LEASE_S} s, retries ${RETRIES})`,
    fmt(head),
    '# |' + w.map((n) => '-'.repeat(n + 2)).join('|') + '|',
    ...body.map(fmt),
    ...(missed.length ? ['# not injected (the moment never came):', ...missed] : []),
  ].join('\n');
}

// ---- one run --------------------------------------------------------------------------------

interface JobJson {
  id: string;
  state: string;
  attempts: number;
  last_error: string | null;
  worker: string | null;
  label: string;
  payload: { youtube_url: string | null };
}

interface WorkerJson {
  name: string;
  job: { id: string; stage: string | null; fraction: number | null; running_s: number } | null;
}

interface StoredResult {
  jobId: string;
  vector: Float32Array;
  finishedAt: number;
}

interface StoredJob {
  id: string;
  state: string;
  lastError: string | null;
  url: string;
}

async function readStore(kind: 'sqlite' | 'postgres', db: string): Promise<{ jobs: StoredJob[]; results: StoredResult[] }> {
  if (kind === 'sqlite') {
    const d = readOnlySqlite(db);
    try {
      const jobs = (d.prepare('SELECT id, state, last_error, payload FROM jobs').all() as { id: string; state: string; last_error: string | null; payload: string }[]).map((j) => ({
        id: j.id,
        state: j.state,
        lastError: j.last_error,
        url: (JSON.parse(j.payload) as { youtube_url: string }).youtube_url,
      }));
      const results = (d.prepare('SELECT job_id, vector, finished_at FROM results').all() as { job_id: string; vector: Uint8Array; finished_at: number }[]).map((r) => ({
        jobId: r.job_id,
        vector: f32(r.vector),
        finishedAt: Number(r.finished_at),
      }));
      return { jobs, results };
    } finally {
      d.close();
    }
  }
  const pg = (await import('pg')).default;
  const u = new URL(db);
  const schema = u.searchParams.get('schema')!;
  u.searchParams.delete('schema');
  const c = new pg.Client({ connectionString: u.toString() });
  await c.connect();
  try {
    const jobs = (await c.query(`SELECT id, state, last_error, payload FROM ${schema}.jobs`)).rows.map((j: { id: string; state: string; last_error: string | null; payload: string }) => ({
      id: j.id,
      state: j.state,
      lastError: j.last_error,
      url: (JSON.parse(j.payload) as { youtube_url: string }).youtube_url,
    }));
    const results = (await c.query(`SELECT job_id, vector, finished_at FROM ${schema}.results`)).rows.map((r: { job_id: string; vector: Buffer; finished_at: string }) => ({
      jobId: r.job_id,
      vector: f32(r.vector),
      finishedAt: Number(r.finished_at),
    }));
    return { jobs, results };
  } finally {
    await c.end();
  }
}

function f32(b: Uint8Array): Float32Array {
  const copy = Buffer.from(b);
  return new Float32Array(copy.buffer, copy.byteOffset, copy.length / 4);
}

function sameBits(a: Float32Array, b: Float32Array): boolean {
  if (a.length !== b.length) return false;
  const x = new Uint32Array(a.buffer, a.byteOffset, a.length);
  const y = new Uint32Array(b.buffer, b.byteOffset, b.length);
  for (let i = 0; i < x.length; i++) if (x[i] !== y[i]) return false;
  return true;
}

function jobDirs(tmp: string): string[] {
  const root = join(tmp, 'chaarfm-worker');
  return existsSync(root) ? readdirSync(root).filter((n) => n.startsWith('job-')) : [];
}

async function scenario(kind: 'sqlite' | 'postgres', withFaults: boolean): Promise<Summary> {
  const label = `${kind}${withFaults ? ' with faults' : ''}`;
  const dir = await mkdtemp(join(work, `${kind}-${withFaults ? 'faults' : 'clean'}-`));
  const schema = `f_${randomBytes(6).toString('hex')}`;
  let db: string;
  if (kind === 'sqlite') db = join(dir, 'coordinator.db');
  else {
    const u = new URL(PG_URL);
    u.searchParams.set('schema', schema);
    db = u.toString();
  }
  const local: (() => Promise<void> | void)[] = [];
  const cleanup = async () => {
    for (const c of local.splice(0).reverse()) await Promise.resolve(c()).catch((e: unknown) => console.log(`# cleanup: ${String(e)}`));
  };
  cleanups.push(cleanup);
  const summary: Summary = { store: kind === 'sqlite' ? 'SQLite' : 'PostgreSQL x2', faults: withFaults, injected: {}, missed: [], done: 0, failed: 0, restarted: 0, failedAttempts: 0, leaseExpiries: 0, drainS: 0 };
  const events: string[] = [];
  const note = (s: string) => events.push(`${((Date.now() - t0) / 1000).toFixed(1)} s ${s}`);
  let t0 = Date.now();

  if (kind === 'postgres')
    local.push(async () => {
      const pg = (await import('pg')).default;
      const c = new pg.Client({ connectionString: PG_URL });
      await c.connect();
      await c.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
      await c.end();
    });

  // Coordinators.
  // --verbose: the coordinators log each job they send ('job sent'), checked at the end.
  const coordArgs = ['--db', db, '--lease', `${LEASE_S}s`, '--retries', String(RETRIES), '--verbose'];
  const coords = (kind === 'sqlite' ? ['c1'] : ['c1', 'c2']).map((n) => new CoordinatorRole(n, coordArgs));
  local.push(async () => {
    for (const c of coords) for (const g of c.generations) await g.stop();
  });
  const first = await coords[0].start(['--new-code']);
  const code = (await waitUntil(() => /^([0-9A-Z]{5}-[0-9A-Z]{5})$/m.exec(first.stdout)?.[1], 10000, 'pairing code')) as string;
  for (const c of coords.slice(1)) await c.start();
  const proxy = await TcpProxy.start(coords.map((c) => c.port));
  local.push(() => proxy.close());
  const upstreams = () => proxy.setUpstreams(coords.filter((c) => c.current.alive).map((c) => c.port));

  // Workers; the last one's temp folder is a 4 MB tmpfs in the faulty run (for the full disk).
  let tmpfs: string | null = null;
  let tmpfsWhy = '';
  const workers: WorkerRole[] = [];
  const tmps: string[] = [];
  for (let i = 1; i <= WORKERS; i++) {
    const tmp = join(dir, `w${i}-tmp`);
    mkdirSync(tmp);
    if (withFaults && i === WORKERS) {
      const m = spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=4m', 'tmpfs', tmp], { encoding: 'utf8' });
      if (m.status === 0) {
        tmpfs = tmp;
        local.push(() => {
          const u = spawnSync('umount', ['-l', tmp], { encoding: 'utf8' });
          if (u.status !== 0) console.log(`# umount ${tmp}: ${u.stderr}`);
        });
      } else tmpfsWhy = `mount -t tmpfs failed (${(m.stderr || m.error?.message || '').trim()}); the disk-full fault is skipped`;
    }
    tmps.push(tmp);
    const w = new WorkerRole(
      `w${i}`,
      ['--url', proxy.url, '--code', code, '--jobs', '2', '--backend', BACKEND, '--tmp-dir', tmp, '--log-format', 'json'],
      { ...process.env, POST_DOWNLOAD_MIN_SIZE_MB: '0.01' },
    );
    w.start();
    workers.push(w);
  }
  local.push(async () => {
    await Promise.all(workers.flatMap((w) => w.generations.map((g) => g.stop())));
  });
  if (tmpfsWhy) console.log(`# ${label}: ${tmpfsWhy}`);

  const statuses = async (): Promise<{ coord: CoordinatorRole; workers: WorkerJson[]; queue: Record<string, number> }[]> => {
    const out = [];
    for (const c of coords) {
      if (!c.current.alive) continue;
      try {
        const r = await api<{ workers: WorkerJson[]; queue: Record<string, number> }>(c.url, `/api/sessions/${code}`);
        if (r.status === 200) out.push({ coord: c, workers: r.body.workers, queue: r.body.queue });
      } catch {
        /* restarting */
      }
    }
    return out;
  };
  await waitUntil(async () => (await statuses()).reduce((a, s) => a + s.workers.length, 0) >= WORKERS * 2, 60000, `${WORKERS * 2} worker sockets`);

  note(`${WORKERS * 2} worker sockets connected`);
  // Queue the tracks.
  t0 = Date.now();
  const q = await api<{ added: number }>(coords[0].url, `/api/sessions/${code}/jobs`, { body: { lines: tracks.map((t) => t.url) } });
  assert.equal(q.status, 200, JSON.stringify(q.body));
  assert.equal(q.body.added, TRACKS);

  // Faults.
  let drained = false;
  // Background parts of faults (restarts, stalls, the no-answer socket): their errors are kept
  // and reported after the drain, never left as unhandled rejections.
  const faultErrors: string[] = [];
  const pendingList: Promise<unknown>[] = [];
  const pending = {
    push: (p: Promise<unknown>) => pendingList.push(p.catch((e: unknown) => faultErrors.push(e instanceof Error ? (e.stack ?? e.message) : String(e)))),
  };
  const raws: RawClient[] = [];
  local.push(() => raws.forEach((r) => r.close()));
  const base = summaries.find((s) => s.store === summary.store && !s.faults)?.drainS ?? 60;
  const drawn: FaultEvent[] = withFaults ? makeSchedule(rng(SEED ^ (kind === 'sqlite' ? 0x5a : 0xa5)), FAULTS, base * 1000 * 0.05, base * 1000 * 0.7) : [];
  // Without a tmpfs (not root) the full disk is not scheduled, and says so; every other
  // scheduled fault must land (checked after the drain).
  const schedule = drawn.filter((e) => e.kind !== 'disk-full' || tmpfs);
  if (schedule.length < drawn.length) console.log(`# ${label}: not scheduled: disk-full (${tmpfsWhy})`);
  if (withFaults) console.log(`# ${label}: schedule ${schedule.map((e) => `${e.kind}@${(e.at / 1000).toFixed(1)}s`).join(', ')}`);
  const injected = (k: FaultKind, what: string) => {
    summary.injected[k] = (summary.injected[k] ?? 0) + 1;
    note(`${k}: ${what}`);
  };

  const killWorker = async (ev: FaultEvent, wanted: (string | null)[], fallback: (string | null)[] = wanted): Promise<void> => {
    const started = Date.now();
    const deadline = started + 15000;
    while (!drained && Date.now() < deadline) {
      const stages = Date.now() - started < 8000 ? wanted : fallback;
      const cands = (await statuses()).flatMap((s) => s.workers).filter((w) => w.job && stages.includes(w.job.stage) && (w.job.fraction ?? 0) < 0.95);
      // A worker CLI names its sockets <name>#1, <name>#2.
      const roleOf = (w: WorkerJson) => workers.find((x) => x.name === w.name.replace(/#\d+$/, ''));
      const live = cands.filter((w) => roleOf(w)?.current.alive && !roleOf(w)!.current.killed);
      if (live.length) {
        const pick = live[Math.floor(ev.r * live.length)];
        const role = roleOf(pick)!;
        role.current.kill9();
        injected(ev.kind, `${role.current.name} (pid ${role.current.pid}) at ${pick.job!.stage ?? 'start'} ${Math.round((pick.job!.fraction ?? 0) * 100)}%`);
        pending.push(
          (async () => {
            await role.current.exited;
            await sleep(1000);
            role.start();
          })(),
        );
        return;
      }
      await sleep(50);
    }
    summary.missed.push(`${ev.kind}@${(ev.at / 1000).toFixed(1)}s: no worker ${drained ? 'left (drained)' : `at ${fallback.join('/')} within 15 s`}`);
  };

  /** Open proxied connections; waits (up to 10 s) while there are none, e.g. during a restart. */
  const liveConns = async () => {
    for (let i = 0; i < 200 && !drained && proxy.live().length === 0; i++) await sleep(50);
    return proxy.live();
  };

  const inject = async (ev: FaultEvent): Promise<void> => {
    switch (ev.kind) {
      case 'kill-worker-download':
        return killWorker(ev, ['download'], ['download', null]);
      case 'kill-worker-inference':
        return killWorker(ev, ['inference'], ['inference', 'decode']);
      case 'kill-coordinator': {
        const c = coords[Math.floor(ev.r * coords.length)];
        c.current.kill9();
        await c.current.exited;
        upstreams();
        injected(ev.kind, `${c.current.name} (pid ${c.current.pid})`);
        await sleep(1000);
        await c.start();
        upstreams();
        note(`${c.current.name} listening on ${c.url}`);
        return;
      }
      case 'proxy-cut': {
        const pr = rng(Math.floor(ev.r * 2 ** 32));
        const live = await liveConns();
        if (!live.length) return void summary.missed.push(`${ev.kind}: no open connection`);
        const one = live[Math.floor(pr() * live.length)];
        const n = proxy.cut((c) => c === one || pr() < 0.5);
        return injected(ev.kind, `${n} connection(s) cut`);
      }
      case 'proxy-stall': {
        const ms = (LEASE_S + 5) * 1000;
        const pr = rng(Math.floor(ev.r * 2 ** 32));
        const live = await liveConns();
        if (!live.length) return void summary.missed.push(`${ev.kind}: no open connection`);
        const one = live[Math.floor(pr() * live.length)];
        const n = proxy.stall(ms, (c) => c === one || pr() < 0.35);
        pending.push(sleep(ms));
        return injected(ev.kind, `${n} connection(s) stalled for ${ms / 1000} s`);
      }
      case 'proxy-drop-bytes': {
        const live = await liveConns();
        if (!live.length) return void summary.missed.push(`${ev.kind}: no open connection`);
        const c = live[Math.floor(ev.r * live.length)];
        const bytes = 1 + Math.floor(ev.r * 997) % 64;
        const dirn = ev.r < 0.3 ? 'down' : 'up';
        proxy.dropBytes(c, dirn, bytes);
        return injected(ev.kind, `${bytes} byte(s) ${dirn} on connection ${c.id}`);
      }
      case 'no-answer-worker': {
        // Straight to a coordinator (not through the proxy, whose cuts would end it early); it
        // joins again when something else closes it, until its lease runs out or all is done.
        injected(ev.kind, 'a socket that takes a job and never answers joins');
        pending.push(
          (async () => {
            for (let i = 0; !drained; i++) {
              const live = coords.filter((c) => c.current.alive);
              if (!live.length) {
                await sleep(200); // the coordinator is restarting
                continue;
              }
              const raw = await RawClient.connect(socketUrl(live[(Math.floor(ev.r * 8) + i) % live.length].url, code));
              raws.push(raw);
              while (!raw.closed && !drained) await sleep(100);
              note(`no-answer socket: ${raw.jobs().length} job(s) taken, ${raw.closed ? `closed ${JSON.stringify(raw.closed)}` : 'open at the end'}`);
              if (raw.closed?.code === 4008) return; // the lease took its job back
              await sleep(500);
            }
          })(),
        );
        return;
      }
      case 'disk-full': {
        if (!tmpfs) return void summary.missed.push(`${ev.kind}: ${tmpfsWhy}`);
        const filler = join(tmpfs, 'filler');
        const fd = openSync(filler, 'w');
        const chunk = Buffer.alloc(64 * 1024, 1);
        let bytes = 0;
        try {
          for (;;) bytes += writeSync(fd, chunk);
        } catch (e) {
          if ((e as NodeJS.ErrnoException).code !== 'ENOSPC') throw e;
        } finally {
          closeSync(fd);
        }
        injected(ev.kind, `${tmpfs} filled (${bytes} bytes) for 8 s`);
        pending.push(
          (async () => {
            await sleep(8000);
            rmSync(filler, { force: true });
            note('disk space back');
          })(),
        );
        return;
      }
    }
  };

  // Each fault at its own moment (a kill may wait for a worker to reach its stage meanwhile).
  const faultLoop = Promise.all(
    schedule.map(async (ev) => {
      const wait = t0 + ev.at - Date.now();
      if (wait > 0) await sleep(wait);
      if (drained) return void summary.missed.push(`${ev.kind}@${(ev.at / 1000).toFixed(1)}s: the queue had drained`);
      await inject(ev).catch((e: unknown) => faultErrors.push(`${ev.kind}: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}`));
    }),
  );
  // Which stages the coordinators' status showed, for the report.
  const stagesSeen = new Map<string, number>();
  const sampler = (async () => {
    while (!drained) {
      for (const s of await statuses()) for (const w of s.workers) if (w.job) stagesSeen.set(String(w.job.stage), (stagesSeen.get(String(w.job.stage)) ?? 0) + 1);
      await sleep(200);
    }
  })();

  // Drain: every job done or failed. A hang guard, with what is stuck, not a timing assertion.
  const guardMs = withFaults ? 360_000 : 240_000;
  try {
    await waitUntil(
      async () => {
        for (const s of await statuses()) {
          const qq = s.queue;
          if (qq.queued === 0 && qq.active === 0 && qq.done + qq.failed === TRACKS) return true;
        }
        return false;
      },
      guardMs,
      'the queue to drain',
      250,
    );
  } catch (e) {
    drained = true; // stop injecting
    const st = await statuses();
    const jobs = st.length ? (await api<JobJson[]>(st[0].coord.url, `/api/sessions/${code}/jobs`)).body : [];
    const stuck = jobs.filter((j) => j.state !== 'done' && j.state !== 'failed');
    throw new Error(
      `${label}: ${(e as Error).message}; stuck jobs: ${JSON.stringify(stuck.map((j) => [j.label, j.state, j.attempts, j.worker, j.last_error]))}\n` +
        `workers: ${JSON.stringify(st.flatMap((s) => s.workers))}\nevents:\n${events.join('\n')}\n` +
        workers.map((w) => `${w.current.name}: ${w.current.tail(6)}`).join('\n'),
    );
  }
  summary.drainS = (Date.now() - t0) / 1000;
  drained = true;
  note('drained');
  await faultLoop;
  await sampler;
  await Promise.all(pendingList);
  assert.deepEqual(faultErrors, [], 'the fault injection itself went through');
  note(`stages seen in status samples: ${JSON.stringify(Object.fromEntries(stagesSeen))}`);

  // Every process that was not killed is still up (checked before anything is stopped).
  const procs: Proc[] = [...coords.flatMap((c) => c.generations), ...workers.flatMap((w) => w.generations)];
  const down = procs.filter((p) => !p.killed && !p.alive);
  assert.deepEqual(
    down.map((p) => `${p.name} ${JSON.stringify(p.exit)}: ${p.tail(5)}`),
    [],
    'every process that was not killed is still running',
  );

  // No job folder left: killed workers' folders removed by their restart, the rest by each job.
  await waitUntil(() => tmps.every((t) => jobDirs(t).length === 0), 60000, 'no job folders').catch(() => undefined);
  note('job folders checked');
  const leftovers = tmps.flatMap((t) => jobDirs(t).map((n) => join(t, 'chaarfm-worker', n)));
  // Whose each one is (the folder name holds the pid), what is in it, and that process's last words.
  const explain = (path: string): string => {
    const pid = Number(/job-(\d+)-/.exec(path)?.[1]);
    const gen = workers.flatMap((w) => w.generations).find((g) => g.pid === pid);
    let files = '';
    try {
      files = readdirSync(path).join(', ');
    } catch (e) {
      files = String(e);
    }
    return `${path} [${files}] owner ${gen ? `${gen.name} (${gen.killed ? 'killed' : gen.alive ? 'running' : `exited ${JSON.stringify(gen.exit)}`}): ${gen.tail(12)}` : `pid ${pid}: not a worker of this run`}`;
  };
  assert.deepEqual(leftovers.map(explain), [], `no job folder left behind\nevents:\n${events.join('\n')}`);
  const cleaned = workers.flatMap((w) => w.generations.flatMap((g) => g.lines.filter((l) => isLogEvent(l.msg, LogEvent.staleFoldersRemoved)).map((l) => `${g.name}: ${l.msg}${Array.isArray(l.stopped_tools) ? ` and stopped the yt-dlp it left (pid ${l.stopped_tools.join(', ')})` : ''}`)));
  if (cleaned.length) note(`restarts cleaned: ${cleaned.join('; ')}`);

  // Outcomes through the API.
  const apiBase = coords.find((c) => c.current.alive)!.url;
  const jobs = (await api<JobJson[]>(apiBase, `/api/sessions/${code}/jobs?limit=100000`)).body;
  const results = (await api<{ job_id: string }[]>(apiBase, `/api/sessions/${code}/results?vectors=0&limit=100000`)).body;
  assert.equal(jobs.length, TRACKS, 'one job per track');
  const resultsPerJob = new Map<string, number>();
  for (const r of results) resultsPerJob.set(r.job_id, (resultsPerJob.get(r.job_id) ?? 0) + 1);
  for (const j of jobs) {
    if (j.state === 'done') assert.equal(resultsPerJob.get(j.id), 1, `${j.label}: exactly one result`);
    else {
      assert.equal(j.state, 'failed', `${j.label}: done or failed`);
      assert.equal(resultsPerJob.get(j.id), undefined, `${j.label}: a failed job has no result`);
      assert.ok(j.last_error && j.last_error.length > 0, `${j.label}: failed with a reason`);
    }
  }
  assert.deepEqual(
    tracks.map((t) => jobs.filter((j) => j.payload.youtube_url === t.url).length),
    tracks.map(() => 1),
    'every track has exactly one job',
  );

  // Stop the coordinators, then read the store itself.
  const stored = await (async () => {
    for (const c of coords) await c.current.stop();
    return readStore(kind, db);
  })();
  assert.equal(stored.jobs.length, TRACKS);
  const byJob = new Map<string, StoredResult[]>();
  for (const r of stored.results) byJob.set(r.jobId, [...(byJob.get(r.jobId) ?? []), r]);
  const badVectors: string[] = [];
  for (const j of stored.jobs) {
    const rs = byJob.get(j.id) ?? [];
    if (j.state === 'done') {
      assert.equal(rs.length, 1, `${j.url}: one stored result`);
      const want = expected.get(basename(new URL(j.url).pathname));
      assert.ok(want, `a reference vector for ${j.url}`);
      if (!sameBits(rs[0].vector, want)) {
        const worst = Math.max(...Array.from(want, (v, i) => Math.abs(v - rs[0].vector[i])));
        badVectors.push(`${basename(j.url)} (max abs diff ${worst})`);
      }
    } else {
      assert.equal(j.state, 'failed', `${j.url}: done or failed in the store`);
      assert.equal(rs.length, 0, `${j.url}: no stored result for a failed job`);
      assert.ok(j.lastError, `${j.url}: failed with a reason in the store`);
    }
  }
  assert.deepEqual(badVectors, [], 'every stored vector equals vectorize of the same file, bit for bit');
  assert.equal(stored.results.length, jobs.filter((j) => j.state === 'done').length, 'no result without a done job');

  // No job processed again after its result was stored: no coordinator sent it after that
  // moment ('job sent', every generation, killed ones too), no worker that started it after that
  // moment finished it and sent a result, and each result was stored once. Each check fails when
  // the log lines it reads are missing (test/fault-checks.test.ts).
  const storedTimes = stored.results.map((r) => ({ jobId: r.jobId, finishedAt: r.finishedAt }));
  const coordLog = checkCoordinatorLogs(coords.flatMap((c) => c.generations), storedTimes);
  summary.leaseExpiries = coordLog.leaseExpiries;
  assert.deepEqual(coordLog.problems, [], 'coordinator logs: each result sent before, stored once and logged, nothing sent after');
  const workerLog = checkWorkerLogs(workers.flatMap((w) => w.generations), storedTimes);
  assert.deepEqual(workerLog.problems, [], 'worker logs: each stored job started and finished by a worker, none redone after its result was stored');
  if (workerLog.lateStarts) note(`${workerLog.lateStarts} job frame(s) reached a worker after the job was stored elsewhere (delayed by a stalled connection), none finished`);
  if (withFaults) assert.deepEqual(unlandedFaults(schedule, summary.injected, summary.missed), [], `every scheduled fault landed\nevents:\n${events.join('\n')}`);

  summary.done = jobs.filter((j) => j.state === 'done').length;
  summary.failed = jobs.filter((j) => j.state === 'failed').length;
  summary.restarted = workerLog.restarted;
  summary.failedAttempts = jobs.reduce((a, j) => a + j.attempts, 0);
  const failures = jobs.filter((j) => j.state === 'failed').map((j) => `${j.label}: ${j.last_error}`);
  console.log(`# ${label}: drained in ${summary.drainS.toFixed(1)} s; ${summary.done} done, ${summary.failed} failed${failures.length ? ` (${failures.join('; ')})` : ''}`);
  const attemptErrors = new Map<string, number>();
  for (const j of jobs) if (j.attempts > 0 && j.last_error) {
    const k = j.last_error.replace(/\(worker .*\)$/, '(worker …)').slice(0, 120);
    attemptErrors.set(k, (attemptErrors.get(k) ?? 0) + 1);
  }
  if (attemptErrors.size) note(`last errors of retried jobs: ${JSON.stringify(Object.fromEntries(attemptErrors))}`);
  console.log(events.map((e) => `#   ${e}`).join('\n'));
  if (!withFaults) assert.equal(summary.failed, 0, `no failures without faults: ${failures.join('; ')}`);
  summaries.push(summary);

  await cleanup();
  cleanups.splice(cleanups.indexOf(cleanup), 1);
  if (tmpfs) assert.ok(!readFileSync('/proc/mounts', 'utf8').includes(` ${tmpfs} `), 'the tmpfs is unmounted');
  return summary;
}

/** One scenario; whatever it leaves running (after a failed check) is stopped before the next. */
async function runScenario(kind: 'sqlite' | 'postgres', withFaults: boolean): Promise<void> {
  try {
    await scenario(kind, withFaults);
  } finally {
    for (const c of cleanups.splice(0).reverse()) await Promise.resolve(c()).catch((e: unknown) => console.log(`# cleanup: ${String(e)}`));
  }
}

const T = { timeout: 600_000 };
test('SQLite, one coordinator, no faults', { ...T, skip: toolSkip }, async () => {
  await runScenario('sqlite', false);
});
test('SQLite, one coordinator, with faults', { ...T, skip: toolSkip }, async () => {
  await runScenario('sqlite', true);
});
test('PostgreSQL, two coordinators, no faults', { ...T, skip: toolSkip || pgSkip || false }, async () => {
  await runScenario('postgres', false);
});
test('PostgreSQL, two coordinators, with faults', { ...T, skip: toolSkip || pgSkip || false }, async () => {
  await runScenario('postgres', true);
});

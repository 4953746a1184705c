// SPDX-License-Identifier: MIT
/**
 * The embedded store: one SQLite file through better-sqlite3, in WAL mode. Each change is one
 * transaction committed before the coordinator answers or sends anything that depends on it,
 * so a `kill -9` loses no queued job and no stored result (WAL with synchronous=NORMAL is
 * durable against a process crash; only a power cut can lose the last commits).
 */
import { randomUUID } from 'node:crypto';
import { createRequire } from 'node:module';
import type BetterSqlite3 from 'better-sqlite3';
import {
  emptyCounts,
  type AddJobsResult,
  type Claim,
  type CompleteItem,
  type NextClaim,
  type JobCounts,
  type JobRow,
  type JobState,
  type NewJob,
  type ResultInput,
  type ResultRow,
  type SessionRow,
  type SessionStatus,
  type Store,
} from './store.js';

const SCHEMA = `
CREATE TABLE IF NOT EXISTS sessions (
  code TEXT PRIMARY KEY,
  created_at INTEGER NOT NULL,
  expires_at INTEGER NOT NULL,
  status TEXT NOT NULL,
  message TEXT NOT NULL DEFAULT ''
);
CREATE TABLE IF NOT EXISTS jobs (
  id TEXT PRIMARY KEY,
  code TEXT NOT NULL,
  seq INTEGER NOT NULL,
  kind TEXT NOT NULL,
  payload TEXT NOT NULL,
  dedupe_key TEXT,
  label TEXT NOT NULL,
  state TEXT NOT NULL,
  attempts INTEGER NOT NULL DEFAULT 0,
  last_error TEXT,
  worker TEXT,
  claim TEXT,
  requested_count INTEGER,
  created_at INTEGER NOT NULL,
  started_at INTEGER,
  finished_at INTEGER,
  lease_until INTEGER
);
CREATE INDEX IF NOT EXISTS jobs_queue ON jobs (code, state, seq);
CREATE INDEX IF NOT EXISTS jobs_dedupe ON jobs (code, dedupe_key);
CREATE INDEX IF NOT EXISTS jobs_state ON jobs (state);
CREATE TABLE IF NOT EXISTS results (
  n INTEGER PRIMARY KEY AUTOINCREMENT,
  job_id TEXT NOT NULL UNIQUE,
  code TEXT NOT NULL,
  artist TEXT NOT NULL,
  title TEXT NOT NULL,
  youtube_id TEXT NOT NULL,
  source_url TEXT,
  vector BLOB NOT NULL,
  worker TEXT NOT NULL,
  queued_at INTEGER NOT NULL,
  started_at INTEGER NOT NULL,
  finished_at INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS results_code ON results (code, n);
CREATE INDEX IF NOT EXISTS results_finished ON results (code, finished_at);
`;

interface JobRecord {
  id: string;
  code: string;
  kind: string;
  payload: string;
  label: string;
  state: string;
  attempts: number;
  last_error: string | null;
  worker: string | null;
  requested_count: number | null;
  created_at: number;
  started_at: number | null;
  finished_at: number | null;
  lease_until: number | null;
}

interface ResultRecord {
  job_id: string;
  code: string;
  artist: string;
  title: string;
  youtube_id: string;
  source_url: string | null;
  vector: Buffer;
  worker: string;
  queued_at: number;
  started_at: number;
  finished_at: number;
}

function toJob(r: JobRecord): JobRow {
  return {
    id: r.id,
    code: r.code,
    kind: r.kind as JobRow['kind'],
    payload: JSON.parse(r.payload) as JobRow['payload'],
    label: r.label,
    state: r.state as JobState,
    attempts: r.attempts,
    lastError: r.last_error,
    worker: r.worker,
    requestedCount: r.requested_count,
    createdAt: r.created_at,
    startedAt: r.started_at,
    finishedAt: r.finished_at,
    leaseUntil: r.lease_until,
  };
}

function toResult(r: ResultRecord): ResultRow {
  const copy = Buffer.from(r.vector);
  return {
    jobId: r.job_id,
    code: r.code,
    artist: r.artist,
    title: r.title,
    youtubeId: r.youtube_id,
    sourceUrl: r.source_url,
    vector: new Float32Array(copy.buffer, copy.byteOffset, copy.length / 4),
    worker: r.worker,
    queuedAt: r.queued_at,
    startedAt: r.started_at,
    finishedAt: r.finished_at,
  };
}

function vectorBlob(v: Float32Array): Buffer {
  const b = Buffer.alloc(v.length * 4);
  for (let i = 0; i < v.length; i++) b.writeFloatLE(v[i], i * 4);
  return b;
}

type Database = BetterSqlite3.Database;

/**
 * Open `path` with better-sqlite3, loaded lazily, with a message that says how to fix a missing
 * native build: the package can be absent (require fails) or present without its binary (an
 * install with --ignore-scripts skips the step that fetches or builds it; then the first
 * `new Database` fails).
 */
function openDatabase(path: string): Database {
  const require = createRequire(import.meta.url);
  const missing = (e: unknown): Error => {
    const why = e instanceof Error ? e.message.split('\n')[0] : String(e);
    const err = new Error(
      `The SQLite store needs the better-sqlite3 package, which did not load (${why}). ` +
        'Reinstall it with `npm rebuild better-sqlite3` (it builds from source with node-gyp when no prebuilt binary downloads).',
    );
    err.name = 'ExpectedError';
    return err;
  };
  let Driver: typeof BetterSqlite3;
  try {
    Driver = require('better-sqlite3') as typeof BetterSqlite3;
  } catch (e) {
    throw missing(e);
  }
  try {
    return new Driver(path);
  } catch (e) {
    if (e instanceof Error && /Could not locate the bindings file|better_sqlite3\.node/.test(e.message)) throw missing(e);
    throw e;
  }
}

export class SqliteStore implements Store {
  readonly kind = 'sqlite' as const;
  readonly shared = false;
  private readonly db: Database;
  private minSeq: number;
  private maxSeq: number;
  private readonly st;

  constructor(path: string) {
    this.db = openDatabase(path);
    this.db.pragma('journal_mode = WAL');
    this.db.pragma('synchronous = NORMAL');
    this.db.pragma('busy_timeout = 5000');
    this.db.pragma('foreign_keys = ON');
    this.db.exec(SCHEMA);
    const mm = this.db.prepare('SELECT MIN(seq) AS lo, MAX(seq) AS hi FROM jobs').get() as { lo: number | null; hi: number | null };
    this.minSeq = mm.lo ?? 0;
    this.maxSeq = mm.hi ?? 0;
    const db = this.db;
    this.st = {
      insertSession: db.prepare('INSERT INTO sessions (code, created_at, expires_at, status, message) VALUES (?, ?, ?, ?, ?)'),
      getSession: db.prepare('SELECT code, created_at, expires_at, status, message FROM sessions WHERE code = ?'),
      setStatus: db.prepare('UPDATE sessions SET status = ?, message = ? WHERE code = ?'),
      findDup: db.prepare('SELECT id, state FROM jobs WHERE code = ? AND dedupe_key = ? ORDER BY seq DESC LIMIT 1'),
      revive: db.prepare("UPDATE jobs SET state = 'queued', seq = ?, attempts = 0, last_error = NULL, worker = NULL, started_at = NULL, finished_at = NULL, lease_until = NULL WHERE id = ?"),
      insertJob: db.prepare(
        "INSERT INTO jobs (id, code, seq, kind, payload, dedupe_key, label, state, requested_count, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, 'queued', ?, ?)",
      ),
      front: db.prepare("SELECT * FROM jobs WHERE code = ? AND state = 'queued' ORDER BY seq LIMIT 1"),
      claim: db.prepare("UPDATE jobs SET state = 'active', worker = ?, claim = ?, started_at = ?, lease_until = ? WHERE id = ? AND state = 'queued'"),
      held: db.prepare("SELECT * FROM jobs WHERE id = ? AND state = 'active' AND claim = ?"),
      getJob: db.prepare('SELECT * FROM jobs WHERE id = ?'),
      requeueFront: db.prepare("UPDATE jobs SET state = 'queued', seq = ?, worker = NULL, claim = NULL, started_at = NULL, lease_until = NULL WHERE id = ? AND state = 'active'"),
      requeueHeld: db.prepare("UPDATE jobs SET state = 'queued', seq = ?, worker = NULL, claim = NULL, started_at = NULL, lease_until = NULL WHERE id = ? AND state = 'active' AND claim = ?"),
      failQueued: db.prepare("UPDATE jobs SET state = 'queued', seq = ?, attempts = attempts + 1, last_error = ?, worker = NULL, claim = NULL, started_at = NULL, lease_until = NULL WHERE id = ?"),
      failFinal: db.prepare("UPDATE jobs SET state = 'failed', attempts = attempts + 1, last_error = ?, finished_at = ?, lease_until = NULL WHERE id = ?"),
      markDone: db.prepare("UPDATE jobs SET state = 'done', finished_at = ?, lease_until = NULL, claim = NULL WHERE id = ? AND state = 'active'"),
      insertResult: db.prepare(
        'INSERT INTO results (job_id, code, artist, title, youtube_id, source_url, vector, worker, queued_at, started_at, finished_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)',
      ),
      cancelQueued: db.prepare("UPDATE jobs SET state = 'cancelled' WHERE code = ? AND state = 'queued'"),
      counts: db.prepare('SELECT state, COUNT(*) AS n FROM jobs WHERE code = ? GROUP BY state'),
      doneSince: db.prepare('SELECT COUNT(*) AS n FROM results WHERE code = ? AND finished_at >= ?'),
      activeIds: db.prepare("SELECT id FROM jobs WHERE state = 'active' ORDER BY seq DESC"),
    };
  }

  private nextBack(): number {
    return ++this.maxSeq;
  }

  private nextFront(): number {
    return --this.minSeq;
  }

  async createSession(code: string, expiresAt: number, now: number): Promise<SessionRow> {
    this.st.insertSession.run(code, now, expiresAt, 'idle', '');
    return { code, createdAt: now, expiresAt, status: 'idle', message: '' };
  }

  async getSession(code: string): Promise<SessionRow | null> {
    const r = this.st.getSession.get(code) as
      | { code: string; created_at: number; expires_at: number; status: string; message: string }
      | undefined;
    return r ? { code: r.code, createdAt: r.created_at, expiresAt: r.expires_at, status: r.status as SessionStatus, message: r.message } : null;
  }

  async setSessionStatus(code: string, status: SessionStatus, message: string): Promise<void> {
    this.st.setStatus.run(status, message, code);
  }

  private addJobsSync(code: string, jobs: NewJob[], opts: { front?: boolean; limit?: number; now?: number }): AddJobsResult {
    const now = opts.now ?? Date.now();
    const limit = opts.limit ?? Infinity;
    const out: AddJobsResult = { added: 0, duplicates: 0, ids: [] };
    // Front insertion keeps the batch's own order: take the seqs in reverse.
    const list = opts.front ? [...jobs].reverse() : jobs;
    for (const j of list) {
      if (out.added >= limit) break;
      const seq = opts.front ? this.nextFront() : this.nextBack();
      if (j.dedupeKey !== null) {
        const d = this.st.findDup.get(code, j.dedupeKey) as { id: string; state: string } | undefined;
        if (d && (d.state === 'failed' || d.state === 'cancelled')) {
          this.st.revive.run(seq, d.id);
          out.added++;
          out.ids.push(d.id);
          continue;
        }
        if (d) {
          out.duplicates++;
          continue;
        }
      }
      const id = randomUUID();
      this.st.insertJob.run(id, code, seq, j.kind, JSON.stringify(j.payload), j.dedupeKey, j.label, j.requestedCount ?? null, now);
      out.added++;
      out.ids.push(id);
    }
    return out;
  }

  async addJobs(code: string, jobs: NewJob[], opts: { front?: boolean; limit?: number; now?: number } = {}): Promise<AddJobsResult> {
    return this.db.transaction(() => this.addJobsSync(code, jobs, opts))();
  }

  private claimSync(code: string, claim: Claim, now: number, leaseUntil: number): JobRow | null {
    const r = this.st.front.get(code) as JobRecord | undefined;
    if (!r) return null;
    this.st.claim.run(claim.worker, claim.token, now, leaseUntil, r.id);
    return toJob({ ...r, state: 'active', worker: claim.worker, started_at: now, lease_until: leaseUntil });
  }

  async claimNext(code: string, claim: Claim, now: number, leaseUntil: number): Promise<JobRow | null> {
    return this.db.transaction(() => this.claimSync(code, claim, now, leaseUntil))();
  }

  async getJob(id: string): Promise<JobRow | null> {
    const r = this.st.getJob.get(id) as JobRecord | undefined;
    return r ? toJob(r) : null;
  }

  async requeueFront(id: string, token: string): Promise<boolean> {
    return this.st.requeueHeld.run(this.nextFront(), id, token).changes === 1;
  }

  async failAttempt(id: string, token: string, error: string, maxAttempts: number, now: number, front: boolean): Promise<'queued' | 'failed' | 'not-active'> {
    return this.db.transaction(() => {
      const r = this.st.held.get(id, token) as JobRecord | undefined;
      if (!r) return 'not-active' as const;
      if (r.attempts + 1 >= maxAttempts) {
        this.st.failFinal.run(error, now, id);
        return 'failed' as const;
      }
      this.st.failQueued.run(front ? this.nextFront() : this.nextBack(), error, id);
      return 'queued' as const;
    })();
  }

  async completeAndClaim(id: string, token: string, result: ResultInput, next: NextClaim): Promise<{ stored: boolean; next: JobRow | null }> {
    return (await this.completeAndClaimMany([{ id, token, result, next }]))[0];
  }

  async completeAndClaimMany(items: CompleteItem[]): Promise<{ stored: boolean; next: JobRow | null }[]> {
    return this.db.transaction(() =>
      items.map((it) => {
        const stored = this.completeSync(it.id, it.token, it.result);
        const next = it.next ? this.claimSync(it.next.code, it.next.claim, it.next.now, it.next.leaseUntil) : null;
        return { stored, next };
      }),
    )();
  }

  async completeDownload(id: string, token: string, res: ResultInput): Promise<boolean> {
    return this.db.transaction(() => this.completeSync(id, token, res))();
  }

  private completeSync(id: string, token: string, res: ResultInput): boolean {
    {
      const r = this.st.held.get(id, token) as JobRecord | undefined;
      if (!r) return false;
      this.st.markDone.run(res.finishedAt, id);
      this.st.insertResult.run(
        id,
        r.code,
        res.artist,
        res.title,
        res.youtubeId,
        res.sourceUrl,
        vectorBlob(res.vector),
        res.worker,
        r.created_at,
        r.started_at ?? res.finishedAt,
        res.finishedAt,
      );
      return true;
    }
  }

  async completeGenre(id: string, token: string, tracks: NewJob[], limit: number | null, now: number): Promise<AddJobsResult | null> {
    return this.db.transaction(() => {
      const r = this.st.held.get(id, token) as JobRecord | undefined;
      if (!r) return null;
      this.st.markDone.run(now, id);
      return this.addJobsSync(r.code, tracks, { limit: limit ?? undefined, now });
    })();
  }

  async cancelQueued(code: string): Promise<number> {
    return this.st.cancelQueued.run(code).changes;
  }

  async counts(code: string): Promise<JobCounts> {
    const c = emptyCounts();
    for (const r of this.st.counts.all(code) as { state: JobState; n: number }[]) c[r.state] = r.n;
    return c;
  }

  async doneSince(code: string, since: number): Promise<number> {
    return (this.st.doneSince.get(code, since) as { n: number }).n;
  }

  async listJobs(code: string, opts: { state?: JobState; limit?: number; offset?: number } = {}): Promise<JobRow[]> {
    const limit = Math.min(opts.limit ?? 1000, 100000);
    const offset = opts.offset ?? 0;
    const rows = opts.state
      ? this.db.prepare('SELECT * FROM jobs WHERE code = ? AND state = ? ORDER BY seq LIMIT ? OFFSET ?').all(code, opts.state, limit, offset)
      : this.db.prepare('SELECT * FROM jobs WHERE code = ? ORDER BY seq LIMIT ? OFFSET ?').all(code, limit, offset);
    return (rows as JobRecord[]).map(toJob);
  }

  async listResults(code: string, opts: { limit?: number; offset?: number } = {}): Promise<ResultRow[]> {
    const rows = this.db
      .prepare('SELECT * FROM results WHERE code = ? ORDER BY n LIMIT ? OFFSET ?')
      .all(code, Math.min(opts.limit ?? 1_000_000, 1_000_000), opts.offset ?? 0) as ResultRecord[];
    return rows.map(toResult);
  }

  async heartbeat(): Promise<void> {}

  /** One process owns a SQLite file: at start-up every active job was orphaned by the last one. */
  async recoverActive(): Promise<number> {
    return this.db.transaction(() => {
      // Highest seq first, each to the new front, so their relative order is kept.
      const ids = this.st.activeIds.all() as { id: string }[];
      for (const { id } of ids) this.st.requeueFront.run(this.nextFront(), id);
      return ids.length;
    })();
  }

  async close(): Promise<void> {
    if (this.db.open) this.db.close();
  }
}

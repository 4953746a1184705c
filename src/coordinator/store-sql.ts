// SPDX-License-Identifier: MIT
/**
 * The one implementation of the Store contract over SQL, shared by SQLite and PostgreSQL:
 * schema, row mapping, every statement and the de-duplication loop live here once. What the
 * two databases do differently is a small `Dialect`: how a statement runs, a transaction,
 * where a queue position comes from, row locks and column types.
 *
 * Queue order: `seq` ascending; the back takes ever larger positions, the front ever smaller
 * (negative) ones. A job is held under a claim `token`; every change to an active job names it.
 * `drops` counts the sockets that closed while holding the job (not failed attempts).
 */
import { randomUUID } from 'node:crypto';
import {
  emptyCounts,
  type AddJobsResult,
  type Claim,
  type CompleteItem,
  type JobCounts,
  type JobRow,
  type JobState,
  type NewJob,
  type NextClaim,
  type ResultInput,
  type ResultPages,
  type ResultRow,
  type SessionRow,
  type SessionStatus,
  type Store,
  type VectorRow,
} from './store.js';

export type Param = string | number | null | Uint8Array;
export type Rec = Record<string, unknown>;

/** Statements with `?` placeholders, run on a connection or inside a transaction. */
export interface Sql {
  all(sql: string, params?: Param[]): Promise<Rec[]>;
  /** Rows changed. */
  run(sql: string, params?: Param[]): Promise<number>;
}

export interface Dialect extends Sql {
  readonly kind: 'sqlite' | 'postgres';
  readonly shared: boolean;
  /** Column types: a 64-bit integer, bytes, an auto-numbered key. */
  readonly types: { int: string; blob: string; serial: string };
  /** A row-lock clause for a SELECT (`FOR UPDATE [OF alias] [SKIP LOCKED]`); '' where writers are serialised anyway. */
  lock(opts?: { skip?: boolean; of?: string }): string;
  /** Run `fn` in one transaction: committed when it returns, rolled back when it throws. */
  tx<T>(fn: (q: Sql) => Promise<T>): Promise<T>;
  /**
   * A new queue position at the back or the front: the SQL that stands for it, and the values
   * of its placeholders (SQLite: `?` and the number; PostgreSQL: a sequence call and none), so
   * that every statement's text stays the same and is prepared once.
   */
  seq(front: boolean): { sql: string; params: Param[] };
  /** Inside a transaction: one writer of this session's queue at a time (across processes). */
  lockSession(q: Sql, code: string): Promise<void>;
  close(): Promise<void>;
}

/** The tables, made where missing (a store made by an older release keeps its tables: see addMissingColumns). */
export function schema(t: Dialect['types']): string {
  return `
CREATE TABLE IF NOT EXISTS sessions (
  code TEXT PRIMARY KEY,
  created_at ${t.int} NOT NULL,
  expires_at ${t.int} NOT NULL,
  status TEXT NOT NULL,
  message TEXT NOT NULL DEFAULT ''
);
CREATE TABLE IF NOT EXISTS jobs (
  id TEXT PRIMARY KEY,
  code TEXT NOT NULL,
  seq ${t.int} NOT NULL,
  kind TEXT NOT NULL,
  payload TEXT NOT NULL,
  dedupe_key TEXT,
  label TEXT NOT NULL,
  state TEXT NOT NULL,
  attempts INTEGER NOT NULL DEFAULT 0,
  drops INTEGER NOT NULL DEFAULT 0,
  last_error TEXT,
  worker TEXT,
  claim TEXT,
  owner TEXT,
  requested_count INTEGER,
  created_at ${t.int} NOT NULL,
  started_at ${t.int},
  finished_at ${t.int},
  lease_until ${t.int}
);
CREATE TABLE IF NOT EXISTS results (
  n ${t.serial},
  job_id TEXT NOT NULL UNIQUE,
  code TEXT NOT NULL,
  artist TEXT NOT NULL,
  title TEXT NOT NULL,
  youtube_id TEXT NOT NULL,
  source_url TEXT,
  vector ${t.blob} NOT NULL,
  worker TEXT NOT NULL,
  queued_at ${t.int} NOT NULL,
  started_at ${t.int} NOT NULL,
  finished_at ${t.int} NOT NULL,
  tags TEXT
);
CREATE TABLE IF NOT EXISTS coordinators (
  id TEXT PRIMARY KEY,
  last_seen ${t.int} NOT NULL
);
`;
}

/**
 * Columns added after the first release, per table, with their definitions (older stores get
 * them at open; the rows already there take the default, NULL where none).
 */
const ADDED_COLUMNS: Record<string, Record<string, string>> = {
  jobs: { drops: 'INTEGER NOT NULL DEFAULT 0', owner: 'TEXT' },
  results: { tags: 'TEXT' },
};

/** The indexes, made after addMissingColumns: some are on columns an older store gains there. */
export const INDEXES = `
CREATE INDEX IF NOT EXISTS jobs_queue ON jobs (code, state, seq);
CREATE INDEX IF NOT EXISTS jobs_dedupe ON jobs (code, dedupe_key);
CREATE INDEX IF NOT EXISTS jobs_active ON jobs (state, owner);
CREATE INDEX IF NOT EXISTS results_code ON results (code, n);
CREATE INDEX IF NOT EXISTS results_finished ON results (code, finished_at);
`;

/** The tables that may lack columns, for a dialect to read the columns of. */
export const ALTERED_TABLES: readonly string[] = Object.keys(ADDED_COLUMNS);

/** The statements that add the columns the tables lack (`have`: the columns a table has). */
export function addMissingColumns(have: (table: string) => string[]): string[] {
  return Object.entries(ADDED_COLUMNS).flatMap(([table, cols]) => {
    const present = have(table);
    return Object.entries(cols)
      .filter(([name]) => !present.includes(name))
      .map(([name, def]) => `ALTER TABLE ${table} ADD COLUMN ${name} ${def}`);
  });
}

/** How a result's tags are kept: a JSON array of names in a text column, or NULL. */
export function tagsColumn(tags: string[] | null | undefined): string | null {
  return tags && tags.length ? JSON.stringify(tags) : null;
}

export function parseTagsColumn(v: unknown): string[] | null {
  if (typeof v !== 'string' || v === '') return null;
  try {
    const a = JSON.parse(v) as unknown;
    return Array.isArray(a) && a.every((x) => typeof x === 'string') && a.length ? (a as string[]) : null;
  } catch {
    return null;
  }
}

export function toJob(r: Rec): JobRow {
  return {
    id: r.id as string,
    code: r.code as string,
    kind: r.kind as JobRow['kind'],
    payload: JSON.parse(r.payload as string) as JobRow['payload'],
    label: r.label as string,
    state: r.state as JobState,
    attempts: Number(r.attempts),
    drops: Number(r.drops ?? 0),
    lastError: (r.last_error as string | null) ?? null,
    worker: (r.worker as string | null) ?? null,
    claim: (r.claim as string | null) ?? null,
    requestedCount: r.requested_count === null || r.requested_count === undefined ? null : Number(r.requested_count),
    createdAt: Number(r.created_at),
    startedAt: r.started_at === null || r.started_at === undefined ? null : Number(r.started_at),
    finishedAt: r.finished_at === null || r.finished_at === undefined ? null : Number(r.finished_at),
    leaseUntil: r.lease_until === null || r.lease_until === undefined ? null : Number(r.lease_until),
  };
}

function blobVector(b: Uint8Array): Float32Array {
  const copy = Buffer.from(b); // a copy, 4-byte aligned
  return new Float32Array(copy.buffer, copy.byteOffset, copy.length / 4);
}

export function toResult(r: Rec): ResultRow {
  return {
    jobId: r.job_id as string,
    code: r.code as string,
    artist: r.artist as string,
    title: r.title as string,
    youtubeId: r.youtube_id as string,
    sourceUrl: (r.source_url as string | null) ?? null,
    vector: blobVector(r.vector as Uint8Array),
    worker: r.worker as string,
    queuedAt: Number(r.queued_at),
    startedAt: Number(r.started_at),
    finishedAt: Number(r.finished_at),
    tags: parseTagsColumn(r.tags),
  };
}

function toVector(r: Rec): VectorRow {
  return {
    n: Number(r.n),
    jobId: r.job_id as string,
    code: r.code as string,
    artist: r.artist as string,
    title: r.title as string,
    tags: parseTagsColumn(r.tags),
    vector: blobVector(r.vector as Uint8Array),
    finishedAt: Number(r.finished_at),
  };
}

/** float32 little-endian, whatever the host's byte order. */
export function vectorBlob(v: Float32Array): Buffer {
  const b = Buffer.alloc(v.length * 4);
  for (let i = 0; i < v.length; i++) b.writeFloatLE(v[i], i * 4);
  return b;
}

/** Clears everything that belongs to a holder: the job is no longer active. */
const RELEASE = 'worker = NULL, claim = NULL, owner = NULL, started_at = NULL, lease_until = NULL';
const HELD = "id = ? AND state = 'active' AND claim = ?";

export class SqlStore implements Store {
  readonly kind: 'sqlite' | 'postgres';
  readonly shared: boolean;

  constructor(private readonly d: Dialect) {
    this.kind = d.kind;
    this.shared = d.shared;
  }

  async createSession(code: string, expiresAt: number, now: number): Promise<SessionRow> {
    await this.d.run('INSERT INTO sessions (code, created_at, expires_at, status, message) VALUES (?, ?, ?, ?, ?)', [code, now, expiresAt, 'idle', '']);
    return { code, createdAt: now, expiresAt, status: 'idle', message: '' };
  }

  async ensureSession(code: string, expiresAt: number, now: number): Promise<void> {
    await this.d.run("INSERT INTO sessions (code, created_at, expires_at, status, message) VALUES (?, ?, ?, 'idle', '') ON CONFLICT (code) DO NOTHING", [code, now, expiresAt]);
  }

  async getSession(code: string): Promise<SessionRow | null> {
    const x = (await this.d.all('SELECT code, created_at, expires_at, status, message FROM sessions WHERE code = ?', [code]))[0];
    return x
      ? { code: x.code as string, createdAt: Number(x.created_at), expiresAt: Number(x.expires_at), status: x.status as SessionStatus, message: x.message as string }
      : null;
  }

  async setSessionStatus(code: string, status: SessionStatus, message: string): Promise<void> {
    await this.d.run('UPDATE sessions SET status = ?, message = ? WHERE code = ?', [status, message, code]);
  }

  private async addJobsIn(q: Sql, code: string, jobs: NewJob[], opts: { front?: boolean; limit?: number; now?: number }): Promise<AddJobsResult> {
    await this.d.lockSession(q, code);
    const now = opts.now ?? Date.now();
    const limit = opts.limit ?? Infinity;
    const out: AddJobsResult = { added: 0, duplicates: 0, ids: [] };
    // Front insertion keeps the batch's own order: take the positions in reverse.
    const list = opts.front ? [...jobs].reverse() : jobs;
    for (const j of list) {
      if (out.added >= limit) break;
      if (j.dedupeKey !== null) {
        const dup = (await q.all('SELECT id, state FROM jobs WHERE code = ? AND dedupe_key = ? ORDER BY seq DESC LIMIT 1', [code, j.dedupeKey]))[0];
        if (dup && (dup.state === 'failed' || dup.state === 'cancelled')) {
          const pos = this.d.seq(!!opts.front);
          await q.run(`UPDATE jobs SET state = 'queued', seq = ${pos.sql}, attempts = 0, drops = 0, last_error = NULL, finished_at = NULL, ${RELEASE} WHERE id = ?`, [
            ...pos.params,
            dup.id as string,
          ]);
          out.added++;
          out.ids.push(dup.id as string);
          continue;
        }
        if (dup) {
          out.duplicates++;
          continue;
        }
      }
      const id = randomUUID();
      const pos = this.d.seq(!!opts.front);
      await q.run(
        `INSERT INTO jobs (id, code, seq, kind, payload, dedupe_key, label, state, requested_count, created_at) VALUES (?, ?, ${pos.sql}, ?, ?, ?, ?, 'queued', ?, ?)`,
        [id, code, ...pos.params, j.kind, JSON.stringify(j.payload), j.dedupeKey, j.label, j.requestedCount ?? null, now],
      );
      out.added++;
      out.ids.push(id);
    }
    return out;
  }

  addJobs(code: string, jobs: NewJob[], opts: { front?: boolean; limit?: number; now?: number } = {}): Promise<AddJobsResult> {
    return this.d.tx((q) => this.addJobsIn(q, code, jobs, opts));
  }

  private async claimIn(q: Sql, code: string, claim: Claim, now: number, leaseUntil: number): Promise<JobRow | null> {
    const r = await q.all(
      `UPDATE jobs SET state = 'active', worker = ?, claim = ?, owner = ?, started_at = ?, lease_until = ?
       WHERE id = (SELECT id FROM jobs WHERE code = ? AND state = 'queued' ORDER BY seq LIMIT 1${this.d.lock({ skip: true })}) AND state = 'queued'
       RETURNING *`,
      [claim.worker, claim.token, claim.owner, now, leaseUntil, code],
    );
    return r[0] ? toJob(r[0]) : null;
  }

  claimNext(code: string, claim: Claim, now: number, leaseUntil: number): Promise<JobRow | null> {
    return this.claimIn(this.d, code, claim, now, leaseUntil); // one statement: atomic alone
  }

  async getJob(id: string): Promise<JobRow | null> {
    const r = (await this.d.all('SELECT * FROM jobs WHERE id = ?', [id]))[0];
    return r ? toJob(r) : null;
  }

  async requeueFront(id: string, token: string): Promise<boolean> {
    const pos = this.d.seq(true);
    return (await this.d.run(`UPDATE jobs SET state = 'queued', seq = ${pos.sql}, ${RELEASE} WHERE ${HELD}`, [...pos.params, id, token])) === 1;
  }

  /** Count one failure (an attempt or a drop) of a held job: queued again, or failed once `count` reaches `max`. */
  private failIn(q: Sql, id: string, count: 'attempts' | 'drops', current: number, max: number, error: string, now: number, front: boolean): Promise<'queued' | 'failed'> {
    if (current + 1 >= max)
      return q.run(`UPDATE jobs SET state = 'failed', ${count} = ${count} + 1, last_error = ?, finished_at = ?, ${RELEASE} WHERE id = ?`, [error, now, id]).then(() => 'failed' as const);
    const pos = this.d.seq(front);
    return q
      .run(`UPDATE jobs SET state = 'queued', seq = ${pos.sql}, ${count} = ${count} + 1, last_error = ?, ${RELEASE} WHERE id = ?`, [...pos.params, error, id])
      .then(() => 'queued' as const);
  }

  private async failHeld(id: string, token: string, count: 'attempts' | 'drops', max: number, error: string, now: number, front: boolean) {
    return this.d.tx(async (q) => {
      const r = (await q.all(`SELECT attempts, drops FROM jobs WHERE ${HELD}${this.d.lock()}`, [id, token]))[0];
      if (!r) return 'not-active' as const;
      return this.failIn(q, id, count, Number(r[count]), max, error, now, front);
    });
  }

  failAttempt(id: string, token: string, error: string, maxAttempts: number, now: number, front: boolean): Promise<'queued' | 'failed' | 'not-active'> {
    return this.failHeld(id, token, 'attempts', maxAttempts, error, now, front);
  }

  dropHeld(id: string, token: string, maxDrops: number, error: string, now: number): Promise<'queued' | 'failed' | 'not-active'> {
    return this.failHeld(id, token, 'drops', maxDrops, error, now, true);
  }

  private async completeIn(q: Sql, id: string, token: string, res: ResultInput): Promise<boolean> {
    const r = (await q.all(`UPDATE jobs SET state = 'done', finished_at = ?, lease_until = NULL, claim = NULL WHERE ${HELD} RETURNING code, created_at, started_at`, [res.finishedAt, id, token]))[0];
    if (!r) return false;
    await q.run(
      'INSERT INTO results (job_id, code, artist, title, youtube_id, source_url, vector, worker, queued_at, started_at, finished_at, tags) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)',
      [
        id,
        r.code as string,
        res.artist,
        res.title,
        res.youtubeId,
        res.sourceUrl,
        vectorBlob(res.vector),
        res.worker,
        Number(r.created_at),
        r.started_at === null ? res.finishedAt : Number(r.started_at),
        res.finishedAt,
        tagsColumn(res.tags),
      ],
    );
    return true;
  }

  completeDownload(id: string, token: string, res: ResultInput): Promise<boolean> {
    return this.d.tx((q) => this.completeIn(q, id, token, res));
  }

  async completeAndClaim(id: string, token: string, result: ResultInput, next: NextClaim): Promise<{ stored: boolean; next: JobRow | null }> {
    return (await this.completeAndClaimMany([{ id, token, result, next }]))[0];
  }

  completeAndClaimMany(items: CompleteItem[]): Promise<{ stored: boolean; next: JobRow | null }[]> {
    return this.d.tx(async (q) => {
      const out: { stored: boolean; next: JobRow | null }[] = [];
      for (const it of items) {
        const stored = await this.completeIn(q, it.id, it.token, it.result);
        const next = it.next ? await this.claimIn(q, it.next.code, it.next.claim, it.next.now, it.next.leaseUntil) : null;
        out.push({ stored, next });
      }
      return out;
    });
  }

  completeGenre(id: string, token: string, tracks: NewJob[], limit: number | null, now: number): Promise<AddJobsResult | null> {
    return this.d.tx(async (q) => {
      const r = (await q.all(`UPDATE jobs SET state = 'done', finished_at = ?, lease_until = NULL, claim = NULL WHERE ${HELD} RETURNING code`, [now, id, token]))[0];
      if (!r) return null;
      return this.addJobsIn(q, r.code as string, tracks, { limit: limit ?? undefined, now });
    });
  }

  cancelQueued(code: string): Promise<number> {
    return this.d.run("UPDATE jobs SET state = 'cancelled' WHERE code = ? AND state = 'queued'", [code]);
  }

  async counts(code: string): Promise<JobCounts> {
    const c = emptyCounts();
    for (const x of await this.d.all('SELECT state, COUNT(*) AS n FROM jobs WHERE code = ? GROUP BY state', [code])) c[x.state as JobState] = Number(x.n);
    return c;
  }

  async doneSince(code: string, since: number): Promise<number> {
    return Number((await this.d.all('SELECT COUNT(*) AS n FROM results WHERE code = ? AND finished_at >= ?', [code, since]))[0].n);
  }

  async listJobs(code: string, opts: { state?: JobState; limit?: number; offset?: number } = {}): Promise<JobRow[]> {
    const limit = Math.min(opts.limit ?? 1000, 100000);
    const rows = opts.state
      ? await this.d.all('SELECT * FROM jobs WHERE code = ? AND state = ? ORDER BY seq LIMIT ? OFFSET ?', [code, opts.state, limit, opts.offset ?? 0])
      : await this.d.all('SELECT * FROM jobs WHERE code = ? ORDER BY seq LIMIT ? OFFSET ?', [code, limit, opts.offset ?? 0]);
    return rows.map(toJob);
  }

  async listResults(code: string, opts: { limit?: number; offset?: number } = {}): Promise<ResultRow[]> {
    const rows = await this.d.all('SELECT * FROM results WHERE code = ? ORDER BY n LIMIT ? OFFSET ?', [code, Math.min(opts.limit ?? 100_000, 100_000), opts.offset ?? 0]);
    return rows.map(toResult);
  }

  async listVectors(opts: { code?: string; afterN?: number; limit?: number } = {}): Promise<VectorRow[]> {
    const cols = 'n, job_id, code, artist, title, tags, vector, finished_at';
    const limit = Math.min(opts.limit ?? 100_000, 1_000_000);
    const after = opts.afterN ?? -1;
    const rows =
      opts.code !== undefined
        ? await this.d.all(`SELECT ${cols} FROM results WHERE code = ? AND n > ? ORDER BY n LIMIT ?`, [opts.code, after, limit])
        : await this.d.all(`SELECT ${cols} FROM results WHERE n > ? ORDER BY n LIMIT ?`, [after, limit]);
    return rows.map(toVector);
  }

  async resultPages(code: string, pageSize = 1000): Promise<ResultPages> {
    // The results stored up to now, read page by page after this point: a consistent count.
    const top = (await this.d.all('SELECT COUNT(*) AS count, MAX(n) AS last FROM results WHERE code = ?', [code]))[0];
    const count = Number(top.count);
    const last = top.last === null ? 0 : Number(top.last);
    const d = this.d;
    async function* pages(): AsyncGenerator<ResultRow[]> {
      let after = 0;
      while (after < last) {
        const rows = await d.all('SELECT * FROM results WHERE code = ? AND n > ? AND n <= ? ORDER BY n LIMIT ?', [code, after, last, pageSize]);
        if (!rows.length) return;
        after = Number(rows[rows.length - 1].n);
        yield rows.map(toResult);
      }
    }
    return { count, pages: pages() };
  }

  async heartbeat(owner: string, now: number): Promise<void> {
    if (!this.shared) return;
    await this.d.run('INSERT INTO coordinators (id, last_seen) VALUES (?, ?) ON CONFLICT (id) DO UPDATE SET last_seen = EXCLUDED.last_seen', [owner, now]);
  }

  /**
   * Active jobs whose coordinator process is gone (SQLite: every one, at start-up; it has no
   * heartbeats) go back to the front, in their order. A job whose lease ran out meanwhile
   * counts a failed attempt, as it would have in the live process.
   */
  recoverActive(now: number, staleMs: number, maxAttempts = Infinity): Promise<number> {
    return this.d.tx(async (q) => {
      const gone = await q.all(
        `SELECT j.id, j.attempts, j.lease_until FROM jobs j LEFT JOIN coordinators k ON k.id = j.owner
         WHERE j.state = 'active' AND (k.id IS NULL OR k.last_seen < ?) ORDER BY j.seq DESC${this.d.lock({ skip: true, of: 'j' })}`,
        [now - staleMs],
      );
      for (const r of gone) {
        const id = r.id as string;
        if (r.lease_until !== null && Number(r.lease_until) <= now)
          await this.failIn(q, id, 'attempts', Number(r.attempts), maxAttempts, `No result within the lease (its coordinator stopped, and the lease ran out at ${new Date(Number(r.lease_until)).toISOString()})`, now, true);
        else {
          const pos = this.d.seq(true);
          await q.run(`UPDATE jobs SET state = 'queued', seq = ${pos.sql}, ${RELEASE} WHERE id = ?`, [...pos.params, id]);
        }
      }
      if (this.shared) await q.run('DELETE FROM coordinators WHERE last_seen < ?', [now - 10 * staleMs]);
      return gone.length;
    });
  }

  close(): Promise<void> {
    return this.d.close();
  }
}

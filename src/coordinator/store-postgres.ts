// SPDX-License-Identifier: MIT
/**
 * The scale-out store: PostgreSQL through `pg`. Several coordinator processes behind one
 * address share one database: a job is claimed with `FOR UPDATE SKIP LOCKED`, so two
 * processes never hand out the same job; every change to an active job names the claim token
 * it was given with; each process sends a heartbeat, and the jobs of a process that went
 * silent go back to the front of their queues. Queue order uses two sequences: back = +n,
 * front = -n.
 */
import { randomUUID } from 'node:crypto';
import type { Pool, PoolClient } from 'pg';
import {
  emptyCounts,
  parseTagsColumn,
  tagsColumn,
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
  type VectorRow,
} from './store.js';

const SCHEMA = `
CREATE TABLE IF NOT EXISTS sessions (
  code TEXT PRIMARY KEY,
  created_at BIGINT NOT NULL,
  expires_at BIGINT NOT NULL,
  status TEXT NOT NULL,
  message TEXT NOT NULL DEFAULT ''
);
CREATE SEQUENCE IF NOT EXISTS jobs_back_seq;
CREATE SEQUENCE IF NOT EXISTS jobs_front_seq;
CREATE TABLE IF NOT EXISTS jobs (
  id TEXT PRIMARY KEY,
  code TEXT NOT NULL,
  seq BIGINT NOT NULL,
  kind TEXT NOT NULL,
  payload TEXT NOT NULL,
  dedupe_key TEXT,
  label TEXT NOT NULL,
  state TEXT NOT NULL,
  attempts INTEGER NOT NULL DEFAULT 0,
  last_error TEXT,
  worker TEXT,
  claim TEXT,
  owner TEXT,
  requested_count INTEGER,
  created_at BIGINT NOT NULL,
  started_at BIGINT,
  finished_at BIGINT,
  lease_until BIGINT
);
CREATE INDEX IF NOT EXISTS jobs_queue ON jobs (code, state, seq);
CREATE INDEX IF NOT EXISTS jobs_dedupe ON jobs (code, dedupe_key);
CREATE INDEX IF NOT EXISTS jobs_active ON jobs (state, owner);
CREATE TABLE IF NOT EXISTS results (
  n BIGSERIAL PRIMARY KEY,
  job_id TEXT NOT NULL UNIQUE,
  code TEXT NOT NULL,
  artist TEXT NOT NULL,
  title TEXT NOT NULL,
  youtube_id TEXT NOT NULL,
  source_url TEXT,
  vector BYTEA NOT NULL,
  worker TEXT NOT NULL,
  queued_at BIGINT NOT NULL,
  started_at BIGINT NOT NULL,
  finished_at BIGINT NOT NULL
);
ALTER TABLE results ADD COLUMN IF NOT EXISTS tags TEXT;
CREATE INDEX IF NOT EXISTS results_code ON results (code, n);
CREATE INDEX IF NOT EXISTS results_finished ON results (code, finished_at);
CREATE TABLE IF NOT EXISTS coordinators (
  id TEXT PRIMARY KEY,
  last_seen BIGINT NOT NULL
);
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

function vectorBlob(v: Float32Array): Buffer {
  const b = Buffer.alloc(v.length * 4);
  for (let i = 0; i < v.length; i++) b.writeFloatLE(v[i], i * 4);
  return b;
}

type Q = Pick<PoolClient, 'query'>;

export interface PostgresOptions {
  /** Use (and create) this schema: tests give each run its own. */
  schema?: string;
  /** Connections in the pool (default 10). */
  max?: number;
}

export class PostgresStore implements Store {
  readonly kind = 'postgres' as const;
  readonly shared = true;

  private constructor(private readonly pool: Pool) {}

  static async open(url: string, opts: PostgresOptions = {}): Promise<PostgresStore> {
    let pg: typeof import('pg');
    try {
      pg = (await import('pg')).default as unknown as typeof import('pg');
    } catch (e) {
      const err = new Error(`The PostgreSQL store needs the pg package, which did not load (${e instanceof Error ? e.message.split('\n')[0] : String(e)}); run npm install pg`);
      err.name = 'ExpectedError';
      throw err;
    }
    if (opts.schema !== undefined && !/^[a-z_][a-z0-9_]{0,62}$/.test(opts.schema))
      throw new TypeError(`Expected a lower-case SQL identifier for schema but received ${JSON.stringify(opts.schema)}`);
    const types = {
      getTypeParser: (oid: number, format?: string) =>
        oid === 20 ? (v: string) => Number(v) : (pg.types.getTypeParser as (o: number, f?: string) => unknown)(oid, format),
    };
    const pool = new pg.Pool({
      connectionString: url,
      max: opts.max ?? 10,
      types: types as never,
      options: opts.schema ? `-c search_path=${opts.schema}` : undefined,
    });
    pool.on('error', () => {}); // an idle client lost: the next query reconnects
    try {
      if (opts.schema) await pool.query(`CREATE SCHEMA IF NOT EXISTS ${opts.schema}`);
      // Several processes may start at once: one creates the tables.
      const c = await pool.connect();
      try {
        await c.query('SELECT pg_advisory_lock(727274)');
        await c.query(SCHEMA);
      } finally {
        await c.query('SELECT pg_advisory_unlock(727274)').catch(() => {});
        c.release();
      }
    } catch (e) {
      await pool.end().catch(() => {});
      const err = new Error(`Could not open the PostgreSQL store at ${url.replace(/\/\/[^@/]*@/, '//***@')}: ${e instanceof Error ? e.message : String(e)}`);
      err.name = 'ExpectedError';
      throw err;
    }
    return new PostgresStore(pool);
  }

  private async tx<T>(fn: (c: Q) => Promise<T>): Promise<T> {
    const c = await this.pool.connect();
    try {
      await c.query('BEGIN');
      const r = await fn(c);
      await c.query('COMMIT');
      return r;
    } catch (e) {
      await c.query('ROLLBACK').catch(() => {});
      throw e;
    } finally {
      c.release();
    }
  }

  async createSession(code: string, expiresAt: number, now: number): Promise<SessionRow> {
    await this.pool.query('INSERT INTO sessions (code, created_at, expires_at, status, message) VALUES ($1, $2, $3, $4, $5)', [code, now, expiresAt, 'idle', '']);
    return { code, createdAt: now, expiresAt, status: 'idle', message: '' };
  }

  async getSession(code: string): Promise<SessionRow | null> {
    const r = await this.pool.query('SELECT code, created_at, expires_at, status, message FROM sessions WHERE code = $1', [code]);
    const x = r.rows[0] as { code: string; created_at: number; expires_at: number; status: string; message: string } | undefined;
    return x ? { code: x.code, createdAt: x.created_at, expiresAt: x.expires_at, status: x.status as SessionStatus, message: x.message } : null;
  }

  async setSessionStatus(code: string, status: SessionStatus, message: string): Promise<void> {
    await this.pool.query('UPDATE sessions SET status = $1, message = $2 WHERE code = $3', [status, message, code]);
  }

  private async addJobsIn(c: Q, code: string, jobs: NewJob[], opts: { front?: boolean; limit?: number; now?: number }): Promise<AddJobsResult> {
    // One writer per session at a time, so two processes cannot queue the same key twice.
    await c.query('SELECT pg_advisory_xact_lock(hashtext($1))', [code]);
    const now = opts.now ?? Date.now();
    const limit = opts.limit ?? Infinity;
    const out: AddJobsResult = { added: 0, duplicates: 0, ids: [] };
    const list = opts.front ? [...jobs].reverse() : jobs;
    const seqSql = opts.front ? "-nextval('jobs_front_seq')" : "nextval('jobs_back_seq')";
    for (const j of list) {
      if (out.added >= limit) break;
      if (j.dedupeKey !== null) {
        const d = (await c.query('SELECT id, state FROM jobs WHERE code = $1 AND dedupe_key = $2 ORDER BY seq DESC LIMIT 1', [code, j.dedupeKey])).rows[0] as
          | { id: string; state: string }
          | undefined;
        if (d && (d.state === 'failed' || d.state === 'cancelled')) {
          await c.query(
            `UPDATE jobs SET state = 'queued', seq = ${seqSql}, attempts = 0, last_error = NULL, worker = NULL, claim = NULL, owner = NULL, started_at = NULL, finished_at = NULL, lease_until = NULL WHERE id = $1`,
            [d.id],
          );
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
      await c.query(
        `INSERT INTO jobs (id, code, seq, kind, payload, dedupe_key, label, state, requested_count, created_at) VALUES ($1, $2, ${seqSql}, $3, $4, $5, $6, 'queued', $7, $8)`,
        [id, code, j.kind, JSON.stringify(j.payload), j.dedupeKey, j.label, j.requestedCount ?? null, now],
      );
      out.added++;
      out.ids.push(id);
    }
    return out;
  }

  async addJobs(code: string, jobs: NewJob[], opts: { front?: boolean; limit?: number; now?: number } = {}): Promise<AddJobsResult> {
    return this.tx((c) => this.addJobsIn(c, code, jobs, opts));
  }

  async claimNext(code: string, claim: Claim, now: number, leaseUntil: number): Promise<JobRow | null> {
    return this.claimIn(this.pool, code, claim, now, leaseUntil);
  }

  private async claimIn(c: Q, code: string, claim: Claim, now: number, leaseUntil: number): Promise<JobRow | null> {
    const r = await c.query(
      `UPDATE jobs SET state = 'active', worker = $2, claim = $3, owner = $4, started_at = $5, lease_until = $6
       WHERE id = (SELECT id FROM jobs WHERE code = $1 AND state = 'queued' ORDER BY seq LIMIT 1 FOR UPDATE SKIP LOCKED)
       RETURNING *`,
      [code, claim.worker, claim.token, claim.owner, now, leaseUntil],
    );
    const row = r.rows[0] as JobRecord | undefined;
    return row ? toJob(row) : null;
  }

  async getJob(id: string): Promise<JobRow | null> {
    const r = await this.pool.query('SELECT * FROM jobs WHERE id = $1', [id]);
    return r.rows[0] ? toJob(r.rows[0] as JobRecord) : null;
  }

  async requeueFront(id: string, token: string): Promise<boolean> {
    const r = await this.pool.query(
      "UPDATE jobs SET state = 'queued', seq = -nextval('jobs_front_seq'), worker = NULL, claim = NULL, owner = NULL, started_at = NULL, lease_until = NULL WHERE id = $1 AND state = 'active' AND claim = $2",
      [id, token],
    );
    return r.rowCount === 1;
  }

  async failAttempt(id: string, token: string, error: string, maxAttempts: number, now: number, front: boolean): Promise<'queued' | 'failed' | 'not-active'> {
    return this.tx(async (c) => {
      const r = (await c.query("SELECT attempts FROM jobs WHERE id = $1 AND state = 'active' AND claim = $2 FOR UPDATE", [id, token])).rows[0] as
        | { attempts: number }
        | undefined;
      if (!r) return 'not-active' as const;
      if (r.attempts + 1 >= maxAttempts) {
        await c.query("UPDATE jobs SET state = 'failed', attempts = attempts + 1, last_error = $2, finished_at = $3, lease_until = NULL, claim = NULL WHERE id = $1", [id, error, now]);
        return 'failed' as const;
      }
      const seq = front ? "-nextval('jobs_front_seq')" : "nextval('jobs_back_seq')";
      await c.query(
        `UPDATE jobs SET state = 'queued', seq = ${seq}, attempts = attempts + 1, last_error = $2, worker = NULL, claim = NULL, owner = NULL, started_at = NULL, lease_until = NULL WHERE id = $1`,
        [id, error],
      );
      return 'queued' as const;
    });
  }

  async completeAndClaim(id: string, token: string, result: ResultInput, next: NextClaim): Promise<{ stored: boolean; next: JobRow | null }> {
    return (await this.completeAndClaimMany([{ id, token, result, next }]))[0];
  }

  async completeAndClaimMany(items: CompleteItem[]): Promise<{ stored: boolean; next: JobRow | null }[]> {
    return this.tx(async (c) => {
      const out: { stored: boolean; next: JobRow | null }[] = [];
      for (const it of items) {
        const stored = await this.completeIn(c, it.id, it.token, it.result);
        const next = it.next ? await this.claimIn(c, it.next.code, it.next.claim, it.next.now, it.next.leaseUntil) : null;
        out.push({ stored, next });
      }
      return out;
    });
  }

  async completeDownload(id: string, token: string, res: ResultInput): Promise<boolean> {
    return this.tx((c) => this.completeIn(c, id, token, res));
  }

  private async completeIn(c: Q, id: string, token: string, res: ResultInput): Promise<boolean> {
    {
      const r = (
        await c.query(
          "UPDATE jobs SET state = 'done', finished_at = $3, lease_until = NULL, claim = NULL WHERE id = $1 AND state = 'active' AND claim = $2 RETURNING code, created_at, started_at",
          [id, token, res.finishedAt],
        )
      ).rows[0] as { code: string; created_at: number; started_at: number | null } | undefined;
      if (!r) return false;
      await c.query(
        'INSERT INTO results (job_id, code, artist, title, youtube_id, source_url, vector, worker, queued_at, started_at, finished_at, tags) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)',
        [id, r.code, res.artist, res.title, res.youtubeId, res.sourceUrl, vectorBlob(res.vector), res.worker, r.created_at, r.started_at ?? res.finishedAt, res.finishedAt, tagsColumn(res.tags)],
      );
      return true;
    }
  }

  async completeGenre(id: string, token: string, tracks: NewJob[], limit: number | null, now: number): Promise<AddJobsResult | null> {
    return this.tx(async (c) => {
      const r = (
        await c.query("UPDATE jobs SET state = 'done', finished_at = $3, lease_until = NULL, claim = NULL WHERE id = $1 AND state = 'active' AND claim = $2 RETURNING code", [
          id,
          token,
          now,
        ])
      ).rows[0] as { code: string } | undefined;
      if (!r) return null;
      return this.addJobsIn(c, r.code, tracks, { limit: limit ?? undefined, now });
    });
  }

  async cancelQueued(code: string): Promise<number> {
    return (await this.pool.query("UPDATE jobs SET state = 'cancelled' WHERE code = $1 AND state = 'queued'", [code])).rowCount ?? 0;
  }

  async counts(code: string): Promise<JobCounts> {
    const c = emptyCounts();
    const r = await this.pool.query('SELECT state, COUNT(*)::int AS n FROM jobs WHERE code = $1 GROUP BY state', [code]);
    for (const x of r.rows as { state: JobState; n: number }[]) c[x.state] = x.n;
    return c;
  }

  async doneSince(code: string, since: number): Promise<number> {
    return ((await this.pool.query('SELECT COUNT(*)::int AS n FROM results WHERE code = $1 AND finished_at >= $2', [code, since])).rows[0] as { n: number }).n;
  }

  async listJobs(code: string, opts: { state?: JobState; limit?: number; offset?: number } = {}): Promise<JobRow[]> {
    const limit = Math.min(opts.limit ?? 1000, 100000);
    const r = opts.state
      ? await this.pool.query('SELECT * FROM jobs WHERE code = $1 AND state = $2 ORDER BY seq LIMIT $3 OFFSET $4', [code, opts.state, limit, opts.offset ?? 0])
      : await this.pool.query('SELECT * FROM jobs WHERE code = $1 ORDER BY seq LIMIT $2 OFFSET $3', [code, limit, opts.offset ?? 0]);
    return (r.rows as JobRecord[]).map(toJob);
  }

  async listResults(code: string, opts: { limit?: number; offset?: number } = {}): Promise<ResultRow[]> {
    const r = await this.pool.query('SELECT * FROM results WHERE code = $1 ORDER BY n LIMIT $2 OFFSET $3', [code, Math.min(opts.limit ?? 1_000_000, 1_000_000), opts.offset ?? 0]);
    return (r.rows as Record<string, unknown>[]).map((x) => {
      const b = Buffer.from(x.vector as Buffer);
      return {
        jobId: x.job_id as string,
        code: x.code as string,
        artist: x.artist as string,
        title: x.title as string,
        youtubeId: x.youtube_id as string,
        sourceUrl: x.source_url as string | null,
        vector: new Float32Array(b.buffer, b.byteOffset, b.length / 4),
        worker: x.worker as string,
        queuedAt: x.queued_at as number,
        startedAt: x.started_at as number,
        finishedAt: x.finished_at as number,
        tags: parseTagsColumn(x.tags),
      };
    });
  }

  async listVectors(opts: { code?: string; afterN?: number; limit?: number } = {}): Promise<VectorRow[]> {
    const cols = 'n, job_id, code, artist, title, tags, vector, finished_at';
    const limit = Math.min(opts.limit ?? 100_000, 1_000_000);
    const after = opts.afterN ?? -1;
    const r =
      opts.code !== undefined
        ? await this.pool.query(`SELECT ${cols} FROM results WHERE code = $1 AND n > $2 ORDER BY n LIMIT $3`, [opts.code, after, limit])
        : await this.pool.query(`SELECT ${cols} FROM results WHERE n > $1 ORDER BY n LIMIT $2`, [after, limit]);
    return (r.rows as Record<string, unknown>[]).map((x) => {
      const b = Buffer.from(x.vector as Buffer);
      return {
        n: x.n as number,
        jobId: x.job_id as string,
        code: x.code as string,
        artist: x.artist as string,
        title: x.title as string,
        tags: parseTagsColumn(x.tags),
        vector: new Float32Array(b.buffer, b.byteOffset, b.length / 4),
        finishedAt: x.finished_at as number,
      };
    });
  }

  async heartbeat(owner: string, now: number): Promise<void> {
    await this.pool.query('INSERT INTO coordinators (id, last_seen) VALUES ($1, $2) ON CONFLICT (id) DO UPDATE SET last_seen = EXCLUDED.last_seen', [owner, now]);
  }

  async recoverActive(now: number, staleMs: number): Promise<number> {
    return this.tx(async (c) => {
      // Highest seq first, each to the new front, so their order is kept.
      const r = await c.query(
        `SELECT j.id FROM jobs j LEFT JOIN coordinators k ON k.id = j.owner
         WHERE j.state = 'active' AND (k.id IS NULL OR k.last_seen < $1) ORDER BY j.seq DESC FOR UPDATE OF j SKIP LOCKED`,
        [now - staleMs],
      );
      for (const { id } of r.rows as { id: string }[])
        await c.query(
          "UPDATE jobs SET state = 'queued', seq = -nextval('jobs_front_seq'), worker = NULL, claim = NULL, owner = NULL, started_at = NULL, lease_until = NULL WHERE id = $1",
          [id],
        );
      await c.query('DELETE FROM coordinators WHERE last_seen < $1', [now - 10 * staleMs]);
      return r.rows.length;
    });
  }

  async close(): Promise<void> {
    await this.pool.end();
  }
}

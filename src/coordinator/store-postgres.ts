// SPDX-License-Identifier: MIT
/**
 * The scale-out store: PostgreSQL through `pg`. Several coordinator processes behind one
 * address share one database: a job is claimed with `FOR UPDATE SKIP LOCKED`, so two
 * processes never hand out the same job; every change to an active job names the claim token
 * it was given with; each process sends a heartbeat, and the jobs of a process that went
 * silent go back to the front of their queues. Queue positions come from two sequences:
 * back = +n, front = -n. The statements themselves are shared with SQLite (store-sql.ts).
 */
import type { Pool, PoolClient } from 'pg';
import { ALTERED_TABLES, INDEXES, SqlStore, addMissingColumns, schema, type Dialect, type Param, type Rec, type Sql } from './store-sql.js';

export interface PostgresOptions {
  /** Use (and create) this schema: tests give each run its own. */
  schema?: string;
  /** Connections in the pool (default 10). */
  max?: number;
}

/** `?` placeholders as PostgreSQL's `$1, $2, ...` (the shared statements have no `?` in literals). */
function numbered(sql: string): string {
  let i = 0;
  return sql.replace(/\?/g, () => `$${++i}`);
}

function on(c: Pick<PoolClient, 'query'>): Sql {
  return {
    all: async (sql, params = []) => (await c.query(numbered(sql), params as Param[])).rows as Rec[],
    run: async (sql, params = []) => (await c.query(numbered(sql), params as Param[])).rowCount ?? 0,
  };
}

class PostgresDialect implements Dialect {
  readonly kind = 'postgres' as const;
  readonly shared = true;
  readonly types = { int: 'BIGINT', blob: 'BYTEA', serial: 'BIGSERIAL PRIMARY KEY' };
  private readonly q: Sql;

  constructor(private readonly pool: Pool) {
    this.q = on(pool);
  }

  all(sql: string, params?: Param[]): Promise<Rec[]> {
    return this.q.all(sql, params);
  }

  run(sql: string, params?: Param[]): Promise<number> {
    return this.q.run(sql, params);
  }

  async tx<T>(fn: (q: Sql) => Promise<T>): Promise<T> {
    const c = await this.pool.connect();
    try {
      await c.query('BEGIN');
      const r = await fn(on(c));
      await c.query('COMMIT');
      return r;
    } catch (e) {
      await c.query('ROLLBACK').catch(() => {});
      throw e;
    } finally {
      c.release();
    }
  }

  seq(front: boolean): { sql: string; params: Param[] } {
    return { sql: front ? "-nextval('jobs_front_seq')" : "nextval('jobs_back_seq')", params: [] };
  }

  async lockSession(q: Sql, code: string): Promise<void> {
    // One writer per session at a time, so two processes cannot queue the same key twice.
    await q.all('SELECT pg_advisory_xact_lock(hashtext(?))', [code]);
  }

  lock(opts: { skip?: boolean; of?: string } = {}): string {
    return ` FOR UPDATE${opts.of ? ` OF ${opts.of}` : ''}${opts.skip ? ' SKIP LOCKED' : ''}`;
  }

  close(): Promise<void> {
    return this.pool.end();
  }
}

export class PostgresStore extends SqlStore {
  private constructor(d: PostgresDialect) {
    super(d);
  }

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
    const d = new PostgresDialect(pool);
    try {
      if (opts.schema) await pool.query(`CREATE SCHEMA IF NOT EXISTS ${opts.schema}`);
      // Several processes may start at once: one creates the tables.
      const c = await pool.connect();
      try {
        await c.query('SELECT pg_advisory_lock(727274)');
        await c.query(`CREATE SEQUENCE IF NOT EXISTS jobs_back_seq; CREATE SEQUENCE IF NOT EXISTS jobs_front_seq; ${schema(d.types)}`);
        const found = (
          await c.query('SELECT table_name, column_name FROM information_schema.columns WHERE table_schema = current_schema() AND table_name = ANY($1)', [ALTERED_TABLES])
        ).rows as { table_name: string; column_name: string }[];
        for (const sql of addMissingColumns((t) => found.filter((r) => r.table_name === t).map((r) => r.column_name))) await c.query(sql);
        await c.query(INDEXES);
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
    return new PostgresStore(d);
  }
}

// SPDX-License-Identifier: MIT
/**
 * The embedded store: one SQLite file through Node's built-in `node:sqlite` (no native module
 * to install), in WAL mode. Each change is one transaction committed before the coordinator
 * answers or sends anything that depends on it, so a `kill -9` loses no queued job and no
 * stored result (WAL with synchronous=NORMAL is durable against a process crash; only a power
 * cut can lose the last commits). One process owns the file: statements and transactions run
 * one after another, and queue positions come from counters kept here.
 */
import { createRequire } from 'node:module';
import type { DatabaseSync, StatementSync } from 'node:sqlite';
import { INDEXES, SqlStore, addMissingColumns, schema, type Dialect, type Param, type Rec, type Sql } from './store-sql.js';

type SqliteModule = typeof import('node:sqlite');

/**
 * Run `fn` (synchronous) with node:sqlite's ExperimentalWarning held back (Node 22 prints it
 * when the module loads): only a warning of that type that names SQLite, only during `fn`;
 * every other warning, and that one at any other time, still reaches the process.
 */
export function withoutSqliteWarning<T>(fn: () => T): T {
  const emit = process.emitWarning;
  process.emitWarning = function (this: unknown, warning: string | Error, ...rest: unknown[]) {
    const type = typeof rest[0] === 'string' ? rest[0] : (rest[0] as { type?: string } | undefined)?.type;
    const text = typeof warning === 'string' ? warning : warning.message;
    if ((type === 'ExperimentalWarning' || (warning instanceof Error && warning.name === 'ExperimentalWarning')) && /SQLite/i.test(text)) return;
    return (emit as (...a: unknown[]) => void).call(process, warning, ...rest);
  } as typeof process.emitWarning;
  try {
    return fn();
  } finally {
    process.emitWarning = emit;
  }
}

/** `node:sqlite`, loaded without its ExperimentalWarning, with a clear error on a Node without it. */
export function loadSqlite(): SqliteModule {
  try {
    return withoutSqliteWarning(() => createRequire(import.meta.url)('node:sqlite') as SqliteModule);
  } catch (e) {
    const err = new Error(
      `The SQLite store needs node:sqlite, built into Node 22.13 and newer (22.5 to 22.12 only with --experimental-sqlite); this is Node ${process.versions.node} (${e instanceof Error ? e.message.split('\n')[0] : String(e)}). Use a newer Node, or --db postgres://...`,
    );
    err.name = 'ExpectedError';
    throw err;
  }
}

class SqliteDialect implements Dialect {
  readonly kind = 'sqlite' as const;
  readonly shared = false;
  readonly types = { int: 'INTEGER', blob: 'BLOB', serial: 'INTEGER PRIMARY KEY AUTOINCREMENT' };
  private readonly statements = new Map<string, StatementSync>();
  private chain: Promise<unknown> = Promise.resolve();
  private minSeq: number;
  private maxSeq: number;
  private open = true;

  constructor(readonly db: DatabaseSync) {
    db.exec('PRAGMA journal_mode = WAL');
    db.exec('PRAGMA synchronous = NORMAL');
    db.exec('PRAGMA busy_timeout = 5000');
    db.exec(schema(this.types));
    const columns = (table: string) => (db.prepare(`PRAGMA table_info(${table})`).all() as { name: string }[]).map((c) => c.name);
    for (const sql of addMissingColumns(columns)) db.exec(sql);
    db.exec(INDEXES);
    const mm = db.prepare('SELECT MIN(seq) AS lo, MAX(seq) AS hi FROM jobs').get() as { lo: number | null; hi: number | null };
    this.minSeq = Math.min(0, mm.lo ?? 0);
    this.maxSeq = Math.max(0, mm.hi ?? 0);
  }

  private st(sql: string): StatementSync {
    let s = this.statements.get(sql);
    if (!s) this.statements.set(sql, (s = this.db.prepare(sql)));
    return s;
  }

  private direct: Sql = {
    all: async (sql, params = []) => this.st(sql).all(...(params as Param[] as never[])) as Rec[],
    run: async (sql, params = []) => Number(this.st(sql).run(...(params as Param[] as never[])).changes),
  };

  /** One thing at a time: a statement outside a transaction waits for the transaction before it. */
  private serial<T>(fn: () => Promise<T>): Promise<T> {
    const p = this.chain.then(fn, fn);
    this.chain = p.catch(() => undefined);
    return p;
  }

  all(sql: string, params?: Param[]): Promise<Rec[]> {
    return this.serial(() => this.direct.all(sql, params));
  }

  run(sql: string, params?: Param[]): Promise<number> {
    return this.serial(() => this.direct.run(sql, params));
  }

  tx<T>(fn: (q: Sql) => Promise<T>): Promise<T> {
    return this.serial(async () => {
      this.db.exec('BEGIN IMMEDIATE');
      try {
        const r = await fn(this.direct);
        this.db.exec('COMMIT');
        return r;
      } catch (e) {
        try {
          this.db.exec('ROLLBACK');
        } catch {
          /* SQLite rolled it back already */
        }
        throw e; // the positions it took stay unused: gaps keep the order
      }
    });
  }

  seq(front: boolean): { sql: string; params: Param[] } {
    return { sql: '?', params: [front ? --this.minSeq : ++this.maxSeq] };
  }

  /** Prepared statements held (one per distinct statement text: a fixed number). */
  get prepared(): number {
    return this.statements.size;
  }

  async lockSession(): Promise<void> {
    // one process, one transaction at a time: nothing to lock
  }

  lock(): string {
    return '';
  }

  async close(): Promise<void> {
    await this.chain;
    if (this.open) this.db.close();
    this.open = false;
  }
}

export class SqliteStore extends SqlStore {
  private readonly dialect: SqliteDialect;

  /** Open (and create when missing) the SQLite file at `path`, or `:memory:`. */
  constructor(path: string) {
    const { DatabaseSync } = loadSqlite();
    const d = new SqliteDialect(new DatabaseSync(path));
    super(d);
    this.dialect = d;
  }

  /** Prepared statements held: one per statement text, so a fixed number however many jobs pass. */
  get preparedStatements(): number {
    return this.dialect.prepared;
  }
}

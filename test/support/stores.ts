// SPDX-License-Identifier: MIT
/**
 * The stores a coordinator test runs against: SQLite always; PostgreSQL when a server answers
 * at CHAARFM_TEST_PG (default postgres://chaarfm:chaarfm@127.0.0.1:5432/chaarfm_test), each
 * store in a fresh schema dropped at the end. Otherwise PostgreSQL tests skip and say why.
 */
import { randomBytes } from 'node:crypto';
import type { Store } from '../../src/coordinator/store.js';
import type { DatabaseSync } from 'node:sqlite';
import { SqliteStore, loadSqlite } from '../../src/coordinator/store-sqlite.js';

export const PG_URL = process.env.CHAARFM_TEST_PG ?? 'postgres://chaarfm:chaarfm@127.0.0.1:5432/chaarfm_test';

const schemas: string[] = [];

async function probe(): Promise<string | null> {
  try {
    const pg = (await import('pg')).default;
    const c = new pg.Client({ connectionString: PG_URL, connectionTimeoutMillis: 2000 });
    await c.connect();
    await c.query('SELECT 1');
    await c.end();
    return null;
  } catch (e) {
    return `no PostgreSQL at ${PG_URL.replace(/\/\/[^@/]*@/, '//***@')} (${e instanceof Error ? e.message : String(e)}); set CHAARFM_TEST_PG`;
  }
}

/** null when PostgreSQL is reachable, else why its tests skip. */
export const pgSkip: string | null = await probe();

export interface StoreKind {
  name: 'sqlite' | 'postgres';
  skip: string | false;
  /** A fresh, empty store. */
  open(): Promise<Store>;
}

export async function freshPgStore(schema?: string): Promise<Store> {
  const { PostgresStore } = await import('../../src/coordinator/store-postgres.js');
  const s = schema ?? `t_${randomBytes(6).toString('hex')}`;
  if (!schemas.includes(s)) schemas.push(s);
  return PostgresStore.open(PG_URL, { schema: s, max: 4 });
}

export const STORES: StoreKind[] = [
  { name: 'sqlite', skip: false, open: async () => new SqliteStore(':memory:') },
  { name: 'postgres', skip: pgSkip ?? false, open: () => freshPgStore() },
];

/** Drop the schemas made by this test file. */
export async function dropPgSchemas(): Promise<void> {
  if (pgSkip || !schemas.length) return;
  const pg = (await import('pg')).default;
  const c = new pg.Client({ connectionString: PG_URL });
  await c.connect();
  for (const s of schemas.splice(0)) await c.query(`DROP SCHEMA IF EXISTS ${s} CASCADE`);
  await c.end();
}

/** A coordinator's SQLite file opened read-only, to check what it stored (node:sqlite, without its warning). */
export function readOnlySqlite(path: string): DatabaseSync {
  const { DatabaseSync } = loadSqlite();
  return new DatabaseSync(path, { readOnly: true });
}

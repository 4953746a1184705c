// SPDX-License-Identifier: MIT
/**
 * `chaarfm-worker similar <file> --db <store>`: embed one local file with the normal embedder
 * and list the stored tracks nearest to it by cosine, from every session in that database or
 * from one (`--code`). The same ranking as `GET /api/sessions/{code}/similar`. One line per
 * track (score, artist - title, session, result id) or, with --json, one JSON object.
 */
import { existsSync } from 'node:fs';
import { stat } from 'node:fs/promises';
import type { Embedder } from '../embed/embedder.js';
import { createLogger } from '../log/logger.js';
import type { VectorRow } from '../coordinator/store.js';
import { UsageError } from './errors.js';
import { parseIntFlag, parseStringFlag } from './options.js';
import { rawFlagValue } from './raw-args.js';
import { embeddingFlags } from './vectorize-command.js';
import type { CliIO } from './worker-command.js';

/** Vectors read from the store per query. */
const CHUNK = 20_000;

export async function runSimilarCommand(input: string | undefined, argv: readonly string[], opts: Record<string, unknown>, io: CliIO): Promise<void> {
  if (!input) throw new UsageError('Expected an audio file for similar (chaarfm-worker similar song.mp3 --db chaarfm-coordinator.db)');
  const flags = embeddingFlags(argv, opts);
  const db = parseStringFlag('db', opts.db) && rawFlagValue(argv, 'db');
  if (!db) throw new UsageError('Expected --db <file or postgres:// URL>: the coordinator database to search');
  const { MAX_K, nearestByCosine } = await import('../coordinator/similar.js');
  const k = opts.top === undefined ? 10 : parseIntFlag('top', rawFlagValue(argv, 'top', 'k') ?? opts.top, 1, MAX_K);
  const rawCode = parseStringFlag('code', opts.code) && rawFlagValue(argv, 'code');
  const isPg = /^postgres(ql)?:\/\//i.test(db);
  // A SQLite path that does not exist would be created empty: say so instead.
  if (!isPg && db !== ':memory:' && !existsSync(db)) throw new UsageError(`No database at --db ${JSON.stringify(db)}`);
  const st = await stat(input).catch(() => null);
  if (!st?.isFile()) throw new UsageError(`No such file: ${JSON.stringify(input)}`);

  const { openStore } = await import('../coordinator/server.js');
  const store = await openStore(db).catch((e: unknown) => {
    if (e instanceof Error && e.name === 'ExpectedError') throw e;
    throw new UsageError(`Could not open --db ${JSON.stringify(db)}: ${e instanceof Error ? e.message : String(e)}`);
  });
  let embedder: Embedder | null = null;
  try {
    let code: string | undefined;
    if (rawCode !== undefined) {
      const { canonicalCode } = await import('../coordinator/codes.js');
      code = canonicalCode(rawCode) ?? rawCode.trim();
      if (!(await store.getSession(code))) throw new UsageError(`No session ${JSON.stringify(rawCode)} in ${db}`);
    }
    const log = createLogger({ format: 'pretty', stream: io.stderr, level: opts.verbose ? 'debug' : 'warn' });
    const { createEmbedder } = await import('../embed/create-embedder.js');
    embedder = await createEmbedder({ ...flags, logger: log });
    const r = await embedder.embed(input);
    // Best k of each chunk, then the best k of those: memory stays one chunk whatever the size.
    let best: { item: VectorRow; score: number }[] = [];
    let seen = 0;
    for (let after = -1; ; ) {
      const rows = await store.listVectors({ code, afterN: after, limit: CHUNK });
      if (!rows.length) break;
      seen += rows.length;
      after = rows[rows.length - 1].n;
      best = [...best, ...nearestByCosine(r.vector, rows, k)].sort((a, b) => b.score - a.score || a.item.n - b.item.n).slice(0, k);
      if (rows.length < CHUNK) break;
    }
    if (!seen) throw new UsageError(`No stored vectors in ${db}${code ? ` for session ${code}` : ''}`);
    const out = best.map(({ item, score }) => ({
      score: Number(score.toFixed(6)),
      artist: item.artist,
      title: item.title,
      tags: item.tags,
      code: item.code,
      result: item.jobId,
    }));
    if (opts.json) io.stdout.write(JSON.stringify({ source: input, backend: embedder.backend, searched: seen, nearest: out }) + '\n');
    else for (const t of out) io.stdout.write(`${t.score.toFixed(4)}  ${t.artist} - ${t.title}  (${t.code}, ${t.result})\n`);
  } finally {
    await embedder?.close();
    await store.close();
  }
}

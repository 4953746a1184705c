// SPDX-License-Identifier: MIT
/**
 * Fuzz pass on the command line: the real CLI (worker, `vectorize`, `doctor`, `serve`) run with
 * seeded random flags and values (empty, negative, huge, fractional, hex, unicode, very long,
 * repeated, unknown, a flag where a value belongs, missing folders and files). Each run must end
 * with exit 0 or 1 and readable lines, never an "unexpected error" (70), a stack trace or a
 * signal; a combination that is valid and keeps running (a worker retrying an unreachable
 * server, a coordinator) must stop cleanly on SIGTERM. Replay with CHAARFM_FUZZ_SEED=<seed>.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { BIN, Child } from './support/fuzz-process.js';
import { Rng, fuzzSeed } from './support/fuzz-mutate.js';

const RUNS = Number(process.env.CHAARFM_FUZZ_CLI_RUNS ?? 36);
const PARALLEL = 3;
/** A run still going after this is a long-running command: it gets SIGTERM. */
const SETTLE_MS = 4000;

let dir = '';
after(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

const FLAGS: Record<string, string[]> = {
  worker: ['--url', '--code', '--jobs', '--backend', '--threads', '--model', '--output-node', '--tmp-dir', '--yt-dlp', '--yt-dlp-arg', '--youtube-gap', '--ffmpeg', '--name', '--log-format', '--verbose'],
  vectorize: ['--backend', '--threads', '--model', '--output-node', '--ffmpeg', '--tmp-dir', '--out', '--tags', '--yt-dlp', '--verbose'],
  doctor: ['--backend', '--model', '--ffmpeg', '--yt-dlp', '--tmp-dir', '--json'],
  serve: ['--host', '--port', '--db', '--lease', '--retries', '--accept-any-code', '--log-format', '--verbose'],
};

function value(r: Rng): string {
  return r.pick([
    '', ' ', '0', '-1', '1', '2', '64', '65', '1e9', '2.5', '0x10', 'NaN', 'Infinity', '-0', '007', ' 3', 'abc',
    'native', 'wasm', 'auto', 'json', 'pretty', 'WASM', '15m', '90s', '0ms', '99999h',
    'ws://127.0.0.1:1', 'http://', 'ftp://x', 'https://[::1', '127.0.0.1', '256.0.0.1', '::', 'localhost',
    '/nonexistent/dir/x', join(dir, 'out.npy'), join(dir, 'out.jsonl'), join(dir, 'c.db'), 'x.csv', 'postgres://u:p@127.0.0.1:1/x',
    'éñ😀\u202e', 'a\nb', 'x'.repeat(5000), '--url', '-c',
  ]);
}

function argsFor(r: Rng, cmd: string): string[] {
  const a: string[] = cmd === 'worker' ? [] : [cmd];
  if (cmd === 'worker' && r.chance(0.8)) a.push('--url', 'ws://127.0.0.1:1', '--code', 'FUZZ');
  if (cmd === 'serve' && r.chance(0.7)) a.push('--port', '0', '--db', join(dir, `s${r.int(0, 1e6)}.db`));
  const n = r.int(1, 3);
  for (let i = 0; i < n; i++) {
    const roll = r.int(0, 9);
    if (roll < 7) {
      const f = r.pick(FLAGS[cmd]);
      a.push(f);
      if (!['--verbose', '--json', '--accept-any-code'].includes(f) || r.chance(0.2)) a.push(value(r));
    } else if (roll < 8) a.push(r.pick(['--jobz', '-x', '---', '--', '-', '--help=no', '--url=', '--jobs=3']));
    else a.push(value(r));
  }
  if (cmd === 'vectorize') a.push(r.pick(['/nonexistent/in.wav', join(dir, 'missing.mp3'), 'http://127.0.0.1:1/x.mp3']));
  return a;
}

async function runOne(args: string[]): Promise<{ args: string[]; code: number | null; signal: string | null; long: boolean; err: string; out: string }> {
  // run in the scratch folder: relative paths among the values (a --db, a --tmp-dir) land there
  const c = new Child([BIN, ...args], { CHAARFM_YTDLP: '/nonexistent/yt-dlp' }, dir);
  const t0 = Date.now();
  while (c.alive && Date.now() - t0 < SETTLE_MS) await new Promise((res) => setTimeout(res, 50));
  const long = c.alive;
  if (long) await c.stop(10000);
  return { args, code: c.exit?.code ?? null, signal: c.exit?.signal ?? null, long, err: c.err, out: c.out };
}

test('CLI: random flags and values end in exit 0 or 1 with readable lines, never a crash', { timeout: 300000 }, async () => {
  const seed = fuzzSeed();
  const r = new Rng(seed);
  console.log(`fuzz-cli seed ${seed} (replay with CHAARFM_FUZZ_SEED=${seed}), ${RUNS} runs`);
  dir = await mkdtemp(join(tmpdir(), 'cfw-fuzz-cli-'));
  const t0 = Date.now();
  const plans = Array.from({ length: RUNS }, () => argsFor(r, r.pick(['worker', 'worker', 'vectorize', 'doctor', 'serve'])));
  const results: Awaited<ReturnType<typeof runOne>>[] = [];
  for (let i = 0; i < plans.length; i += PARALLEL) results.push(...(await Promise.all(plans.slice(i, i + PARALLEL).map(runOne))));
  const bad: string[] = [];
  const tally: Record<string, number> = {};
  for (const x of results) {
    const show = JSON.stringify(x.args.map((s) => (s.length > 40 ? s.slice(0, 40) + '…' : s)));
    const key = x.long ? `ran, SIGTERM -> ${x.code}` : `exit ${x.code ?? x.signal}`;
    tally[key] = (tally[key] ?? 0) + 1;
    if (process.env.CHAARFM_FUZZ_VERBOSE) console.log(`${key} ${show}\n    ${x.err.trim().split('\n').slice(-1)[0]?.slice(0, 300)}`);
    if (x.signal || (x.code !== 0 && x.code !== 1)) bad.push(`${show}: exit ${x.code} signal ${x.signal}: ${x.err.slice(-600)}`);
    else if (/\n\s+at .+:\d+:\d+/.test(x.err) || /unexpected error/i.test(x.err)) bad.push(`${show}: a stack trace: ${x.err.slice(-600)}`);
    else if (!x.long && x.code === 1 && x.err.trim() === '' && x.out.trim() === '') bad.push(`${show}: exit 1 without a word`);
  }
  assert.deepEqual(bad, [], `seed ${seed}`);
  console.log(`fuzz-cli: seed ${seed}, ${RUNS} runs (${Object.entries(tally).map(([k, v]) => `${k}: ${v}`).join(', ')}), 0 crashes, ${((Date.now() - t0) / 1000).toFixed(1)} s`);
});

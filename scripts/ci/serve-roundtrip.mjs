// SPDX-License-Identifier: MIT
/**
 * One real job through a coordinator started by the given command (the Windows leg runs the
 * Windows executable's `serve` under Wine this way, on SQLite, node:sqlite inside the executable):
 * `CMD ARGS... serve --port 0 --db DB`; a local media server for the clips folder; the job queued
 * is the URL of track.wav; the worker is this Linux CLI (dist/src/bin.js, --backend wasm) with the
 * stand-in yt-dlp (scripts/ci/stand-in/yt-dlp.mjs). The vector the coordinator returns, and the
 * one in the database file once the coordinator has stopped (read back by Linux's node:sqlite),
 * must both equal, bit for bit, the one in --expect (a Linux `vectorize --backend wasm` output).
 *   node scripts/ci/serve-roundtrip.mjs --clips DIR --expect FILE --db FILE --log PREFIX [--cwd DIR] -- CMD ARGS...
 * --db is the database file as this Linux process sees it; --db-arg (default: --db) is how the
 * command is told it (a Windows path for Wine). The coordinator's and the worker's output go to
 * PREFIX-serve.out/.err and PREFIX-worker.out/.err (a program under Wine cannot write to a pipe);
 * they are printed when the job fails. Needs npm run build (dist/).
 */
import { spawn } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { SqliteStore } from '../../dist/src/coordinator/store-sqlite.js';
import { api, newSession } from '../../dist/test/support/coordinator.js';
import { MediaServer } from '../../dist/test/support/media-server.js';
import { waitUntil } from '../../dist/test/support/wait.js';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const argv = process.argv.slice(2);
const sep = argv.indexOf('--');
const opt = (n) => (argv.indexOf(n) >= 0 && argv.indexOf(n) < sep ? argv[argv.indexOf(n) + 1] : undefined);
const cmd = sep >= 0 ? argv.slice(sep + 1) : [];
const [clips, expectFile, db, logPrefix] = [opt('--clips'), opt('--expect'), opt('--db'), opt('--log')];
if (!clips || !expectFile || !db || !logPrefix || !cmd.length) {
  console.error('usage: serve-roundtrip.mjs --clips DIR --expect FILE --db FILE [--db-arg PATH] --log PREFIX [--cwd DIR] -- CMD ARGS...');
  process.exit(2);
}
if (existsSync(db)) {
  console.error(`serve-roundtrip: ${db} exists already; give a new file`);
  process.exit(2);
}
const expected = JSON.parse(readFileSync(expectFile, 'utf8').trim().split('\n').at(-1)).vector;
const sameBits = (got) => got.length === 200 && got.every((x, i) => Object.is(Math.fround(x), Math.fround(expected[i])));
const maxDiff = (got) => Math.max(...got.map((x, i) => Math.abs(x - expected[i])));
const log = (name) => [openSync(`${logPrefix}-${name}.out`, 'w'), openSync(`${logPrefix}-${name}.err`, 'w')];
const logText = (name) => ['out', 'err'].map((f) => (existsSync(`${logPrefix}-${name}.${f}`) ? readFileSync(`${logPrefix}-${name}.${f}`, 'utf8') : '')).join('\n');

/** Sends SIGTERM and waits (at most 20 s) for the exit; true when it exited. */
async function stop(child) {
  if (!child || child.exitCode !== null || child.signalCode !== null) return true;
  const exited = new Promise((r) => child.once('exit', () => r(true)));
  child.kill('SIGTERM');
  return Promise.race([exited, new Promise((r) => setTimeout(() => r(false), 20_000))]);
}

const t0 = Date.now();
const tools = mkdtempSync(join(tmpdir(), 'cfw-serve-roundtrip-'));
const ytdlp = join(tools, 'yt-dlp');
writeFileSync(ytdlp, `#!/bin/sh\nexec ${JSON.stringify(process.execPath)} ${JSON.stringify(join(root, 'scripts/ci/stand-in/yt-dlp.mjs'))} "$@"\n`);
chmodSync(ytdlp, 0o755);
const media = await MediaServer.start(clips);
let serve, worker;
let code = 1;
try {
  const [sOut, sErr] = log('serve');
  serve = spawn(cmd[0], [...cmd.slice(1), 'serve', '--port', '0', '--db', opt('--db-arg') ?? db], { cwd: opt('--cwd'), stdio: ['ignore', sOut, sErr] });
  const url = await waitUntil(
    () => {
      if (serve.exitCode !== null) throw new Error(`serve exited with ${serve.exitCode} before it listened`);
      return /coordinator listening on (http:\/\/[^\s"]+)/.exec(logText('serve'))?.[1] ?? false;
    },
    180_000,
    'serve listening',
  );
  const session = await newSession(url);
  const q = await api(url, `/api/sessions/${session}/jobs`, { body: { lines: [media.url('track.wav')] } });
  if (q.status >= 300) throw new Error(`queueing the job: ${JSON.stringify(q.body)}`);
  const [wOut, wErr] = log('worker');
  const env = { ...process.env };
  for (const k of ['CHAARFM_YTDLP', 'CHAARFM_FFMPEG', 'CHAARFM_EXE_CACHE', 'NODE_OPTIONS']) delete env[k];
  const args = [join(root, 'dist/src/bin.js'), '--url', url, '--code', session, '--jobs', '1', '--backend', 'wasm', '--yt-dlp', ytdlp, '--log-format', 'json'];
  worker = spawn(process.execPath, args, { env, stdio: ['ignore', wOut, wErr] });
  const rows = await waitUntil(
    async () => {
      const r = await api(url, `/api/sessions/${session}/results`);
      return Array.isArray(r.body) && r.body.length ? r.body : false;
    },
    240_000,
    'the job result',
  );
  const served = rows[0].vector;
  console.log(`serve-roundtrip: result from serve in ${((Date.now() - t0) / 1000).toFixed(1)} s, max |diff| to vectorize ${maxDiff(served)}: ${sameBits(served) ? 'bit-identical' : 'DIFFERENT'}`);
  await stop(worker);
  if (!(await stop(serve))) throw new Error('serve did not exit within 20 s of SIGTERM');
  const store = new SqliteStore(db);
  let stored;
  try {
    stored = (await store.listResults(session)).map((r) => Array.from(r.vector));
  } finally {
    await store.close();
  }
  if (stored.length !== 1) throw new Error(`the database file holds ${stored.length} results for the session, not 1`);
  console.log(`serve-roundtrip: the database file, read back on Linux: ${sameBits(stored[0]) ? 'bit-identical' : `DIFFERENT (max |diff| ${maxDiff(stored[0])})`}`);
  code = sameBits(served) && sameBits(stored[0]) ? 0 : 1;
} catch (e) {
  console.error(`serve-roundtrip: ${e.message}`);
  for (const name of ['serve', 'worker']) console.error(`--- ${name}:\n${logText(name).slice(-3000)}`);
} finally {
  await stop(worker);
  await stop(serve);
  await media.stop();
  rmSync(tools, { recursive: true, force: true });
}
process.exit(code);

// SPDX-License-Identifier: MIT
/**
 * `chaarfm-worker serve` as a child process: flags are checked with one readable line,
 * --new-code prints a code, the worker CLI (with stand-in audio work) joins it and finishes a
 * queue, and SIGTERM closes it cleanly with exit code 0.
 */
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { parseDuration } from '../src/cli/serve-command.js';
import { api, status } from './support/coordinator.js';
import { waitUntil } from './support/wait.js';

const here = dirname(fileURLToPath(import.meta.url));
const BIN = join(here, '..', 'src', 'bin.js');
const STANDIN_CLI = join(here, 'support', 'cli-with-stand-ins.js');
const children: ChildProcess[] = [];
let dir = '';

after(async () => {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  if (dir) await rm(dir, { recursive: true, force: true });
});

test('parseDuration: units, bare minutes, and a readable refusal', () => {
  assert.equal(parseDuration('lease', '15m'), 900_000);
  assert.equal(parseDuration('lease', '15'), 900_000);
  assert.equal(parseDuration('lease', '90s'), 90_000);
  assert.equal(parseDuration('lease', '500ms'), 500);
  assert.equal(parseDuration('lease', '1h'), 3_600_000);
  assert.throws(() => parseDuration('lease', 'soon'), { name: 'UsageError', message: /Expected a duration like 15m, 90s or 1h .* for --lease but received "soon"/ });
});

test('bad flags print one line and exit 1', () => {
  for (const [args, msg] of [
    [['--port', '70000'], /Expected an integer from 0 to 65535 for --port but received "70000"/],
    [['--port', '1', '--port', '2'], /Expected --port once but it was given 2 times/],
    [['--retries', '0'], /Expected an integer from 1 to 100 for --retries/],
    [['--lease', 'x'], /for --lease but received "x"/],
    [['--drops', '0'], /Expected an integer from 1 to 100 for --drops but received "0"/],
    [['--trust-proxy', '10.0.0.0/8,proxy'], /Expected an IP address or CIDR range \(10.0.0.0\/8, ::1\) in --trust-proxy but received "proxy"/],
    [['--db', 'postgres://nobody:wrong@127.0.0.1:1/x'], /Could not open the PostgreSQL store at postgres:\/\/\*\*\*@127.0.0.1:1\/x/],
  ] as const) {
    const r = spawnSync(process.execPath, [BIN, 'serve', ...((args as readonly string[]).includes('--port') ? [] : ['--port', '0']), ...args], { encoding: 'utf8', timeout: 10000 });
    assert.equal(r.status, 1, r.stderr);
    assert.match(r.stderr, msg);
    assert.doesNotMatch(r.stderr, /\n\s+at /, 'no stack');
  }
});

test('serve --new-code, a worker CLI joins with that code and finishes the queue; SIGTERM exits 0', async () => {
  dir = await mkdtemp(join(tmpdir(), 'cfw-serve-'));
  const server = spawn(process.execPath, [BIN, 'serve', '--port', '0', '--db', join(dir, 'c.db'), '--new-code'], { stdio: ['ignore', 'pipe', 'pipe'] });
  children.push(server);
  let out = '';
  let err = '';
  server.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  server.stderr!.on('data', (d: Buffer) => (err += d.toString()));
  const code = await waitUntil(() => /^([0-9A-Z]{5}-[0-9A-Z]{5})\n/.exec(out)?.[1], 10000, 'code on stdout');
  const url = await waitUntil(() => /listening on (http:\/\/[\d.]+:\d+)/.exec(err)?.[1], 5000, 'url');
  const worker = spawn(process.execPath, [STANDIN_CLI, '--url', url, '--code', code, '--jobs', '2', '--tmp-dir', dir], { stdio: 'ignore' });
  children.push(worker);
  await api(url, `/api/sessions/${code}/jobs`, { body: { lines: ['A - 1', 'A - 2', 'A - 3', 'A - 4'] } });
  const st = await waitUntil(async () => {
    const s = await status(url, code);
    return s.status === 'complete' && s;
  }, 15000, 'complete');
  assert.equal(st.queue.done, 4);
  assert.equal(st.worker_count, 2);
  worker.kill('SIGTERM');
  server.kill('SIGTERM');
  const exit = await new Promise<number | null>((r) => server.once('exit', (c) => r(c)));
  assert.equal(exit, 0);
  assert.match(err, /SIGTERM: closing sockets and the store/);
});

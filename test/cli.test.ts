// SPDX-License-Identifier: MIT
/** The CLI as users run it, in child processes. */
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, afterEach, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { LogEvent } from '../src/log/events.js';
import { VERSION } from '../src/version.js';
import { FakeServer, resultsOf } from './support/fake-server.js';
import { unverifiedOnWindows } from './support/windows-unverified.js';

const here = dirname(fileURLToPath(import.meta.url));
const BIN = join(here, '..', 'src', 'bin.js');
const STANDIN_CLI = join(here, 'support', 'cli-with-stand-ins.js');
const tmp = await mkdtemp(join(tmpdir(), 'cfw-cli-'));
after(() => rm(tmp, { recursive: true, force: true }));

let server: FakeServer | null = null;
let child: ChildProcess | null = null;
afterEach(async () => {
  child?.kill('SIGKILL');
  child = null;
  await server?.stop().catch(() => {});
  server = null;
});

function run(args: string[], env: Record<string, string> = {}) {
  return spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8', env: { ...process.env, ...env }, timeout: 20000, stdio: ['ignore', 'pipe', 'pipe'] });
}

function exitOf(c: ChildProcess): Promise<{ code: number | null; signal: NodeJS.Signals | null; at: number }> {
  return new Promise((resolve) => c.once('exit', (code, signal) => resolve({ code, signal, at: Date.now() })));
}

test('--help lists the options with their defaults', () => {
  const r = run(['--help']);
  assert.equal(r.status, 0);
  for (const flag of ['--url', '--code', '--jobs', '--backend', '--log-format', '--model', '--tmp-dir', '--yt-dlp-arg', '--youtube-gap'])
    assert.ok(r.stdout.includes(flag), flag);
  assert.match(r.stdout, /auto\|native\|wasm/);
  assert.match(r.stdout, /pretty\|json/);
});

test('--version prints the package version', () => {
  const r = run(['--version']);
  assert.equal(r.status, 0);
  assert.match(r.stdout, new RegExp(VERSION.replace(/\./g, '\\.')));
});

test('without a terminal and without --url/--code: the usage line and exit 1', () => {
  const r = run([]);
  assert.equal(r.status, 1);
  assert.match(r.stderr, /Usage: chaarfm-worker --url <server-url> --code <pairing-code>/);
  const r2 = run(['--url', 'http://127.0.0.1:1']);
  assert.equal(r2.status, 1);
  assert.match(r2.stderr, /Usage:/);
});

test('bad flags give one readable line, no stack, exit 1', () => {
  const cases: [string[], RegExp][] = [
    [['--code', 'X', '--url', 'http://h', '--jobs', '0'], /Expected an integer from 1 to 64 for --jobs but received "0"/],
    [['--code', 'X', '--url', 'http://h', '--jobs', 'many'], /--jobs/],
    [['--code', 'X', '--url', 'http://h', '--log-format', 'xml'], /Expected one of pretty\|json for --log-format but received "xml"/],
    [['--code', 'X', '--url', 'http://h', '--backend', 'gpu'], /for --backend/],
    [['--code', 'X', '--url', 'ftp://h'], /--url/],
    [['--bogus'], /Unknown option `--bogus`/],
    [['--code', 'X', '--code', 'Y', '--url', 'http://h'], /--code once/],
    [['stray'], /Unknown command or argument "stray"/],
    [['--code', 'X', '--url', 'http://h', '--youtube-gap=-1'], /Expected a number of seconds from 0 to 600 for --youtube-gap but received "-1"/],
    [['--code', 'X', '--url', 'http://h', '--youtube-gap', 'soon'], /for --youtube-gap but received "soon"/],
    [['--code', 'X', '--url', 'http://h', '--youtube-gap', '601'], /for --youtube-gap/],
    [['--code', 'X', '--url', 'http://h', '--youtube-gap', '5', '--youtube-gap', '6'], /Expected --youtube-gap once but it was given 2 times/],
    [['--code', 'X', '--url', 'http://h', '--yt-dlp-arg'], /Expected a value for --yt-dlp-arg but received none \(write --yt-dlp-arg=VALUE/],
    [['--code', 'X', '--url', 'http://h', '--yt-dlp-arg', '--plugin-dirs', '/x'], /Expected a value for --yt-dlp-arg but received "--plugin-dirs" \(write --yt-dlp-arg=VALUE, e\.g\. --yt-dlp-arg=--plugin-dirs\)/],
    [['--code', 'X', '--url', 'http://h', '--yt-dlp-arg='], /--yt-dlp-arg/],
  ];
  for (const [args, re] of cases) {
    const r = run(args);
    assert.equal(r.status, 1, args.join(' '));
    assert.match(r.stderr, re, args.join(' '));
    assert.doesNotMatch(r.stderr, /\n\s+at /, 'no stack');
  }
});

test('a pairing code with leading zeros reaches the server unchanged', async () => {
  server = await FakeServer.start();
  child = spawn(process.execPath, [STANDIN_CLI, '--url', server.url, '--code', '00123', '--jobs', '1', '--tmp-dir', tmp], { stdio: 'ignore' });
  const [peer] = await server.waitForPeers(1);
  assert.equal(peer.code, '00123');
});

test('Ctrl+C: stops taking jobs, closes the socket, removes temp files, exits 0 without finishing the job', { skip: unverifiedOnWindows('ctrlC') }, async () => {
  server = await FakeServer.start();
  const out: string[] = [];
  child = spawn(process.execPath, [STANDIN_CLI, '-u', server.url, '-c', 'SIG', '--jobs', '1', '--tmp-dir', tmp, '--log-format', 'json'], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, STANDIN_EMBED_MS: '20000' },
  });
  child.stdout!.on('data', (d) => out.push(String(d)));
  const [peer] = await server.waitForPeers(1);
  server.sendJob(peer, 'j-sig', { artist: 'A', title: 'T', youtube_url: 'https://x/a.mp3' });
  await server.waitFor(() => out.join('').includes(LogEvent.jobStarted), 5000, 'job start');
  const root = join(tmp, 'chaarfm-worker');
  assert.equal((await readdir(root)).length, 1, 'a job folder exists during the job');
  const exited = exitOf(child);
  child.kill('SIGINT');
  const e = await exited;
  assert.equal(e.code, 0);
  // The 20 s job was abandoned, not waited for: no result, no 'job done' line (no time bound,
  // which a loaded machine could break).
  assert.ok(!out.join('').includes(`"msg":"${LogEvent.jobDone}`), 'the job did not finish');
  await server.waitFor(() => peer.closed, 2000, 'socket closed');
  assert.equal(resultsOf(peer).length, 0, 'no result for an abandoned job');
  assert.deepEqual(await readdir(root), []);
  for (const line of out.join('').trim().split('\n')) JSON.parse(line); // --log-format json: every line is JSON
  child = null;
});

test('a second Ctrl+C exits at once even when a job ignores the first', { timeout: 60_000, skip: unverifiedOnWindows('ctrlC') }, async () => {
  server = await FakeServer.start();
  child = spawn(process.execPath, [STANDIN_CLI, '-u', server.url, '-c', 'SIG2', '--jobs', '1', '--tmp-dir', tmp], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, STANDIN_STUBBORN: '1' },
  });
  let out = '';
  child.stdout!.on('data', (d) => (out += String(d)));
  const [peer] = await server.waitForPeers(1);
  server.sendJob(peer, 'j-stub', { artist: 'A', title: 'T', youtube_url: 'https://x/a.mp3' });
  await server.waitFor(() => out.includes(LogEvent.jobStarted), 5000, 'job start');
  const exited = exitOf(child);
  child.kill('SIGINT');
  await new Promise((r) => setTimeout(r, 200));
  assert.equal(child.exitCode, null, 'the first Ctrl+C waits for the job');
  child.kill('SIGINT');
  // The job never ends by itself (it ignores the abort for 10 minutes): only the second signal
  // can end the process, so its exit (130) is the property, without a time bound.
  const e = await exited;
  assert.equal(e.code, 130);
  assert.deepEqual(await readdir(join(tmp, 'chaarfm-worker')), []);
  child = null;
});

test('with a terminal attached, it prompts for the URL (default shown) and the code', { skip: !existsSync('/usr/bin/script') && 'needs script(1) for a pseudo terminal' }, async () => {
  server = await FakeServer.start();
  const cmd = `${JSON.stringify(process.execPath)} ${JSON.stringify(STANDIN_CLI)} --jobs 1 --tmp-dir ${JSON.stringify(tmp)}`;
  child = spawn('script', ['-qfec', cmd, '/dev/null'], { stdio: ['pipe', 'pipe', 'pipe'] });
  let out = '';
  child.stdout!.on('data', (d) => (out += String(d)));
  await server.waitFor(() => out.includes('Server URL [https://chaarfm.onrender.com]:'), 10000, 'URL prompt');
  child.stdin!.write(`${server.url}\n`);
  await server.waitFor(() => out.includes('Pairing code:'), 5000, 'code prompt');
  child.stdin!.write('PTY42\n');
  const [peer] = await server.waitForPeers(1);
  assert.equal(peer.code, 'PTY42');
});

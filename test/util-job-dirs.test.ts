// SPDX-License-Identifier: MIT
/**
 * Job folders left by dead processes, and the tools those processes left running: unit checks
 * of util/job-dirs.ts and util/child-records.ts with real processes, then the whole case with
 * the real worker CLI: killed with -9 while yt-dlp waits on a stalled download, its next start
 * stops that yt-dlp (which would otherwise go on, and create the job folder again) and removes
 * the folder.
 */
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, before, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { isLogEvent, LogEvent, logEventMessage } from '../src/log/events.js';
import { killRecordedChildren, processStat, recordChild } from '../src/util/child-records.js';
import { cleanStaleJobDirs, createJobDir } from '../src/util/job-dirs.js';
import { FakeServer } from './support/fake-server.js';
import { waitUntil } from './support/wait.js';

const linux = process.platform === 'linux';
const here = dirname(fileURLToPath(import.meta.url));
const BIN = join(here, '..', 'src', 'bin.js');
const haveYtDlp = spawnSync('yt-dlp', ['--version']).status === 0;
const sleepBin = ['/bin/sleep', '/usr/bin/sleep'].find((p) => existsSync(p));

let dir: string;
const children: ChildProcess[] = [];
before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'cfw-jobdirs-'));
});
after(async () => {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  await rm(dir, { recursive: true, force: true });
});

/** A pid that belonged to a process that has exited (and been reaped). */
async function deadPid(): Promise<number> {
  const c = spawn(process.execPath, ['-e', '0'], { stdio: 'ignore' });
  await new Promise((r) => c.once('exit', r));
  return c.pid!;
}

function exited(c: ChildProcess): Promise<{ code: number | null; signal: string | null }> {
  if (c.exitCode !== null || c.signalCode !== null) return Promise.resolve({ code: c.exitCode, signal: c.signalCode });
  return new Promise((r) => c.once('exit', (code, signal) => r({ code, signal })));
}

/** A process alive and not a zombie. */
async function running(pid: number): Promise<boolean> {
  try {
    const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2)[0] !== 'Z';
  } catch {
    return false;
  }
}

test('stale folders: a dead owner\'s are removed; this process\'s, a live owner\'s and other names stay', async () => {
  const root = join(dir, 'stale');
  const mine = await createJobDir(root);
  const dead = join(root, `job-${await deadPid()}-abc`);
  await mkdir(dead);
  await writeFile(join(dead, 'media.webm.part'), 'x');
  const liveOwner = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 30000)'], { stdio: 'ignore' });
  children.push(liveOwner);
  const live = join(root, `job-${liveOwner.pid}-def`);
  await mkdir(live);
  await mkdir(join(root, 'not-a-job'));
  const r = await cleanStaleJobDirs(root);
  assert.deepEqual(r.removed, [dead.slice(root.length + 1)]);
  assert.deepEqual(r.stopped, []);
  assert.deepEqual(r.failed, []);
  assert.deepEqual(readdirSync(root).sort(), [mine.slice(root.length + 1), live.slice(root.length + 1), 'not-a-job'].sort());
  liveOwner.kill('SIGKILL');
  await exited(liveOwner);
  assert.deepEqual((await cleanStaleJobDirs(root)).removed, [live.slice(root.length + 1)], 'removed once its owner is gone');
  assert.deepEqual(await cleanStaleJobDirs(join(dir, 'no-such-root')), { removed: [], stopped: [], failed: [] });
});

test('processStat reads the group and start time, whatever the command name holds', { skip: !linux || !sleepBin ? 'needs Linux /proc and sleep' : false }, async () => {
  // a command name with spaces and parentheses, as /proc/<pid>/stat shows it between ( and )
  const odd = join(dir, 'a) b (c');
  await symlink(sleepBin!, odd);
  const c = spawn(odd, ['30'], { stdio: 'ignore', detached: true });
  children.push(c);
  const st = await processStat(c.pid!);
  assert.ok(st, 'a stat for a live process');
  assert.equal(st.pgrp, c.pid, 'a detached child leads its own group');
  assert.match(st.startTime, /^\d+$/);
  assert.equal((await processStat(process.pid))!.startTime, (await processStat(process.pid))!.startTime, 'stable');
  assert.notEqual(st.startTime, (await processStat(process.pid))!.startTime);
  c.kill('SIGKILL');
  await exited(c);
  assert.equal(await processStat(c.pid!), null, 'null once gone');
  assert.equal(await processStat(-1), null);
  assert.equal(await processStat(c.pid!, 'darwin'), null, 'nothing outside Linux');
});

test('a dead owner\'s recorded tool is stopped with its group; a reused pid is never touched', { skip: !linux || !sleepBin ? 'needs Linux /proc and sleep' : false }, async () => {
  const root = join(dir, 'tools');
  const folder = join(root, `job-${await deadPid()}-tool`);
  await mkdir(folder, { recursive: true });
  // the "tool": a group leader with a child of its own, like yt-dlp running ffmpeg
  const tool = spawn('/bin/sh', ['-c', `${sleepBin} 30 & wait`], { stdio: 'ignore', detached: true });
  children.push(tool);
  await recordChild(folder, tool.pid);
  const rec = (await readFile(join(folder, `.child-${tool.pid}`), 'utf8')).trim();
  assert.equal(rec, (await processStat(tool.pid!))!.startTime);
  // a record whose start time is not the live process's: the pid now names another process
  const other = spawn(sleepBin!, ['30'], { stdio: 'ignore', detached: true });
  children.push(other);
  await writeFile(join(folder, `.child-${other.pid}`), '12345\n');
  // junk records are ignored
  await writeFile(join(folder, '.child-abc'), '1\n');
  await writeFile(join(folder, '.child-1'), '1\n');
  let grandchild = 0;
  for (let i = 0; i < 100 && !grandchild; i++) {
    const kids = spawnSync('pgrep', ['-g', String(tool.pid)], { encoding: 'utf8' }).stdout.split('\n').map(Number).filter((p) => p && p !== tool.pid);
    grandchild = kids[0] ?? 0;
    if (!grandchild) await sleep(20);
  }
  const r = await cleanStaleJobDirs(root);
  assert.deepEqual(r.stopped, [tool.pid]);
  assert.equal(r.removed.length, 1);
  assert.equal(existsSync(folder), false);
  assert.deepEqual(await exited(tool), { code: null, signal: 'SIGKILL' });
  if (grandchild) {
    for (let i = 0; i < 100 && (await running(grandchild)); i++) await sleep(20);
    assert.equal(await running(grandchild), false, 'the whole group is stopped');
  }
  assert.equal(other.exitCode === null && other.signalCode === null, true, 'the process with a mismatched start time still runs');
  // stopping twice, or in a folder that is gone, does nothing
  assert.deepEqual(await killRecordedChildren(folder), []);
  // a record cannot be written into a folder that is gone; that is no error
  await recordChild(join(root, 'gone'), other.pid);
  assert.equal(existsSync(join(root, 'gone')), false);
});

/** An HTTP server that sends headers and a first few bytes, then nothing: yt-dlp waits on it. */
async function stallingServer(): Promise<{ url: string; hits: () => number; close: () => Promise<void> }> {
  let hits = 0;
  const open = new Set<import('node:http').ServerResponse>();
  const server: Server = createServer((req, res) => {
    hits++;
    open.add(res);
    res.writeHead(200, { 'content-type': 'audio/ogg', 'content-length': String(4 << 20) });
    res.write(Buffer.alloc(4096, 7));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/stall.ogg`,
    hits: () => hits,
    close: async () => {
      for (const res of open) res.destroy();
      await new Promise((r) => server.close(r));
    },
  };
}

test('a worker killed with -9 mid-download: its next start stops the yt-dlp it left and removes the folder', { skip: !linux || !haveYtDlp ? 'needs Linux and yt-dlp' : false, timeout: 120000 }, async () => {
  const media = await stallingServer();
  const server = await FakeServer.start();
  const tmp = join(dir, 'cli-tmp');
  const root = join(tmp, 'chaarfm-worker');
  const args = [BIN, '--url', server.url, '--code', 'ORPHAN', '--tmp-dir', tmp, '--backend', 'wasm', '--log-format', 'json', '--threads', '1'];
  let out2 = '';
  let second: ChildProcess | null = null;
  try {
    const first = spawn(process.execPath, args, { stdio: ['ignore', 'ignore', 'ignore'] });
    children.push(first);
    const [peer] = await server.waitForPeers(1, 30000);
    server.sendJob(peer, 'job-orphan', { artist: null, title: null, youtube_url: media.url });
    // the job folder with yt-dlp's record in it, and yt-dlp connected to the stalled server
    const record = await waitUntil(
      () => {
        if (!existsSync(root)) return null;
        for (const d of readdirSync(root)) for (const f of readdirSync(join(root, d))) if (f.startsWith('.child-')) return join(root, d, f);
        return null;
      },
      30000,
      'the yt-dlp record',
    );
    await waitUntil(() => media.hits() > 0, 30000, 'yt-dlp to request the file');
    const ytdlp = Number(/\.child-(\d+)$/.exec(record)![1]);
    first.kill('SIGKILL');
    await exited(first);
    await sleep(1500);
    assert.equal(await running(ytdlp), true, 'yt-dlp outlives a kill -9 of its worker (the case this guards against)');

    second = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    children.push(second);
    second.stdout!.on('data', (d: Buffer) => (out2 += d.toString()));
    second.stderr!.on('data', (d: Buffer) => (out2 += d.toString()));
    const line = await waitUntil(
      () =>
        out2
          .split('\n')
          .filter((l) => l.startsWith('{'))
          .map((l) => JSON.parse(l) as { msg: string; stopped_tools?: number[] })
          .find((l) => isLogEvent(l.msg, LogEvent.staleFoldersRemoved)),
      30000,
      'the cleanup log line',
    );
    assert.equal(line.msg, logEventMessage(LogEvent.staleFoldersRemoved, 1));
    assert.deepEqual(line.stopped_tools, [ytdlp]);
    await waitUntil(async () => !(await running(ytdlp)), 5000, 'yt-dlp to be gone');
    assert.deepEqual(readdirSync(root), [], 'no job folder left');
    // and it stays gone: nothing recreates the folder
    await sleep(1000);
    assert.deepEqual(readdirSync(root), []);
  } finally {
    second?.kill('SIGTERM');
    if (second) await exited(second);
    await server.stop().catch(() => {});
    await media.close();
  }
});

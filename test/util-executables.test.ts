// SPDX-License-Identifier: MIT
/**
 * findOnPath on Windows picks only what `spawn` can start without a shell: since Node 20.12.2
 * it refuses .cmd/.bat (spawn EINVAL), so a `yt-dlp.cmd` shim on PATH must be passed over for a
 * real yt-dlp.exe later on PATH, and alone it is not "found". The lookup is run with
 * platform 'win32' on any host (on Windows a file only has to exist to count as executable).
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { findOnPath } from '../src/util/executables.js';

let dir: string;
let shims: string;
let programs: string;
before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'cfw-exec-'));
  shims = join(dir, 'shims');
  programs = join(dir, 'programs');
  mkdirSync(shims);
  mkdirSync(programs);
  writeFileSync(join(shims, 'yt-dlp.cmd'), '@python -m yt_dlp %*\r\n');
  writeFileSync(join(shims, 'yt-dlp.bat'), '@python -m yt_dlp %*\r\n');
  writeFileSync(join(programs, 'yt-dlp.exe'), 'MZ');
});
after(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

const winEnv = (...dirs: string[]) => ({ PATH: dirs.join(';'), PATHEXT: '.COM;.EXE;.BAT;.CMD;.VBS;.JS' });

test('on Windows a .cmd or .bat shim earlier on PATH is passed over for the .exe', async () => {
  assert.equal(await findOnPath('yt-dlp', winEnv(shims, programs), 'win32'), join(programs, 'yt-dlp.exe'));
});

test('on Windows a PATH with only .cmd/.bat shims finds nothing (spawn would refuse them)', async () => {
  assert.equal(await findOnPath('yt-dlp', winEnv(shims), 'win32'), null);
  assert.equal(await findOnPath('yt-dlp.cmd', winEnv(shims), 'win32'), null);
});

test('on Windows a name that already ends in .exe is looked up as it is, PATHEXT or not', async () => {
  assert.equal(await findOnPath('yt-dlp.exe', { PATH: programs, PATHEXT: '.CMD' }, 'win32'), join(programs, 'yt-dlp.exe'));
  assert.equal(await findOnPath('yt-dlp.exe', winEnv(shims), 'win32'), null);
});

test('where spawn runs on Windows, a .cmd shim really is refused without a shell', { skip: process.platform !== 'win32' && 'only Windows (and Wine) refuse .cmd in spawn' }, () => {
  const r = spawnSync(join(shims, 'yt-dlp.cmd'), ['--version']);
  assert.equal((r.error as NodeJS.ErrnoException | undefined)?.code, 'EINVAL');
});

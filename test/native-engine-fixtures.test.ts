// SPDX-License-Identifier: MIT
/**
 * The engine tests' plumbing on every platform: the C++ test program is looked for with `.exe`
 * on Windows, and test/native/dump-engine-fixtures.mjs works from any checkout folder (one whose
 * path has a space: a URL's pathname would be percent-encoded, and on Windows `Z:\Z:\...`) with
 * the genre graph found through CHAARFM_ESSENTIA_FIXTURES, not at one machine's path; without
 * that graph it fails saying where it looked. The checkout copy is the script itself with links
 * (junctions on Windows) to this checkout's dist/ and models/. Where no link can be made (Wine
 * has neither symbolic links nor junctions), the script runs from this checkout itself: on
 * Windows that alone is the regression (a URL's pathname there is `/C:/...`).
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, readdirSync, symlinkSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { after, before, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { ENGINE_GENRE_GRAPH, engineTestCandidates } from './support/engine-test.js';

const root = resolve(fileURLToPath(new URL('../..', import.meta.url)));
const noGenre = existsSync(ENGINE_GENRE_GRAPH) ? false : `no genre graph at ${ENGINE_GENRE_GRAPH} (set CHAARFM_ESSENTIA_FIXTURES)`;

let dir: string;
let script: string;
let where: string;
before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'cfw engine fixtures '));
  const checkout = join(dir, 'a checkout 100%');
  mkdirSync(join(checkout, 'test', 'native'), { recursive: true });
  script = join(checkout, 'test', 'native', 'dump-engine-fixtures.mjs');
  copyFileSync(join(root, 'test', 'native', 'dump-engine-fixtures.mjs'), script);
  where = `a copy in ${checkout}`;
  try {
    for (const d of ['dist', 'models']) symlinkSync(join(root, d), join(checkout, d), 'junction');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code !== 'ENOTSUP' && code !== 'EPERM') throw err;
    script = join(root, 'test', 'native', 'dump-engine-fixtures.mjs');
    where = `this checkout (${root}): no link can be made here (${code})`;
  }
});
after(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

test('the engine test program is looked for with .exe on Windows', () => {
  const win = engineTestCandidates(join('w', 'cfw'), {}, 'win32');
  assert.deepEqual(win, [join('w', 'cfw', 'build', 'Release', 'chaarfm_engine_test.exe'), join('w', 'cfw', 'build', 'chaarfm_engine_test.exe')]);
  assert.ok(engineTestCandidates('/w/cfw', {}, 'linux').every((p) => p.endsWith('chaarfm_engine_test')));
  assert.equal(engineTestCandidates('/w', { CHAARFM_ENGINE_TEST: '/x/t' }, 'linux')[0], '/x/t');
});

test('the fixture dump runs from a folder with a space in its path, the genre graph from CHAARFM_ESSENTIA_FIXTURES', { skip: noGenre }, (t) => {
  t.diagnostic(`the script runs from ${where}`);
  const fx = join(dir, 'essentia fixtures');
  mkdirSync(fx);
  copyFileSync(ENGINE_GENRE_GRAPH, join(fx, 'genre_dortmund_musicnn_msd.pb'));
  const out = join(dir, 'out');
  const r = spawnSync(process.execPath, [script, out, '1'], { encoding: 'utf8', env: { ...process.env, CHAARFM_ESSENTIA_FIXTURES: fx } });
  assert.equal(r.status, 0, `${r.stdout}\n${r.stderr}`);
  assert.match(r.stdout, new RegExp(`genre: ${join(fx, 'genre_dortmund_musicnn_msd.pb').replace(/[\\^$.*+?()[\]{}|]/g, '\\$&')}: 1 patches`));
  for (const g of ['msd', 'genre'])
    for (const f of ['graph.txt', 'graph.bin', 'frames.bin', 'tfjs.bin', 'meta.txt']) assert.ok(readdirSync(out).includes(`${g}.${f}`), `${g}.${f} written`);
});

test('without the genre graph the fixture dump fails naming where it looked', () => {
  const empty = join(dir, 'no fixtures');
  mkdirSync(empty);
  const r = spawnSync(process.execPath, [script, join(dir, 'out2'), '1'], { encoding: 'utf8', env: { ...process.env, CHAARFM_ESSENTIA_FIXTURES: empty } });
  assert.equal(r.status, 2, `${r.stdout}\n${r.stderr}`);
  assert.match(r.stderr, /no genre graph at .*no fixtures.*set CHAARFM_ESSENTIA_FIXTURES/);
  assert.ok(!existsSync(join(dir, 'out2', 'msd.graph.txt')), 'nothing written');
});

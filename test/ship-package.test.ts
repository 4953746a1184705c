// SPDX-License-Identifier: MIT
/**
 * The npm package as a user gets it: the real `npm pack` (its prepack builds dist, this
 * platform's prebuild and the wasm engine into prebuilds/), the tarball's contents and size, then
 * an install into an empty folder with `npm install --ignore-scripts --omit=optional` (so without
 * the reference backend: essentia.js, TF.js, libsamplerate-js; its node_modules size is
 * reported) and `npx chaarfm-worker` run there with
 * every compiler and build tool replaced by a stand-in that records being run: `--help`,
 * `doctor`, `vectorize` on a generated clip (native backend from the prebuild), a connection
 * to a local coordinator (timed), `serve` from the installed package (PostgreSQL: a real HTTP
 * request and the installed worker connecting; SQLite on node:sqlite, which needs no install step), and,
 * with the prebuild removed, the portable backend (our engine in WebAssembly) that says why,
 * and `--backend essentia.js` refused with what to install.
 * The guard's empty record means something because two checks show it can fill: the installed
 * package's own compile path (build:from-source) reaches a stand-in, and the install steps npm
 * would run without --ignore-scripts are listed (none of the package's own; the dependencies'
 * are named, as the README names them).
 * Needs ffmpeg and the native build's tools (for the prebuild); skips saying so without them,
 * unless CHAARFM_REQUIRE_NATIVE=1.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, before, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { writeClip } from '../src/audio/synth-clip.js';
import { startCoordinator, type CoordinatorHandle } from '../src/coordinator/server.js';
import { api, newSession } from './support/coordinator.js';
import { explain, noCompilerEnv, npmChildEnv, packagesWithInstallSteps, run, startServe, timeToConnected, type NoCompiler } from './support/ship.js';
import { dropPgSchemas, freshPgUrl, pgSkip } from './support/stores.js';
import { LogEvent } from '../src/log/events.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const PLATFORM = `${process.platform}-${process.arch}`;
const MAX_PACKED = 30 * 1024 * 1024;
const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
const npx = process.platform === 'win32' ? 'npx.cmd' : 'npx';

const haveFfmpeg = spawnSync('ffmpeg', ['-version']).status === 0;
// the native build works here when npm test's native step produced an addon (CI requires it)
const nativeBuilds = existsSync(join(root, 'build', 'Release', 'chaarfm.node')) || process.env.CHAARFM_REQUIRE_NATIVE === '1';
const skip: string | false =
  process.platform === 'win32'
    ? 'the install test runs on POSIX (the workflow checks the Windows prebuild with the native tests)'
    : !haveFfmpeg
      ? 'needs ffmpeg'
      : !nativeBuilds
        ? 'needs the native build (CMake, a compiler, libsamplerate) to make the prebuild; run npm run build:native'
        : false;

let dir: string;
let tarball: string;
let entries: string[];
let app: string;
let pkg: string;
let clip: string;
let guard: NoCompiler;
let nativeVector: number[];

before(async () => {
  if (skip) return;
  dir = await mkdtemp(join(tmpdir(), 'cfw-ship-pkg-'));
  const packDir = join(dir, 'pack');
  mkdirSync(packDir);
  const r = run(npm, ['pack', '--pack-destination', packDir], { cwd: root, env: npmChildEnv(), timeoutMs: 600_000 });
  assert.equal(r.status, 0, `npm pack failed: ${explain(r)}`);
  const tgz = readdirSync(packDir).filter((f) => f.endsWith('.tgz'));
  assert.equal(tgz.length, 1, `one tarball in ${packDir}: ${tgz.join(', ')}`);
  tarball = join(packDir, tgz[0]);
  entries = run('tar', ['-tzf', tarball]).stdout.trim().split('\n');

  app = join(dir, 'app');
  guard = noCompilerEnv(dir);
  mkdirSync(app);
  writeFileSync(join(app, 'package.json'), '{"name":"ship-test-app","private":true}\n');
  const i = run(npm, ['install', '--ignore-scripts', '--omit=optional', '--no-audit', '--no-fund', '--prefer-offline', tarball], { cwd: app, env: guard.env, timeoutMs: 300_000 });
  assert.equal(i.status, 0, `npm install failed: ${explain(i)}`);
  pkg = join(app, 'node_modules', 'chaarfm-worker');
  clip = join(dir, 'clip.wav');
  await writeClip(clip, { seconds: 6, seed: 3 });
});

after(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
  await dropPgSchemas();
});

const chaarfm = (args: string[], timeoutMs = 120_000) => run(npx, ['--no-install', 'chaarfm-worker', ...args], { cwd: app, env: guard.env, timeoutMs });

test('npm pack holds the JS, the types, the prebuild, the model with its README and the licences, within 30 MB', { skip }, () => {
  const size = statSync(tarball).size;
  assert.ok(size <= MAX_PACKED, `packed ${size} bytes > 30 MB`);
  for (const f of [
    'package/package.json',
    'package/README.md',
    'package/LICENSE',
    'package/THIRD_PARTY_NOTICES.md',
    'package/dist/src/bin.js',
    'package/dist/src/index.d.ts',
    'package/dist/src/embed/wasm-embedder-thread.js',
    'package/dist/src/embed/wasm-engine-thread.js',
    'package/prebuilds/wasm/chaarfm-engine.wasm',
    'package/prebuilds/wasm/chaarfm-engine.cjs',
    'package/prebuilds/wasm/chaarfm-engine-relaxed.wasm',
    'package/prebuilds/wasm/chaarfm-engine-relaxed.cjs',
    'package/models/msd-musicnn-1.pb',
    'package/models/README.md',
    `package/prebuilds/${PLATFORM}/chaarfm.napi.node`,
    `package/prebuilds/${PLATFORM}/ffmpeg`,
    `package/prebuilds/${PLATFORM}/ffmpeg-COPYING.LGPLv2.1`,
    'package/CMakeLists.txt',
    'package/scripts/build-from-source.mjs',
    'package/native/deps/packed/libsamplerate-0.2.2/mid_qual_coeffs.h',
    'package/native/deps/packed/libsamplerate-0.2.2/COPYING',
  ]) {
    assert.ok(entries.includes(f), `${f} is in the tarball`);
  }
  const stray = entries.filter((e) => /^package\/(dist\/(test|bench)|src|test|bench|build|build-prebuild|node_modules|dist-exe)\//.test(e) || e.endsWith('.map'));
  assert.deepEqual(stray, [], 'only the whitelisted files');
});

test('installed with --ignore-scripts, npx runs --help, doctor and vectorize on the native prebuild; no compiler is touched', { skip }, () => {
  const h = chaarfm(['--help']);
  assert.equal(h.status, 0, explain(h));
  assert.match(h.stdout, /chaarfm-worker\/\d+\.\d+\.\d+/);
  assert.match(h.stdout, /vectorize/);

  const d = chaarfm(['doctor', '--json']);
  const report = JSON.parse(d.stdout) as { checks: { name: string; ok: boolean; detail: string }[] };
  const backend = report.checks.find((c) => c.name === 'backend')!;
  assert.match(backend.detail, /^native: native addon loaded from .*node_modules[/\\]chaarfm-worker[/\\]prebuilds[/\\]/, backend.detail);
  assert.ok(report.checks.find((c) => c.name === 'model')!.ok, 'the bundled model verifies');
  const decoder = report.checks.find((c) => c.name === 'decoder')!;
  assert.match(decoder.detail, /^ffmpeg .*node_modules[/\\]chaarfm-worker[/\\]prebuilds[/\\].*\(5\.1\.9-chaarfm, bundled\)$/, decoder.detail);

  const v = chaarfm(['vectorize', clip]);
  assert.equal(v.status, 0, explain(v));
  const line = JSON.parse(v.stdout.trim()) as { vector: number[]; backend: string };
  assert.equal(line.backend, 'native');
  assert.equal(line.vector.length, 200);
  assert.ok(line.vector.every(Number.isFinite));
  nativeVector = line.vector;
  assert.deepEqual(guard.touched(), [], 'no compiler or build tool ran');
});

test('the installed worker connects to a local coordinator', { skip }, async (t) => {
  let coord: CoordinatorHandle | undefined;
  try {
    coord = await startCoordinator({ port: 0, db: ':memory:', heartbeatMs: 0 });
    const code = await newSession(coord.url);
    const ms = await timeToConnected(npx, ['--no-install', 'chaarfm-worker', '--url', coord.url, '--code', code, '--jobs', '1', '--log-format', 'json'], { env: guard.env, cwd: app });
    t.diagnostic(`npx chaarfm-worker: launch to "connected" in ${ms.toFixed(0)} ms`);
  } finally {
    await coord?.close();
  }
});

test('the compiler guard can fail: the installed package\'s own native build reaches a stand-in', { skip }, () => {
  // A guard of its own (the shared one must stay empty), and a user cache of its own for the
  // build tools build:from-source installs (cmake-js from the npm cache).
  const probe = noCompilerEnv(join(dir, 'probe'));
  const home = join(dir, 'probe', 'home');
  mkdirSync(home, { recursive: true });
  const env = { ...probe.env, HOME: home, XDG_CACHE_HOME: join(home, '.cache'), npm_config_prefer_offline: 'true' };
  const b = run(process.execPath, [join(pkg, 'scripts', 'build-from-source.mjs')], { cwd: pkg, env, timeoutMs: 300_000 });
  assert.notEqual(b.status, 0, `build:from-source cannot succeed with stand-in build tools: ${explain(b)}`);
  assert.ok(probe.touched().includes('cmake'), `the stand-in cmake recorded the build: ${JSON.stringify(probe.touched())}\n${explain(b)}`);
  assert.match(b.stderr, /build:from-source: the native build failed/);
  assert.ok(!existsSync(join(pkg, 'build', 'Release', 'chaarfm.node')), 'no addon was built');
  rmSync(join(pkg, 'build'), { recursive: true, force: true }); // cmake-js's empty build folder
});

test('install steps: neither the package nor any dependency has one', { skip }, () => {
  const own = (JSON.parse(run('tar', ['-xzOf', tarball, 'package/package.json']).stdout) as { scripts?: Record<string, string> }).scripts ?? {};
  assert.deepEqual(['preinstall', 'install', 'postinstall', 'prepare'].filter((k) => k in own), [], 'no install step in the published package.json');
  assert.ok(!entries.includes('package/binding.gyp'), 'no binding.gyp (npm would run node-gyp for one)');
  // The decoder is the bundled one (prebuilds/<platform>-<arch>/ffmpeg), SQLite is node:sqlite,
  // built into Node: nothing is left for an install step to fetch or build. The README's
  // Install section says so.
  assert.deepEqual(packagesWithInstallSteps(join(app, 'node_modules')), []);
});

test('serve runs from the installed package on PostgreSQL: a real HTTP request, and the installed worker connects', { skip: skip || pgSkip || false }, async (t) => {
  const serve = await startServe(npx, ['--no-install', 'chaarfm-worker', 'serve', '--port', '0', '--db', freshPgUrl()], { env: guard.env, cwd: app });
  try {
    const code = await newSession(serve.url);
    const st = await api<{ code: string; status: string; queue: Record<string, number> }>(serve.url, `/api/sessions/${code}`);
    assert.equal(st.status, 200, JSON.stringify(st.body));
    assert.equal(st.body.code, code);
    const page = await fetch(`${serve.url}/ingest`);
    assert.equal(page.status, 200);
    const ms = await timeToConnected(npx, ['--no-install', 'chaarfm-worker', '--url', serve.url, '--code', code, '--jobs', '1', '--log-format', 'json'], { env: guard.env, cwd: app });
    t.diagnostic(`installed serve + worker: launch to "connected" in ${ms.toFixed(0)} ms`);
  } finally {
    await serve.stop();
  }
  assert.deepEqual(guard.touched(), [], 'no compiler or build tool ran');
});

test('serve runs from a --ignore-scripts install on SQLite (node:sqlite): a real HTTP request, and the file is written', { skip }, async () => {
  const db = join(dir, 'serve.db');
  const serve = await startServe(npx, ['--no-install', 'chaarfm-worker', 'serve', '--port', '0', '--db', db], { env: guard.env, cwd: app });
  try {
    const code = await newSession(serve.url);
    const st = await api<{ code: string; status: string }>(serve.url, `/api/sessions/${code}`);
    assert.equal(st.status, 200, JSON.stringify(st.body));
    assert.equal(st.body.code, code);
  } finally {
    await serve.stop();
  }
  assert.ok(existsSync(db), 'the SQLite file was written');
  assert.deepEqual(guard.touched(), [], 'no compiler or build tool ran');
});

test('installed without the optional reference backend: its node_modules size, and --backend essentia.js says what to install', { skip }, (t) => {
  for (const name of ['essentia.js', '@tensorflow/tfjs-core', '@tensorflow/tfjs-backend-wasm', '@alexanderolsen/libsamplerate-js']) {
    assert.ok(!existsSync(join(app, 'node_modules', ...name.split('/'))), `${name} was not installed`);
  }
  const du = run('du', ['-sk', join(app, 'node_modules')]);
  assert.equal(du.status, 0, explain(du));
  const kb = Number(du.stdout.split(/\s/)[0]);
  assert.ok(kb > 0, du.stdout);
  t.diagnostic(`node_modules without the reference backend (--omit=optional): ${(kb / 1024).toFixed(1)} MiB`);
  const r = chaarfm(['vectorize', '--backend', 'essentia.js', clip]);
  assert.notEqual(r.status, 0);
  assert.match(r.stderr, /the reference backend \(--backend essentia\.js\) needs its optional dependencies, not installed here: .*essentia\.js.*npm install --include=optional/);
});

test('without the prebuild, the portable backend (the wasm engine) says why and gives the same vector', { skip }, () => {
  rmSync(join(pkg, 'prebuilds', PLATFORM), { recursive: true, force: true });
  assert.ok(existsSync(join(pkg, 'prebuilds', 'wasm', 'chaarfm-engine.wasm')), 'the wasm engine stays');
  assert.ok(!existsSync(join(pkg, 'build')), 'no local build in the installed copy');
  const v = chaarfm(['vectorize', '--verbose', clip], 180_000);
  assert.equal(v.status, 0, explain(v));
  assert.match(v.stderr, new RegExp(`${LogEvent.portableBackend}.*no addon built for`), 'one line saying why');
  const line = JSON.parse(v.stdout.trim()) as { vector: number[]; backend: string };
  assert.equal(line.backend, 'wasm');
  assert.equal(line.vector.length, 200);
  if (nativeVector) {
    const diff = Math.max(...line.vector.map((x, i) => Math.abs(x - nativeVector[i])));
    assert.ok(diff < 1e-4, `wasm and native vectors differ by ${diff}`);
  }
  const d = chaarfm(['doctor']);
  assert.match(d.stdout, /backend\s+wasm: native backend unavailable: no addon built for/);
  assert.deepEqual(guard.touched(), [], 'no compiler or build tool ran');
});

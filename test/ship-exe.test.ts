// SPDX-License-Identifier: MIT
/**
 * The standalone executable as a user gets it: built with this platform's prebuild
 * (native/scripts/prebuild.mjs, then scripts/build-exe.mjs: the steps of `npm run build:exe`
 * after tsc, which `npm test` has just run), copied alone into an empty folder (no
 * node_modules, no package.json), and run there with every compiler and build tool replaced by
 * a stand-in that records being run: `--help` (first run: it unpacks into the cache), `doctor`,
 * `vectorize` on the native addon and on the portable backend (the wasm engine; the reference
 * backend's files are absent and `--backend essentia.js` says so), and a real job: a local
 * coordinator queues a generated track served over HTTP, the executable's worker downloads it
 * with the real yt-dlp and sends back the same vector `vectorize` prints; several first runs at
 * once on an empty cache (one consistent tree); and `serve` from the executable on SQLite (a
 * real HTTP request, the executable's worker connecting); and with no ffmpeg on PATH, one file
 * of each format embedded through the bundled decoder (prebuilds/<platform>-<arch>/ffmpeg, which
 * must be built first: native/scripts/build-ffmpeg.mjs), with the same vector as through the
 * full ffmpeg on PATH. Needs ffmpeg, yt-dlp
 * and the native build's tools; skips saying so without them, unless CHAARFM_REQUIRE_NATIVE=1.
 */
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { copyFileSync, existsSync, mkdirSync, readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, before, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { startCoordinator, type CoordinatorHandle } from '../src/coordinator/server.js';
import { api, newSession } from './support/coordinator.js';
import { waitUntil } from './support/wait.js';
import { CODECS, MediaServer, makeMusicClip } from './support/media-server.js';
import { makeFormatClips } from './support/format-media.js';
import { explain, noCompilerEnv, run, runAsync, startServe, timeToConnected, type NoCompiler } from './support/ship.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const has = (cmd: string, arg: string) => spawnSync(cmd, [arg]).status === 0;
// the native build works here when npm test's native step produced an addon (CI requires it)
const nativeBuilds = existsSync(join(root, 'build', 'Release', 'chaarfm.node')) || process.env.CHAARFM_REQUIRE_NATIVE === '1';
const skip: string | false =
  process.platform === 'win32'
    ? 'the executable test runs on POSIX (the workflow smoke-tests the Windows executable)'
    : !has('ffmpeg', '-version') || !has('yt-dlp', '--version')
      ? 'needs ffmpeg and yt-dlp'
      : !nativeBuilds
        ? 'needs the native build (CMake, a compiler, libsamplerate) to make the prebuild; run npm run build:native'
        : false;

let dir: string;
let exe: string;
let guard: NoCompiler;
let env: NodeJS.ProcessEnv;
let media: MediaServer;
let nativeVector: number[];

before(async () => {
  if (skip) return;
  dir = await mkdtemp(join(tmpdir(), 'cfw-ship-exe-'));
  const out = join(dir, 'build');
  const p = run(process.execPath, [join(root, 'native', 'scripts', 'prebuild.mjs')], { cwd: root, timeoutMs: 600_000 });
  assert.equal(p.status, 0, `prebuild failed: ${explain(p)}`);
  const b = run(process.execPath, [join(root, 'scripts', 'build-exe.mjs'), '--out', out], { cwd: root, timeoutMs: 300_000 });
  assert.equal(b.status, 0, `build-exe failed: ${explain(b)}`);
  const built = readdirSync(out).filter((f) => f.startsWith('chaarfm-worker-'));
  assert.equal(built.length, 1, `one executable in ${out}: ${built.join(', ')}`);
  // alone in an empty folder, unpacking into a cache folder of its own
  const home = join(dir, 'user');
  mkdirSync(home);
  exe = join(home, built[0]);
  copyFileSync(join(out, built[0]), exe);
  await rm(out, { recursive: true, force: true });
  guard = noCompilerEnv(dir);
  env = { ...guard.env, CHAARFM_EXE_CACHE: join(dir, 'cache'), POST_DOWNLOAD_MIN_SIZE_MB: '0', NODE_PATH: '' };
  const clips = join(dir, 'clips');
  mkdirSync(clips);
  makeMusicClip(join(clips, 'track.wav'), { seconds: 8, rate: 44100, channels: 2, codec: CODECS.wav, seed: 5 });
  media = await MediaServer.start(clips);
});

after(async () => {
  await media?.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

const exeRun = (args: string[], timeoutMs = 120_000) => run(exe, args, { cwd: dirname(exe), env, timeoutMs });

test('from an empty folder the executable runs --help, doctor and vectorize on its own addon and model', { skip }, (t) => {
  assert.deepEqual(readdirSync(dirname(exe)), [exe.slice(dirname(exe).length + 1)], 'nothing beside the executable');
  t.diagnostic(`${exe.slice(dirname(exe).length + 1)}: ${(statSync(exe).size / 1e6).toFixed(1)} MB`);
  const t0 = performance.now();
  const h = exeRun(['--help']);
  t.diagnostic(`first run (unpacking) --help: ${(performance.now() - t0).toFixed(0)} ms`);
  assert.equal(h.status, 0, explain(h));
  assert.match(h.stdout, /chaarfm-worker\/\d+\.\d+\.\d+/);
  const cached = readdirSync(env.CHAARFM_EXE_CACHE!);
  assert.equal(cached.length, 1, `one unpacked tree: ${cached.join(', ')}`);
  assert.match(cached[0], /^exe-\d+\.\d+\.\d+.*-[0-9a-f]{16}$/);

  const d = exeRun(['doctor', '--json']);
  const report = JSON.parse(d.stdout) as { checks: { name: string; ok: boolean; detail: string }[] };
  const backend = report.checks.find((c) => c.name === 'backend')!;
  assert.ok(backend.detail.startsWith(`native: native addon loaded from ${join(env.CHAARFM_EXE_CACHE!, cached[0])}`), backend.detail);
  const model = report.checks.find((c) => c.name === 'model')!;
  assert.ok(model.ok && /bundled, verified/.test(model.detail), model.detail);

  const v = exeRun(['vectorize', join(media.dir, 'track.wav')]);
  assert.equal(v.status, 0, explain(v));
  const line = JSON.parse(v.stdout.trim()) as { vector: number[]; backend: string };
  assert.equal(line.backend, 'native');
  assert.equal(line.vector.length, 200);
  nativeVector = line.vector;
  assert.deepEqual(guard.touched(), [], 'no compiler or build tool ran');
});

test('alone in an empty folder with no ffmpeg on PATH, the executable embeds one file of each format with its bundled decoder', { skip }, (t) => {
  const clips = join(dir, 'formats');
  mkdirSync(clips);
  const files = makeFormatClips(clips);
  const empty = join(dir, 'empty-path');
  mkdirSync(empty);
  const bare = { ...env, PATH: empty, CHAARFM_FFMPEG: '' };
  assert.equal(spawnSync('ffmpeg', ['-version'], { env: bare }).error?.message.includes('ENOENT'), true, 'no ffmpeg on that PATH');
  const pathVersion = /ffmpeg version (\S+)/.exec(run('ffmpeg', ['-version']).stdout)?.[1] ?? '';
  const sameFfmpeg = pathVersion.startsWith('5.1.9');
  if (!sameFfmpeg) t.diagnostic(`vectors not compared: the ffmpeg on PATH is ${pathVersion}, not 5.1.9`);
  const d = run(exe, ['doctor', '--json'], { cwd: dirname(exe), env: bare });
  const dec = (JSON.parse(d.stdout) as { checks: { name: string; ok: boolean; detail: string }[] }).checks.find((c) => c.name === 'decoder')!;
  const tree = join(env.CHAARFM_EXE_CACHE!, readdirSync(env.CHAARFM_EXE_CACHE!)[0]);
  assert.equal(dec.detail, `ffmpeg ${join(tree, 'prebuilds', `${process.platform}-${process.arch}`, 'ffmpeg')} (5.1.9-chaarfm, bundled)`);
  for (const file of files) {
    const v = run(exe, ['vectorize', file], { cwd: dirname(exe), env: bare, timeoutMs: 180_000 });
    assert.equal(v.status, 0, `${file}: ${explain(v)}`);
    const line = JSON.parse(v.stdout.trim()) as { vector: number[]; backend: string };
    assert.equal(line.vector.length, 200, file);
    // the same file through the full ffmpeg on PATH when it is the same FFmpeg (Debian's 5.1.9 in
    // CI): the same vector, bit for bit (another version's decoders may round differently)
    if (sameFfmpeg) {
      const ref = run(exe, ['vectorize', '--ffmpeg', 'ffmpeg', file], { cwd: dirname(exe), env, timeoutMs: 180_000 });
      assert.equal(ref.status, 0, explain(ref));
      assert.deepEqual(line.vector, (JSON.parse(ref.stdout.trim()) as { vector: number[] }).vector, `${file}: the vector does not move`);
    }
    t.diagnostic(`${file.slice(clips.length + 1)}: embedded (${line.backend})`);
  }
  const junk = join(clips, 'junk.webm');
  writeFileSync(junk, 'not a webm file at all\n'.repeat(50));
  const bad = run(exe, ['vectorize', junk], { cwd: dirname(exe), env: bare });
  assert.notEqual(bad.status, 0);
  assert.match(bad.stderr, /ffmpeg could not decode "junk\.webm"/);
  assert.deepEqual(guard.touched(), [], 'no compiler or build tool ran');
});

/** Every file under `dir` (relative path, mode, sha256), sorted: two unpacked trees compare equal. */
function treeDigest(dir: string): string[] {
  const out: string[] = [];
  const walk = (d: string, rel: string) => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const p = join(d, e.name);
      const r = rel ? `${rel}/${e.name}` : e.name;
      if (e.isDirectory()) walk(p, r);
      else out.push(`${r} ${(statSync(p).mode & 0o777).toString(8)} ${createHash('sha256').update(readFileSync(p)).digest('hex')}`);
    }
  };
  walk(dir, '');
  return out.sort();
}

test('several first runs at once on an empty cache all work and leave one complete tree, equal to a single run\'s', { skip }, async () => {
  const cache = join(dir, 'cache-race');
  const N = 4;
  // started together: each finds no tree, unpacks into a folder of its own, and one rename wins
  const runs = await Promise.all(Array.from({ length: N }, () => runAsync(exe, ['doctor', '--json'], { cwd: dirname(exe), env: { ...env, CHAARFM_EXE_CACHE: cache }, timeoutMs: 180_000 })));
  for (const r of runs) {
    assert.equal(r.status, 0, `exit ${r.status ?? r.signal}: ${r.stderr.slice(-2000)}`);
    const report = JSON.parse(r.stdout) as { checks: { name: string; ok: boolean; detail: string }[] };
    assert.match(report.checks.find((c) => c.name === 'backend')!.detail, /^native: native addon loaded from /);
  }
  const left = readdirSync(cache);
  assert.equal(left.length, 1, `one tree and no temp folder left: ${left.join(', ')}`);
  const single = readdirSync(env.CHAARFM_EXE_CACHE!);
  assert.deepEqual(left, single, 'the same tree name as a single first run');
  assert.ok(existsSync(join(cache, left[0], '.complete')));
  assert.deepEqual(treeDigest(join(cache, left[0])), treeDigest(join(env.CHAARFM_EXE_CACHE!, single[0])), 'the same files, modes and bytes as a single first run');
  assert.deepEqual(guard.touched(), [], 'no compiler or build tool ran');
});

test('serve runs from the executable on SQLite: a real HTTP request and the executable\'s worker connects', { skip }, async (t) => {
  const serve = await startServe(exe, ['serve', '--port', '0', '--db', join(dir, 'exe-serve.db')], { env, cwd: dirname(exe) });
  try {
    const code = await newSession(serve.url);
    const st = await api<{ code: string; status: string }>(serve.url, `/api/sessions/${code}`);
    assert.equal(st.status, 200, JSON.stringify(st.body));
    assert.equal(st.body.code, code);
    const ms = await timeToConnected(exe, ['--url', serve.url, '--code', code, '--jobs', '1', '--log-format', 'json'], { env, cwd: dirname(exe) });
    t.diagnostic(`executable serve + worker: launch to "connected" in ${ms.toFixed(0)} ms`);
  } finally {
    await serve.stop();
  }
  assert.ok(existsSync(join(dir, 'exe-serve.db')), 'the SQLite file was written');
  assert.deepEqual(guard.touched(), [], 'no compiler or build tool ran');
});

test('the executable carries the portable backend (our engine in WebAssembly) and not the reference one (essentia.js, AGPL; TF.js)', { skip }, () => {
  const v = exeRun(['vectorize', '--backend', 'wasm', join(media.dir, 'track.wav')], 180_000);
  assert.equal(v.status, 0, explain(v));
  const line = JSON.parse(v.stdout.trim()) as { vector: number[]; backend: string };
  assert.equal(line.backend, 'wasm');
  const diff = Math.max(...line.vector.map((x, i) => Math.abs(x - nativeVector[i])));
  assert.ok(diff < 1e-4, `wasm and native vectors differ by ${diff}`);
  const bytes = readFileSync(exe);
  assert.ok(bytes.includes('prebuilds/wasm/chaarfm-engine.wasm'), 'the wasm engine is an asset');
  assert.ok(bytes.includes('prebuilds/wasm/chaarfm-engine-relaxed.wasm'), 'its relaxed-SIMD module is an asset');
  for (const file of ['essentia-wasm.umd.js', 'tfjs-backend-wasm-simd.wasm']) {
    assert.ok(!bytes.includes(file), `${file} is not in the executable`);
  }
  const r = exeRun(['vectorize', '--backend', 'essentia.js', join(media.dir, 'track.wav')]);
  assert.notEqual(r.status, 0);
  assert.match(r.stderr, /the reference backend \(--backend essentia\.js\) needs its optional dependencies/);
});

test('the executable works a job from a local coordinator over the real yt-dlp', { skip }, async (t) => {
  let coord: CoordinatorHandle | undefined;
  let worker: ReturnType<typeof spawn> | undefined;
  try {
    coord = await startCoordinator({ port: 0, db: ':memory:', heartbeatMs: 0 });
    const code = await newSession(coord.url);
    const args = ['--url', coord.url, '--code', code, '--jobs', '1', '--log-format', 'json'];
    const ms = await timeToConnected(exe, args, { env, cwd: dirname(exe) });
    t.diagnostic(`executable: launch to "connected" in ${ms.toFixed(0)} ms`);

    const q = await api(coord.url, `/api/sessions/${code}/jobs`, { body: { lines: [media.url('track.wav')] } });
    assert.equal(q.status < 300, true, JSON.stringify(q.body));
    let log = '';
    worker = spawn(exe, args, { env, cwd: dirname(exe), stdio: ['ignore', 'pipe', 'pipe'] });
    worker.stdout!.on('data', (d: Buffer) => (log += d.toString()));
    worker.stderr!.on('data', (d: Buffer) => (log += d.toString()));
    type Row = { vector: number[]; worker: string };
    const rows = await waitUntil(
      async () => {
        const r = await api<Row[]>(coord!.url, `/api/sessions/${code}/results`);
        return Array.isArray(r.body) && r.body.length ? r.body : false;
      },
      120_000,
      'the job result',
    ).catch((e: Error) => assert.fail(`${e.message}\nworker log:\n${log.slice(-3000)}`));
    assert.equal(rows[0].vector.length, 200);
    const diff = Math.max(...rows[0].vector.map((x, i) => Math.abs(x - nativeVector[i])));
    assert.ok(diff <= 1e-6, `the job's vector differs from vectorize's by ${diff}`);
    assert.match(log, /backend native/);
    assert.deepEqual(guard.touched(), [], 'no compiler or build tool ran');
  } finally {
    if (worker && worker.exitCode === null) {
      const exited = new Promise((r) => worker!.once('exit', r));
      worker.kill('SIGINT');
      await exited;
    }
    await coord?.close();
  }
  assert.ok(existsSync(exe));
});

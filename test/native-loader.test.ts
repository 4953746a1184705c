// SPDX-License-Identifier: MIT
/**
 * Loading the native addon, in child processes (the loader caches nothing, but a child is the
 * honest test: its own env, its own package layout):
 *  - with the addon hidden (CHAARFM_NATIVE_ADDON naming a missing file, and a copy of the
 *    package with no build/ or prebuilds/ so node-gyp-build finds nothing) `auto` falls back to
 *    wasm with one log line that says why, naming both attempts;
 *  - a file that is not a loadable addon is reported with the loader's reason;
 *  - `--backend native` then fails with one clear line (no stack) and how to build the addon;
 *  - when the addon is built, CHAARFM_NATIVE_ADDON pointing at it selects the native backend.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { cp, mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { writeClip } from '../src/audio/synth-clip.js';
import { packageRoot } from '../src/embed/model-file.js';

const root = packageRoot();
// the addon under test: the one test-prebuild.mjs names (a prebuild, maybe another platform's
// build tree is beside it), else this checkout's build
const built = process.env.CHAARFM_NATIVE_ADDON ?? path.join(root, 'build', 'Release', 'chaarfm.node');
let dir: string;
let pkg: string;

/**
 * A copy of the package (dist, package.json, the wasm engine; models and node_modules linked) without any addon.
 * Where no link can be made or followed (Wine), the copy goes inside this checkout (build-loader-test-*, so
 * its imports find the checkout's node_modules by walking up) and models/ is copied.
 */
before(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'chaarfm-loader-'));
  pkg = path.join(dir, 'pkg');
  await mkdir(pkg, { recursive: true });
  try {
    await symlink(path.join(root, 'node_modules'), path.join(pkg, 'node_modules'), 'dir');
    await symlink(path.join(root, 'models'), path.join(pkg, 'models'), 'dir');
    // Wine makes a link that nothing can follow
    if (!existsSync(path.join(pkg, 'node_modules', 'ws', 'package.json'))) throw Object.assign(new Error('the links do not resolve'), { code: 'ENOTSUP' });
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code !== 'ENOTSUP' && code !== 'EPERM') throw err;
    await rm(dir, { recursive: true, force: true });
    dir = await mkdtemp(path.join(root, 'build-loader-test-'));
    pkg = path.join(dir, 'pkg');
    await cp(path.join(root, 'models'), path.join(pkg, 'models'), { recursive: true });
  }
  await cp(path.join(root, 'dist'), path.join(pkg, 'dist'), { recursive: true });
  await cp(path.join(root, 'package.json'), path.join(pkg, 'package.json'));
  // the portable backend as the package ships it (npm run build:wasm), no addon beside it
  await cp(path.join(root, 'prebuilds', 'wasm'), path.join(pkg, 'prebuilds', 'wasm'), { recursive: true });
  await writeClip(path.join(dir, 'clip.wav'), { seconds: 4, seed: 3 });
  await writeFile(path.join(dir, 'not-an-addon.node'), 'this is not a shared library\n');
});

after(async () => {
  await rm(dir, { recursive: true, force: true });
});

function run(args: string[], env: Record<string, string>, cwd = pkg): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, args, { cwd, env: { ...process.env, ...env }, timeout: 120_000 }, (err, stdout, stderr) => {
      resolve({ code: err ? ((err as NodeJS.ErrnoException & { code?: number }).code as unknown as number) ?? 1 : 0, stdout, stderr });
    });
  });
}

/** A child that creates the embedder with `backend` and prints the backend and every log line. */
const CHILD = `
import { createEmbedder } from './dist/src/embed/create-embedder.js';
const lines = [];
const logger = { debug() {}, info: (m, f) => lines.push(['info', m, f]), warn: (m, f) => lines.push(['warn', m, f]), error: (m, f) => lines.push(['error', m, f]), child() { return logger; } };
const e = await createEmbedder({ backend: process.env.BACKEND, threads: 1, logger });
console.log(JSON.stringify({ backend: e.backend, lines }));
await e.close();
`;

test('with the addon hidden, auto falls back to wasm and logs one line naming both attempts', async () => {
  const missing = path.join(dir, 'missing.node');
  const r = await run(['--input-type=module', '-e', CHILD], { BACKEND: 'auto', CHAARFM_NATIVE_ADDON: missing });
  assert.equal(r.code, 0, r.stderr);
  const out = JSON.parse(r.stdout.trim().split('\n').at(-1)!) as { backend: string; lines: [string, string, { reason?: string }][] };
  assert.equal(out.backend, 'wasm');
  const why = out.lines.filter(([, m]) => /portable wasm backend/.test(m));
  assert.equal(why.length, 1, JSON.stringify(out.lines));
  const reason = why[0][2].reason ?? '';
  assert.match(reason, /^native backend unavailable: /);
  assert.ok(reason.includes(`CHAARFM_NATIVE_ADDON=${missing} did not load`), reason);
  assert.ok(reason.includes(`no addon built for ${process.platform}-${process.arch}`), reason);
  assert.ok(reason.includes(path.join(pkg, 'prebuilds', `${process.platform}-${process.arch}`)), reason);
});

test('a file that is not an addon is reported with the loader reason', async () => {
  const bad = path.join(dir, 'not-an-addon.node');
  const r = await run(['--input-type=module', '-e', CHILD], { BACKEND: 'auto', CHAARFM_NATIVE_ADDON: bad });
  assert.equal(r.code, 0, r.stderr);
  const out = JSON.parse(r.stdout.trim().split('\n').at(-1)!) as { backend: string; lines: [string, string, { reason?: string }][] };
  assert.equal(out.backend, 'wasm');
  const reason = out.lines.find(([, m]) => /portable wasm backend/.test(m))?.[2].reason ?? '';
  assert.match(reason, new RegExp(`CHAARFM_NATIVE_ADDON=${bad.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} did not load \\(.*(invalid ELF header|file too short|not a valid|Bad EXE format)`));
});

test('--backend native without an addon fails with one clear line and how to build it', async () => {
  const r = await run(['dist/src/bin.js', 'vectorize', '--backend', 'native', path.join(dir, 'clip.wav')], {
    CHAARFM_NATIVE_ADDON: path.join(dir, 'missing.node'),
  });
  assert.notEqual(r.code, 0);
  assert.match(r.stderr, /The native backend is not available: .*did not load.*no addon built for/);
  assert.match(r.stderr, /npm run build:native/);
  assert.doesNotMatch(r.stderr, /^\s+at /m, 'no stack trace for an expected error');
});

test('CHAARFM_NATIVE_ADDON pointing at the built addon selects the native backend', { skip: !existsSync(built) && `no addon at ${built}; run npm run build:native` }, async () => {
  const r = await run(['--input-type=module', '-e', CHILD], { BACKEND: 'auto', CHAARFM_NATIVE_ADDON: built });
  assert.equal(r.code, 0, r.stderr);
  const out = JSON.parse(r.stdout.trim().split('\n').at(-1)!) as { backend: string };
  assert.equal(out.backend, 'native');
});

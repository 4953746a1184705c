// SPDX-License-Identifier: MIT
/**
 * Builds the native addon from source inside an installed copy of the package, for a platform
 * that has no prebuild:
 *   npm explore chaarfm-worker -- npm run build:from-source        (add -g for a global install)
 * Needs CMake >= 3.15 and a C++17 compiler (Debian/Ubuntu: `apt-get install cmake g++`; macOS:
 * `brew install cmake` and the Xcode command-line tools); the resampler's filter table
 * (libsamplerate's, from its pinned source) comes in the package (native/deps/packed, put there
 * by `npm pack`). The build tools the package does not install for its users
 * (cmake-js, node-addon-api, at the versions in package.json's devDependencies) are installed
 * into a folder of their own in the user cache, never into the package. The addon lands in
 * <package>/build/Release/chaarfm.node, which the loader tries before the prebuilds; run
 * `chaarfm-worker doctor` afterwards to see it used.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { cmakeJsEnv } from '../native/scripts/node-headers.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const pkg = JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8'));
const wanted = ['cmake-js', 'node-addon-api'];

function fail(message) {
  console.error(`build:from-source: ${message}`);
  process.exit(1);
}

function run(cmd, args, opts = {}) {
  const r = spawnSync(cmd, args, { stdio: 'inherit', ...opts });
  if (r.status !== 0) fail(`${path.basename(cmd)} ${args.slice(0, 2).join(' ')} failed (${r.error ? r.error.message : `exit ${r.status ?? r.signal}`})`);
}

// the tools: from the package's own node_modules (a development checkout), else the cache
let toolsDir = path.join(root, 'node_modules');
const resolvable = (dir) => wanted.every((n) => existsSync(path.join(dir, n, 'package.json')));
if (!resolvable(toolsDir)) {
  // an installed package (a checkout has the tools in node_modules): dist/ is there
  const { userCacheDir } = await import('../dist/src/util/user-cache.js');
  const prefix = path.join(userCacheDir(), 'build-tools');
  toolsDir = path.join(prefix, 'node_modules');
  if (!resolvable(toolsDir)) {
    mkdirSync(prefix, { recursive: true });
    const specs = wanted.map((n) => `${n}@${pkg.devDependencies?.[n] ?? 'latest'}`);
    console.log(`build:from-source: installing ${specs.join(', ')} into ${prefix}`);
    const npmCli = process.env.npm_execpath;
    const args = ['install', '--no-save', '--no-package-lock', '--ignore-scripts', '--no-audit', '--no-fund', '--prefix', prefix, ...specs];
    if (npmCli && /\.[cm]?js$/.test(npmCli)) run(process.execPath, [npmCli, ...args]);
    else run(process.platform === 'win32' ? 'npm.cmd' : 'npm', args, { shell: process.platform === 'win32' });
  }
}

const cmakeJs = createRequire(path.join(toolsDir, 'x.js')).resolve('cmake-js/bin/cmake-js');
const env = cmakeJsEnv({ ...process.env, NODE_PATH: [toolsDir, process.env.NODE_PATH].filter(Boolean).join(path.delimiter) });
const r = spawnSync(process.execPath, [cmakeJs, 'compile', '--config', 'Release'], { cwd: root, stdio: 'inherit', env });
if (r.status !== 0) {
  fail(
    `the native build failed; it needs CMake >= 3.15 and a C++17 compiler ` +
      `(Debian/Ubuntu: apt-get install cmake g++; macOS: brew install cmake and the Xcode command-line tools). ` +
      `Without it the worker keeps using the portable backend.`,
  );
}
console.log(`build:from-source: built ${path.join(root, 'build', 'Release', 'chaarfm.node')}; \`chaarfm-worker doctor\` shows the backend in use`);

// SPDX-License-Identifier: MIT
/**
 * Makes the prebuild that ships inside the package: prebuilds/<platform>-<arch>/chaarfm.napi.node,
 * the layout node-gyp-build loads (a Node-API build, any Node >= 20).
 * prebuildify only drives node-gyp, so this does its job for cmake-js: a clean Release build
 * with cmake-js, then a copy into the prebuildify layout. The addon links libsamplerate
 * dynamically when no static library is installed (Debian ships only the .so); the shared
 * library is then copied beside the .node, which finds it through its $ORIGIN rpath, so a user
 * needs no system package. Run: `npm run prebuilds` (extra arguments go to cmake-js).
 */
import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdirSync, readdirSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { cmakeJsEnv } from './node-headers.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const cmakeJs = createRequire(import.meta.url).resolve('cmake-js/bin/cmake-js');
execFileSync(process.execPath, [cmakeJs, 'rebuild', '--config', 'Release', ...process.argv.slice(2)], { cwd: root, stdio: 'inherit', env: cmakeJsEnv() });

const built = path.join(root, 'build', 'Release', 'chaarfm.node');
const dest = path.join(root, 'prebuilds', `${process.platform}-${process.arch}`);
rmSync(dest, { recursive: true, force: true });
mkdirSync(dest, { recursive: true });
copyFileSync(built, path.join(dest, 'chaarfm.napi.node'));

if (process.platform === 'linux') {
  // copy the shared libraries the addon needs that a bare system may lack
  const ldd = execFileSync('ldd', [built], { encoding: 'utf8' });
  for (const m of ldd.matchAll(/^\s*(libsamplerate\.so[.\d]*) => (\S+)/gm)) {
    copyFileSync(m[2], path.join(dest, m[1]));
  }
}
console.log(`prebuild: ${dest}: ${readdirSync(dest).join(', ')}`);

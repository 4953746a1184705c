// SPDX-License-Identifier: MIT
/**
 * Makes the prebuild that ships inside the package: prebuilds/<platform>-<arch>/chaarfm.napi.node,
 * the layout node-gyp-build loads (a Node-API build, any Node >= 20).
 *   node native/scripts/prebuild.mjs [extra cmake-js arguments]
 * prebuildify only drives node-gyp, so this does its job for cmake-js: a Release build with
 * cmake-js in its own folder (build-prebuild/, never the developer's build/, which the tests
 * load), then a copy into the prebuildify layout.
 * - libsamplerate is built from its pinned source and linked statically (CMakeLists.txt); the
 *   engine's kernels are our own (no BLAS library).
 * - libstdc++ and libgcc are linked statically (CMakeLists.txt); on Linux, ldd then checks
 *   that the result needs only what a bare glibc system has,
 *   and the script fails naming any other library.
 * Used by `npm pack` (prepack), `npm run prebuilds` and .github/workflows/prebuild.yml.
 */
import { execFileSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, readdirSync, rmSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { cmakeJsEnv } from './node-headers.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const outDir = path.join(root, 'build-prebuild');
const args = process.argv.slice(2);
const cmakeJs = createRequire(import.meta.url).resolve('cmake-js/bin/cmake-js');
// `compile` is incremental (a fresh folder gets a full build); the cache is this folder's own
execFileSync(process.execPath, [cmakeJs, 'compile', '--config', 'Release', '--out', outDir, ...args], {
  cwd: root,
  stdio: 'inherit',
  env: cmakeJsEnv(),
});

const built = path.join(outDir, 'Release', 'chaarfm.node');
const dest = path.join(root, 'prebuilds', `${process.platform}-${process.arch}`);
rmSync(dest, { recursive: true, force: true });
mkdirSync(dest, { recursive: true });
copyFileSync(built, path.join(dest, 'chaarfm.napi.node'));
if (process.platform === 'linux') {
  try {
    execFileSync('strip', ['--strip-unneeded', path.join(dest, 'chaarfm.napi.node')]); // local symbols: ~0.7 MB
  } catch {
    // no binutils: ship it unstripped
  }
}

/** Libraries every glibc Linux has (the C library, its loader, libm, pthread, dl, rt). */
const SYSTEM_LIBS = /^(linux-vdso|linux-gate|ld-linux[-\w.]*|libc|libm|libpthread|libdl|librt)\.so/;

if (process.platform === 'linux') {
  const ldd = execFileSync('ldd', [built], { encoding: 'utf8' });
  const unexpected = [];
  for (const line of ldd.split('\n')) {
    const m = /^\s*(\S+)(?: => (\S+))?/.exec(line);
    if (!m || !m[1]) continue;
    const name = path.basename(m[1]);
    if (SYSTEM_LIBS.test(name)) continue;
    unexpected.push(line.trim());
  }
  if (unexpected.length) {
    console.error(`prebuild: ${built} needs libraries a bare system may lack:\n  ${unexpected.join('\n  ')}`);
    process.exit(1);
  }
}
const files = readdirSync(dest).map((f) => `${f} (${(statSync(path.join(dest, f)).size / 1e6).toFixed(1)} MB)`);
console.log(`prebuild: ${path.relative(root, dest)}: ${files.join(', ')}`);

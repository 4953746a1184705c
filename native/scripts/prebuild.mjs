// SPDX-License-Identifier: MIT
/**
 * Makes the prebuild that ships inside the package: prebuilds/<platform>-<arch>/chaarfm.napi.node,
 * the layout node-gyp-build loads (a Node-API build, any Node >= 22).
 *   node native/scripts/prebuild.mjs [--target win32-x64|linux-arm64] [extra cmake-js arguments]
 *   npm run prebuilds -- --target win32-x64
 * prebuildify only drives node-gyp, so this does its job for cmake-js: a Release build with
 * cmake-js in its own folder (build-prebuild/, or build-prebuild-<target>/ for a cross build;
 * never the developer's build/, which the tests load), then a copy into the prebuildify layout.
 * Without --target it builds for this machine; win32-x64 (mingw-w64) and linux-arm64 (Debian
 * multiarch) are cross-built on linux-x64 with the toolchain files in native/cmake/toolchains
 * (native/scripts/targets.mjs).
 * - The engine's kernels are our own (no BLAS library); the resampler's filter table comes from
 *   libsamplerate's pinned source (CMakeLists.txt).
 * - libstdc++ and libgcc are linked statically (CMakeLists.txt). The result's imports are then
 *   checked: on Linux (readelf) only what a bare glibc system has; on Windows (objdump) only
 *   Windows' own DLLs, with node.exe delay-loaded. The script fails naming any other library.
 * Used by `npm pack` (prepack), `npm run prebuilds`, .ci/run and .github/workflows/prebuild.yml.
 */
import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdirSync, readdirSync, rmSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { cmakeJsEnv } from './node-headers.mjs';
import { parseTarget, root } from './targets.mjs';
import { checkImports } from './check-imports.mjs';

let t;
try {
  t = parseTarget(process.argv.slice(2));
} catch (err) {
  console.error(`prebuild: ${err.message}`);
  process.exit(2);
}
const outDir = path.join(root, t.cross ? `build-prebuild-${t.target}` : 'build-prebuild');
const cmakeJs = createRequire(import.meta.url).resolve('cmake-js/bin/cmake-js');
// `compile` is incremental (a fresh folder gets a full build); the cache is this folder's own
execFileSync(process.execPath, [cmakeJs, 'compile', '--config', 'Release', '--out', outDir, ...t.cmakeArgs, ...t.rest], {
  cwd: root,
  stdio: 'inherit',
  env: cmakeJsEnv(),
});

const built = path.join(outDir, 'Release', 'chaarfm.node');
const dest = path.join(root, 'prebuilds', t.target);
const shipped = path.join(dest, 'chaarfm.napi.node');
// only the addon is replaced: the bundled decoder (native/scripts/build-ffmpeg.mjs) shares the folder
rmSync(shipped, { force: true });
mkdirSync(dest, { recursive: true });
copyFileSync(built, shipped);
if (!t.target.startsWith('darwin')) {
  try {
    execFileSync(t.strip, ['--strip-unneeded', shipped]); // local symbols: ~0.7 MB
  } catch {
    // no binutils for this target: ship it unstripped
  }
}

const problem = checkImports(built, t.target); // the unstripped build: same imports, and its symbols
if (problem) {
  rmSync(shipped, { force: true });
  console.error(`prebuild: ${built}: ${problem}`);
  process.exit(1);
}
const files = readdirSync(dest).map((f) => `${f} (${(statSync(path.join(dest, f)).size / 1e6).toFixed(1)} MB)`);
console.log(`prebuild: ${path.relative(root, dest)}: ${files.join(', ')}`);

// SPDX-License-Identifier: MIT
/**
 * Builds the native addon from source with cmake-js (build/Release/chaarfm.node).
 *   node native/scripts/build.mjs [--tests] [--target win32-x64|linux-arm64] [extra cmake-js arguments]
 * --tests also builds the engine's C++ test program that test/native-engine.test.ts runs.
 * --target cross-builds on linux-x64 (native/scripts/targets.mjs) into build-<target>/ instead
 * (build-win32-x64/Release/chaarfm_engine_test.exe runs under Wine, build-linux-arm64/'s under qemu).
 * When the build cannot run (no CMake or compiler, or libsamplerate's pinned source for the
 * resampler's filter table and the tests' reference), it says what is
 * missing and exits 0, so the TypeScript tests still run and the native ones skip with a
 * reason; with CHAARFM_REQUIRE_NATIVE=1 (CI) such a failure is an error.
 */
import { spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import path from 'node:path';
import { cmakeJsEnv } from './node-headers.mjs';
import { parseTarget, root } from './targets.mjs';

let t;
try {
  t = parseTarget(process.argv.slice(2));
} catch (err) {
  console.error(`build: ${err.message}`);
  process.exit(2);
}
const tests = t.rest.includes('--tests');
const extra = t.rest.filter((a) => a !== '--tests');
const out = t.cross ? ['--out', path.join(root, `build-${t.target}`)] : [];
const cmakeJs = createRequire(import.meta.url).resolve('cmake-js/bin/cmake-js');
const r = spawnSync(
  process.execPath,
  [cmakeJs, 'compile', '--config', 'Release', ...out, ...t.cmakeArgs, ...(tests ? ['--CDCHAARFM_BUILD_TESTS=ON'] : []), ...extra],
  { cwd: root, stdio: 'inherit', env: cmakeJsEnv() },
);
if (r.status !== 0) {
  const why = r.error ? r.error.message : `cmake-js exited with ${r.status ?? r.signal}`;
  const hint =
    'needs CMake >= 3.15, a C++17 compiler and libsamplerate\'s pinned source (native/deps/fetch-source.mjs) ' +
    '(Debian/Ubuntu: apt-get install cmake g++ dpkg-dev)';
  if (process.env.CHAARFM_REQUIRE_NATIVE === '1') {
    console.error(`native addon build failed (${why}); it ${hint}`);
    process.exit(1);
  }
  console.warn(`warning: native addon not built (${why}); it ${hint}. The portable backend is used and native tests skip.`);
}

// SPDX-License-Identifier: MIT
/**
 * Builds the WebAssembly engine (native/wasm/CMakeLists.txt, Emscripten) and puts what the
 * package ships into prebuilds/wasm/: chaarfm-engine.wasm and its CommonJS glue
 * chaarfm-engine.cjs (a factory that is handed the .wasm bytes; it reads no file itself), and the
 * relaxed-SIMD variant chaarfm-engine-relaxed.{wasm,cjs} (build-wasm-relaxed/).
 *   node native/scripts/build-wasm.mjs [--tests]
 * --tests also builds the engine's C++ test program for wasm (build-wasm/chaarfm_engine_test.js and
 * build-wasm-relaxed/chaarfm_engine_test.js, run under node by test/wasm-engine-kernels.test.ts). Needs emcmake/emcc on PATH (Debian:
 * apt-get install emscripten; its acorn is found through NODE_PATH=/usr/share/nodejs, set here
 * when that folder exists). When emcc is missing it says so and exits 0, so the TypeScript
 * tests still run and the wasm ones skip with a reason; with CHAARFM_REQUIRE_NATIVE=1 (CI) it
 * is an error.
 */
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const tests = process.argv.includes('--tests');
const build = path.join(root, 'build-wasm');
const dest = path.join(root, 'prebuilds', 'wasm');
const env = { ...process.env };
if (!env.NODE_PATH && existsSync('/usr/share/nodejs')) env.NODE_PATH = '/usr/share/nodejs';

function run(cmd, args) {
  const r = spawnSync(cmd, args, { cwd: root, stdio: 'inherit', env });
  if (r.status === 0) return;
  const why = r.error ? r.error.message : `${cmd} exited with ${r.status ?? r.signal}`;
  const hint = 'needs Emscripten (emcmake, emcc) and CMake >= 3.16 (Debian/Ubuntu: apt-get install emscripten cmake)';
  if (process.env.CHAARFM_REQUIRE_NATIVE === '1') {
    console.error(`wasm engine build failed (${why}); it ${hint}`);
    process.exit(1);
  }
  console.warn(`warning: wasm engine not built (${why}); it ${hint}. The wasm engine tests skip.`);
  process.exit(0);
}

// Two modules from the same sources: SIMD128 (the generic kernels' bits) and relaxed SIMD (the
// kernels' multiply-adds as relaxed_madd: fused where the CPU can; chosen at load time where the
// runtime validates it, src/embed/wasm-engine-binding.ts). Both with the tests under --tests.
const variants = [
  { build, name: 'chaarfm-engine', flags: [], targets: [] },
  // the resampler has no multiply-add to relax (it is the SIMD128 build's): only the engine's tests
  { build: `${build}-relaxed`, name: 'chaarfm-engine-relaxed', flags: ['-DCHAARFM_WASM_RELAXED=ON'],
    targets: ['--target', 'chaarfm_engine_wasm', ...(tests ? ['chaarfm_engine_test'] : [])] },
];
mkdirSync(dest, { recursive: true });
for (const v of variants) {
  run('emcmake', ['cmake', '-S', path.join(root, 'native', 'wasm'), '-B', v.build, '-DCMAKE_BUILD_TYPE=Release',
    `-DCHAARFM_BUILD_TESTS=${tests ? 'ON' : 'OFF'}`, `-DCHAARFM_NODE=${process.execPath}`, ...v.flags]);
  // the package is "type": "module"; the glue and the test program are CommonJS
  writeFileSync(path.join(v.build, 'package.json'), '{ "type": "commonjs" }\n');
  run('cmake', ['--build', v.build, '-j2', ...v.targets]);
  copyFileSync(path.join(v.build, `${v.name}.wasm`), path.join(dest, `${v.name}.wasm`));
  copyFileSync(path.join(v.build, `${v.name}.js`), path.join(dest, `${v.name}.cjs`));
  console.log(`wasm engine: ${path.relative(root, dest)}/${v.name}.{wasm,cjs}`);
}

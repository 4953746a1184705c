// SPDX-License-Identifier: MIT
/**
 * Runs the engine's C++ test program built for WebAssembly (native/wasm, Emscripten, the SIMD128
 * kernel family; `node native/scripts/build-wasm.mjs --tests`) under node, with the same fixtures
 * as test/native-engine.test.ts, and fails when it fails: every kernel and op test, both graphs
 * vs TF.js, and the SIMD128 kernels bit for bit against the generic ones (reference kernels ==
 * fast kernels over both whole graphs: "max |reference kernels - fast| = 0"). Skips with the
 * reason when the program is not built.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';

const root = resolve(fileURLToPath(new URL('../..', import.meta.url)));
const program = join(root, 'build-wasm', 'chaarfm_engine_test.js');
const skip = existsSync(program)
  ? false
  : `the wasm engine's C++ tests are not built (no ${program}); build them with: node native/scripts/build-wasm.mjs --tests`;

test('wasm engine C++ tests pass under node (SIMD128 kernels bit-equal to generic, both graphs vs TF.js)', { skip, timeout: 600_000 }, () => {
  const dir = mkdtempSync(join(tmpdir(), 'chaarfm-wasm-engine-'));
  try {
    const dump = spawnSync(process.execPath, [join(root, 'test', 'native', 'dump-engine-fixtures.mjs'), dir, '3'], {
      encoding: 'utf8',
    });
    assert.equal(dump.status, 0, `fixture dump failed:\n${dump.stdout}\n${dump.stderr}`);
    const run = spawnSync(process.execPath, [program, '--fixtures', dir], { encoding: 'utf8' });
    const out = `${run.stdout}\n${run.stderr}`;
    assert.equal(run.status, 0, `chaarfm_engine_test (wasm) failed:\n${out}`);
    assert.match(run.stdout, /kernel backend: wasm simd128/);
    assert.match(run.stdout, / 0 failures/);
    assert.doesNotMatch(run.stdout, /SKIP: no fixtures/);
    for (const name of ['wasm128_gemm_bit_equal_to_reference', 'wasm128_conv_tall_bit_equal_to_generic',
      'wasm128_conv_wide_bit_equal_to_generic', 'runner_msd_musicnn', 'runner_genre_dortmund']) {
      assert.match(run.stdout, new RegExp(`^PASS ${name}$`, 'm'));
    }
    // the whole graphs with the SIMD128 kernels give the generic kernels' bits
    const diffs = [...run.stdout.matchAll(/max \|reference kernels - fast\| = (\S+)/g)].map((m) => Number(m[1]));
    assert.equal(diffs.length, 2, out);
    assert.deepEqual(diffs, [0, 0]);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

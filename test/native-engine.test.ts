// SPDX-License-Identifier: MIT
/**
 * Runs the native graph engine's C++ test executable (native/test, built with
 * -DCHAARFM_BUILD_TESTS=ON) and fails when it fails. It builds nothing: it looks for the
 * binary at $CHAARFM_ENGINE_TEST, build/Release/chaarfm_engine_test or build/chaarfm_engine_test,
 * (with .exe on Windows: test/support/engine-test.ts) and skips with the reason when none
 * exists, or when Essentia's genre graph (test/support/fixtures.ts) is not there. The fixtures
 * the C++ tests compare against (both MusiCNN graphs, random frames, TF.js CPU-backend rows) are
 * written to a temporary folder first by test/native/dump-engine-fixtures.mjs.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { ENGINE_GENRE_GRAPH, engineTestCandidates } from './support/engine-test.js';

const root = resolve(fileURLToPath(new URL('../..', import.meta.url)));
const candidates = engineTestCandidates(root);
const binary = candidates.find((p) => existsSync(p));
const skip = !binary
  ? `the engine's C++ tests are not built (looked for ${candidates.join(', ')}); ` +
    'build them with: npx cmake-js compile --CDCHAARFM_BUILD_TESTS=ON'
  : !existsSync(ENGINE_GENRE_GRAPH)
    ? `no genre graph at ${ENGINE_GENRE_GRAPH} for the fixtures (set CHAARFM_ESSENTIA_FIXTURES)`
    : false;

test('native engine C++ tests pass (ops, kernels, overlap reuse, threads, vs TF.js)', { skip, timeout: 600_000 }, () => {
  const dir = mkdtempSync(join(tmpdir(), 'chaarfm-engine-'));
  try {
    const dump = spawnSync(process.execPath, [join(root, 'test', 'native', 'dump-engine-fixtures.mjs'), dir, '3'], {
      encoding: 'utf8',
    });
    assert.equal(dump.status, 0, `fixture dump failed:\n${dump.stdout}\n${dump.stderr}`);
    const run = spawnSync(binary as string, ['--fixtures', dir], { encoding: 'utf8' });
    const out = `${run.stdout}\n${run.stderr}`;
    assert.equal(run.status, 0, `chaarfm_engine_test failed:\n${out}`);
    assert.match(run.stdout, / 0 failures/);
    assert.doesNotMatch(run.stdout, /SKIP: no fixtures/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

// SPDX-License-Identifier: MIT
/**
 * Runs the native graph engine's C++ test executable (native/test, built with
 * -DCHAARFM_BUILD_TESTS=ON) once per kernel ISA cap (CHAARFM_MAX_ISA=avx512, avx2, generic on
 * x86-64; neon, generic on arm64) and reports each C++ test as a subtest: PASS passes, FAIL
 * fails, SKIP (a SIMD variant the CPU or the cap cannot run) is a node:test skip with the
 * C++ reason, never a pass. It builds nothing: it looks for the binary at
 * $CHAARFM_ENGINE_TEST, build/Release/chaarfm_engine_test or build/chaarfm_engine_test (with .exe
 * on Windows: test/support/engine-test.ts), and skips with the reason when none exists or when
 * Essentia's genre graph (test/support/fixtures.ts) is not there. The fixtures the C++ tests compare against (both MusiCNN
 * graphs, random frames, TF.js CPU-backend rows) are written to a temporary folder first by
 * test/native/dump-engine-fixtures.mjs.
 * Determinism across processes: each run prints a digest of the end vectors per ISA it ran
 * (the run capped to avx512 also runs avx2 and generic in-process); the same ISA must give the
 * same digest in every run.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { after, before, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { ENGINE_GENRE_GRAPH, engineTestCandidates } from './support/engine-test.js';

const root = resolve(fileURLToPath(new URL('../..', import.meta.url)));
const candidates = engineTestCandidates(root);
const binary = candidates.find((p) => existsSync(p));
const skip = !binary
  ? `the engine's C++ tests are not built (looked for ${candidates.join(', ')}); ` +
    'build them with: node native/scripts/build.mjs --tests'
  : !existsSync(ENGINE_GENRE_GRAPH)
    ? `no genre graph at ${ENGINE_GENRE_GRAPH} for the fixtures (set CHAARFM_ESSENTIA_FIXTURES)`
    : false;
const caps = process.arch === 'arm64' ? ['neon', 'generic'] : ['avx512', 'avx2', 'generic'];

interface EngineTestReport {
  results: { status: 'PASS' | 'FAIL' | 'SKIP'; name: string; reason?: string }[];
  summary?: { tests: number; passed: number; skipped: number; failures: number };
  digests: Map<string, string>;
}

/** Parses chaarfm_engine_test's output: one PASS/FAIL/SKIP line per test, the summary, digests. */
function parseEngineTestOutput(stdout: string): EngineTestReport {
  const results: EngineTestReport['results'] = [];
  const digests = new Map<string, string>();
  let summary: EngineTestReport['summary'];
  for (const line of stdout.split('\n')) {
    let m = /^(PASS|FAIL) (\S+)$/.exec(line);
    if (m) results.push({ status: m[1] as 'PASS' | 'FAIL', name: m[2] });
    m = /^SKIP (\S+): (.+)$/.exec(line);
    if (m) results.push({ status: 'SKIP', name: m[1], reason: m[2] });
    m = /^ {2}digest (\S+) (\S+) ([0-9a-f]+)$/.exec(line);
    if (m) digests.set(`${m[1]} ${m[2]}`, m[3]);
    m = /^(\d+) tests, (\d+) passed, (\d+) skipped, (\d+) failures$/.exec(line);
    if (m) summary = { tests: Number(m[1]), passed: Number(m[2]), skipped: Number(m[3]), failures: Number(m[4]) };
  }
  return { results, summary, digests };
}

test('the engine test output parser counts a SKIP as a skip, never as a pass', () => {
  const r = parseEngineTestOutput(
    'kernel isa: avx2\nPASS a\nSKIP b: this CPU cannot run avx512\n  FAIL x.cc:3: c\nFAIL c\n  digest msd avx2 00ff\n3 tests, 1 passed, 1 skipped, 1 failures\n',
  );
  assert.deepEqual(r.results, [
    { status: 'PASS', name: 'a' },
    { status: 'SKIP', name: 'b', reason: 'this CPU cannot run avx512' },
    { status: 'FAIL', name: 'c' },
  ]);
  assert.deepEqual(r.summary, { tests: 3, passed: 1, skipped: 1, failures: 1 });
  assert.equal(r.digests.get('msd avx2'), '00ff');
});

let dir = '';
const digestsSeen = new Map<string, { digest: string; cap: string }[]>();
before(() => {
  if (skip) return;
  dir = mkdtempSync(join(tmpdir(), 'chaarfm-engine-'));
  const dump = spawnSync(process.execPath, [join(root, 'test', 'native', 'dump-engine-fixtures.mjs'), dir, '3'], {
    encoding: 'utf8',
  });
  assert.equal(dump.status, 0, `fixture dump failed:\n${dump.stdout}\n${dump.stderr}`);
});
after(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

for (const cap of caps) {
  test(`native engine C++ tests, CHAARFM_MAX_ISA=${cap} (ops, kernels, overlap reuse, threads, ISAs, vs TF.js)`, { skip, timeout: 600_000 }, async (t) => {
    const run = spawnSync(binary as string, ['--fixtures', dir], {
      encoding: 'utf8',
      env: { ...process.env, CHAARFM_MAX_ISA: cap },
    });
    const out = `${run.stdout}\n${run.stderr}`;
    const report = parseEngineTestOutput(run.stdout);
    for (const r of report.results) {
      if (r.status === 'SKIP') await t.test(r.name, { skip: r.reason }, () => {});
      else await t.test(r.name, () => assert.equal(r.status, 'PASS', `${r.name} failed:\n${out}`));
    }
    assert.equal(run.status, 0, `chaarfm_engine_test failed:\n${out}`);
    assert.ok(report.summary, `no summary line:\n${out}`);
    assert.equal(report.summary.failures, 0);
    assert.equal(report.summary.tests, report.results.length);
    assert.equal(report.summary.skipped, report.results.filter((r) => r.status === 'SKIP').length);
    assert.ok(report.summary.passed > 0);
    assert.ok(!report.results.some((r) => r.status === 'SKIP' && /fixtures/.test(r.reason ?? '')), 'the fixtures were not found');
    assert.ok(report.digests.size > 0, 'no end-vector digests printed');
    for (const [key, digest] of report.digests) {
      const seen = digestsSeen.get(key) ?? [];
      seen.push({ digest, cap });
      digestsSeen.set(key, seen);
    }
  });
}

test('each ISA gives the same end vectors, bit for bit, in every process', { skip }, () => {
  let compared = 0;
  for (const [key, seen] of digestsSeen) {
    for (const s of seen) assert.equal(s.digest, seen[0].digest, `${key}: run capped to ${s.cap} differs from the one capped to ${seen[0].cap}`);
    if (seen.length > 1) compared++;
  }
  assert.ok(compared >= 2, `too few ISAs ran in more than one process (${compared})`);
});

test('an invalid CHAARFM_MAX_ISA is an error naming the value', { skip }, () => {
  const run = spawnSync(binary as string, ['no-such-test'], { encoding: 'utf8', env: { ...process.env, CHAARFM_MAX_ISA: 'sse9' } });
  assert.equal(run.status, 2);
  assert.match(run.stdout, /CHAARFM_MAX_ISA='sse9' is not one of avx512, avx2, neon, wasm128, generic/);
});

// SPDX-License-Identifier: MIT
/**
 * Runs the engine's C++ test program built for WebAssembly (native/wasm, Emscripten, the SIMD128
 * kernel family; `node native/scripts/build-wasm.mjs --tests`) under node, with the same fixtures
 * as test/native-engine.test.ts, and fails when it fails: every kernel and op test, both graphs
 * vs TF.js, and the SIMD128 kernels bit for bit against the generic ones (reference kernels ==
 * fast kernels over both whole graphs: "max |reference kernels - fast| = 0"; the streamed end
 * vectors of generic and wasm128, lowered in-process by SetIsaCapForTesting, the same digest).
 * Where the native engine test program is built too, the wasm digests must equal the native
 * generic build's (CHAARFM_MAX_ISA=generic): the same bits on both targets. Also the resampler's
 * C++ test built for wasm (chaarfm_resample_test.js): our resampler, generic and SIMD128 dot
 * products, against libsamplerate 0.2.2 compiled from its pinned source for wasm too, float by
 * float, on the synthetic signal and on Essentia's recording (vignesh.wav). Skips with the
 * reason when a program is not built. The relaxed-SIMD build's program
 * (build-wasm-relaxed/chaarfm_engine_test.js) runs the same tests, its kernels checked within the
 * float error bound of generic instead of bit for bit.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { after, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { decodeToPcm, resolveFfmpeg } from '../src/audio/ffmpeg.js';
import { concatFloat32 } from '../src/util/float32.js';
import { noVignesh, VIGNESH_WAV } from './support/fixtures.js';

const root = resolve(fileURLToPath(new URL('../..', import.meta.url)));
const program = join(root, 'build-wasm', 'chaarfm_engine_test.js');
const nativeProgram = [join(root, 'build', 'Release', 'chaarfm_engine_test'), join(root, 'build', 'chaarfm_engine_test')].find((p) =>
  existsSync(p),
);

/** "digest <graph> <isa> <hex>" lines of an engine test run, as graph -> isa -> hex. */
function digests(stdout: string): Map<string, Map<string, string>> {
  const out = new Map<string, Map<string, string>>();
  for (const m of stdout.matchAll(/^ {2}digest (\S+) (\S+) ([0-9a-f]+)$/gm)) {
    if (!out.has(m[1])) out.set(m[1], new Map());
    out.get(m[1])!.set(m[2], m[3]);
  }
  return out;
}
/** The engine fixtures (test/native/dump-engine-fixtures.mjs: about a minute of TF.js), made once for both programs. */
let fixtures: string | undefined;
function engineFixtures(): string {
  if (fixtures) return fixtures;
  const dir = mkdtempSync(join(tmpdir(), 'chaarfm-wasm-engine-'));
  const dump = spawnSync(process.execPath, [join(root, 'test', 'native', 'dump-engine-fixtures.mjs'), dir, '3'], { encoding: 'utf8' });
  if (dump.status !== 0) {
    rmSync(dir, { recursive: true, force: true });
    assert.fail(`fixture dump failed:\n${dump.stdout}\n${dump.stderr}`);
  }
  return (fixtures = dir);
}
after(() => {
  if (fixtures) rmSync(fixtures, { recursive: true, force: true });
});

const skip = existsSync(program)
  ? false
  : `the wasm engine's C++ tests are not built (no ${program}); build them with: node native/scripts/build-wasm.mjs --tests`;

test('wasm engine C++ tests pass under node (SIMD128 kernels bit-equal to generic, both graphs vs TF.js, the native generic build\'s bits)', { skip, timeout: 600_000 }, (t) => {
  const dir = engineFixtures();
  {
    const run = spawnSync(process.execPath, [program, '--fixtures', dir], { encoding: 'utf8' });
    const out = `${run.stdout}\n${run.stderr}`;
    assert.equal(run.status, 0, `chaarfm_engine_test (wasm) failed:\n${out}`);
    assert.match(run.stdout, /^kernel isa: wasm128 \(this CPU's best: wasm128\)$/m);
    assert.match(run.stdout, / 0 failures/);
    assert.doesNotMatch(run.stdout, /SKIP: no fixtures/);
    for (const name of ['wasm128_gemm_vs_reference', 'wasm128_conv_tall_vs_generic',
      'wasm128_conv_wide_vs_generic', 'runner_msd_musicnn', 'runner_genre_dortmund']) {
      assert.match(run.stdout, new RegExp(`^PASS ${name}$`, 'm'));
    }
    // the whole graphs with the SIMD128 kernels give the generic kernels' bits
    const diffs = [...run.stdout.matchAll(/max \|reference kernels - fast\| = (\S+)/g)].map((m) => Number(m[1]));
    assert.equal(diffs.length, 2, out);
    assert.deepEqual(diffs, [0, 0]);
    // the streamed end vectors: wasm128 == generic in this build, and == the native generic build
    const wasm = digests(run.stdout);
    assert.deepEqual([...wasm.keys()].sort(), ['genre', 'msd'], out);
    for (const [graph, byIsa] of wasm) {
      assert.deepEqual([...byIsa.keys()], ['wasm128', 'generic'], `${graph}: ${out}`);
      assert.equal(byIsa.get('wasm128'), byIsa.get('generic'), `${graph}: wasm128 and generic end vectors differ`);
    }
    if (!nativeProgram) {
      t.diagnostic('native generic comparison skipped: the native engine test program is not built (node native/scripts/build.mjs --tests)');
      return;
    }
    const nat = spawnSync(nativeProgram, ['--fixtures', dir, '_isas_agree'], {
      encoding: 'utf8',
      env: { ...process.env, CHAARFM_MAX_ISA: 'generic' },
    });
    assert.equal(nat.status, 0, `native chaarfm_engine_test (generic) failed:\n${nat.stdout}\n${nat.stderr}`);
    const native = digests(nat.stdout);
    for (const [graph, byIsa] of wasm) {
      const want = native.get(graph)?.get('generic');
      assert.ok(want, `${graph}: no native generic digest in:\n${nat.stdout}`);
      assert.equal(byIsa.get('generic'), want, `${graph}: the wasm end vectors are not the native generic build's bits`);
      t.diagnostic(`${graph}: wasm128 = wasm generic = native generic (digest ${want})`);
    }
  }
});

const relaxedProgram = join(root, 'build-wasm-relaxed', 'chaarfm_engine_test.js');
const skipRelaxed = existsSync(relaxedProgram)
  ? false
  : `the relaxed-SIMD wasm engine's C++ tests are not built (no ${relaxedProgram}); build them with: node native/scripts/build-wasm.mjs --tests`;

test('wasm engine C++ tests pass under node, relaxed-SIMD build (kernels within the float error bound of generic, both graphs vs TF.js, end vectors within 1e-5 of generic)', { skip: skipRelaxed, timeout: 600_000 }, (t) => {
  const dir = engineFixtures();
  {
    const run = spawnSync(process.execPath, [relaxedProgram, '--fixtures', dir], { encoding: 'utf8' });
    const out = `${run.stdout}\n${run.stderr}`;
    assert.equal(run.status, 0, `chaarfm_engine_test (wasm, relaxed) failed:\n${out}`);
    assert.match(run.stdout, / 0 failures/);
    assert.doesNotMatch(run.stdout, /SKIP: no fixtures/);
    for (const name of ['wasm128_gemm_vs_reference', 'wasm128_conv_tall_vs_generic', 'wasm128_conv_wide_vs_generic',
      'wasm128_relaxed_fma_report', 'runner_msd_musicnn', 'runner_genre_dortmund', 'runner_msd_isas_agree', 'runner_genre_isas_agree']) {
      assert.match(run.stdout, new RegExp(`^PASS ${name}$`, 'm'));
    }
    const report = /^relaxed-SIMD build: yes; (\d+) of (\d+) kernel outputs differ from generic \(relaxed_madd (fused|not fused) here\)$/m.exec(run.stdout);
    assert.ok(report, `no relaxed-SIMD report in:\n${out}`);
    t.diagnostic(report[0]);
    // the end vectors of the relaxed kernels and of generic, per graph and output (the program checks <= 1e-5, cosine)
    const agree = [...run.stdout.matchAll(/^ {2}(\S+) output (\d): generic vs wasm128 max \|diff\| (\S+), 1 - cosine (\S+)$/gm)];
    assert.equal(agree.length, 4, out);
    for (const m of agree) {
      assert.ok(Number(m[3]) <= 1e-5, m[0]);
      t.diagnostic(m[0].trim());
    }
  }
});

const resampleProgram = join(root, 'build-wasm', 'chaarfm_resample_test.js');
const skipResample = existsSync(resampleProgram)
  ? false
  : `the resampler's C++ test is not built for wasm (no ${resampleProgram}); build it with: node native/scripts/build-wasm.mjs --tests`;

function runResample(args: string[]): string {
  const r = spawnSync(process.execPath, [resampleProgram, ...args], { encoding: 'utf8', maxBuffer: 1 << 24 });
  assert.equal(r.status, 0, `chaarfm_resample_test.js ${args.join(' ')} failed:\n${r.stdout}\n${r.stderr}`);
  assert.match(r.stdout, / 0 failures$/m);
  for (const v of ['generic', 'wasm128']) assert.match(r.stdout, new RegExp(`^PASS ${v}: [1-9]\\d* cases vs libsamplerate$`, 'm'));
  assert.match(r.stdout, /^best variant here: wasm128$/m);
  return r.stdout;
}

test('wasm resampler == libsamplerate 0.2.2 (wasm) bit for bit: synthetic signal, generic and SIMD128 dot products', { skip: skipResample, timeout: 600_000 }, () => {
  assert.match(runResample([]), /^SKIP recording: no --pcm file given$/m);
});

test('wasm resampler == libsamplerate 0.2.2 (wasm) bit for bit: a real recording (vignesh.wav)', { skip: skipResample || noVignesh, timeout: 600_000 }, async () => {
  const pcm = await decodeToPcm(VIGNESH_WAV, { ffmpegPath: await resolveFfmpeg() });
  const parts: Float32Array[] = [];
  for await (const c of pcm) parts.push(c);
  const x = concatFloat32(parts);
  const dir = mkdtempSync(join(tmpdir(), 'chaarfm-wasm-resample-'));
  try {
    const file = join(dir, 'vignesh.f32');
    writeFileSync(file, Buffer.from(x.buffer, x.byteOffset, x.byteLength));
    assert.doesNotMatch(runResample(['--pcm', file, '--only-recording']), /^SKIP recording/m);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

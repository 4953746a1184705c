// SPDX-License-Identifier: MIT
/**
 * Runs native/test/resample_test.cc (chaarfm_resample_test, built with -DCHAARFM_BUILD_TESTS=ON):
 * our SRC_SINC_MEDIUM resampler against libsamplerate 0.2.2 itself (linked into that program
 * only, from its pinned source), float by float, 0 differing samples, over 10 input rates x 16
 * lengths x threads 1-3 (each with its own Push chunking), for every dot-product variant called
 * directly (generic, AVX2, AVX-512 on x86-64; generic and NEON on arm64, where CI runs it under
 * qemu). Two signals: a synthetic one, and Essentia's regression recording (vignesh.wav) decoded
 * by ffmpeg through src/audio/ffmpeg.ts, repeated to each length. A variant the CPU cannot run
 * prints SKIP and is reported as a skipped subtest, never as a pass. Skips, saying why, when the
 * program is not built; the recording's subtest skips when the fixture is missing.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { decodeToPcm, resolveFfmpeg } from '../src/audio/ffmpeg.js';
import { concatFloat32 } from '../src/util/float32.js';
import { noVignesh, VIGNESH_WAV } from './support/fixtures.js';

const root = resolve(fileURLToPath(new URL('../..', import.meta.url)));
const exe = process.platform === 'win32' ? 'chaarfm_resample_test.exe' : 'chaarfm_resample_test';
const candidates = [
  process.env.CHAARFM_RESAMPLE_TEST,
  join(root, 'build', 'Release', exe),
  join(root, 'build', exe),
].filter((p): p is string => Boolean(p));
const binary = candidates.find((p) => existsSync(p));
const skip = binary
  ? false
  : `the resampler's C++ test is not built (looked for ${candidates.join(', ')}); ` +
    'build it with: node native/scripts/build.mjs --tests';

function run(args: string[]): string {
  const r = spawnSync(binary as string, args, { encoding: 'utf8', maxBuffer: 1 << 24 });
  const out = `${r.stdout}\n${r.stderr}`;
  assert.equal(r.status, 0, `chaarfm_resample_test ${args.join(' ')} failed:\n${out}`);
  assert.match(r.stdout, / 0 failures$/m);
  return r.stdout;
}

/** Checks the per-variant lines: generic must PASS; each other variant PASS, or a skip saying so. */
async function checkVariants(t: { skip: (m: string) => void; test: typeof test }, out: string): Promise<void> {
  assert.match(out, /^PASS generic: \d+ cases/m);
  for (const name of ['avx2', 'avx512', 'neon']) {
    const pass = new RegExp(`^PASS ${name}: (\\d+) cases`, 'm').exec(out);
    const skipped = new RegExp(`^SKIP ${name}: (.*)$`, 'm').exec(out);
    if (!pass && !skipped) continue; // not built for this architecture
    await t.test(`variant ${name}`, { skip: skipped ? `${name}: ${skipped[1]}` : false }, () => {
      assert.ok(pass && Number(pass[1]) > 0, `no cases ran for ${name}`);
    });
  }
}

test('native resampler == libsamplerate 0.2.2 bit for bit: synthetic signal, every variant, threads 1-3', { skip, timeout: 900_000 }, async (t) => {
  const out = run([]);
  assert.match(out, /^SKIP recording: no --pcm file given$/m);
  await checkVariants(t, out);
});

test('native resampler == libsamplerate 0.2.2 bit for bit: a real recording (vignesh.wav), every variant, threads 1-3', { skip: skip || noVignesh, timeout: 900_000 }, async (t) => {
  const pcm = await decodeToPcm(VIGNESH_WAV, { ffmpegPath: await resolveFfmpeg() });
  const parts: Float32Array[] = [];
  for await (const c of pcm) parts.push(c);
  const x = concatFloat32(parts);
  assert.ok(x.length > 44100, `decoded only ${x.length} samples`);
  const dir = mkdtempSync(join(tmpdir(), 'chaarfm-resample-'));
  try {
    const file = join(dir, 'vignesh.f32');
    writeFileSync(file, Buffer.from(x.buffer, x.byteOffset, x.byteLength));
    const out = run(['--pcm', file, '--only-recording']);
    assert.doesNotMatch(out, /^SKIP recording/m);
    await checkVariants(t, out);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

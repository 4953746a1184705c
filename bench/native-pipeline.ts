// SPDX-License-Identifier: MIT
/**
 * Benchmark of the native addon's audio front end and whole pipeline, measured in one run on a
 * generated 4-minute music-like 44.1 kHz track (src/audio/synth-clip.ts):
 *  1. our SRC_SINC_MEDIUM resampler against libsamplerate 0.2.2 itself: each variant (generic,
 *     AVX2, AVX-512), one and two threads, by bench/kernels/resample_bench.cc
 *     (`chaarfm_resample_bench`, built with the tests: `node native/scripts/build.mjs --tests`);
 *     then the addon's resampler (one and two threads) against libsamplerate's WASM build
 *     (src/audio/resample.ts);
 *  2. frames + mel: native (binding.frontend) vs MelReference (TypeScript) and essentia.js;
 *  3. the whole native embedder from the local file (decode, resample, mel, inference, mean):
 *     wall time and realtime factor, threads 1 and 2, against the targets (>= 80x on one
 *     thread, >= 140x on two); then the same in a child process with CHAARFM_MAX_ISA=avx2
 *     (target >= 50x on one thread; the child says which resampler variant it got, so a build
 *     without the cap shows as such).
 * The load average is printed with each part: other work on the machine changes the figures;
 * compare within one run. Run: `npx tsc -p tsconfig.json && node dist/bench/native-pipeline.js
 * [seconds]`. Not a test.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { loadavg, tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { decodeToPcm, resolveFfmpeg } from '../src/audio/ffmpeg.js';
import { resampleAll } from '../src/audio/resample.js';
import { writeClip } from '../src/audio/synth-clip.js';
import { createEmbedder } from '../src/embed/create-embedder.js';
import { loadNativeAddon } from '../src/embed/native-addon.js';
import { cutFrames } from '../src/embed/frames.js';
import { EssentiaMel, MelReference } from '../src/embed/mel.js';
import { asBinding } from '../src/embed/native-binding.js';
import { concatFloat32 } from '../src/util/float32.js';

const pipelineOnly = process.argv.includes('--pipeline-only');
const args = process.argv.slice(2).filter((a) => !a.startsWith('--'));
const seconds = Number(args[0] ?? 240);
const addon = loadNativeAddon();
const b = asBinding(addon.binding, addon.path);
const load = () => loadavg().map((x) => x.toFixed(2)).join(' ');
const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

const time = async (f: () => unknown | Promise<unknown>) => {
  const t0 = performance.now();
  await f();
  return (performance.now() - t0) / 1000;
};

async function pipeline(file: string, label: string, targets: Record<number, number>): Promise<void> {
  for (const threads of [1, 2]) {
    const e = await createEmbedder({ backend: 'native', threads });
    await e.embed(file); // warm-up
    const runs: number[] = [];
    for (let i = 0; i < 3; i++) runs.push(await time(() => e.embed(file)));
    await e.close();
    const best = Math.min(...runs);
    const target = targets[threads] ? ` (target >= ${targets[threads]}x)` : '';
    console.log(
      `native embed${label}, threads ${threads}: best of 3 ${best.toFixed(2)} s = ${(seconds / best).toFixed(1)}x realtime${target}; load average ${load()}`,
    );
  }
}

if (pipelineOnly) {
  const file = args[1];
  console.log(`child: resampler ${b.info().resampler}, CHAARFM_MAX_ISA=${process.env.CHAARFM_MAX_ISA ?? ''}`);
  await pipeline(file, ` (CHAARFM_MAX_ISA=${process.env.CHAARFM_MAX_ISA})`, { 1: 50 });
  process.exit(0);
}

console.log(`addon ${addon.path}, engine ${b.info().engine}, resampler ${b.info().resampler}; ${seconds} s track; load average ${load()}`);
const dir = await mkdtemp(path.join(tmpdir(), 'chaarfm-bench-'));
try {
  const file = path.join(dir, 'track.wav');
  await writeClip(file, { seconds, seed: 23 });
  const pcm = await decodeToPcm(file, { ffmpegPath: await resolveFfmpeg() });
  const parts: Float32Array[] = [];
  for await (const c of pcm) parts.push(c);
  const x = concatFloat32(parts);

  // 1. resampling: ours vs libsamplerate itself (C++), then the addon vs the WASM build
  const bench = [path.join(root, 'build', 'Release', 'chaarfm_resample_bench'), path.join(root, 'build', 'chaarfm_resample_bench')].find(
    (p) => existsSync(p),
  );
  if (bench) {
    const raw = path.join(dir, 'track.f32');
    writeFileSync(raw, Buffer.from(x.buffer, x.byteOffset, x.byteLength));
    const r = spawnSync(bench, ['--pcm', raw, '--rate', String(pcm.sampleRate), '--repeat', '3'], { encoding: 'utf8' });
    process.stdout.write(r.stdout + r.stderr);
  } else {
    console.log('resample vs libsamplerate: chaarfm_resample_bench not built (node native/scripts/build.mjs --tests)');
  }
  let y16: Float32Array = new Float32Array(0);
  const tWasm = await time(async () => {
    y16 = await resampleAll(x, pcm.sampleRate, 16384);
  });
  const tNat1 = await time(() => b.resample(x, pcm.sampleRate, 65536, 1));
  const tNat2 = await time(() => b.resample(x, pcm.sampleRate, 65536, 2));
  console.log(
    `resample (addon): libsamplerate wasm ${tWasm.toFixed(3)} s (${(seconds / tWasm).toFixed(0)}x realtime), ` +
      `ours 1 thread ${tNat1.toFixed(3)} s (${(seconds / tNat1).toFixed(0)}x), 2 threads ${tNat2.toFixed(3)} s (${(seconds / tNat2).toFixed(0)}x); load average ${load()}`,
  );

  // 2. frames + mel
  const frames = cutFrames(y16);
  const nFrames = frames.length / 512;
  const ref = new MelReference();
  const tRef = await time(() => ref.compute(frames));
  const ess = await EssentiaMel.create();
  const sub = frames.subarray(0, 512 * 2000);
  const tEss = ((await time(() => ess.compute(sub))) * nFrames) / 2000;
  ess.dispose();
  const tMelNat = await time(() => b.frontend(y16));
  console.log(
    `frames+mel (${nFrames} frames): essentia.js ${tEss.toFixed(2)} s (extrapolated from 2000), TypeScript ${tRef.toFixed(3)} s, ` +
      `native ${tMelNat.toFixed(3)} s; native ${(tRef / tMelNat).toFixed(1)}x TypeScript, ${(tEss / tMelNat).toFixed(0)}x essentia.js`,
  );

  // 3. whole pipeline, best ISA, then capped to AVX2 in a child process
  await pipeline(file, '', { 1: 80, 2: 140 });
  const child = spawnSync(process.execPath, [fileURLToPath(import.meta.url), '--pipeline-only', String(seconds), file], {
    encoding: 'utf8',
    env: { ...process.env, CHAARFM_MAX_ISA: 'avx2' },
  });
  process.stdout.write(child.stdout + child.stderr);
} finally {
  await rm(dir, { recursive: true, force: true });
}

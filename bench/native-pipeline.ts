// SPDX-License-Identifier: MIT
/**
 * Benchmark of the native addon's audio front end and whole pipeline against the portable path,
 * measured in one run on a generated 4-minute music-like track (src/audio/synth-clip.ts):
 *  1. resampling 44.1 kHz -> 16 kHz: libsamplerate native (binding.resample) vs its WASM build
 *     (src/audio/resample.ts);
 *  2. frames + mel: native (binding.frontend) vs MelReference (TypeScript) and essentia.js;
 *  3. the whole native embedder from the local file (decode, resample, mel, inference, mean):
 *     wall time and realtime factor, threads 1 and 2.
 * Run: `npx tsc -p tsconfig.json && node dist/bench/native-pipeline.js [seconds]`. Not a test.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { decodeToPcm, resolveFfmpeg } from '../src/audio/ffmpeg.js';
import { resampleAll } from '../src/audio/resample.js';
import { writeClip } from '../src/audio/synth-clip.js';
import { createEmbedder } from '../src/embed/create-embedder.js';
import { loadNativeAddon } from '../src/embed/native-addon.js';
import { cutFrames } from '../src/embed/frames.js';
import { EssentiaMel, MelReference } from '../src/embed/mel.js';
import { asBinding } from '../src/embed/native-binding.js';
import { concatFloat32 } from '../src/util/float32.js';

const seconds = Number(process.argv[2] ?? 240);
const addon = loadNativeAddon();
const b = asBinding(addon.binding, addon.path);
console.log(`addon ${addon.path}, engine ${b.info().engine}; ${seconds} s track`);

const dir = await mkdtemp(path.join(tmpdir(), 'chaarfm-bench-'));
try {
  const file = path.join(dir, 'track.wav');
  await writeClip(file, { seconds, seed: 23 });
  const pcm = await decodeToPcm(file, { ffmpegPath: await resolveFfmpeg() });
  const parts: Float32Array[] = [];
  for await (const c of pcm) parts.push(c);
  const x = concatFloat32(parts);

  const time = async (f: () => unknown | Promise<unknown>) => {
    const t0 = performance.now();
    await f();
    return (performance.now() - t0) / 1000;
  };
  // 1. resampling
  let y16: Float32Array = new Float32Array(0);
  const tWasm = await time(async () => {
    y16 = await resampleAll(x, pcm.sampleRate, 16384);
  });
  const tNat = await time(() => b.resample(x, pcm.sampleRate, 16384));
  console.log(`resample: wasm ${tWasm.toFixed(3)} s (${(seconds / tWasm).toFixed(0)}x realtime), native ${tNat.toFixed(3)} s (${(seconds / tNat).toFixed(0)}x), ratio ${(tWasm / tNat).toFixed(1)}x`);

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

  // 3. whole pipeline
  for (const threads of [1, 2]) {
    const e = await createEmbedder({ backend: 'native', threads });
    await e.embed(file); // warm-up
    const runs: number[] = [];
    for (let i = 0; i < 3; i++) runs.push(await time(() => e.embed(file)));
    await e.close();
    const best = Math.min(...runs);
    console.log(`native embed, threads ${threads}: best of 3 ${best.toFixed(2)} s = ${(seconds / best).toFixed(1)}x realtime`);
  }
} finally {
  await rm(dir, { recursive: true, force: true });
}

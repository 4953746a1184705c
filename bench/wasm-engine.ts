// SPDX-License-Identifier: MIT
/**
 * Benchmark of our engine compiled to WebAssembly (prebuilds/wasm, `npm run build:wasm`)
 * against the reference backend (TF.js WASM, essentia.js), in the same run, one thread:
 *  1. one patch on the product path: a 16-patch frame stream (187 + 15 x 93 = 1582 log-mel
 *     frames) through a wasm engine session (overlap reuse; the SIMD128 module and, where the
 *     runtime has relaxed SIMD, the relaxed one, interleaved), vs the same 16
 *     patches through TF.js WASM in batches of 4, as the portable embedder runs them; best of
 *     `reps`, wall and CPU time of this process;
 *  2. the whole portable pipeline on a local generated 4-minute MP3 (bench/portable.ts's
 *     track): createEmbedder({ backend: 'wasm', threads: 1 }) (decode with ffmpeg -> the wasm
 *     engine's resampler, frames, mel, MusiCNN on one worker thread), vs the reference backend
 *     (`essentia.js`: libsamplerate-js + essentia.js + TF.js WASM) on one thread; and the
 *     resampler alone on the decoded PCM (the wasm engine's vs libsamplerate-js).
 * Prints the load average too: other work on the machine shows up there.
 * Run: `npx tsc -p tsconfig.json && node dist/bench/wasm-engine.js [seconds] [reps]`. Not a test.
 */
import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { availableParallelism, cpus, loadavg, tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { decodeToPcm, resolveFfmpeg } from '../src/audio/ffmpeg.js';
import { Resampler } from '../src/audio/resample.js';
import { concatFloat32 } from '../src/util/float32.js';
import { createEmbedder } from '../src/embed/create-embedder.js';
import { parseGraphDef } from '../src/embed/graphdef.js';
import { bundledModelPath } from '../src/embed/model-file.js';
import { graphToSpec } from '../src/embed/native-binding.js';
import { loadTfjsGraph } from '../src/embed/tfjs-graph.js';
import { loadWasmEngine, runtimeHasRelaxedSimd, type WasmVariant } from '../src/embed/wasm-engine-binding.js';
import { makeTrack } from './portable.js';

const BANDS = 96;
const PATCH = 187 * BANDS;
const STREAM_PATCHES = 16;
const STREAM_FRAMES = 187 + (STREAM_PATCHES - 1) * 93;

const now = () => performance.now() / 1000;
const cpu = () => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1e6;
};
const load = () => loadavg().map((x) => x.toFixed(2)).join(' ');

/** Best wall time of `reps` runs of fn (and the CPU time of that run). */
function best(reps: number, fn: () => void): { wall: number; cpu: number } {
  let out = { wall: Infinity, cpu: Infinity };
  for (let r = 0; r < reps; r++) {
    const t = now(), c = cpu();
    fn();
    const wall = now() - t;
    if (wall < out.wall) out = { wall, cpu: cpu() - c };
  }
  return out;
}

export async function runWasmEngineBench(seconds = 240, reps = 5): Promise<void> {
  console.log(`cores: ${availableParallelism()} (${cpus()[0]?.model ?? 'unknown CPU'}), node ${process.version}, load average ${load()}`);
  const modelBytes = readFileSync(bundledModelPath());
  const graph = parseGraphDef(modelBytes, 'model');

  // 1. one patch on the product path
  const frames = new Float32Array(STREAM_FRAMES * BANDS);
  let s = 12345;
  for (let i = 0; i < frames.length; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    frames[i] = -2 + 6 * (s / 2 ** 32);
  }
  // both modules where the runtime has relaxed SIMD: SIMD128 (generic's bits) and relaxed (FMA)
  const variants: WasmVariant[] = runtimeHasRelaxedSimd() ? ['simd128', 'relaxed'] : ['simd128'];
  const engines = await Promise.all(variants.map((v) => loadWasmEngine(undefined, v)));
  const engine = engines[engines.length - 1]; // the one the portable backend loads here
  const oursBy = engines.map((e) => {
    const model = e.createModel(graphToSpec(graph, ['model/dense/BiasAdd']));
    const stream = () => {
      const session = model.openSession(16000);
      for (let f = 0; f < STREAM_FRAMES; f += 93) session.pushBands(frames.subarray(f * BANDS, Math.min(STREAM_FRAMES, f + 93) * BANDS));
      const r = session.finish();
      session.close();
      if (r.patches !== STREAM_PATCHES) throw new Error(`expected ${STREAM_PATCHES} patches, got ${r.patches}`);
    };
    stream(); // warm-up
    return { e, model, stream, best: { wall: Infinity, cpu: Infinity } };
  });
  // interleaved, so that load on the machine falls on both alike
  for (let r = 0; r < reps; r++) {
    for (const o of oursBy) {
      const b = best(1, o.stream);
      if (b.wall < o.best.wall) o.best = b;
    }
  }
  for (const o of oursBy) o.model.free();
  const ours = oursBy[oursBy.length - 1].best;

  const patches = new Float32Array(STREAM_PATCHES * PATCH);
  for (let p = 0; p < STREAM_PATCHES; p++) patches.set(frames.subarray(p * 93 * BANDS, p * 93 * BANDS + PATCH), p * PATCH);
  const tf = await loadTfjsGraph(graph, { backend: 'wasm' });
  const tfRun = () => {
    for (let p = 0; p < STREAM_PATCHES; p += 4) tf.run(patches.subarray(p * PATCH, (p + 4) * PATCH), 4);
  };
  tfRun(); // warm-up
  const theirs = best(Math.max(2, Math.ceil(reps / 2)), tfRun);
  tf.dispose();
  const ms = (x: number) => ((1000 * x) / STREAM_PATCHES).toFixed(1);
  console.log(`1. one patch on the product path (${STREAM_PATCHES}-patch stream, best of ${reps}; load average ${load()}):`);
  for (const o of oursBy) {
    console.log(`   wasm engine (${o.e.variant} module, kernels ${o.e.isa}, overlap reuse): ${ms(o.best.wall)} ms/patch wall, ${ms(o.best.cpu)} ms CPU`);
  }
  console.log(`   TF.js WASM (batch 4):                       ${ms(theirs.wall)} ms/patch wall, ${ms(theirs.cpu)} ms CPU`);
  console.log(`   ratio: wasm engine (${engine.variant}) ${(theirs.wall / ours.wall).toFixed(1)}x TF.js WASM (target >= 6x, <= 60 ms/patch)` +
    (oursBy.length > 1 ? `; relaxed vs SIMD128 ${(oursBy[0].best.wall / ours.wall).toFixed(2)}x` : ''));

  // 2. the whole portable pipeline from a local 4-minute file, one thread
  const ffmpegPath = await resolveFfmpeg();
  const dir = await mkdtemp(path.join(tmpdir(), 'chaarfm-wasm-bench-'));
  try {
    const file = path.join(dir, 'track.mp3');
    makeTrack('ffmpeg', file, seconds); // a full ffmpeg on PATH makes the media (lavfi, lame)
    const w = await createEmbedder({ backend: 'wasm', threads: 1 });
    let t = now();
    let c = cpu();
    const r = await w.embed(file);
    const wallOurs = now() - t;
    const cpuOurs = cpu() - c; // this process, all its threads (ffmpeg is a child: not counted)
    await w.close();
    const duration = r.duration;
    console.log(`2. whole pipeline, ${duration.toFixed(1)} s track, one thread, the ${engine.variant} module (load average ${load()}):`);
    console.log(`   wasm engine: ${wallOurs.toFixed(2)} s wall, ${r.patches} patches, realtime x${(duration / wallOurs).toFixed(1)} (target >= 20x); ` +
      `CPU ${cpuOurs.toFixed(2)} s (x${(duration / cpuOurs).toFixed(1)} by CPU time)`);
    const e = await createEmbedder({ backend: 'essentia.js', threads: 1 });
    t = now();
    c = cpu();
    const v = await e.embed(file);
    const wallTheirs = now() - t;
    const cpuTheirs = cpu() - c;
    await e.close();
    let diff = 0;
    for (let i = 0; i < v.vector.length; i++) diff = Math.max(diff, Math.abs(v.vector[i] - r.vector[i]));
    console.log(`   reference backend (essentia.js + TF.js WASM): ${wallTheirs.toFixed(2)} s wall, realtime x${(duration / wallTheirs).toFixed(1)}; ` +
      `CPU ${cpuTheirs.toFixed(2)} s (x${(duration / cpuTheirs).toFixed(1)})`);
    console.log(`   ratio ${(wallTheirs / wallOurs).toFixed(1)}x; max |vector difference| ${diff.toExponential(2)}`);
    // the resampler alone, on the decoded PCM: ours (in the wasm engine) vs libsamplerate-js
    const parts: Float32Array[] = [];
    const pcm = await decodeToPcm(file, { ffmpegPath });
    for await (const ch of pcm) parts.push(ch);
    const x = concatFloat32(parts);
    const oursR = best(2, () => void engine.resample(x, pcm.sampleRate, 65536));
    const lsr = await Resampler.create(pcm.sampleRate);
    t = now();
    for (let at = 0; at < x.length; at += 65536) lsr.push(x.subarray(at, at + 65536));
    lsr.end();
    const wallLsr = now() - t;
    lsr.dispose();
    console.log(`   resampler alone (${pcm.sampleRate} Hz -> 16 kHz): wasm engine (${engine.resamplerVariant}) ${oursR.wall.toFixed(2)} s, ` +
      `libsamplerate-js ${wallLsr.toFixed(2)} s (${(wallLsr / oursR.wall).toFixed(1)}x)`);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  runWasmEngineBench(Number(process.argv[2] ?? 240), Number(process.argv[3] ?? 5)).catch((err) => {
    console.error(err);
    process.exitCode = 1;
  });
}

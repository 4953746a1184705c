// SPDX-License-Identifier: MIT
/**
 * Benchmark of the reference backend (`--backend essentia.js`: libsamplerate-js, essentia.js, TF.js WASM; the portable backend, our engine in WebAssembly, is in bench/wasm-engine.ts) on a generated 4-minute music-like track
 * (chord progression + kick/hat drums + pink noise, made with ffmpeg's lavfi).
 *
 * Prints the machine's cores, then:
 *  1. the time split, stage by stage in this thread: decode (ffmpeg), resample
 *     (libsamplerate sinc-medium), frames + mel (essentia.js), patches + inference (TF.js
 *     WASM), with seconds per patch for batch sizes 1, 4 and 8;
 *  2. the end-to-end embedder (worker thread) on the same file: wall time and realtime factor
 *     (audio seconds per wall second), for one job on one thread, and two jobs at once on two
 *     threads (throughput).
 * Run: `npx tsc -p tsconfig.json && node dist/bench/portable.js [seconds]`. Not part of the tests.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { availableParallelism, cpus, tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { decodeToPcm, resolveFfmpeg } from '../src/audio/ffmpeg.js';
import { Resampler } from '../src/audio/resample.js';
import { createEmbedder } from '../src/embed/create-embedder.js';
import { FrameCutter, FRAME_SIZE } from '../src/embed/frames.js';
import { parseGraphDef } from '../src/embed/graphdef.js';
import { MelFrontend } from '../src/embed/mel.js';
import { bundledModelPath } from '../src/embed/model-file.js';
import { PatchAssembler } from '../src/embed/patches.js';
import { loadTfjsGraph } from '../src/embed/tfjs-graph.js';

const PATCH = 187 * 96;

/** A 4-chord progression (2 s each), kick on beats, hats off-beat, pink noise; 44.1 kHz stereo MP3, made by a full ffmpeg (lavfi, libmp3lame: not the bundled decoder). */
export function makeTrack(ffmpeg: string, file: string, seconds: number): void {
  const step = 'floor(mod(t/2,4))';
  const root = `220*pow(2,(5*eq(${step},1)+7*eq(${step},2)+3*eq(${step},3))/12)`;
  const chord = `0.12*sin(2*PI*${root}*t)+0.09*sin(2*PI*${root}*1.26*t)+0.09*sin(2*PI*${root}*1.5*t)`;
  const drums = '0.5*sin(2*PI*55*t)*exp(-10*mod(t,0.5))+0.08*(random(0)*2-1)*exp(-40*mod(t+0.25,0.5))';
  execFileSync(ffmpeg, [
    '-hide_banner', '-v', 'error', '-y',
    '-f', 'lavfi', '-i', `aevalsrc='${chord}+${drums}|${chord}+${drums}':s=44100:d=${seconds}`,
    '-f', 'lavfi', '-i', `anoisesrc=d=${seconds}:c=pink:r=44100:a=0.03:seed=1`,
    '-filter_complex', '[0:a][1:a]amix=inputs=2:normalize=0[out]', '-map', '[out]',
    '-c:a', 'libmp3lame', '-b:a', '192k', file,
  ]);
}

const now = () => performance.now() / 1000;

export async function runPortableBench(seconds = 240): Promise<void> {
  const ffmpeg = await resolveFfmpeg();
  console.log(`cores: ${availableParallelism()} (${cpus()[0]?.model ?? 'unknown CPU'}), node ${process.version}`);
  const dir = await mkdtemp(path.join(tmpdir(), 'chaarfm-bench-'));
  try {
    const file = path.join(dir, 'track.mp3');
    makeTrack('ffmpeg', file, seconds); // a full ffmpeg on PATH makes the media (lavfi, lame)

    // 1. stage by stage, in this thread
    let t = now();
    const pcm = await decodeToPcm(file, { ffmpegPath: ffmpeg });
    const chunks: Float32Array[] = [];
    for await (const c of pcm) chunks.push(c);
    const tDecode = now() - t;
    const duration = pcm.samples / pcm.sampleRate;

    t = now();
    const rs = await Resampler.create(pcm.sampleRate);
    const pcm16: Float32Array[] = chunks.map((c) => rs.push(c));
    pcm16.push(rs.end());
    rs.dispose();
    const tResample = now() - t;

    t = now();
    const cutter = new FrameCutter();
    const mel = await MelFrontend.create();
    const assembler = new PatchAssembler(4);
    const batches = [];
    let frames = 0;
    for (const s of [...pcm16.map((c) => cutter.push(c)), cutter.end()]) {
      const n = s.length / FRAME_SIZE;
      frames += n;
      if (n) batches.push(...assembler.push(mel.compute(s, n)));
    }
    const last = assembler.end();
    if (last) batches.push(last);
    mel.dispose();
    const tMel = now() - t;
    const patches = batches.reduce((a, b) => a + b.count, 0);

    const graph = await loadTfjsGraph(parseGraphDef(readFileSync(bundledModelPath())), { backend: 'wasm' });
    graph.run(batches[0].patches, 1); // warm-up
    t = now();
    for (const b of batches) graph.run(b.patches, b.count);
    const tInfer = now() - t;
    const total = tDecode + tResample + tMel + tInfer;
    const pct = (x: number) => `${((100 * x) / total).toFixed(1)}%`;
    console.log(`track: ${duration.toFixed(1)} s at ${pcm.sampleRate} Hz, ${frames} frames, ${patches} patches (${mel.name} mel)`);
    console.log('stage split (one thread, in-process):');
    console.log(`  decode     ${tDecode.toFixed(2)} s  ${pct(tDecode)}`);
    console.log(`  resample   ${tResample.toFixed(2)} s  ${pct(tResample)}`);
    console.log(`  frames+mel ${tMel.toFixed(2)} s  ${pct(tMel)}  (${((1000 * tMel) / frames).toFixed(2)} ms/frame)`);
    console.log(`  inference  ${tInfer.toFixed(2)} s  ${pct(tInfer)}  (${(tInfer / patches).toFixed(3)} s/patch, batch 4)`);
    console.log(`  total      ${total.toFixed(2)} s  realtime x${(duration / total).toFixed(1)}`);

    const x = batches[0].patches.length >= 4 * PATCH ? batches[0].patches : new Float32Array(8 * PATCH);
    const eight = new Float32Array(8 * PATCH);
    eight.set(x.subarray(0, 4 * PATCH));
    eight.set(x.subarray(0, 4 * PATCH), 4 * PATCH);
    for (const b of [1, 4, 8]) {
      t = now();
      for (let k = 0; k < 8; k += b) graph.run(eight.subarray(k * PATCH), b);
      console.log(`  inference batch ${b}: ${((now() - t) / 8).toFixed(3)} s/patch`);
    }
    graph.dispose();

    // 2. end to end, through the worker threads
    for (const [threads, jobs] of [[1, 1], [2, 2]] as const) {
      const e = await createEmbedder({ backend: 'essentia.js', threads });
      t = now();
      await Promise.all(Array.from({ length: jobs }, () => e.embed(file)));
      const wall = now() - t;
      await e.close();
      console.log(
        `embedder, ${threads} thread(s), ${jobs} job(s) at once: ${wall.toFixed(1)} s wall, ` +
          `${((wall * threads) / (jobs * patches)).toFixed(3)} thread-s/patch, realtime x${((jobs * duration) / wall).toFixed(1)}`,
      );
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const seconds = Number(process.argv[2] ?? 240);
  runPortableBench(seconds).catch((err) => {
    console.error(err);
    process.exitCode = 1;
  });
}

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
 *  3. per ISA, in a child process each with CHAARFM_MAX_ISA=avx512, avx2, generic: the whole
 *     native embedder from the local file (decode, resample, mel, inference, mean), realtime
 *     factor on one and two threads (best of 3 after a warm-up; also per second of the
 *     process's CPU time, the fair figure on a loaded machine), and inference alone on the
 *     track's own frames on one thread (`runFrames`, the stream path with overlap reuse, and
 *     `runPatches`, the per-patch path; best of 3, ms a patch); generic is for scale only (one
 *     thread, one cold run, inference on 24 patches), so the run stays short; then the peak RSS
 *     of `vectorize` on a generated 10-minute track (threads 1 and 2, VmHWM of the CLI's own
 *     process, as test/native-memory.test.ts reads it). Last, one `target:` line per target
 *     of issue 13, measured / target and met or NOT MET.
 * The load average is printed with each part: other work on the machine changes the figures;
 * compare within one run. Run: `npx tsc -p tsconfig.json && node dist/bench/native-pipeline.js
 * [seconds]`, or `npm run bench:engine` (this, then bench/onnx-compare.ts). Not a test.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { availableParallelism, cpus, loadavg, tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { decodeToPcm, resolveFfmpeg } from '../src/audio/ffmpeg.js';
import { resampleAll } from '../src/audio/resample.js';
import { writeClip } from '../src/audio/synth-clip.js';
import { createEmbedder } from '../src/embed/create-embedder.js';
import { loadNativeAddon } from '../src/embed/native-addon.js';
import { cutFrames } from '../src/embed/frames.js';
import { parseGraphDef } from '../src/embed/graphdef.js';
import { bundledModelPath, DEFAULT_OUTPUT_NODE } from '../src/embed/model-file.js';
import { EssentiaMel, MelReference } from '../src/embed/mel.js';
import { asBinding, graphToSpec } from '../src/embed/native-binding.js';
import { concatFloat32 } from '../src/util/float32.js';

const isaChild = process.argv.includes('--isa-child');
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

/**
 * Realtime factor of the whole native embedder on `file` for each thread count: audio seconds
 * per wall second (best of `n` after a warm-up, unless `warm` is false) and per second of this
 * process's CPU time (its threads; ffmpeg's decoding, a child process, not counted).
 */
async function pipeline(file: string, n: number, threadList: number[], warm = true): Promise<{ wall: Record<number, number>; cpu: Record<number, number> }> {
  const wall: Record<number, number> = {}, cpu: Record<number, number> = {};
  for (const threads of threadList) {
    const e = await createEmbedder({ backend: 'native', threads });
    if (warm) await e.embed(file);
    let bw = Infinity, bc = Infinity;
    for (let i = 0; i < n; i++) {
      const c0 = process.cpuUsage();
      bw = Math.min(bw, await time(() => e.embed(file)));
      const c = process.cpuUsage(c0);
      bc = Math.min(bc, (c.user + c.system) / 1e6);
    }
    await e.close();
    wall[threads] = seconds / bw;
    cpu[threads] = seconds / bc;
  }
  return { wall, cpu };
}

/** Inference alone on the track's own frames, one thread: ms a patch, stream (overlap reuse) and per-patch. */
async function inference(
  file: string,
  maxPatches: number,
  runs: number,
): Promise<{ reuse: number; perPatch: number; reuseCpu: number; perPatchCpu: number }> {
  const pcm = await decodeToPcm(file, { ffmpegPath: await resolveFfmpeg() });
  const parts: Float32Array[] = [];
  for await (const c of pcm) parts.push(c);
  const frames = await b.frontend(await b.resample(concatFloat32(parts), pcm.sampleRate, 65536, 1));
  const P = Math.min(maxPatches, Math.floor((frames.length / 96 - 187) / 93) + 1);
  const used = frames.subarray(0, (187 + 93 * (P - 1)) * 96);
  const patches = new Float32Array(P * 187 * 96);
  for (let p = 0; p < P; p++) patches.set(frames.subarray(p * 93 * 96, (p * 93 + 187) * 96), p * 187 * 96);
  const graph = parseGraphDef(readFileSync(bundledModelPath()), 'msd-musicnn-1.pb');
  const model = b.createModel(graphToSpec(graph, [DEFAULT_OUTPUT_NODE]));
  // best of `runs`: wall ms a patch, and process CPU ms a patch (one engine thread: the fair figure under load)
  const best = async (f: () => Promise<unknown>) => {
    let t = Infinity, c = Infinity;
    for (let i = 0; i < runs; i++) {
      const c0 = process.cpuUsage();
      t = Math.min(t, await time(f));
      const d = process.cpuUsage(c0);
      c = Math.min(c, (d.user + d.system) / 1e6);
    }
    return [(t * 1000) / P, (c * 1000) / P];
  };
  await b.runFrames(model, frames.subarray(0, (187 + 93 * 3) * 96), 1);
  const [reuse, reuseCpu] = await best(() => b.runFrames(model, used, 1, true));
  const [perPatch, perPatchCpu] = await best(() => b.runPatches(model, patches, 1));
  return { reuse, perPatch, reuseCpu, perPatchCpu };
}

/** Peak RSS (VmHWM of the CLI's own process) of `vectorize` on `file`, in MB; Linux only. */
function vectorizeRss(file: string, threads: number): number | null {
  if (process.platform !== 'linux') return null;
  const script = path.join(path.dirname(file), 'rss.mjs');
  const binUrl = new URL(`file://${path.join(root, 'dist', 'src', 'bin.js')}`).href;
  writeFileSync(
    script,
    `import { readFileSync } from 'node:fs';
process.on('exit', () => process.stderr.write('PEAK_RSS_KB ' + /VmHWM:\\s*(\\d+) kB/.exec(readFileSync('/proc/self/status', 'utf8'))[1] + '\\n'));
await import(${JSON.stringify(binUrl)});
`,
  );
  const r = spawnSync(process.execPath, [script, 'vectorize', file, '--backend', 'native', '--threads', String(threads)], { encoding: 'utf8' });
  const kb = Number(/PEAK_RSS_KB (\d+)/.exec(r.stderr)?.[1]);
  if (r.status !== 0 || !(kb > 0)) throw new Error(`vectorize failed: ${r.stderr}`);
  return kb / 1024;
}

interface IsaResult {
  isa: string;
  resampler: string;
  realtime: Record<number, number>;
  cpuRealtime: Record<number, number>;
  reuse: number;
  perPatch: number;
  reuseCpu: number;
  perPatchCpu: number;
}

if (isaChild) {
  const file = args[1];
  // generic is for scale only (5x slower): one thread, one cold run, inference on 24 patches
  const generic = b.info().isa === 'generic';
  const p = generic ? await pipeline(file, 1, [1], false) : await pipeline(file, 3, [1, 2]);
  const inf = generic ? await inference(file, 24, 1) : await inference(file, Infinity, 3);
  const r: IsaResult = { isa: b.info().isa, resampler: b.info().resampler, realtime: p.wall, cpuRealtime: p.cpu, ...inf };
  console.log(`RESULT ${JSON.stringify(r)}`);
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

  // 3. per ISA (a child process each, CHAARFM_MAX_ISA): the whole embedder from the file, and
  // inference alone on the track's frames; then vectorize's peak RSS on a 10-minute track
  const res: IsaResult[] = [];
  for (const isa of ['avx512', 'avx2', 'generic']) {
    const child = spawnSync(process.execPath, [fileURLToPath(import.meta.url), '--isa-child', String(seconds), file], {
      encoding: 'utf8',
      env: { ...process.env, CHAARFM_MAX_ISA: isa },
    });
    const line = /^RESULT (.*)$/m.exec(child.stdout)?.[1];
    if (child.status !== 0 || !line) throw new Error(`the ${isa} child failed: ${child.stderr}`);
    const r = JSON.parse(line) as IsaResult;
    res.push(r);
    console.log(
      `CHAARFM_MAX_ISA=${isa} (engine ${r.isa}, resampler ${r.resampler}): whole pipeline ${r.realtime[1].toFixed(1)}x realtime on 1 thread ` +
        `(${r.cpuRealtime[1].toFixed(1)}x per CPU second)` +
        (r.realtime[2] ? `, ${r.realtime[2].toFixed(1)}x on 2 (${r.cpuRealtime[2].toFixed(1)}x per CPU second)` : '') +
        `; inference on 1 thread ${r.reuse.toFixed(2)} ms/patch with overlap reuse (${r.reuseCpu.toFixed(2)} CPU), ` +
        `${r.perPatch.toFixed(2)} per-patch (${r.perPatchCpu.toFixed(2)} CPU); load average ${load()}`,
    );
  }
  const ten = path.join(dir, 'ten-min.wav');
  await writeClip(ten, { seconds: 600, seed: 5 });
  const rss = [1, 2].map((t) => vectorizeRss(ten, t));
  const by = (isa: string) => res.find((r) => r.isa === isa);
  // `cpu`: the same figure by process CPU time, printed beside it (on a loaded machine the wall
  // figure is the load's as much as ours); met / NOT MET is decided on the wall figure
  const line = (what: string, measured: number | undefined | null, unit: string, op: '>=' | '<=', target: number, isa: string, cpu?: number) => {
    if (measured === undefined || measured === null) {
      console.log(`target: ${what}: not measured (${isa} not available on this machine) / target ${op} ${target}${unit}`);
      return;
    }
    const met = op === '>=' ? measured >= target : measured <= target;
    const byCpu = cpu === undefined ? '' : ` (by CPU time ${cpu.toFixed(2)}${unit})`;
    console.log(`target: ${what}: measured ${measured.toFixed(2)}${unit}${byCpu} / target ${op} ${target}${unit}: ${met ? 'met' : 'NOT MET'}`);
  };
  const a5 = by('avx512'), a2 = by('avx2');
  console.log(`targets (load average ${load()}; ${cpus()[0]?.model ?? '?'}, ${availableParallelism()} cores):`);
  line('whole pipeline, avx512, 1 thread', a5?.realtime[1], 'x realtime', '>=', 80, 'avx512', a5?.cpuRealtime[1]);
  line('whole pipeline, avx512, 2 threads', a5?.realtime[2], 'x realtime', '>=', 140, 'avx512');
  line('whole pipeline, avx2, 1 thread', a2?.realtime[1], 'x realtime', '>=', 50, 'avx2', a2?.cpuRealtime[1]);
  line('inference per patch, avx2 / avx512 (per-patch path, 1 thread)', a2 && a5 ? a2.perPatch / a5.perPatch : undefined, 'x', '<=', 1.7, 'avx512',
    a2 && a5 ? a2.perPatchCpu / a5.perPatchCpu : undefined);
  line('inference per patch, avx2 / avx512 (overlap reuse, 1 thread)', a2 && a5 ? a2.reuse / a5.reuse : undefined, 'x', '<=', 1.7, 'avx512',
    a2 && a5 ? a2.reuseCpu / a5.reuseCpu : undefined);
  line('inference, avx512, 1 thread, overlap reuse', a5?.reuse, ' ms/patch', '<=', 11, 'avx512', a5?.reuseCpu);
  line('peak RSS of vectorize, 10-minute track, 1 thread', rss[0], ' MB', '<=', 200, 'Linux');
  line('peak RSS of vectorize, 10-minute track, 2 threads', rss[1], ' MB', '<=', 200, 'Linux');
} finally {
  await rm(dir, { recursive: true, force: true });
}

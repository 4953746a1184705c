// SPDX-License-Identifier: MIT
/**
 * The wasm engine (the portable backend) through its TypeScript surface
 * (src/embed/wasm-engine-binding.ts, and WasmEmbedder's worker threads running
 * src/embed/wasm-engine-thread.ts): Essentia's own regression case within 1e-5 from the file
 * (ffmpeg -> the engine's resampler, mel, MusiCNN); its resampler bit-identical to the native
 * addon's and to libsamplerate-js (the reference backend's, when installed); whole vectors from
 * files at 44.1 and 48 kHz bit-identical to the native addon's under CHAARFM_MAX_ISA=generic; the
 * SIMD128 kernels giving the generic kernels' bits over whole graphs, rows and mel bands bit for
 * bit against the native addon's generic kernels (a child process under CHAARFM_MAX_ISA=generic:
 * the cap is read when the addon loads), and the errors. Skips, saying why, when prebuilds/wasm
 * is not built (`npm run build:wasm`); the native comparisons skip without the addon.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { decodeToPcm, resolveFfmpeg } from '../src/audio/ffmpeg.js';
import { NON_FINITE_AUDIO } from '../src/embed/embedder.js';
import { parseGraphDef } from '../src/embed/graphdef.js';
import { bundledModelPath } from '../src/embed/model-file.js';
import { graphToSpec } from '../src/embed/native-binding.js';
import { WASM_ENGINE_DIR, chooseWasmVariant, loadWasmEngine, runtimeHasRelaxedSimd, type WasmVariant } from '../src/embed/wasm-engine-binding.js';
import { WasmEmbedder } from '../src/embed/wasm-embedder.js';
import { ffmpegDecoder } from '../src/embed/ffmpeg-decoder.js';
import { ESSENTIA_EXPECTED, ESSENTIA_TOLERANCE, fixturesDir } from './support/fixtures.js';
import { cosine } from './support/collection.js';
import { x64LinuxCpuFlags } from './support/cpu-flags.js';

const skip = existsSync(path.join(WASM_ENGINE_DIR, 'chaarfm-engine.wasm'))
  ? false
  : `the wasm engine is not built (no ${WASM_ENGINE_DIR}/chaarfm-engine.wasm); build it with: npm run build:wasm`;
const PATCH = 187 * 96;

function randomPatches(n: number, seed: number): Float32Array {
  const out = new Float32Array(n * PATCH);
  let s = seed >>> 0;
  for (let i = 0; i < out.length; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    out[i] = -2 + 6 * (s / 2 ** 32); // log-mel-like range
  }
  return out;
}

/**
 * The native addon's rows (bundled model, model/dense/BiasAdd) for `patches` and its mel bands
 * for `frames`, in a child process with CHAARFM_MAX_ISA=cap; the reason (a string) when the
 * addon is not built.
 */
function nativeCapped(cap: string, patches: Float32Array, frames: Float32Array): { isa: string; rows: Float32Array; bands: Float32Array } | string {
  const dist = path.resolve(fileURLToPath(new URL('..', import.meta.url)));
  const mod = (p: string) => JSON.stringify(pathToFileURL(path.join(dist, p)).href);
  const script = `
    const { loadTestBinding } = await import(${mod('test/support/native-addon.js')});
    const { graphToSpec } = await import(${mod('src/embed/native-binding.js')});
    const { parseGraphDef } = await import(${mod('src/embed/graphdef.js')});
    const { bundledModelPath } = await import(${mod('src/embed/model-file.js')});
    const { readFileSync } = await import('node:fs');
    const { binding, skip } = loadTestBinding();
    if (!binding) { process.stdout.write(JSON.stringify({ skip })); process.exit(0); }
    const input = readFileSync(0);
    const f32 = (b) => new Float32Array(b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength));
    const nPatch = input.readUInt32LE(0);
    const patches = f32(input.subarray(4, 4 + nPatch * 4)), frames = f32(input.subarray(4 + nPatch * 4));
    const spec = graphToSpec(parseGraphDef(readFileSync(bundledModelPath()), 'model'), ['model/dense/BiasAdd']);
    const [rows] = await binding.runPatches(binding.createModel(spec), patches, 1);
    const bands = await binding.melBands(frames);
    const hex = (v) => Buffer.from(v.buffer, v.byteOffset, v.byteLength).toString('hex');
    process.stdout.write(JSON.stringify({ isa: binding.info().isa, rows: hex(rows), bands: hex(bands) }));`;
  const head = Buffer.alloc(4);
  head.writeUInt32LE(patches.length);
  const bytes = (v: Float32Array) => Buffer.from(v.buffer, v.byteOffset, v.byteLength);
  const run = spawnSync(process.execPath, ['--input-type=module', '-e', script], {
    encoding: 'utf8',
    input: Buffer.concat([head, bytes(patches), bytes(frames)]),
    env: { ...process.env, CHAARFM_MAX_ISA: cap },
    maxBuffer: 64 << 20,
  });
  assert.equal(run.status, 0, `native addon under CHAARFM_MAX_ISA=${cap} failed:\n${run.stdout}\n${run.stderr}`);
  const r = JSON.parse(run.stdout) as { skip?: string; isa: string; rows: string; bands: string };
  if (r.skip) return r.skip;
  const f32 = (hex: string) => new Float32Array(new Uint8Array(Buffer.from(hex, 'hex')).buffer);
  return { isa: r.isa, rows: f32(r.rows), bands: f32(r.bands) };
}

function maxAbsDiff(a: Float32Array, b: Float32Array): number {
  assert.equal(a.length, b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

test("wasm engine reproduces Essentia's MusiCNN regression (vignesh.wav, genre_dortmund, model/Sigmoid) within 1e-5, both modules", { skip }, async (t) => {
  const fx = fixturesDir();
  if (!fx) return t.skip('Essentia regression fixtures not found (set CHAARFM_ESSENTIA_FIXTURES)');
  for (const wasmVariant of WASM_VARIANTS) await essentiaRegression(t, fx, wasmVariant);
});

const WASM_VARIANTS: WasmVariant[] = runtimeHasRelaxedSimd() ? ['relaxed', 'simd128'] : ['simd128'];

async function essentiaRegression(t: { diagnostic(s: string): void }, fx: string, wasmVariant: WasmVariant): Promise<void> {
  const ffmpegPath = await resolveFfmpeg();
  const w = await WasmEmbedder.create({
    wasmVariant,
    modelBytes: readFileSync(path.join(fx, 'genre_dortmund_musicnn_msd.pb')),
    outputNode: 'model/Sigmoid',
    decode: ffmpegDecoder(),
    ffmpegPath,
  });
  try {
    assert.equal(w.backend, 'wasm');
    const r = await w.embed(path.join(fx, 'vignesh.wav'));
    assert.equal(r.patches, 1);
    assert.equal(r.vector.length, ESSENTIA_EXPECTED.length);
    const worst = Math.max(...ESSENTIA_EXPECTED.map((v, i) => Math.abs(v - r.vector[i])));
    assert.ok(worst <= ESSENTIA_TOLERANCE, `values ${Array.from(r.vector).join(', ')}; max error ${worst}`);
    t.diagnostic(`${wasmVariant} module: max |wasm engine - Essentia| = ${worst.toExponential(2)}`);
  } finally {
    await w.close();
  }
}

test('wasm engine: SIMD128 kernels give the generic kernels\' bits over the whole graph; rows and mel bit-identical to the native addon under CHAARFM_MAX_ISA=generic', { skip }, async (t) => {
  const engine = await loadWasmEngine(undefined, 'simd128');
  assert.equal(engine.variant, 'simd128');
  assert.equal(engine.isa, 'wasm128');
  const spec = graphToSpec(parseGraphDef(readFileSync(bundledModelPath()), 'model'), ['model/dense/BiasAdd']);
  const model = engine.createModel(spec);
  try {
    assert.deepEqual(model.outputWidths, [200]);
    const patches = randomPatches(3, 7);
    const [fast] = model.runPatches(patches, true);
    const [generic] = model.runPatches(patches, false);
    assert.equal(fast.length, 3 * 200);
    assert.ok(Buffer.from(fast.buffer).equals(Buffer.from(generic.buffer)), `fast vs generic max diff ${maxAbsDiff(fast, generic)}`);
    // a stream (overlap reuse) with the SIMD128 kernels == the same stream with the generic ones
    const pcm = new Float32Array(16000 * 8);
    for (let i = 0; i < pcm.length; i++) pcm[i] = 0.3 * Math.sin(i * 0.05) + 0.1 * Math.sin(i * 0.31 + Math.sin(i * 1e-3));
    const means = [true, false].map((f) => {
      const s = model.openSession(16000, f);
      try {
        for (let at = 0; at < pcm.length; at += 7000) s.push(pcm.subarray(at, at + 7000));
        const r = s.finish();
        assert.equal(r.finite, true);
        assert.equal(r.patches, 4); // 501 frames
        return r.means[0];
      } finally {
        s.close();
      }
    });
    assert.ok(Buffer.from(means[0].buffer).equals(Buffer.from(means[1].buffer)), 'stream: fast vs generic differ');
    const frames = new Float32Array(512 * 5).map((_, i) => Math.sin(i * 0.013) * 0.5);
    const bands = engine.melBands(frames);
    assert.equal(bands.length, 5 * 96);

    const native = nativeCapped('generic', patches, frames);
    if (typeof native === 'string') return t.diagnostic(`native comparison skipped: ${native}`);
    assert.equal(native.isa, 'generic');
    const d = maxAbsDiff(fast, native.rows);
    t.diagnostic(`max |wasm - native generic| = ${d.toExponential(2)}`);
    assert.ok(Buffer.from(fast.buffer).equals(Buffer.from(native.rows.buffer)), `rows differ from the native generic kernels by up to ${d}`);
    const dm = maxAbsDiff(bands, native.bands);
    t.diagnostic(`max |wasm mel - native mel| = ${dm}`);
    assert.equal(dm, 0, 'mel bands differ from the native addon');
  } finally {
    model.free();
  }
});

const skipRelaxed = skip || (runtimeHasRelaxedSimd() ? false : `this runtime (node ${process.version}) has no relaxed SIMD`);

test('wasm engine, relaxed-SIMD module: the default here; within 1e-5 (cosine >= 0.999999) of the SIMD128 module, the same bits across runs, chunkings and sessions; fused where the CPU has FMA', { skip: skipRelaxed }, async (t) => {
  assert.equal(chooseWasmVariant(), process.env.CHAARFM_MAX_ISA ? chooseWasmVariant(process.env.CHAARFM_MAX_ISA) : 'relaxed');
  const [relaxed, plain] = await Promise.all([loadWasmEngine(undefined, 'relaxed'), loadWasmEngine(undefined, 'simd128')]);
  assert.equal(relaxed.variant, 'relaxed');
  assert.equal(relaxed.isa, 'wasm-relaxed');
  assert.equal(plain.isa, 'wasm128');
  assert.equal(relaxed.resamplerVariant, 'wasm128', 'the resampler is the SIMD128 one in both');
  const spec = graphToSpec(parseGraphDef(readFileSync(bundledModelPath()), 'model'), ['model/dense/BiasAdd', 'model/Sigmoid']);
  const rm = relaxed.createModel(spec), pm = plain.createModel(spec);
  try {
    const patches = randomPatches(4, 11);
    const fast = rm.runPatches(patches, true), ref = pm.runPatches(patches, true);
    // the generic kernels are the same code in both modules
    sameBits(rm.runPatches(patches, false)[0], pm.runPatches(patches, false)[0], 'generic kernels, relaxed vs SIMD128 module');
    for (const [o, width] of [200, 50].entries()) {
      const d = maxAbsDiff(fast[o], ref[o]);
      t.diagnostic(`rows, output ${o} (${width} wide): max |relaxed - SIMD128| = ${d.toExponential(2)}`);
      assert.ok(d <= 1e-5, `output ${o}: ${d}`);
    }
    const fused = fast[0].some((v, i) => !Object.is(v, ref[0][i]));
    const fma = x64LinuxCpuFlags()?.has('fma');
    t.diagnostic(`relaxed_madd ${fused ? 'fused' : 'not fused'} here (CPU FMA: ${fma ?? 'unknown'})`);
    if (fma !== undefined) assert.equal(fused, fma, 'V8 fuses relaxed_madd exactly where the x64 CPU has FMA3: the relaxed kernels are not running');
    sameBits(rm.runPatches(patches, true)[0], fast[0], 'relaxed rows, a second run');
    // a stream (overlap reuse), pushed in two chunkings and twice: one set of bits
    const pcm = new Float32Array(16000 * 9);
    for (let i = 0; i < pcm.length; i++) pcm[i] = 0.3 * Math.sin(i * 0.05) + 0.1 * Math.sin(i * 0.31 + Math.sin(i * 1e-3));
    const stream = (m: typeof rm, chunk: number) => {
      const s = m.openSession(16000);
      try {
        for (let at = 0; at < pcm.length; at += chunk) s.push(pcm.subarray(at, at + chunk));
        const r = s.finish();
        assert.equal(r.finite, true);
        return r.means;
      } finally {
        s.close();
      }
    };
    const a = stream(rm, 7000), b = stream(rm, 1000), c = stream(rm, 7000), p = stream(pm, 7000);
    for (const o of [0, 1]) {
      sameBits(b[o], a[o], `relaxed stream output ${o}, 1000- vs 7000-sample pushes`);
      sameBits(c[o], a[o], `relaxed stream output ${o}, a second session`);
      const d = maxAbsDiff(a[o], p[o]), cos = cosine(a[o], p[o]);
      t.diagnostic(`stream means, output ${o}: max |relaxed - SIMD128| = ${d.toExponential(2)}, 1 - cosine ${(1 - cos).toExponential(2)}`);
      assert.ok(d <= 1e-5 && cos >= 0.999999, `output ${o}: max diff ${d}, cosine ${cos}`);
    }
  } finally {
    rm.free();
    pm.free();
  }
});

test('chooseWasmVariant: relaxed where the runtime has it unless CHAARFM_MAX_ISA caps at 128-bit SIMD or below; Node 20 (no relaxed SIMD) loads the SIMD128 module', { skip }, async (t) => {
  for (const cap of [undefined, '', 'avx512', 'AVX2']) assert.equal(chooseWasmVariant(cap, true), 'relaxed', `cap ${cap}`);
  for (const cap of ['wasm128', 'WASM128', 'neon', 'generic', 'bogus']) assert.equal(chooseWasmVariant(cap, true), 'simd128', `cap ${cap}`);
  for (const cap of [undefined, 'avx512']) assert.equal(chooseWasmVariant(cap, false), 'simd128');
  // the cap reaches the module's own dispatch (its getenv does not see process.env by itself)
  const run = (env: Record<string, string>, node = process.execPath) => {
    const mod = JSON.stringify(pathToFileURL(path.resolve(fileURLToPath(new URL('../src/embed/wasm-engine-binding.js', import.meta.url)))).href);
    const r = spawnSync(node, ['--input-type=module', '-e', `const m = await import(${mod}); const e = await m.loadWasmEngine();
      process.stdout.write(JSON.stringify({ probe: m.runtimeHasRelaxedSimd(), variant: e.variant, isa: e.isa, resampler: e.resamplerVariant }));`],
    { encoding: 'utf8', env: { ...process.env, CHAARFM_MAX_ISA: '', ...env } });
    assert.equal(r.status, 0, r.stderr);
    return { ...JSON.parse(r.stdout), stderr: r.stderr };
  };
  assert.deepEqual(run({ CHAARFM_MAX_ISA: 'generic' }), { probe: runtimeHasRelaxedSimd(), variant: 'simd128', isa: 'generic', resampler: 'generic', stderr: '' });
  const bogus = run({ CHAARFM_MAX_ISA: 'bogus' });
  assert.equal(bogus.isa, 'generic');
  assert.match(bogus.stderr, /CHAARFM_MAX_ISA='bogus' is not one of avx512, avx2, neon, wasm128, generic; using the generic kernels/);
  // a runtime without relaxed SIMD: Debian's Node 20 (emscripten's dependency) where it is installed
  const old = '/usr/bin/node';
  const v = existsSync(old) ? spawnSync(old, ['-p', 'process.versions.node'], { encoding: 'utf8' }).stdout.trim() : '';
  if (!v || Number(v.split('.')[0]) >= 22) return t.diagnostic(`no Node before 22 at ${old} (${v || 'none'}): the fallback is checked through chooseWasmVariant(cap, false) only`);
  assert.deepEqual(run({}, old), { probe: false, variant: 'simd128', isa: 'wasm128', resampler: 'wasm128', stderr: '' });
  t.diagnostic(`node ${v} (${old}): no relaxed SIMD, the SIMD128 module loads`);
});

test('wasm engine: bad input gets a clear error and the engine stays usable', { skip }, async () => {
  const engine = await loadWasmEngine();
  const spec = graphToSpec(parseGraphDef(readFileSync(bundledModelPath()), 'model'), ['model/dense/BiasAdd']);
  assert.throws(() => engine.createModel({ ...spec, outputs: ['model/nope'] }), /wasm engine: createModel: .*model\/nope/);
  const model = engine.createModel(spec);
  try {
    assert.throws(() => model.openSession(-5), /wasm engine: openSession: .*positive sample rate/);
    assert.throws(() => model.openSession(1e9), /within 256x of 16000 Hz/);
    const s = model.openSession(16000);
    s.push(new Float32Array(1000));
    assert.throws(() => s.push(Float32Array.of(0, NaN)), new RegExp(NON_FINITE_AUDIO));
    s.push(new Float32Array(16000 * 3)); // still usable after the refused chunk
    const r = s.finish();
    assert.equal(r.patches, 1);
    assert.throws(() => s.finish(), /finish called twice/);
    s.close();
    assert.throws(() => s.push(new Float32Array(4)), /session is closed/);
    assert.throws(() => model.runPatches(new Float32Array(5)), RangeError);
    assert.throws(() => engine.melBands(new Float32Array(100)), RangeError);
  } finally {
    model.free();
  }
});

/** A test signal at `rate`: tones, a decaying bass and noise (deterministic). */
function signal(n: number, rate: number): Float32Array {
  const x = new Float32Array(n);
  let s = 99;
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    const t = i / rate;
    x[i] = 0.3 * Math.sin(2 * Math.PI * 220 * t) + 0.2 * Math.sin(2 * Math.PI * 3951.07 * t) + 0.1 * (s / 2 ** 32 - 0.5);
  }
  return x;
}

const f32hex = (v: Float32Array) => Buffer.from(v.buffer, v.byteOffset, v.byteLength).toString('hex');
const hexf32 = (hex: string) => new Float32Array(new Uint8Array(Buffer.from(hex, 'hex')).buffer);

/**
 * In a child process with CHAARFM_MAX_ISA=generic: the native addon's resampler on each signal
 * (whole, 65536-sample pushes) and the native backend's vectors of `files`; the reason when the
 * addon is not built.
 */
function nativeGeneric(signals: { rate: number; x: Float32Array }[], files: string[]): { resampled: Float32Array[]; vectors: Float32Array[] } | string {
  const dist = path.resolve(fileURLToPath(new URL('..', import.meta.url)));
  const mod = (p: string) => JSON.stringify(pathToFileURL(path.join(dist, p)).href);
  const script = `
    const { loadTestBinding } = await import(${mod('test/support/native-addon.js')});
    const { createEmbedder } = await import(${mod('src/embed/create-embedder.js')});
    const { readFileSync } = await import('node:fs');
    const { binding, skip } = loadTestBinding();
    if (!binding) { process.stdout.write(JSON.stringify({ skip })); process.exit(0); }
    const job = JSON.parse(readFileSync(0, 'utf8'));
    const hex = (v) => Buffer.from(v.buffer, v.byteOffset, v.byteLength).toString('hex');
    const f32 = (h) => new Float32Array(new Uint8Array(Buffer.from(h, 'hex')).buffer);
    const resampled = [];
    for (const s of job.signals) resampled.push(hex(await binding.resample(f32(s.x), s.rate, 65536, 1)));
    const e = await createEmbedder({ backend: 'native', threads: 1 });
    const vectors = [];
    for (const f of job.files) vectors.push(hex((await e.embed(f)).vector));
    await e.close();
    process.stdout.write(JSON.stringify({ isa: binding.info().isa, resampled, vectors }));`;
  const run = spawnSync(process.execPath, ['--input-type=module', '-e', script], {
    encoding: 'utf8',
    input: JSON.stringify({ signals: signals.map((s) => ({ rate: s.rate, x: f32hex(s.x) })), files }),
    env: { ...process.env, CHAARFM_MAX_ISA: 'generic' },
    maxBuffer: 256 << 20,
  });
  assert.equal(run.status, 0, `native addon under CHAARFM_MAX_ISA=generic failed:\n${run.stdout}\n${run.stderr}`);
  const r = JSON.parse(run.stdout) as { skip?: string; isa: string; resampled: string[]; vectors: string[] };
  if (r.skip) return r.skip;
  assert.equal(r.isa, 'generic');
  return { resampled: r.resampled.map(hexf32), vectors: r.vectors.map(hexf32) };
}

function sameBits(a: Float32Array, b: Float32Array, what: string): void {
  assert.equal(a.length, b.length, `${what}: ${a.length} vs ${b.length} samples`);
  let differ = 0;
  for (let i = 0; i < a.length; i++) if (!Object.is(a[i], b[i])) differ++;
  assert.equal(differ, 0, `${what}: ${differ} of ${a.length} values differ (max ${maxAbsDiff(a, b)})`);
}

test("wasm engine's resampler and whole vectors: bit-identical to libsamplerate-js and to the native build under CHAARFM_MAX_ISA=generic", { skip, timeout: 600_000 }, async (t) => {
  const engine = await loadWasmEngine();
  assert.equal(engine.resamplerVariant, 'wasm128');
  const fx = fixturesDir();
  const signals: { name: string; rate: number; x: Float32Array }[] = [
    { name: 'synthetic 48 kHz', rate: 48000, x: signal(48000 * 3 + 123, 48000) },
    { name: 'synthetic 22.05 kHz', rate: 22050, x: signal(4096 * 5, 22050) },
  ];
  if (fx) {
    const pcm = await decodeToPcm(path.join(fx, 'vignesh.wav'), { ffmpegPath: await resolveFfmpeg() });
    const parts: Float32Array[] = [];
    for await (const c of pcm) parts.push(c);
    const x = new Float32Array(parts.reduce((a, p) => a + p.length, 0));
    let at = 0;
    for (const p of parts) x.set(p, (at += p.length) - p.length);
    signals.push({ name: `vignesh.wav ${pcm.sampleRate} Hz`, rate: pcm.sampleRate, x });
  } else t.diagnostic('vignesh.wav not found (set CHAARFM_ESSENTIA_FIXTURES): synthetic signals only');
  const ours = signals.map((s) => engine.resample(s.x, s.rate, 65536));
  // any chunking gives the same samples
  for (const [i, s] of signals.entries()) sameBits(engine.resample(s.x, s.rate, 1000), ours[i], `${s.name}, 1000-sample pushes`);
  // the reference backend's resampler (libsamplerate 0.2.2 compiled to wasm), when installed
  let lsr: typeof import('../src/audio/resample.js') | undefined;
  try {
    lsr = await import('../src/audio/resample.js');
    (await lsr.Resampler.create(44100)).dispose();
  } catch (err) {
    lsr = undefined;
    t.diagnostic(`libsamplerate-js comparison skipped: ${(err as Error).message.split('\n')[0]}`);
  }
  if (lsr) {
    for (const [i, s] of signals.entries()) sameBits(ours[i], await lsr.resampleAll(s.x, s.rate), `${s.name} vs libsamplerate-js`);
  }
  // whole vectors from files: the portable backend vs the native one capped to generic kernels
  const dir = mkdtempSync(path.join(tmpdir(), 'chaarfm-wasm-vectors-'));
  try {
    const ffmpegPath = await resolveFfmpeg();
    const files = [44100, 48000].map((rate) => {
      const f = path.join(dir, `tone-${rate}.wav`);
      // a full ffmpeg on PATH makes the media (lavfi, amix); the bundled decoder only decodes
      const r = spawnSync('ffmpeg', ['-v', 'error', '-f', 'lavfi', '-i', `sine=frequency=330:sample_rate=${rate}:duration=7`,
        '-f', 'lavfi', '-i', `anoisesrc=color=pink:sample_rate=${rate}:duration=7:amplitude=0.2:seed=5`,
        '-filter_complex', 'amix=inputs=2', '-ac', '2', f]);
      assert.equal(r.status, 0, String(r.stderr));
      return f;
    });
    // the SIMD128 module: the native generic build's bits (the relaxed one fuses: its own test)
    const e = await WasmEmbedder.create({ wasmVariant: 'simd128', modelBytes: readFileSync(bundledModelPath()), outputNode: 'model/dense/BiasAdd', decode: ffmpegDecoder(), ffmpegPath });
    const vectors: Float32Array[] = [];
    try {
      for (const f of files) vectors.push((await e.embed(f)).vector);
    } finally {
      await e.close();
    }
    const native = nativeGeneric(signals, files);
    if (typeof native === 'string') return t.diagnostic(`native comparison skipped: ${native}`);
    for (const [i, s] of signals.entries()) sameBits(ours[i], native.resampled[i], `${s.name} vs the native resampler`);
    for (const [i, f] of files.entries()) sameBits(vectors[i], native.vectors[i], `${path.basename(f)}: wasm vs native generic vector`);
    t.diagnostic(`${signals.length} signals resampled and ${files.length} vectors: wasm == native generic, bit for bit`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

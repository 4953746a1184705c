// SPDX-License-Identifier: MIT
/**
 * The native Embedder (src/embed/native-embedder.ts over the addon) end to end:
 *  - fidelity against the reference backend (essentia.js + TF.js, the oracle; skipped without
 *    its optional dependencies) on generated music-like audio (20 s and 4 min):
 *    every component within 1e-4 and cosine >= 0.999999; Essentia's own regression case
 *    (vignesh.wav through genre_dortmund's model/Sigmoid) within Essentia's 1e-5;
 *  - the same vector for threads 1 and 2 and run after run; `peak` equal to the reference's;
 *  - each kernel ISA (child processes under CHAARFM_MAX_ISA) within 1e-5 / cosine 0.999999 of
 *    this process's, and this process's ISA bit-identical in another process;
 *    threads 2/3 sessions (front end and engine overlapped) == threads 1 bit for bit, and
 *    close/abort while busy end cleanly;
 *  - the session streams exactly like the TypeScript pipeline (resampled length, frame count);
 *  - the event loop keeps ticking during an embed; progress, abort, too-short audio, close().
 * Skips, saying why, when the addon is not built or there is no ffmpeg.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createReadStream } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { Resampler } from '../src/audio/resample.js';
import { writeClip } from '../src/audio/synth-clip.js';
import { createEmbedder } from '../src/embed/create-embedder.js';
import type { Embedder, EmbedProgress, EmbedResult } from '../src/embed/embedder.js';
import { frameCount } from '../src/embed/frames.js';
import { openModelFile } from '../src/embed/model-file.js';
import { graphToSpec } from '../src/embed/native-binding.js';
import { AudioTooShortError } from '../src/embed/wasm-embedder.js';
import { loadTestBinding } from './support/native-addon.js';
import { checkEssentiaRegression, fixturesDir, noReference } from './support/fixtures.js';
import { ffmpegSkip } from './support/ffmpeg.js';
import { compareVectors as compare } from './support/vector-compare.js';

// every test here decodes its audio with ffmpeg
const { binding, skip: addonSkip } = loadTestBinding();
const noAddon: string | false = addonSkip || ffmpegSkip;

let dir: string;
let native: Embedder | undefined;
const clip = (name: string) => path.join(dir, name);

before(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'chaarfm-native-'));
  await writeClip(clip('music-20s.wav'), { seconds: 20, seed: 11 });
  await writeClip(clip('music-60s.wav'), { seconds: 60, seed: 5, sampleRate: 48000 });
  await writeClip(clip('short-2s.wav'), { seconds: 2, seed: 2 });
  if (!noAddon) native = await createEmbedder({ backend: 'native', threads: 1 });
});

after(async () => {
  await native?.close();
  await rm(dir, { recursive: true, force: true });
});

async function referenceEmbed(file: string, threads = 1): Promise<EmbedResult> {
  const e = await createEmbedder({ backend: 'essentia.js', threads });
  try {
    return await e.embed(file);
  } finally {
    await e.close();
  }
}

async function fidelity(t: { diagnostic(m: string): void }, file: string, patches: number): Promise<void> {
  const [w, n] = [await referenceEmbed(file), await native!.embed(file)];
  assert.equal(n.patches, patches);
  assert.equal(w.patches, patches);
  assert.equal(n.vector.length, 200);
  const { maxDiff, cosine } = compare(n.vector, w.vector);
  t.diagnostic(`${path.basename(file)}: max |native - reference| ${maxDiff.toExponential(2)}, cosine ${cosine.toFixed(9)}`);
  assert.ok(maxDiff <= 1e-4, `max diff ${maxDiff}`);
  assert.ok(cosine >= 0.999999, `cosine ${cosine}`);
  assert.equal(n.peak, w.peak);
  assert.equal(n.duration, w.duration);
}

test('native equals the reference backend on 20 s of music within 1e-4, cosine >= 0.999999', { skip: noAddon || noReference }, async (t) => {
  await fidelity(t, clip('music-20s.wav'), 12); // 1252 frames -> floor((1252 - 187) / 93) + 1
});

test('native equals the reference backend on a 4-minute clip within 1e-4, cosine >= 0.999999', { skip: noAddon || noReference, timeout: 600_000 }, async (t) => {
  const file = clip('music-240s.wav');
  await writeClip(file, { seconds: 240, seed: 23 });
  await fidelity(t, file, 160); // 15001 frames -> floor((15001 - 187) / 93) + 1
});

test("native reproduces Essentia's MusiCNN regression (vignesh.wav, genre_dortmund, model/Sigmoid) within 1e-5", { skip: noAddon }, async (t) => {
  const fx = fixturesDir();
  if (!fx) return t.skip('Essentia regression fixtures not found (set CHAARFM_ESSENTIA_FIXTURES)');
  const { worst } = await checkEssentiaRegression(createEmbedder, 'native', fx);
  t.diagnostic(`max abs error vs Essentia: ${worst.toExponential(2)}`);
});

test('the addon names its engine: MusiCNN (it has no other)', { skip: addonSkip }, () => {
  assert.equal(binding!.info().engine, 'musicnn');
});

test('the same vector for threads 1 and 2, and run after run', { skip: noAddon }, async () => {
  const two = await createEmbedder({ backend: 'native', threads: 2 });
  try {
    const a = await native!.embed(clip('music-20s.wav'));
    const b = await native!.embed(clip('music-20s.wav'));
    const c = await two.embed(clip('music-20s.wav'));
    const [d, e] = await Promise.all([two.embed(clip('music-20s.wav')), native!.embed(clip('music-20s.wav'))]);
    for (const r of [b, c, d, e]) assert.deepEqual(Buffer.from(r.vector.buffer), Buffer.from(a.vector.buffer));
  } finally {
    await two.close();
  }
});

/** Embeds `file` in a child process with CHAARFM_MAX_ISA=cap on 1, 2 and 3 threads (which must give the same bits): the addon's ISA and the vector. */
function embedCapped(file: string, cap: string): { isa: string; vector: Float32Array } {
  const dist = path.resolve(fileURLToPath(new URL('..', import.meta.url)));
  const script = `
    const { createEmbedder } = await import(${JSON.stringify(pathToFileURL(path.join(dist, 'src/embed/create-embedder.js')).href)});
    const { loadNativeAddon } = await import(${JSON.stringify(pathToFileURL(path.join(dist, 'src/embed/native-addon.js')).href)});
    const isa = loadNativeAddon().binding.info().isa;
    const hexes = [];
    for (const threads of [1, 2, 3]) {
      const e = await createEmbedder({ backend: 'native', threads });
      const r = await e.embed(${JSON.stringify(file)});
      await e.close();
      hexes.push(Buffer.from(r.vector.buffer, r.vector.byteOffset, r.vector.byteLength).toString('hex'));
    }
    process.stdout.write(JSON.stringify({ isa, hexes }));`;
  const run = spawnSync(process.execPath, ['--input-type=module', '-e', script], {
    encoding: 'utf8',
    env: { ...process.env, CHAARFM_MAX_ISA: cap },
  });
  assert.equal(run.status, 0, `embedding with CHAARFM_MAX_ISA=${cap} failed:\n${run.stdout}\n${run.stderr}`);
  const { isa, hexes } = JSON.parse(run.stdout) as { isa: string; hexes: string[] };
  // per ISA, the whole pipeline (resampler split, patch lanes) gives the same bits on 1, 2, 3 threads
  assert.deepEqual(hexes.slice(1), [hexes[0], hexes[0]], `CHAARFM_MAX_ISA=${cap} (${isa}): threads 2 or 3 gave other bits than 1`);
  return { isa, vector: new Float32Array(new Uint8Array(Buffer.from(hexes[0], 'hex')).buffer) };
}

test('every kernel ISA (CHAARFM_MAX_ISA) gives the same vector within 1e-5, cosine >= 0.999999; each ISA the same bits on threads 1/2/3 and as in this process', { skip: noAddon, timeout: 300_000 }, async (t) => {
  const here = binding!.info();
  const file = clip('music-20s.wav');
  const own = await native!.embed(file);
  const caps = process.arch === 'arm64' ? ['neon', 'generic'] : ['avx512', 'avx2', 'generic'];
  const runs = caps.map((cap) => ({ cap, ...embedCapped(file, cap) }));
  const sameAsHere = runs.find((r) => r.isa === here.isa);
  assert.ok(sameAsHere, `no child process ran ${here.isa}`);
  const bytes = (v: Float32Array) => Buffer.from(v.buffer, v.byteOffset, v.byteLength);
  assert.equal(sameAsHere.vector.length, 200);
  assert.deepEqual(bytes(sameAsHere.vector), bytes(own.vector), `${here.isa}: another process gave other bits`);
  assert.equal(runs.at(-1)!.isa, 'generic');
  for (const r of runs) {
    const { maxDiff, cosine } = compare(r.vector, own.vector);
    t.diagnostic(`CHAARFM_MAX_ISA=${r.cap} (ran ${r.isa}) vs ${here.isa}: max |diff| ${maxDiff.toExponential(2)}, 1 - cosine ${(1 - cosine).toExponential(2)}`);
    assert.ok(maxDiff <= 1e-5, `${r.isa}: max |diff| ${maxDiff}`);
    assert.ok(cosine >= 0.999999, `${r.isa}: cosine ${cosine}`);
  }
});

test('an invalid CHAARFM_MAX_ISA stops the addon from loading, naming the value', { skip: noAddon }, () => {
  const dist = path.resolve(fileURLToPath(new URL('..', import.meta.url)));
  const script = `
    const { loadNativeAddon } = await import(${JSON.stringify(pathToFileURL(path.join(dist, 'src/embed/native-addon.js')).href)});
    try { loadNativeAddon(); console.log('loaded'); } catch (e) { console.log(String(e.message)); }`;
  const run = spawnSync(process.execPath, ['--input-type=module', '-e', script], {
    encoding: 'utf8',
    env: { ...process.env, CHAARFM_MAX_ISA: 'avx1024' },
  });
  assert.match(run.stdout, /CHAARFM_MAX_ISA='avx1024' is not one of avx512, avx2, neon, wasm128, generic/);
  assert.doesNotMatch(run.stdout, /^loaded/m);
});

test('tags: the mean of tagsNode comes back beside the vector', { skip: noAddon }, async () => {
  const e = await createEmbedder({ backend: 'native', threads: 1, tagsNode: 'model/Sigmoid' });
  try {
    const r = await e.embed(clip('music-20s.wav'));
    assert.equal(r.vector.length, 200);
    assert.equal(r.tags?.length, 50);
    assert.ok(r.tags!.every((v) => v >= 0 && v <= 1));
  } finally {
    await e.close();
  }
});

test('a session streams like the TypeScript pipeline: same resampled length and frame count', { skip: noAddon }, async () => {
  const model = await openModelFile();
  const handle = binding!.createModel(graphToSpec(model.graph, [model.outputNode]));
  const rate = 44100;
  for (const n of [rate * 7 + 99, 4096 * 80]) {
    const x = new Float32Array(n).map((_, i) => 0.3 * Math.sin(i / 10));
    const session = await binding!.openSession(handle, rate, 1);
    for (let p = 0; p < n; p += 5000) await binding!.sessionPush(session, x.subarray(p, p + 5000));
    const r = await binding!.sessionFinish(session);
    binding!.sessionClose(session);
    const rs = await Resampler.create(rate);
    let out = 0;
    out += rs.push(x).length;
    out += rs.end().length;
    rs.dispose();
    assert.equal(r.outputSamples, out, `n=${n}`);
    assert.equal(r.frames, frameCount(out));
    assert.equal(r.patches, Math.floor((r.frames - 187) / 93) + 1);
    assert.ok(Math.abs(r.peak - 0.3) < 1e-3);
  }
  await assert.rejects(
    (async () => {
      const s = await binding!.openSession(handle, rate, 1);
      binding!.sessionClose(s);
      await binding!.sessionPush(s, new Float32Array(10));
    })(),
    /The native session is closed/,
  );
  assert.throws(() => binding!.openSession(handle, rate, 0), (e: Error) => e instanceof RangeError && /for threads/.test(e.message));
  assert.throws(() => binding!.openSession({} as never, rate, 1), (e: Error) => e instanceof TypeError && /for model/.test(e.message));
});

test('the event loop keeps ticking while a 60 s clip is embedded; progress climbs to 1', { skip: noAddon }, async () => {
  // Order, not speed: a timer keeps firing between the inference progress reports. Inference
  // run on the main thread would hold the timer back until it ended, so no tick would fall
  // between its first and last report, however fast or slow the machine.
  let tick = 0;
  const timer = setInterval(() => tick++, 10);
  const progress: (EmbedProgress & { tick: number })[] = [];
  try {
    const r = await native!.embed(clip('music-60s.wav'), { onProgress: (p) => progress.push({ ...p, tick }) });
    assert.equal(r.patches, 39);
    assert.ok(Math.abs(r.duration - 60) < 0.01);
  } finally {
    clearInterval(timer);
  }
  assert.equal(progress[0].stage, 'decode');
  const inf = progress.filter((p) => p.stage === 'inference');
  const ticksDuringInference = inf.at(-1)!.tick - inf[0].tick;
  assert.ok(ticksDuringInference >= 3, `the timer fired ${ticksDuringInference} time(s) between the first and last inference report`);
  const inference = inf.map((p) => p.fraction);
  assert.ok(inference.length >= 2, 'inference progress was reported');
  assert.ok(inference.every((f, i) => f >= 0 && f <= 1 && (i === 0 || f >= inference[i - 1])), `fractions ${inference}`);
  assert.equal(inference.at(-1), 1);
});

test('a readable stream gives the same vector as the file path', { skip: noAddon }, async () => {
  const a = await native!.embed(clip('music-20s.wav'));
  const b = await native!.embed(createReadStream(clip('music-20s.wav')));
  assert.deepEqual(b.vector, a.vector);
});

test('rejects audio shorter than one patch with AudioTooShortError', { skip: noAddon }, async () => {
  await assert.rejects(
    native!.embed(clip('short-2s.wav')),
    (e: Error) => e instanceof AudioTooShortError && e.message === 'Audio too short (2.0 s; MusiCNN needs 3 s)',
  );
});

test('abort rejects with an AbortError and leaves the embedder usable', { skip: noAddon }, async () => {
  const ac = new AbortController();
  const p = native!.embed(clip('music-60s.wav'), { signal: ac.signal });
  setTimeout(() => ac.abort(new Error('stop')), 30);
  await assert.rejects(p, (e: Error) => e.name === 'AbortError' && (e as NodeJS.ErrnoException).code === 'ABORT_ERR');
  const r = await native!.embed(clip('music-20s.wav'));
  assert.equal(r.patches, 12);
});

test('close() fails the job in flight and refuses new work', { skip: noAddon }, async () => {
  const e = await createEmbedder({ backend: 'native', threads: 1 });
  const p = e.embed(clip('music-60s.wav'));
  await new Promise((r) => setTimeout(r, 50));
  await e.close();
  await assert.rejects(p, /The embedder was closed/);
  await assert.rejects(e.embed(clip('music-20s.wav')), /The embedder is closed/);
  await e.close(); // idempotent
});

test('threads 2 (front end and engine overlapped): same means as threads 1; close or abort while busy ends cleanly', { skip: noAddon }, async () => {
  const model = await openModelFile();
  const handle = binding!.createModel(graphToSpec(model.graph, [model.outputNode]));
  const rate = 44100;
  const x = new Float32Array(rate * 40).map((_, i) => 0.3 * Math.sin(i / 10) + 0.1 * Math.sin(i / 3.7));
  const run = async (threads: number, chunk: number) => {
    const s = await binding!.openSession(handle, rate, threads);
    try {
      for (let p = 0; p < x.length; p += chunk) await binding!.sessionPush(s, x.subarray(p, p + chunk));
      return await binding!.sessionFinish(s);
    } finally {
      binding!.sessionClose(s);
    }
  };
  const one = await run(1, 5000);
  for (const [threads, chunk] of [[2, 5000], [2, x.length], [3, 777]]) {
    const r = await run(threads, chunk);
    assert.equal(r.patches, one.patches);
    assert.equal(r.frames, one.frames);
    assert.deepEqual(Buffer.from(r.means[0].buffer), Buffer.from(one.means[0].buffer), `threads ${threads}, chunk ${chunk}`);
  }
  // close while a push that fills the queue is in flight: the push ends, the session is gone
  const s = await binding!.openSession(handle, rate, 2);
  const pushing = binding!.sessionPush(s, x);
  binding!.sessionClose(s);
  const p = await pushing;
  assert.ok(p.frames > 0);
  await assert.rejects(async () => binding!.sessionFinish(s), /The native session is closed/);
  // close a session with queued work that never finishes
  const s2 = await binding!.openSession(handle, rate, 2);
  await binding!.sessionPush(s2, x);
  binding!.sessionClose(s2);

  const two = await createEmbedder({ backend: 'native', threads: 2 });
  const ac = new AbortController();
  const aborted = two.embed(clip('music-60s.wav'), { signal: ac.signal });
  setTimeout(() => ac.abort(new Error('stop')), 30);
  await assert.rejects(aborted, (e: Error) => e.name === 'AbortError');
  assert.equal((await two.embed(clip('music-20s.wav'))).patches, 12);
  const busy = two.embed(clip('music-60s.wav'));
  await new Promise((r) => setTimeout(r, 50));
  await two.close();
  await assert.rejects(busy, /The embedder was closed/);
});

// SPDX-License-Identifier: MIT
/**
 * Broken and odd media, everywhere they can arrive: a corpus (test/system/support/media-corpus.ts:
 * empty, cut, wrong container, absurd headers, 0 channels, one sample, NaN samples, 8 kHz,
 * 192 kHz, 8 channels, too short, silence) goes through `vectorize` in a child process on every
 * backend that loads, and through real worker jobs (the worker CLI, the real yt-dlp over a local
 * HTTP server, a fake ChaarFM server). Broken inputs must give one clear line (no stack trace, no
 * crash; exit 1 for `vectorize`, a `failed` result with the protocol's strings for a job); valid
 * odd ones a finite 200-d vector, close to the same music at a normal rate; the same file the
 * same vector from `vectorize` and from a job; nothing hangs; the worker stays up and still
 * completes a good job afterwards.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { FakeServer } from '../support/fake-server.js';
import { MediaServer } from '../support/media-server.js';
import { BIN, Child } from './support/fuzz-process.js';
import { makeCorpus, type CorpusEntry } from './support/media-corpus.js';

const haveFfmpeg = spawnSync('ffmpeg', ['-version']).status === 0;
const haveYtdlp = spawnSync('yt-dlp', ['--version']).status === 0;
/** Hang guards, generous: the machine may be shared. */
const VECTORIZE_TIMEOUT_MS = 300000;
const JOB_TIMEOUT_MS = 120000;

let dir = '';
let tmp = '';
let corpus: CorpusEntry[] = [];
let nativeWhyNot: string | null = null;
/** vectorize's vectors per backend and file name. */
const vectors: Record<string, Map<string, number[]>> = {};
let tried = 0;
let media: MediaServer | null = null;
let server: FakeServer | null = null;
let child: Child | null = null;

before(async () => {
  if (!haveFfmpeg) return;
  dir = await mkdtemp(join(tmpdir(), 'cfw-broken-media-'));
  tmp = await mkdtemp(join(tmpdir(), 'cfw-broken-tmp-'));
  corpus = makeCorpus(dir);
  const probe = spawnSync(process.execPath, [BIN, 'vectorize', '--backend', 'native', join(dir, 'ref-44k.wav')], { encoding: 'utf8', timeout: 60000 });
  if (probe.status !== 0) nativeWhyNot = probe.stderr.trim().split('\n')[0] || `exit ${probe.status}`;
});

after(async () => {
  child?.kill();
  await media?.stop().catch(() => {});
  await server?.stop().catch(() => {});
  if (dir) await rm(dir, { recursive: true, force: true });
  if (tmp) await rm(tmp, { recursive: true, force: true });
  if (tried) console.log(`broken-media: ${tried} inputs tried (${corpus.length} files), 0 crashes, 0 hangs`);
});

const maxDiff = (a: number[], b: number[]) => a.reduce((m, x, i) => Math.max(m, Math.abs(x - b[i])), 0);
const cosine = (a: number[], b: number[]) => {
  let d = 0;
  let x = 0;
  let y = 0;
  for (let i = 0; i < a.length; i++) {
    d += a[i] * b[i];
    x += a[i] * a[i];
    y += b[i] * b[i];
  }
  return d / Math.sqrt(x * y);
};

function checkVector(v: unknown, what: string): number[] {
  assert.ok(Array.isArray(v), `${what}: no vector`);
  assert.equal(v.length, 200, `${what}: ${v.length} values`);
  assert.ok(v.every((x) => typeof x === 'number' && Number.isFinite(x)), `${what}: a value that is not a finite number`);
  return v as number[];
}

/** One `vectorize` run over `entries` on one backend; checks each input's outcome. */
function vectorizeRun(backend: 'native' | 'wasm', entries: CorpusEntry[]): void {
  const t0 = Date.now();
  const r = spawnSync(process.execPath, [BIN, 'vectorize', '--backend', backend, ...entries.map((e) => join(dir, e.name))], {
    encoding: 'utf8',
    timeout: VECTORIZE_TIMEOUT_MS,
    maxBuffer: 1 << 26,
  });
  assert.equal(r.error, undefined, `vectorize on ${backend} did not finish: ${String(r.error)}`);
  assert.equal(r.signal, null, `vectorize on ${backend} was killed by ${r.signal}; stderr: ${r.stderr.slice(-2000)}`);
  assert.equal(r.status, 1, `exit 1 when some inputs fail; stderr: ${r.stderr.slice(-2000)}`);
  assert.doesNotMatch(r.stderr, /\n\s+at .+:\d+:\d+/, 'no stack trace');
  const out = new Map<string, Record<string, unknown>>();
  for (const line of r.stdout.trim().split('\n').filter(Boolean)) {
    const o = JSON.parse(line) as Record<string, unknown>;
    out.set(String(o.source), o);
  }
  const errs = new Map<string, string[]>();
  for (const line of r.stderr.trim().split('\n').filter(Boolean)) {
    const m = /^chaarfm-worker: (.+?): (.+)$/.exec(line);
    assert.ok(m, `an unexpected stderr line: ${line}`);
    if (m[2].startsWith('warning: ')) continue;
    errs.set(m[1], [...(errs.get(m[1]) ?? []), m[2]]);
  }
  const got = (vectors[backend] ??= new Map());
  for (const e of entries) {
    tried++;
    const path = join(dir, e.name);
    const o = out.get(path);
    const err = errs.get(path);
    const what = `${backend} vectorize ${e.name} (${e.what})`;
    assert.ok(!(o && err), `${what}: both a vector and an error`);
    assert.ok(o || err, `${what}: neither a vector nor an error`);
    if (err) {
      assert.equal(err.length, 1, `${what}: one error line`);
      assert.notEqual(e.vectorize, 'vector', `${what}: failed: ${err[0]}`);
      if (e.error) assert.match(err[0], e.error, what);
    } else {
      assert.notEqual(e.vectorize, 'fail', `${what}: gave a vector`);
      got.set(e.name, checkVector(o!.vector, what));
    }
  }
  console.log(`vectorize --backend ${backend}: ${entries.length} inputs, ${out.size} vectors, ${errs.size} errors, ${((Date.now() - t0) / 1000).toFixed(1)} s`);
}

test('vectorize, native backend: broken inputs one clear line each, odd valid ones a finite vector', { skip: !haveFfmpeg && 'needs ffmpeg', timeout: VECTORIZE_TIMEOUT_MS + 30000 }, (t) => {
  if (nativeWhyNot) return t.skip(`native addon does not load: ${nativeWhyNot}`);
  vectorizeRun('native', corpus);
  const v = vectors.native;
  // the same audio bytes behind another name or a big tag: the same vector
  for (const e of corpus.filter((x) => x.sameAs && v.has(x.name))) {
    const a = v.get(e.name)!;
    const b = v.get(e.sameAs!)!;
    const c = cosine(a, b);
    console.log(`  ${e.name} vs ${e.sameAs}: cosine ${c.toFixed(6)}, max diff ${maxDiff(a, b).toExponential(2)}`);
    assert.ok(c > 0.999, `${e.name} should embed like ${e.sameAs} (cosine ${c})`);
  }
  assert.deepEqual(v.get('mp3-named.wav'), v.get('ref-44k.mp3'), 'a name does not change the vector');
  assert.deepEqual(v.get('id3-8mb.mp3'), v.get('ref-44k.mp3'), 'an 8 MB tag does not change the vector');
  assert.deepEqual(v.get('claims-4gib.wav'), v.get('ref-44k.wav'), 'a data size past the end of the file does not change the vector');
  // far from silence, so the closeness above means something
  if (v.has('silence.wav')) assert.ok(maxDiff(v.get('silence.wav')!, v.get('ref-44k.wav')!) > 50 * maxDiff(v.get('rate-192k.wav')!, v.get('ref-44k.wav')!));
});

test('vectorize, portable backend: the same, on the broken inputs and a few valid ones', { skip: !haveFfmpeg && 'needs ffmpeg', timeout: VECTORIZE_TIMEOUT_MS + 30000 }, () => {
  // every input that must fail or may fail, and three valid ones (each valid one costs ~1.5 s here)
  const valid = new Set(['ref-44k.wav', 'rate-8k.wav', 'rate-192k.wav']);
  vectorizeRun('wasm', corpus.filter((e) => e.vectorize !== 'vector' || valid.has(e.name)));
  const w = vectors.wasm;
  const n = vectors.native;
  for (const [name, a] of w) {
    const b = n?.get(name);
    if (b) assert.ok(maxDiff(a, b) < 1e-3, `${name}: native and portable differ by ${maxDiff(a, b)}`);
  }
  for (const name of ['rate-8k.wav', 'rate-192k.wav']) assert.ok(cosine(w.get(name)!, w.get('ref-44k.wav')!) > 0.999, name);
});

test('worker jobs: each broken file a failed result with the protocol\'s strings, valid ones the vectorize vector; the worker stays up', { skip: !(haveFfmpeg && haveYtdlp) && 'needs ffmpeg and yt-dlp', timeout: 600000 }, async () => {
  const backend = nativeWhyNot ? 'wasm' : 'native';
  const t0 = Date.now();
  media = await MediaServer.start(dir);
  server = await FakeServer.start();
  const srv = server;
  // the corpus is small: lift the protocol's 0.5 MB minimum so that decoding is what is tested
  child = new Child([BIN, '--url', srv.url, '--code', 'MEDIA', '--jobs', '1', '--backend', backend, '--log-format', 'json', '--tmp-dir', tmp], {
    POST_DOWNLOAD_MIN_SIZE_MB: '0',
  });
  const peer = await srv.waitFor(() => srv.openPeers()[0], 30000, 'the worker socket');
  const resultOf = (id: string) => srv.waitForMessage(peer, (m) => m.type === 'result' && m.job_id === id, JOB_TIMEOUT_MS, `result of ${id}`);
  let pings = 0;
  const counts = { success: 0, failed: 0 };
  for (const e of corpus) {
    tried++;
    const id = `media-${e.name}`;
    srv.sendJob(peer, id, { artist: null, title: null, youtube_url: media.url(e.name) });
    const r = await resultOf(id);
    const what = `job ${e.name} (${e.what}) on ${backend}`;
    assert.ok(r.status === 'success' || r.status === 'failed', what);
    counts[r.status as 'success' | 'failed']++;
    if (r.status === 'failed') {
      const err = String(r.error);
      console.log(`  ${e.name}: ${err}`);
      assert.notEqual(e.job, 'vector', `${what}: failed: ${err}`);
      assert.match(err, /^(Download failed|Vectorization failed): \S.*$|^File size out of range: [\d.]+MB$/, `${what}: the protocol's strings`);
      assert.ok(!err.includes('\n') && err.length <= 600, `${what}: one short line`);
      assert.doesNotMatch(err, /\bat .+:\d+:\d+/, `${what}: no stack`);
      if (e.error && e.job === 'fail') assert.match(err.replace(/^Vectorization failed: /, ''), e.error, what);
    } else {
      assert.notEqual(e.job, 'fail', `${what}: succeeded`);
      const v = checkVector((r.data as { vector?: unknown }).vector, what);
      const same = vectors[backend]?.get(e.name);
      if (same) assert.deepEqual(v, same, `${what}: a job's vector equals vectorize's`);
    }
    // still listening between jobs
    srv.sendRaw(peer, '{"type":"ping"}');
    pings++;
    await srv.waitFor(() => peer.messages.filter((m) => m.type === 'pong').length >= pings, 20000, `pong after ${e.name}`);
    assert.ok(child.alive, `worker exited after ${e.name}: ${child.err.slice(-2000)}`);
  }
  // and a good job afterwards
  srv.sendJob(peer, 'good-after', { artist: 'After', title: 'Broken', youtube_url: media.url('ref-44k.mp3') });
  const ok = await resultOf('good-after');
  assert.equal(ok.status, 'success', String(ok.error));
  checkVector((ok.data as { vector?: unknown }).vector, 'good-after');
  assert.ok(!peer.closed, 'the same socket all along');
  assert.deepEqual(child.crashSigns(), [], 'no uncaught errors, stack traces or error-level log lines');
  const jobDirs = join(tmp, 'chaarfm-worker');
  if (existsSync(jobDirs)) assert.deepEqual(await readdir(jobDirs), [], 'no job folder left behind');
  await child.stop();
  assert.equal(child.exit?.code, 0, `clean exit; stderr: ${child.err.slice(-1000)}`);
  console.log(`worker jobs on ${backend}: ${corpus.length + 1} jobs, ${counts.success + 1} vectors, ${counts.failed} failed results, ${((Date.now() - t0) / 1000).toFixed(1)} s`);
});

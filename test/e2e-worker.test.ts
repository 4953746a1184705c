// SPDX-License-Identifier: MIT
/**
 * End to end on the portable path: a test coordinator sends jobs, the real worker downloads
 * generated music with the real yt-dlp from a local HTTP server, decodes with ffmpeg and embeds
 * with the WASM backend; the vector that comes back equals `vectorize` on the same file, bit for
 * bit. Then bad media: each one a `failed` result with a clear error, and the worker still up.
 */
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { copyFileSync, writeFileSync, readFileSync } from 'node:fs';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, before, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { createEmbedder } from '../src/embed/create-embedder.js';
import type { Embedder } from '../src/embed/embedder.js';
import { YtDlpMedia } from '../src/media/ytdlp-media.js';
import { startWorker, type WorkerHandle } from '../src/worker/worker.js';
import { FakeServer, type Peer } from './support/fake-server.js';
import { CODECS, MediaServer, makeMusicClip } from './support/media-server.js';

const here = dirname(fileURLToPath(import.meta.url));
const BIN = join(here, '..', 'src', 'bin.js');
const haveTools = ['ffmpeg', 'yt-dlp'].every((t) => spawnSync(t, ['--version']).status === 0 || spawnSync(t, ['-version']).status === 0);

const CLIPS = [
  { name: 'chords-44k-stereo.mp3', rate: 44100, channels: 2 as const, codec: CODECS.mp3 },
  { name: 'chords-48k-stereo.opus', rate: 48000, channels: 2 as const, codec: CODECS.opus },
  { name: 'chords-22k-mono.m4a', rate: 22050, channels: 1 as const, codec: CODECS.m4a },
  { name: 'chords-44k-mono.wav', rate: 44100, channels: 1 as const, codec: CODECS.wav },
  { name: 'chords-48k-stereo.wav', rate: 48000, channels: 2 as const, codec: CODECS.wav },
];

let dir: string;
let tmp: string;
let media: MediaServer;
let server: FakeServer;
let worker: WorkerHandle | null = null;
let embedder: Embedder;

before(async () => {
  if (!haveTools) return;
  dir = await mkdtemp(join(tmpdir(), 'cfw-e2e-media-'));
  tmp = await mkdtemp(join(tmpdir(), 'cfw-e2e-tmp-'));
  CLIPS.forEach((c, i) => makeMusicClip(join(dir, c.name), { seconds: 8, rate: c.rate, channels: c.channels, codec: c.codec, seed: i }));
  media = await MediaServer.start(dir);
  server = await FakeServer.start();
  embedder = await createEmbedder({ backend: 'wasm', threads: 2 });
});

after(async () => {
  await worker?.stop();
  await embedder?.close();
  await media?.stop();
  await server?.stop().catch(() => {});
  if (dir) await rm(dir, { recursive: true, force: true });
  if (tmp) await rm(tmp, { recursive: true, force: true });
});

async function results(peer: Peer, ids: string[], timeoutMs = 120000) {
  await server.waitFor(() => ids.every((id) => peer.messages.some((m) => m.type === 'result' && m.job_id === id)), timeoutMs, `results ${ids}`);
  return ids.map((id) => peer.messages.find((m) => m.type === 'result' && m.job_id === id)!);
}

test('jobs over the real yt-dlp and ffmpeg give the same vectors as `vectorize`', { skip: !haveTools && 'needs ffmpeg and yt-dlp' }, async () => {
  // Small clips: lift the 0.5 MB minimum of the protocol for this run.
  const env = { ...process.env, POST_DOWNLOAD_MIN_SIZE_MB: '0' };
  worker = await startWorker({ url: server.url, code: 'E2E', jobs: 2, tmpDir: tmp, embedder, media: new YtDlpMedia({ env }) });
  const peers = await server.waitForPeers(2);
  const got = new Map<string, Record<string, unknown>>();
  // one job per socket at a time, as the server schedules
  for (let i = 0; i < CLIPS.length; i += 2) {
    const batch = CLIPS.slice(i, i + 2);
    batch.forEach((c, k) => server.sendJob(peers[k], `job-${c.name}`, { artist: null, title: null, youtube_url: media.url(c.name) }));
    const rs = await Promise.all(batch.map((c, k) => results(peers[k], [`job-${c.name}`]).then((r) => r[0])));
    batch.forEach((c, k) => got.set(c.name, rs[k]));
  }
  const out = execFileSync(process.execPath, [BIN, 'vectorize', '--backend', 'wasm', ...CLIPS.map((c) => join(dir, c.name))], { encoding: 'utf8', maxBuffer: 1 << 24 });
  const lines = out.trim().split('\n').map((l) => JSON.parse(l) as { source: string; vector: number[]; backend: string; duration: number });
  assert.equal(lines.length, CLIPS.length);
  for (const [i, c] of CLIPS.entries()) {
    const r = got.get(c.name)!;
    assert.equal(r.status, 'success', `${c.name}: ${String(r.error)}`);
    const data = r.data as { artist: string; title: string; youtube_id: string; vector: number[]; source_url: string };
    assert.equal(data.vector.length, 200);
    assert.equal(data.source_url, media.url(c.name));
    assert.equal(data.artist, 'YouTube Artist', 'generic extractor: no artist or uploader');
    assert.equal(typeof data.title, 'string');
    assert.equal(lines[i].backend, 'wasm');
    assert.ok(Math.abs(lines[i].duration - 8) < 0.1, `${c.name} decoded ${lines[i].duration} s`);
    assert.deepEqual(data.vector, lines[i].vector, `${c.name}: worker and vectorize differ`);
  }
  // different music, different vectors
  assert.notDeepEqual(lines[0].vector, lines[1].vector);
  assert.deepEqual(await readdir(join(tmp, 'chaarfm-worker')), [], 'no job folder left behind');
  await worker.stop();
  worker = null;
});

test('bad media: each is a failed result with a clear error, and the worker stays up', { skip: !haveTools && 'needs ffmpeg and yt-dlp' }, async () => {
  writeFileSync(join(dir, 'empty.mp3'), '');
  writeFileSync(join(dir, 'text.mp3'), 'this is not audio at all, just a text file\n'.repeat(50));
  const mp3 = readFileSync(join(dir, CLIPS[0].name));
  writeFileSync(join(dir, 'truncated.mp3'), mp3.subarray(0, 600));
  makeMusicClip(join(dir, 'short.wav'), { seconds: 1, rate: 44100, channels: 2, codec: CODECS.wav });
  execFileSync('ffmpeg', ['-v', 'error', '-y', '-f', 'lavfi', '-i', 'anullsrc=r=22050:cl=mono', '-t', '10', '-c:a', 'pcm_s16le', join(dir, 'silence.wav')]);
  copyFileSync(join(dir, 'chords-48k-stereo.wav'), join(dir, 'big.wav'));
  // 0 MB minimum so that decoding is what fails; 1 MB maximum so that big.wav (1.5 MB) is too big.
  const env = { ...process.env, POST_DOWNLOAD_MIN_SIZE_MB: '0', POST_DOWNLOAD_MAX_SIZE_MB: '1' };
  worker = await startWorker({ url: server.url, code: 'BAD', jobs: 1, tmpDir: tmp, embedder, media: new YtDlpMedia({ env }) });
  const peer = (await server.waitFor(() => server.openPeers().find((p) => p.code === 'BAD'), 10000, 'BAD peer'))!;
  const cases: [string, RegExp][] = [
    ['empty.mp3', /^(Download failed|Vectorization failed): .+/],
    ['text.mp3', /^Vectorization failed: .*(Invalid data|decode|ffmpeg)/i],
    ['truncated.mp3', /^Vectorization failed: .+/],
    ['short.wav', /^Vectorization failed: Audio too short \(1\.0 s; MusiCNN needs 3 s\)$/],
    ['silence.wav', /^Vectorization failed: the audio is silent \(peak -inf dBFS\)$/],
    ['big.wav', /^File size out of range: 1\.\d\dMB$/],
    ['missing.mp3', /^Download failed: .*404/],
  ];
  for (const [name, re] of cases) {
    server.sendJob(peer, `bad-${name}`, { artist: null, title: null, youtube_url: media.url(name) });
    const [r] = await results(peer, [`bad-${name}`], 60000);
    assert.equal(r.status, 'failed', `${name} should fail`);
    assert.match(String(r.error), re, name);
    assert.ok(!String(r.error).includes('\n'), 'one line');
  }
  server.sendRaw(peer, '{"type":"ping"}');
  await server.waitForMessage(peer, (m) => m.type === 'pong');
  server.sendJob(peer, 'good-after', { artist: 'A', title: 'T', youtube_url: media.url('chords-44k-mono.wav') });
  const [ok] = await results(peer, ['good-after']);
  assert.equal(ok.status, 'success', String(ok.error));
  assert.deepEqual(await readdir(join(tmp, 'chaarfm-worker')), []);
});

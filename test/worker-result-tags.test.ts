// SPDX-License-Identifier: MIT
/**
 * The top MSD tags our worker adds to a download result (`data.tags`, src/worker/job-runner.ts):
 * the real worker (stand-in audio work whose embedder gives tag scores) against a stand-in of
 * the original server that reads results strictly per the spec: it accepts the frame and
 * stores exactly what it stores without the field. Against our coordinator the tags are kept
 * and colour the map.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { copyFile, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { writeClip } from '../src/audio/synth-clip.js';
import { MSD_TAGS, topTags } from '../src/embed/msd-tags.js';
import type { Media } from '../src/media/media.js';
import { startWorker, type WorkerHandle } from '../src/worker/worker.js';
import { RESULT_TAGS } from '../src/worker/job-runner.js';
import { api, coordinator, newSession } from './support/coordinator.js';
import { FakeServer, resultsOf } from './support/fake-server.js';
import { originalServerReads } from './support/original-server.js';
import { StubEmbedder, StubMedia, tagScoresFor, vectorFor } from './support/stand-ins.js';
import { waitUntil } from './support/wait.js';

const handles: WorkerHandle[] = [];
after(async () => {
  for (const h of handles) await h.stop();
});

const worker = async (url: string, code: string, tags: boolean) => {
  const w = await startWorker({ url, code, name: tags ? 'tagged' : 'plain', embedder: new StubEmbedder({ tags }), media: new StubMedia(), keepaliveMs: 0, heartbeatMs: 0, reconnect: { initialMs: 50, factor: 1.5, maxMs: 200 } });
  handles.push(w);
  return w;
};

test('the original server accepts a result with data.tags and stores exactly what it stores without them', async () => {
  const server = await FakeServer.start();
  try {
    const stored: Record<string, unknown>[] = [];
    for (const tags of [true, false]) {
      const w = await worker(server.url, 'ABC123', tags);
      const [peer] = await server.waitForPeers(1);
      server.sendJob(peer, 'job-7', { artist: 'Nina', title: 'Sinner', table_name: 'music', youtube_url: 'https://media.example/s.mp3' });
      const frame = await server.waitForMessage(peer, (m) => m.type === 'result', 10000, 'a result');
      const data = frame.data as Record<string, unknown>;
      if (tags) {
        // the extra field, as we send it: the top tags of model/Sigmoid, highest first
        const v = vectorFor(Buffer.from('Nina|Sinner|https://media.example/s.mp3'));
        const want = topTags(tagScoresFor(v), RESULT_TAGS).map((t) => ({ name: t.name, score: Number(t.score.toFixed(4)) }));
        assert.deepEqual(data.tags, want);
        assert.equal(RESULT_TAGS, 3);
      } else assert.equal('tags' in data, false, 'no tag scores, no field');
      stored.push({ ...originalServerReads(frame) });
      assert.equal(resultsOf(peer).length, 1);
      await w.stop();
      await server.waitFor(() => server.openPeers().length === 0, 5000, 'the socket closed');
    }
    assert.deepEqual(stored[0], stored[1], 'the same stored record with and without data.tags');
    assert.equal((stored[0].vector as number[]).length, 200);
  } finally {
    await server.stop();
  }
});

test('the stand-in original server is strict: a result missing a spec field is refused', () => {
  const ok = { type: 'result', job_id: 'j', status: 'success', data: { artist: 'a', title: 't', youtube_id: 'y', source_url: null, vector: new Array(200).fill(0.5), tags: [{ name: 'rock', score: 0.9 }] } };
  assert.equal(originalServerReads(ok).artist, 'a');
  const { youtube_id: _y, ...noId } = ok.data;
  assert.throws(() => originalServerReads({ ...ok, data: noId }), { message: 'the original server refuses this result: data.youtube_id is not a string' });
  assert.throws(() => originalServerReads({ ...ok, data: { ...ok.data, vector: [1, 2] } }), { message: 'the original server refuses this result: data.vector is not 200 finite numbers' });
});

test('our coordinator keeps the tags and uses them: the map point is coloured by the top tag, /similar lists them', async () => {
  const c = await coordinator();
  try {
    const code = await newSession(c.url);
    await worker(c.url, code, true);
    await worker(c.url, code, false);
    const lines = ['Tagged - One', 'Tagged - Two', 'Tagged - Three', 'Tagged - Four'];
    await api(c.url, `/api/sessions/${code}/jobs`, { body: { lines } });
    const map = await waitUntil(async () => {
      const m = (await api<{ count: number; points: { id: string; title: string; tag: string | null }[] }>(c.url, `/api/sessions/${code}/map`)).body;
      return m.count === 4 && m;
    }, 10000, 'four points');
    const results = (await api<{ job_id: string; worker: string; title: string }[]>(c.url, `/api/sessions/${code}/results?vectors=0`)).body;
    for (const r of results) {
      const p = map.points.find((x) => x.id === r.job_id)!;
      const v = vectorFor(Buffer.from(`Tagged|${r.title}|null`));
      const top = topTags(tagScoresFor(v), RESULT_TAGS).map((t) => t.name);
      assert.equal(p.tag, r.worker === 'tagged' ? top[0] : null, `${r.title} from ${r.worker}`);
      if (r.worker === 'tagged') {
        const other = results.find((x) => x.job_id !== r.job_id)!;
        const s = (await api<{ nearest: { id: string; tags: string[] | null }[] }>(c.url, `/api/sessions/${code}/similar?result=${other.job_id}&k=3`)).body;
        assert.deepEqual(s.nearest.find((x) => x.id === r.job_id)?.tags, top);
      }
    }
    assert.ok(results.some((r) => r.worker === 'tagged'), 'the tagged worker stored some');
  } finally {
    await c.close();
  }
});

test('the worker with its own embedder (bundled model, portable backend) sends the top MSD tags of a real embedding', { skip: spawnSync('ffmpeg', ['-version']).status !== 0 && 'needs ffmpeg', timeout: 120000 }, async () => {
  const dir = await mkdtemp(join(tmpdir(), 'cfw-tags-'));
  const server = await FakeServer.start();
  try {
    const clip = join(dir, 'clip.wav');
    await writeClip(clip, { seconds: 4, seed: 5 });
    const media: Media = {
      async fetch(p, ctx) {
        const path = join(ctx.workDir, 'clip.wav');
        await copyFile(clip, path);
        return { path, artist: 'Synth', title: String(p.title), youtubeId: 'syn', sourceUrl: null, metadataDuration: null, sizeBytes: 1 };
      },
      async fetchGenre() {
        throw new Error('not used');
      },
    };
    const w = await startWorker({ url: server.url, code: 'TAGS', backend: 'wasm', threads: 1, media, tmpDir: dir, keepaliveMs: 0, heartbeatMs: 0 });
    handles.push(w);
    const [peer] = await server.waitForPeers(1);
    server.sendJob(peer, 'job-1', { artist: 'Synth', title: 'Clip', youtube_url: null });
    const frame = await server.waitForMessage(peer, (m) => m.type === 'result', 100000, 'a result');
    assert.equal(frame.status, 'success', String(frame.error));
    const tags = (frame.data as { tags: { name: string; score: number }[] }).tags;
    assert.equal(tags.length, 3);
    for (const t of tags) assert.ok(MSD_TAGS.includes(t.name) && t.score > 0 && t.score < 1, JSON.stringify(t));
    assert.ok(tags[0].score >= tags[1].score && tags[1].score >= tags[2].score);
    originalServerReads(frame);
    await w.stop();
  } finally {
    await server.stop();
    await rm(dir, { recursive: true, force: true });
  }
});

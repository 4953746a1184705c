// SPDX-License-Identifier: MIT
import assert from 'node:assert/strict';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { silentLogger } from '../src/log/logger.js';
import type { JobMessage } from '../src/protocol/messages.js';
import { checkVector, runJob, type JobRunnerDeps } from '../src/worker/job-runner.js';
import { StubEmbedder, StubMedia } from './support/stand-ins.js';

const root = await mkdtemp(join(tmpdir(), 'cfw-runner-'));
after(() => rm(root, { recursive: true, force: true }));

function deps(over: Partial<JobRunnerDeps> = {}): JobRunnerDeps {
  const e = new StubEmbedder();
  return { media: new StubMedia(), embedder: async () => e, tmpRoot: root, log: silentLogger, ...over };
}
const ctx = () => ({ signal: new AbortController().signal, onProgress() {} });
const job = (payload: Record<string, unknown>, id = 'job-1'): JobMessage =>
  ({ type: 'job', job_id: id, payload }) as unknown as JobMessage;

test('a download job gives a success result of the spec shape', async () => {
  const out = await runJob(job({ artist: 'A', title: 'T', youtube_url: 'https://x/y.mp3' }), deps(), ctx());
  assert.equal(out.result.status, 'success');
  const r = out.result as unknown as { type: string; job_id: string; data: Record<string, unknown> };
  assert.equal(r.type, 'result');
  assert.equal(r.job_id, 'job-1');
  assert.deepEqual(Object.keys(r.data).sort(), ['artist', 'source_url', 'title', 'vector', 'youtube_id']);
  assert.equal((r.data.vector as number[]).length, 200);
  assert.ok((r.data.vector as number[]).every((x) => typeof x === 'number' && Number.isFinite(x)));
  assert.equal(r.data.source_url, 'https://x/y.mp3');
  assert.equal(out.label, 'A - T');
  assert.deepEqual(await readdir(root), [], 'job folder removed');
});

test('a genre job gives tracks and the genre', async () => {
  const out = await runJob(job({ job_type: 'fetch_genre', genre: 'jazz', limit: 2, quality_config: null }), deps(), ctx());
  assert.deepEqual(out.result, {
    type: 'result',
    job_id: 'job-1',
    status: 'success',
    data: { genre: 'jazz', tracks: [{ youtube_url: 'https://www.youtube.com/watch?v=g0' }, { youtube_url: 'https://www.youtube.com/watch?v=g1' }] },
  });
});

test('a media error that is not a JobError becomes "Download failed: ..."', async () => {
  const out = await runJob(job({ artist: 'A', title: 'fail', youtube_url: null }), deps(), ctx());
  assert.deepEqual(out.result, { type: 'result', job_id: 'job-1', status: 'failed', error: 'Download failed: HTTP Error 404: Not Found' });
});

test('a JobError keeps its message (file size out of range)', async () => {
  const out = await runJob(job({ artist: 'A', title: 'big', youtube_url: null }), deps(), ctx());
  assert.equal(out.result.status, 'failed');
  assert.equal(out.result.status === 'failed' && out.result.error, 'File size out of range: 60.00MB');
});

test('an embedder error becomes "Vectorization failed: ..."', async () => {
  const bad = { backend: 'x', embed: async () => Promise.reject(new Error('Audio too short (1.0 s; MusiCNN needs 3 s)')), close: async () => {} };
  const out = await runJob(job({ title: 'T', youtube_url: 'https://x' }), deps({ embedder: async () => bad }), ctx());
  assert.equal(out.result.status === 'failed' && out.result.error, 'Vectorization failed: Audio too short (1.0 s; MusiCNN needs 3 s)');
  assert.deepEqual(await readdir(root), []);
});

test('a vector with NaN is never sent: the job fails', async () => {
  const e = new StubEmbedder({ nan: true });
  const out = await runJob(job({ title: 'T', youtube_url: 'https://x' }), deps({ embedder: async () => e }), ctx());
  assert.equal(out.result.status === 'failed' && out.result.error, 'Vectorization failed: vector has a non-finite value at index 7');
});

test('a job over its time limit fails with a timeout and its folder is removed', async () => {
  const slow = new StubMedia({ delayMs: 5000 });
  const out = await runJob(job({ title: 'T', youtube_url: 'https://x' }), deps({ media: slow, timeoutMs: 50 }), ctx());
  assert.equal(out.result.status === 'failed' && out.result.error, 'Job timed out after 0 s');
  assert.deepEqual(await readdir(root), []);
});

test('an outside abort marks the outcome aborted and removes the folder', async () => {
  const ac = new AbortController();
  const slow = new StubMedia({ delayMs: 5000 });
  const p = runJob(job({ title: 'T', youtube_url: 'https://x' }), deps({ media: slow }), { signal: ac.signal, onProgress() {} });
  setTimeout(() => ac.abort(), 20);
  const out = await p;
  assert.equal(out.aborted, true);
  assert.equal(out.result.status, 'failed');
  assert.deepEqual(await readdir(root), []);
});

test('a throwing media layer with a non-Error value still gives one failed result', async () => {
  const media = { fetch: async () => Promise.reject('weird'), fetchGenre: async () => Promise.reject(42) };
  const out = await runJob(job({ job_type: 'fetch_genre', genre: 'x' }), deps({ media: media as never }), ctx());
  assert.equal(out.result.status === 'failed' && out.result.error, 'Download failed: 42');
});

test('checkVector names what is wrong', () => {
  assert.equal(checkVector(new Float32Array(200)), null);
  assert.equal(checkVector(new Float32Array(199)), 'vector has 199 values, expected 200');
  const v = new Float32Array(200);
  v[3] = Infinity;
  assert.equal(checkVector(v), 'vector has a non-finite value at index 3');
});

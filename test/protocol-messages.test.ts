// SPDX-License-Identifier: MIT
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { MAX_FRAME_BYTES, parseServerFrame } from '../src/protocol/messages.js';

const job = (payload: unknown, extra: Record<string, unknown> = {}) =>
  JSON.stringify({ type: 'job', job_id: 'j1', payload, ...extra });

test('accepts a ping', () => {
  assert.deepEqual(parseServerFrame('{"type":"ping"}'), { ok: true, message: { type: 'ping' } });
});

test('accepts a download job by URL and normalises missing fields to null', () => {
  const r = parseServerFrame(job({ youtube_url: 'https://www.youtube.com/watch?v=x', table_name: 't' }));
  assert.ok(r.ok);
  assert.deepEqual(r.message, {
    type: 'job',
    job_id: 'j1',
    payload: { artist: null, title: null, table_name: 't', youtube_url: 'https://www.youtube.com/watch?v=x' },
  });
});

test('accepts a search job with artist and title and job_type "download"', () => {
  const r = parseServerFrame(job({ job_type: 'download', artist: 'A', title: 'T', youtube_url: null }));
  assert.ok(r.ok && r.message.type === 'job');
});

test('accepts a genre job with its quality config', () => {
  const r = parseServerFrame(job({ job_type: 'fetch_genre', genre: 'jazz', limit: 5, quality_config: { min_views: 10 } }));
  assert.ok(r.ok);
  assert.deepEqual(r.ok && r.message.type === 'job' && r.message.payload, {
    job_type: 'fetch_genre',
    genre: 'jazz',
    limit: 5,
    quality_config: { min_views: 10 },
  });
});

test('rejects a frame that is not JSON, without a job id', () => {
  assert.deepEqual(parseServerFrame('{nope'), { ok: false, reason: 'frame is not JSON' });
});

test('rejects JSON that is not an object', () => {
  for (const s of ['[]', '3', '"job"', 'null']) {
    const r = parseServerFrame(s);
    assert.equal(r.ok, false, s);
  }
});

test('rejects an unknown type', () => {
  const r = parseServerFrame('{"type":"reboot"}');
  assert.equal(r.ok, false);
  assert.match(!r.ok ? r.reason : '', /unknown message type "reboot"/);
});

test('rejects a job without a usable job_id and gives no id to answer', () => {
  for (const id of [undefined, 7, '', 'x'.repeat(201)]) {
    const r = parseServerFrame(JSON.stringify({ type: 'job', job_id: id, payload: { youtube_url: 'https://a' } }));
    assert.equal(r.ok, false);
    assert.equal(!r.ok && r.jobId, undefined);
  }
});

test('rejects wrong-typed payload fields and keeps the job id so it can be answered', () => {
  const cases: [unknown, RegExp][] = [
    [null, /payload/],
    [{ youtube_url: 5 }, /payload.youtube_url/],
    [{ artist: ['a'], title: 't' }, /payload.artist/],
    [{}, /needs payload.youtube_url/],
    [{ youtube_url: 'javascript:alert(1)' }, /http\(s\) URL/],
    [{ job_type: 'mine_bitcoin' }, /Unknown payload.job_type/],
    [{ job_type: 'fetch_genre', genre: '' }, /payload.genre/],
    [{ job_type: 'fetch_genre', genre: 'x', limit: -1 }, /payload.limit/],
    [{ job_type: 'fetch_genre', genre: 'x', limit: 2.5 }, /payload.limit/],
    [{ job_type: 'fetch_genre', genre: 'x', quality_config: { min_views: 'lots' } }, /quality_config.min_views/],
  ];
  for (const [payload, re] of cases) {
    const r = parseServerFrame(job(payload));
    assert.equal(r.ok, false, JSON.stringify(payload));
    assert.equal(!r.ok && r.jobId, 'j1');
    assert.match(!r.ok ? r.reason : '', re);
  }
});

test('rejects frames over 1 MiB before parsing them', () => {
  const big = job({ youtube_url: 'https://a', title: 'x'.repeat(MAX_FRAME_BYTES) });
  const r = parseServerFrame(big);
  assert.equal(r.ok, false);
  assert.match(!r.ok ? r.reason : '', /over the 1 MiB limit/);
});

test('rejects binary frames', () => {
  const r = parseServerFrame(Buffer.from('{"type":"ping"}'), true);
  assert.equal(r.ok, false);
});

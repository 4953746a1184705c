// SPDX-License-Identifier: MIT
/**
 * Fuzz pass on the worker's message handling: the real worker CLI (child process, stand-in
 * audio work, two sockets) fed a few thousand seeded random and mutated frames by a fake
 * ChaarFM server: valid jobs, pings and genre fetches mutated at the JSON and byte level, wrong
 * types, huge numbers, deep nesting, odd unicode, long strings, binary and oversize frames,
 * duplicate ids and second jobs while one runs, plus pure noise. First, frames whose verdict
 * is written by hand (support/worker-oracle.ts); then the expected answers come from the
 * protocol's own validator: each frame that carries a usable job id gets exactly one result
 * (never two), each ping one pong, and after each batch a ping probe must come back (no hang).
 * Then frames that the WebSocket layer itself refuses (invalid UTF-8, over 16 MiB) close a
 * socket, the worker reconnects, and a valid job still gets the right vector. Replay a failure
 * with CHAARFM_FUZZ_SEED=<the printed seed>.
 */
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { MAX_FRAME_BYTES } from '../../src/protocol/messages.js';
import { FakeServer, type Peer } from '../support/fake-server.js';
import { vectorFor } from '../support/stand-ins.js';
import { Child, STANDIN_CLI } from './support/fuzz-process.js';
import { waitUntil } from '../support/wait.js';
import { Rng, fuzzSeed, mutateFrame, oddValue, randomFrame, toFrame } from './support/fuzz-mutate.js';
import { HAND_CASES, expectFor, type Expect } from './support/worker-oracle.js';

const FRAMES = Number(process.env.CHAARFM_FUZZ_FRAMES ?? 5000);
const BATCH = 150;
/** Hang guard for one liveness probe (generous: the machine may be busy). */
const PROBE_MS = 20000;

let server: FakeServer | null = null;
let child: Child | null = null;
let tmp = '';

after(async () => {
  child?.kill();
  await server?.stop().catch(() => {});
  if (tmp) await rm(tmp, { recursive: true, force: true });
});

function templates(r: Rng, id: string): Record<string, unknown>[] {
  return [
    { type: 'job', job_id: id, payload: { artist: 'Artist', title: 'Title ' + id, table_name: null, youtube_url: 'https://www.youtube.com/watch?v=dQw4w9WgXcQ' } },
    { type: 'job', job_id: id, payload: { artist: 'Some Band', title: 'Some Song', youtube_url: null } },
    { type: 'job', job_id: id, payload: { job_type: 'download', artist: null, title: null, youtube_url: 'http://127.0.0.1:9/x.mp3' } },
    { type: 'job', job_id: id, payload: { artist: 'A', title: 'fail', youtube_url: null } },
    { type: 'job', job_id: id, payload: { job_type: 'fetch_genre', genre: 'rock', limit: r.int(0, 5), quality_config: { min_views: 10, max_duration: 600 } } },
    { type: 'job', job_id: id, payload: { job_type: 'fetch_genre', genre: 'jazz', limit: null, quality_config: null } },
    { type: 'ping' },
    { type: 'pong' },
    { type: 'result', job_id: id, status: 'success', data: { vector: [1, 2] } },
    { type: 'hello', worker: { name: 'x' } },
  ];
}

function resultsByKey(peers: Peer[]): Map<string, Record<string, unknown>[]> {
  const m = new Map<string, Record<string, unknown>[]>();
  peers.forEach((p, i) => {
    for (const msg of p.messages) {
      if (msg.type !== 'result') continue;
      const k = `${i}:${String(msg.job_id)}`;
      m.set(k, [...(m.get(k) ?? []), msg]);
    }
  });
  return m;
}

test('worker: thousands of random and mutated frames, no crash, no hang, one answer per job id', { timeout: 240000 }, async () => {
  const seed = fuzzSeed();
  const r = new Rng(seed);
  console.log(`fuzz-worker seed ${seed} (replay with CHAARFM_FUZZ_SEED=${seed}), ${FRAMES} frames`);
  const t0 = Date.now();
  tmp = await mkdtemp(join(tmpdir(), 'cfw-fuzz-worker-'));
  server = await FakeServer.start();
  const srv = server;
  child = new Child([STANDIN_CLI, '--url', srv.url, '--code', 'FUZZ', '--jobs', '2', '--log-format', 'json', '--tmp-dir', tmp], {
    STANDIN_EMBED_MS: '30',
  });
  const peers = await srv.waitForPeers(2, 30000);
  await waitUntil(() => peers.every((p) => p.messages.some((m) => m.type === 'hello')), 10000, 'hellos');

  // expected answers per socket and job id, and pongs per socket
  const wanted = new Map<string, number>();
  const pongsWanted = [0, 0];
  const pongs = (i: number) => peers[i].messages.filter((m) => m.type === 'pong').length;
  const kinds: Record<string, number> = {};
  let sent = 0;
  const send = (i: number, data: string | Buffer, binary: boolean, kind: string, verdict?: Expect) => {
    // The WebSocket layer itself closes a socket on a text frame that is not UTF-8 (RFC 6455,
    // 1007): that is tested on its own below, so here text frames are made valid UTF-8.
    const frame = !binary && Buffer.isBuffer(data) ? data.toString('utf8') : data;
    const e = verdict ?? expectFor(frame, binary);
    if (e.jobId !== undefined) wanted.set(`${i}:${e.jobId}`, (wanted.get(`${i}:${e.jobId}`) ?? 0) + 1);
    if (e.pong) pongsWanted[i]++;
    srv.sendRaw(peers[i], frame, binary);
    kinds[kind] = (kinds[kind] ?? 0) + 1;
    sent++;
  };

  // First the frames whose verdict is written by hand (not by the validator the oracle uses).
  for (const c of HAND_CASES) send(0, c.frame, c.binary, 'hand-written', c.expect);
  for (const i of [0, 1]) send(i, '{"type":"ping"}', false, 'probe');
  await waitUntil(() => pongs(0) >= pongsWanted[0] && pongs(1) >= pongsWanted[1], PROBE_MS, 'pongs after the hand-written frames (hang?)');

  let n = 0;
  while (n < FRAMES) {
    for (let k = 0; k < BATCH && n < FRAMES; k++, n++) {
      const i = r.int(0, 1);
      const id = `fz-${n}-${r.int(0, 1e6)}`;
      const roll = r.int(0, 99);
      if (roll < 45) send(i, mutateFrame(r, r.pick(templates(r, id))), false, 'mutated');
      else if (roll < 65) send(i, randomFrame(r), false, 'random');
      else if (roll < 72) send(i, r.chance(0.5) ? r.bytes(r.int(0, 200)) : JSON.stringify(r.pick(templates(r, id))), true, 'binary');
      else if (roll < 82) {
        // a valid job, then at once its duplicate or a second job on the same socket
        const t = templates(r, id)[r.int(0, 5)];
        send(i, JSON.stringify(t), false, 'valid-job');
        if (r.chance(0.5)) send(i, JSON.stringify(t), false, 'duplicate-id');
        else send(i, JSON.stringify({ ...t, job_id: id + '-second' }), false, 'second-job');
      } else if (roll < 87) send(i, toFrame(r, { type: 'ping', extra: oddValue(r) }), false, 'ping');
      else if (roll < 90) {
        // over 1 MiB (but under the 16 MiB socket cap): refused unparsed, answered when the id can be read
        const big = 'x'.repeat(MAX_FRAME_BYTES + r.int(1, 600000));
        send(i, r.chance(0.7) ? `{"type":"job","job_id":"${id}","payload":{"artist":"${big}","title":"t","youtube_url":null}}` : big, false, 'oversize');
      } else if (roll < 95) {
        // valid shape, hostile values
        const payload = { artist: oddValue(r), title: oddValue(r), youtube_url: r.pick([null, 'https://example.com/' + r.text(r.int(0, 50)), oddValue(r)]), table_name: oddValue(r) };
        send(i, toFrame(r, { type: 'job', job_id: r.chance(0.8) ? id : oddValue(r), payload }), false, 'hostile-values');
      } else {
        const payload = { job_type: r.pick(['fetch_genre', 'FETCH_GENRE', 'fetch_genre ', null, 7]), genre: r.pick(['rock', '', ' ', oddValue(r)]), limit: r.pick([null, 0, 3, -1, 100000, 100001, 2.5, 1e308, '3']), quality_config: r.pick([null, {}, { min_views: oddValue(r) }, oddValue(r)]) };
        send(i, toFrame(r, { type: 'job', job_id: id, payload }), false, 'genre-values');
      }
    }
    // liveness probe on both sockets: the ping comes back after every frame before it was handled
    for (const i of [0, 1]) send(i, '{"type":"ping"}', false, 'probe');
    await waitUntil(() => pongs(0) >= pongsWanted[0] && pongs(1) >= pongsWanted[1], PROBE_MS, `pongs after ${n} frames (hang?)`);
    assert.ok(child.alive, `worker exited after ${n} frames: ${child.err.slice(-2000)}`);
  }

  // every frame with a usable job id gets its answer; none gets two
  await waitUntil(() => {
    const got = resultsByKey(peers);
    return [...wanted].every(([k, w]) => w > 1 || (got.get(k)?.length ?? 0) === 1);
  }, 60000, 'one result for every job frame');
  await new Promise((res) => setTimeout(res, 300)); // room for a wrong second answer to show up
  const got = resultsByKey(peers);
  for (const [k, rs] of got) {
    const w = wanted.get(k) ?? 0;
    assert.ok(rs.length <= w, `${rs.length} results for ${k}, which was sent ${w} time(s) expecting an answer`);
    if (w === 1) assert.equal(rs.length, 1, k);
    for (const res of rs) {
      assert.ok(res.status === 'success' || res.status === 'failed', `status of ${k}: ${String(res.status)}`);
      if (res.status === 'failed') {
        assert.equal(typeof res.error, 'string');
        assert.ok(!String(res.error).includes('\n'), `one-line error: ${String(res.error).slice(0, 200)}`);
      }
    }
  }
  for (const [k, w] of wanted) if (w > 1) assert.ok((got.get(k)?.length ?? 0) >= 1, `${k} sent ${w} times, never answered`);
  assert.equal(pongs(0), pongsWanted[0], 'one pong per ping on socket 1');
  assert.equal(pongs(1), pongsWanted[1], 'one pong per ping on socket 2');
  const answered = [...got.values()].reduce((a, rs) => a + rs.length, 0);

  // a duplicate of the job in hand is ignored; a second job is refused as busy; both sockets still work
  srv.sendJob(peers[0], 'dup-final', { artist: 'Dup', title: 'Final', youtube_url: null });
  srv.sendJob(peers[0], 'dup-final', { artist: 'Dup', title: 'Final', youtube_url: null });
  srv.sendJob(peers[0], 'busy-final', { artist: 'Busy', title: 'Final', youtube_url: null });
  await srv.waitForMessage(peers[0], (m) => m.type === 'result' && m.job_id === 'dup-final', 20000, 'dup-final');
  const busy = await srv.waitForMessage(peers[0], (m) => m.type === 'result' && m.job_id === 'busy-final', 20000, 'busy-final');
  assert.match(String(busy.error), /^Worker busy: job dup-final is still running on this connection$/);
  await new Promise((res) => setTimeout(res, 300));
  assert.equal(peers[0].messages.filter((m) => m.type === 'result' && m.job_id === 'dup-final').length, 1, 'a duplicate id is answered once');

  // frames the WebSocket layer refuses close the socket; the process reconnects and stays up
  const before = srv.peers.length;
  srv.sendRaw(peers[0], Buffer.from([0x7b, 0xff, 0xfe, 0x7d]), false); // text frame, not UTF-8: 1007
  srv.sendRaw(peers[1], Buffer.alloc(16 * MAX_FRAME_BYTES + 1, 0x20), false); // over the 16 MiB cap: 1009
  await srv.waitFor(() => peers[0].closed && peers[1].closed, PROBE_MS, 'sockets closed by the ws layer');
  assert.equal(peers[0].closeCode, 1007);
  assert.equal(peers[1].closeCode, 1009);
  const fresh = await srv.waitFor(() => (srv.openPeers().length >= 2 && srv.peers.length >= before + 2 ? srv.openPeers() : undefined), 30000, 'reconnects');
  assert.ok(child.alive, 'worker still running');

  // and a valid job still gets the right answer
  for (const [i, p] of fresh.entries()) {
    const payload = { artist: 'After', title: `Fuzz ${i}`, youtube_url: 'https://www.youtube.com/watch?v=abcdefghijk' };
    srv.sendJob(p, `after-${i}`, payload);
    const res = await srv.waitForMessage(p, (m) => m.type === 'result' && m.job_id === `after-${i}`, 20000, `after-${i}`);
    assert.equal(res.status, 'success', String(res.error));
    const data = res.data as { vector: number[]; artist: string; title: string };
    assert.equal(data.artist, 'After');
    const want = Array.from(vectorFor(Buffer.from(`${payload.artist}|${payload.title}|${payload.youtube_url}`)));
    assert.deepEqual(data.vector, want);
    srv.sendRaw(p, '{"type":"ping"}');
    await srv.waitForMessage(p, (m) => m.type === 'pong', PROBE_MS, 'pong on the new socket');
  }

  assert.deepEqual(child.crashSigns(), [], 'no uncaught errors, stack traces or error-level lines');
  assert.equal(child.err.trim(), '', 'nothing on stderr');
  const jobDirs = join(tmp, 'chaarfm-worker');
  if (existsSync(jobDirs)) assert.deepEqual(await readdir(jobDirs), [], 'no job folder left behind');
  await child.stop();
  assert.equal(child.exit?.code, 0, `clean exit; stderr: ${child.err.slice(-1000)}`);
  console.log(
    `fuzz-worker: seed ${seed}, ${sent} frames tried (${Object.entries(kinds).map(([k, v]) => `${k} ${v}`).join(', ')}), ` +
      `${answered} results, ${pongsWanted[0] + pongsWanted[1]} pongs, 2 socket-closing frames, 0 crashes, 0 hangs, ${((Date.now() - t0) / 1000).toFixed(1)} s`,
  );
});

// SPDX-License-Identifier: MIT
/**
 * Exports are streamed: the response has no length fixed up front (chunked), the store is read a
 * page at a time (never the whole session at once), and the three formats of a session bigger
 * than a page still agree row for row: JSONL line i, CSV row i and .npy row i are one result.
 */
import assert from 'node:assert/strict';
import { afterEach, test } from 'node:test';
import type { CoordinatorHandle } from '../src/coordinator/server.js';
import { newCode } from '../src/coordinator/codes.js';
import { SqliteStore } from '../src/coordinator/store-sqlite.js';
import type { Store } from '../src/coordinator/store.js';
import { decodeNpy } from '../src/util/npy.js';
import { coordinator } from './support/coordinator.js';

let srv: CoordinatorHandle | null = null;
let store: Store | null = null;
afterEach(async () => {
  await srv?.close();
  await store?.close();
  srv = store = null;
});

const N = 2500;

/** The store, with every read of results recorded (how many rows each asked for). */
function recorded(s: Store, reads: number[]): Store {
  return new Proxy(s, {
    get(target, p, recv) {
      if (p === 'listResults')
        return (code: string, o: { limit?: number } = {}) => (reads.push(o.limit ?? Infinity), target.listResults(code, o));
      if (p === 'resultPages') return (code: string, size?: number) => (reads.push(size ?? 1000), target.resultPages(code, size));
      const v = Reflect.get(target, p, recv) as unknown;
      return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(target) : v;
    },
  });
}

test(`an export of ${N} results is streamed a page at a time, and its three formats agree row for row`, async () => {
  const s = new SqliteStore(':memory:');
  store = s;
  const code = newCode();
  await s.createSession(code, Date.now() + 60_000, Date.now());
  await s.addJobs(code, Array.from({ length: N }, (_, i) => ({ kind: 'download' as const, payload: { artist: 'A', title: `t${i}`, youtube_url: null }, dedupeKey: `k${i}`, label: `t${i}` })));
  for (let i = 0; i < N; i++) {
    const j = (await s.claimNext(code, { worker: 'w', token: 't', owner: 'o' }, 1, 2))!;
    const v = new Float32Array(200).map((_, k) => i + k / 1000);
    await s.completeDownload(j.id, 't', { artist: 'A', title: `t${i}`, youtubeId: `y${i}`, sourceUrl: null, vector: v, worker: 'w', finishedAt: 10 + i });
  }
  const reads: number[] = [];
  srv = await coordinator({ store: recorded(s, reads) });
  const base = `${srv.url}/api/sessions/${code}`;

  const jr = await fetch(`${base}/export.jsonl`);
  assert.equal(jr.headers.get('content-length'), null, 'no length up front: streamed');
  assert.equal(jr.headers.get('transfer-encoding'), 'chunked');
  const lines = (await jr.text()).trimEnd().split('\n').map((l) => JSON.parse(l) as { title: string; vector: number[] });
  assert.equal(lines.length, N);
  assert.deepEqual(lines.slice(0, 3).map((l) => l.title), ['t0', 't1', 't2']);

  const csv = (await (await fetch(`${base}/export.csv`)).text()).trimEnd().split('\n');
  assert.equal(csv.length, N + 1);
  assert.ok(csv[0].startsWith('job_id,artist,title,'));

  const npy = decodeNpy(Buffer.from(await (await fetch(`${base}/export.npy`)).arrayBuffer()));
  assert.deepEqual(npy.shape, [N, 200]);
  for (const i of [0, 999, 1000, 1001, N - 1]) {
    assert.equal(lines[i].title, `t${i}`);
    assert.equal(csv[i + 1].split(',')[2], `t${i}`);
    assert.equal(npy.data[i * 200 + 7], lines[i].vector[7], `row ${i} of the .npy is line ${i} of the JSONL`);
    assert.equal(Math.fround(i + 7 / 1000), npy.data[i * 200 + 7]);
  }
  assert.ok(reads.length >= 3, `the store was read (${reads.join(', ')})`);
  assert.ok(Math.max(...reads) <= 1000, `no read of more than a page (reads asked for ${reads.join(', ')} rows)`);
});

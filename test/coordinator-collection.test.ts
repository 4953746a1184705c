// SPDX-License-Identifier: MIT
/**
 * The collection routes (src/coordinator/collection-api.ts, collection-map.ts, similar.ts) on a
 * real coordinator fed by raw worker sockets with generated, clustered vectors: the map has
 * one point per stored result and its coordinates are the PCA projection of the stored
 * vectors, its metadata comes incrementally, /similar is the brute-force cosine ranking, tags
 * sent by a worker are kept and used, throughput counts every result, and bad input gets a
 * clear 4xx. Runs on SQLite, and on PostgreSQL when one is reachable.
 */
import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { RunningPca } from '../src/coordinator/pca.js';
import { bruteNearest, CLUSTERS, clusterOf, indexOf, RawWorker, trackLine } from './support/collection.js';
import { api, coordinator, newSession, socketUrl } from './support/coordinator.js';
import { dropPgSchemas, STORES } from './support/stores.js';
import { waitUntil } from './support/wait.js';

after(dropPgSchemas);

interface MapBody {
  epoch: number;
  count: number;
  xy: number[];
  from: number;
  points: { id: string; artist: string; title: string; tag: string | null }[];
  explained: [number, number];
}
type Result = { job_id: string; artist: string; title: string; vector: number[] };

for (const kind of STORES) {
  test(`[${kind.name}] map, similar and throughput of a session fed by tagged and untagged workers`, { skip: kind.skip, timeout: 60000 }, async () => {
    const c = await coordinator({}, kind);
    const workers: RawWorker[] = [];
    try {
      const code = await newSession(c.url);
      const base = `/api/sessions/${code}`;
      workers.push(await RawWorker.connect(socketUrl(c.url, code), { hello: { name: 'ours', version: '0.4.0', backend: 'native', platform: 'linux-x64' }, tags: true }));
      workers.push(await RawWorker.connect(socketUrl(c.url, code), { tags: false }));
      const N = 120;
      await api(c.url, `${base}/jobs`, { body: { text: Array.from({ length: N }, (_, i) => trackLine(i)).join('\n') } });
      const map = await waitUntil(async () => {
        const m = (await api<MapBody>(c.url, `${base}/map`)).body;
        return m.count === N && m;
      }, 20000, `${N} points on the map`);
      const results = (await api<Result[]>(c.url, `${base}/results`)).body;
      assert.equal(results.length, N);
      assert.equal(map.xy.length, 2 * N);
      assert.deepEqual(map.points.map((p) => p.id), results.map((r) => r.job_id), 'one point per result, in store order');
      // The coordinates: the stored vectors projected on their first two principal components
      // (each axis up to its sign: the server keeps the sign of its previous axes as results arrive).
      const pca = new RunningPca(200);
      for (const r of results) pca.add(r.vector);
      const axes = pca.axes();
      const mean = pca.mean();
      const want = results.map((r) => pca.project(r.vector, axes, mean));
      const sign = [0, 1].map((k) => Math.sign(want.reduce((s, p, i) => s + p[k] * map.xy[2 * i + k], 0)));
      want.forEach(([x, y], i) => {
        const close = (got: number, v: number) => Math.abs(got - v) <= 1e-4 * Math.max(1, Math.abs(v));
        assert.ok(close(map.xy[2 * i], sign[0] * x) && close(map.xy[2 * i + 1], sign[1] * y), `point ${i}: ${map.xy.slice(2 * i, 2 * i + 2)} vs ${[x, y]}`);
      });
      assert.ok(map.explained[0] >= map.explained[1] && map.explained[1] > 0);
      // Tags: the tagged worker's results carry their cluster's top tag, the other's none.
      const tagged = map.points.filter((p) => p.tag !== null);
      assert.equal(tagged.length, workers[0].answered);
      for (const p of map.points) {
        const i = indexOf({ title: p.title });
        if (p.tag !== null) assert.equal(p.tag, CLUSTERS[clusterOf(i)].tags[0]);
      }
      // Incremental metadata: only what the page has not seen, unless its epoch is stale.
      const part = (await api<MapBody>(c.url, `${base}/map?from=100&epoch=${map.epoch}`)).body;
      assert.deepEqual([part.from, part.points.length, part.xy.length], [100, 20, 2 * N]);
      assert.deepEqual(part.points, map.points.slice(100));
      const stale = (await api<MapBody>(c.url, `${base}/map?from=100&epoch=${map.epoch + 1}`)).body;
      assert.deepEqual([stale.from, stale.points.length], [0, N]);

      // Similar: the brute-force cosine ranking, best first, with tags.
      for (const r of [results[0], results[57], results[N - 1]]) {
        const s = await api<{ result: { id: string; title: string }; k: number; nearest: { id: string; score: number; tags: string[] | null; title: string }[] }>(c.url, `${base}/similar?result=${r.job_id}&k=10`);
        assert.equal(s.status, 200);
        assert.equal(s.body.result.id, r.job_id);
        assert.deepEqual(s.body.nearest.map((x) => x.id), bruteNearest(results, r.job_id, 10));
        for (let i = 1; i < 10; i++) assert.ok(s.body.nearest[i - 1].score >= s.body.nearest[i].score);
        for (const x of s.body.nearest) {
          const p = map.points.find((q) => q.id === x.id)!;
          assert.equal(x.tags?.[0] ?? null, p.tag);
          if (x.tags) assert.deepEqual(x.tags, CLUSTERS[clusterOf(indexOf({ title: x.title }))].tags);
        }
      }
      const k3 = (await api<{ nearest: unknown[] }>(c.url, `${base}/similar?result=${results[3].job_id}&k=3`)).body;
      assert.equal(k3.nearest.length, 3);
      const all = (await api<{ nearest: unknown[] }>(c.url, `${base}/similar?result=${results[3].job_id}&k=100`)).body;
      assert.equal(all.nearest.length, 100);

      const rate = (await api<{ bucket_s: number; per_minute: number[] }>(c.url, `${base}/throughput`)).body;
      assert.equal(rate.bucket_s, 60);
      assert.equal(rate.per_minute.length, 60);
      assert.equal(rate.per_minute.reduce((a, b) => a + b, 0), N);

      // Results arriving later appear on the map.
      await api(c.url, `${base}/jobs`, { body: { text: [trackLine(500), trackLine(501)].join('\n') } });
      await waitUntil(async () => (await api<MapBody>(c.url, `${base}/map?from=${N}&epoch=${map.epoch}`)).body.points.length === 2, 10000, 'two more points');
    } finally {
      for (const w of workers) w.close();
      await c.close();
    }
  });
}

test('bad input: a missing or unknown result, k out of range, a bad from, an unknown session', async () => {
  const c = await coordinator();
  const w: RawWorker[] = [];
  try {
    const code = await newSession(c.url);
    const base = `/api/sessions/${code}`;
    w.push(await RawWorker.connect(socketUrl(c.url, code), { tags: true }));
    await api(c.url, `${base}/jobs`, { body: { text: [trackLine(1), trackLine(2), trackLine(3)].join('\n') } });
    const results = await waitUntil(async () => {
      const r = (await api<Result[]>(c.url, `${base}/results`)).body;
      return r.length === 3 && r;
    }, 10000, 'three results');
    const id = results[0].job_id;
    const cases: [string, number, string][] = [
      [`${base}/similar`, 400, 'Expected result=<result id> (the job_id of a stored result) in the query'],
      [`${base}/similar?result=`, 400, 'Expected result=<result id> (the job_id of a stored result) in the query'],
      [`${base}/similar?result=no-such-id`, 404, 'No stored result "no-such-id" in this session'],
      [`${base}/similar?result=${id}&k=0`, 400, 'Expected an integer from 1 to 100 for k but received "0"'],
      [`${base}/similar?result=${id}&k=101`, 400, 'Expected an integer from 1 to 100 for k but received "101"'],
      [`${base}/similar?result=${id}&k=ten`, 400, 'Expected an integer from 1 to 100 for k but received "ten"'],
      [`${base}/similar?result=${id}&k=-3`, 400, 'Expected an integer from 1 to 100 for k but received "-3"'],
      [`${base}/map?from=-1`, 400, 'Expected an integer from 0 to 1000000000 for from but received "-1"'],
      [`${base}/map?epoch=x`, 400, 'Expected an integer from 0 to 1000000000 for epoch but received "x"'],
      ['/api/sessions/AAAAA-AAAAA/similar?result=x', 404, 'unknown pairing code'],
      ['/api/sessions/AAAAA-AAAAA/map', 404, 'unknown pairing code'],
    ];
    for (const [path, status, error] of cases) {
      const r = await api<{ error: string }>(c.url, path);
      assert.deepEqual([r.status, r.body.error], [status, error], path);
    }
    // A result of another session is not one of this session's.
    const other = await newSession(c.url);
    const r = await api<{ error: string }>(c.url, `/api/sessions/${other}/similar?result=${id}`);
    assert.equal(r.status, 404);
    assert.equal((await api<{ nearest: unknown[] }>(c.url, `${base}/similar?result=${id}`)).body.nearest.length, 2, 'k beyond the collection gives all the others');
    // POST is not a route here.
    assert.equal((await api(c.url, `${base}/map`, { method: 'POST', body: {} })).status, 404);
  } finally {
    for (const x of w) x.close();
    await c.close();
  }
});

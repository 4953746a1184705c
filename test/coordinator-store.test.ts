// SPDX-License-Identifier: MIT
/**
 * The store contract, run against every store (SQLite, and PostgreSQL when a server is
 * reachable): queue order (back, front, recovery keeps order), de-duplication, attempts and
 * failure, claim tokens (a stale holder changes nothing), and concurrent claims never hand
 * out one job twice.
 */
import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import type { Claim, NewJob, Store } from '../src/coordinator/store.js';
import { STORES, dropPgSchemas } from './support/stores.js';

after(dropPgSchemas);

const job = (label: string, key: string | null = label): NewJob => ({
  kind: 'download',
  payload: { artist: 'A', title: label, youtube_url: null },
  dedupeKey: key,
  label,
});
const cl = (token = 't1', owner = 'me'): Claim => ({ worker: 'w', token, owner });
const vec = (x: number) => new Float32Array(200).fill(x);
const res = (x = 0.25) => ({ artist: 'A', title: 'b', youtubeId: 'id', sourceUrl: null, vector: vec(x), worker: 'w', finishedAt: 5 });

async function withStore(open: () => Promise<Store>, fn: (s: Store) => Promise<void>): Promise<void> {
  const s = await open();
  try {
    await s.createSession('C', Date.now() + 60_000, Date.now());
    await fn(s);
  } finally {
    await s.close();
  }
}

for (const kind of STORES) {
  const opt = { skip: kind.skip };
  test(`[${kind.name}] queue order: back, front, and recovery keeps the order of active jobs at the front`, opt, () =>
    withStore(kind.open, async (s) => {
      await s.addJobs('C', [job('a'), job('b'), job('c'), job('d')]);
      const a = await s.claimNext('C', cl('t1', 'gone'), 1, 2);
      const b = await s.claimNext('C', cl('t2', 'gone'), 1, 2);
      assert.deepEqual([a?.label, b?.label], ['a', 'b']);
      await s.addJobs('C', [job('x'), job('y')], { front: true });
      assert.equal(await s.recoverActive(Date.now(), 1000), 2);
      const order: string[] = [];
      for (let j = await s.claimNext('C', cl(), 1, 2); j; j = await s.claimNext('C', cl(), 1, 2)) order.push(j.label);
      assert.deepEqual(order, ['a', 'b', 'x', 'y', 'c', 'd']);
    }),
  );

  test(`[${kind.name}] de-duplication: queued, active and done keys are skipped; failed or cancelled ones are queued again`, opt, () =>
    withStore(kind.open, async (s) => {
      assert.equal((await s.addJobs('C', [job('x'), job('y'), job('x')])).added, 2);
      const x = (await s.claimNext('C', cl(), 1, 2))!;
      assert.equal((await s.addJobs('C', [job('x')])).duplicates, 1, 'active');
      assert.equal(await s.failAttempt(x.id, 't1', 'boom', 1, 3, false), 'failed');
      assert.equal((await s.addJobs('C', [job('x')])).added, 1, 'failed is queued again');
      assert.equal(await s.cancelQueued('C'), 2);
      assert.equal((await s.addJobs('C', [job('y')])).added, 1, 'cancelled is queued again');
      assert.equal((await s.addJobs('C', [job('z', null), job('z', null)])).added, 2, 'no key, no de-duplication');
      assert.equal((await s.addJobs('C', [job('p'), job('q'), job('r')], { limit: 2 })).added, 2, 'limit');
      await s.createSession('D', Date.now() + 60_000, Date.now());
      assert.equal((await s.addJobs('D', [job('x')])).added, 1, 'sessions are separate');
    }),
  );

  test(`[${kind.name}] attempts: back to the queue until maxAttempts, then failed with the last error`, opt, () =>
    withStore(kind.open, async (s) => {
      await s.addJobs('C', [job('a'), job('b')]);
      let j = (await s.claimNext('C', cl(), 1, 2))!;
      assert.equal(await s.failAttempt(j.id, 't1', 'e1', 2, 3, false), 'queued');
      j = (await s.claimNext('C', cl(), 1, 2))!;
      assert.equal(j.label, 'b', 'a retry goes to the back');
      assert.equal(await s.failAttempt(j.id, 't1', 'e1', 2, 3, true), 'queued');
      j = (await s.claimNext('C', cl(), 1, 2))!;
      assert.equal(j.label, 'b', 'front when asked');
      assert.equal(await s.completeDownload(j.id, 't1', res()), true);
      j = (await s.claimNext('C', cl(), 1, 2))!;
      assert.equal(await s.failAttempt(j.id, 't1', 'e2', 2, 6, false), 'failed');
      const failed = await s.listJobs('C', { state: 'failed' });
      assert.deepEqual(failed.map((f) => [f.label, f.attempts, f.lastError]), [['a', 2, 'e2']]);
      assert.equal(await s.failAttempt(j.id, 't1', 'again', 2, 7, false), 'not-active');
      const results = await s.listResults('C');
      assert.equal(results.length, 1);
      assert.equal(results[0].vector[199], 0.25);
      assert.deepEqual(await s.counts('C'), { queued: 0, active: 0, done: 1, failed: 1, cancelled: 0 });
      assert.equal(await s.doneSince('C', 0), 1);
    }),
  );

  test(`[${kind.name}] claim tokens: a holder whose job was taken back changes nothing`, opt, () =>
    withStore(kind.open, async (s) => {
      await s.addJobs('C', [job('a')]);
      const j = (await s.claimNext('C', cl('old'), 1, 2))!;
      assert.equal(await s.requeueFront(j.id, 'old'), true);
      const again = (await s.claimNext('C', cl('new'), 1, 2))!;
      assert.equal(again.id, j.id);
      assert.equal(await s.completeDownload(j.id, 'old', res(9)), false);
      assert.equal(await s.requeueFront(j.id, 'old'), false);
      assert.equal(await s.failAttempt(j.id, 'old', 'x', 3, 1, true), 'not-active');
      assert.equal(await s.completeGenre(j.id, 'old', [], null, 1), null);
      assert.equal(await s.completeDownload(j.id, 'new', res(1)), true);
      assert.equal((await s.listResults('C'))[0].vector[0], 1);
    }),
  );

  test(`[${kind.name}] a genre job's tracks are queued in the same step, minus known ones, cut to the count`, opt, () =>
    withStore(kind.open, async (s) => {
      await s.addJobs('C', [job('t1')]);
      await s.addJobs('C', [{ kind: 'fetch_genre', payload: { job_type: 'fetch_genre', genre: 'g', limit: 2, quality_config: null }, dedupeKey: null, label: 'genre: g', requestedCount: 2 }]);
      const t = (await s.claimNext('C', cl(), 1, 2))!;
      const g = (await s.claimNext('C', cl('t2'), 1, 2))!;
      assert.equal(g.kind, 'fetch_genre');
      assert.equal(g.requestedCount, 2);
      const r = await s.completeGenre(g.id, 't2', [job('t1'), job('t2'), job('t3'), job('t4')], 2, 3);
      assert.deepEqual([r?.added, r?.duplicates], [2, 1]);
      assert.deepEqual((await s.listJobs('C', { state: 'queued' })).map((x) => x.label), ['t2', 't3']);
      void t;
    }),
  );

  test(`[${kind.name}] completeAndClaim stores the result and claims the next job in one step`, opt, () =>
    withStore(kind.open, async (s) => {
      await s.addJobs('C', [job('a'), job('b')]);
      const a = (await s.claimNext('C', cl('t1'), 1, 2))!;
      const next = { code: 'C', claim: cl('t1'), now: 3, leaseUntil: 4 };
      const r1 = await s.completeAndClaim(a.id, 't1', res(), next);
      assert.equal(r1.stored, true);
      assert.equal(r1.next?.label, 'b');
      const r2 = await s.completeAndClaim(r1.next!.id, 't1', res(), next);
      assert.deepEqual([r2.stored, r2.next], [true, null]);
      const r3 = await s.completeAndClaim(a.id, 't1', res(), next);
      assert.deepEqual([r3.stored, r3.next], [false, null], 'a result for a job no longer held is not stored');
      assert.equal((await s.listResults('C')).length, 2);
    }),
  );

  test(`[${kind.name}] listVectors: results with their tags in store order, per session or all, after a position, limited`, opt, () =>
    withStore(kind.open, async (s) => {
      await s.createSession('D', Date.now() + 60_000, Date.now());
      await s.addJobs('C', [job('a'), job('b'), job('c')]);
      await s.addJobs('D', [job('d')]);
      const store = async (code: string, x: number, tags?: string[] | null) => {
        const j = (await s.claimNext(code, cl(), 1, 2))!;
        assert.equal(await s.completeDownload(j.id, 't1', { ...res(x), title: j.label, tags }), true);
      };
      await store('C', 1, ['rock', 'indie']);
      await store('D', 2, null);
      await store('C', 3);
      await store('C', 4, ['jazz']);
      const c = await s.listVectors({ code: 'C' });
      assert.deepEqual(c.map((r) => [r.title, r.tags, r.vector[0], r.code]), [['a', ['rock', 'indie'], 1, 'C'], ['b', null, 3, 'C'], ['c', ['jazz'], 4, 'C']]);
      assert.ok(c[0].n < c[1].n && c[1].n < c[2].n, 'ascending positions');
      assert.ok(c.every((r) => r.vector.length === 200 && r.finishedAt === 5 && r.jobId.length > 0));
      assert.deepEqual((await s.listVectors({ code: 'C', afterN: c[0].n })).map((r) => r.title), ['b', 'c']);
      assert.deepEqual((await s.listVectors({ code: 'C', limit: 1 })).map((r) => r.title), ['a']);
      assert.deepEqual((await s.listVectors()).map((r) => r.title), ['a', 'd', 'b', 'c'], 'every session, in store order');
      assert.deepEqual((await s.listVectors({ code: 'nobody' })), []);
      assert.deepEqual((await s.listResults('C')).map((r) => r.tags), [['rock', 'indie'], null, ['jazz']], 'listResults carries the tags too');
    }),
  );

  test(`[${kind.name}] a job that is not active has no claim: final failure and revival clear it`, opt, () =>
    withStore(kind.open, async (s) => {
      await s.addJobs('C', [job('a')]);
      const a = (await s.claimNext('C', cl('t1'), 1, 2))!;
      assert.equal(a.claim, 't1');
      assert.equal((await s.getJob(a.id))?.claim, 't1');
      assert.equal(await s.failAttempt(a.id, 't1', 'boom', 1, 3, false), 'failed');
      const failed = (await s.getJob(a.id))!;
      assert.deepEqual([failed.state, failed.claim, failed.worker, failed.leaseUntil], ['failed', null, null, null]);
      assert.equal((await s.addJobs('C', [job('a')])).added, 1);
      const revived = (await s.getJob(a.id))!;
      assert.deepEqual([revived.state, revived.claim, revived.attempts, revived.drops, revived.lastError], ['queued', null, 0, 0, null]);
      const again = (await s.claimNext('C', cl('t2'), 4, 5))!;
      assert.equal(again.claim, 't2');
    }),
  );

  test(`[${kind.name}] drops: a job whose holders keep closing goes back to the front, then fails at maxDrops; attempts are not drops`, opt, () =>
    withStore(kind.open, async (s) => {
      await s.addJobs('C', [job('crash'), job('b')]);
      let j = (await s.claimNext('C', cl('t1'), 1, 2))!;
      assert.equal(await s.dropHeld(j.id, 't1', 2, 'lost 1', 3), 'queued');
      j = (await s.claimNext('C', cl('t2'), 1, 2))!;
      assert.deepEqual([j.label, j.drops, j.attempts], ['crash', 1, 0], 'back at the front, one drop, no attempt');
      assert.equal(await s.dropHeld(j.id, 't1', 2, 'stale token', 3), 'not-active');
      assert.equal(await s.dropHeld(j.id, 't2', 2, 'lost 2', 4), 'failed');
      const f = (await s.getJob(j.id))!;
      assert.deepEqual([f.state, f.drops, f.attempts, f.lastError, f.finishedAt, f.claim], ['failed', 2, 0, 'lost 2', 4, null]);
      assert.equal((await s.addJobs('C', [job('crash')])).added, 1);
      assert.equal((await s.getJob(j.id))?.drops, 0, 'a revived job starts over');
    }),
  );

  test(`[${kind.name}] leases hold across a restart: recovery counts an attempt for a lease that ran out, not for a live one`, opt, () =>
    withStore(kind.open, async (s) => {
      const now = Date.now();
      await s.addJobs('C', [job('expired'), job('live'), job('last')]);
      const e = (await s.claimNext('C', cl('t1', 'gone'), now - 20_000, now - 1000))!;
      const l = (await s.claimNext('C', cl('t2', 'gone'), now - 1000, now + 60_000))!;
      const z = (await s.claimNext('C', cl('t3', 'gone'), now - 20_000, now - 1))!;
      await s.failAttempt(z.id, 't3', 'first try', 5, now, true);
      const z2 = (await s.claimNext('C', cl('t4', 'gone'), now - 10_000, now - 1))!;
      assert.equal(z2.id, z.id);
      assert.equal(await s.recoverActive(now, 1000, 2), 3);
      const ex = (await s.getJob(e.id))!;
      assert.deepEqual([ex.state, ex.attempts], ['queued', 1]);
      assert.match(ex.lastError ?? '', /^No result within the lease/);
      const lv = (await s.getJob(l.id))!;
      assert.deepEqual([lv.state, lv.attempts, lv.lastError, lv.claim], ['queued', 0, null, null]);
      const la = (await s.getJob(z.id))!;
      assert.deepEqual([la.state, la.attempts], ['failed', 2], 'the lease that ran out was its last attempt');
      assert.deepEqual((await s.listJobs('C', { state: 'queued' })).map((x) => x.label), ['expired', 'live'], 'order kept at the front');
    }),
  );

  test(`[${kind.name}] resultPages: every result in stored order, page by page, counted when asked`, opt, () =>
    withStore(kind.open, async (s) => {
      await s.addJobs('C', Array.from({ length: 7 }, (_, i) => job(`r${i}`)));
      for (let i = 0; i < 5; i++) {
        const j = (await s.claimNext('C', cl(), 1, 2))!;
        assert.equal(await s.completeDownload(j.id, 't1', { ...res(i), title: j.label }), true);
      }
      const { count, pages } = await s.resultPages('C', 2);
      // stored after the count: not in this export, so its count and its rows agree
      const late = (await s.claimNext('C', cl(), 1, 2))!;
      await s.completeDownload(late.id, 't1', res(9));
      const sizes: number[] = [];
      const titles: string[] = [];
      for await (const page of pages) {
        sizes.push(page.length);
        for (const r of page) titles.push(r.title);
      }
      assert.equal(count, 5);
      assert.deepEqual(sizes, [2, 2, 1]);
      assert.deepEqual(titles, ['r0', 'r1', 'r2', 'r3', 'r4']);
      const empty = await s.resultPages('nobody');
      assert.equal(empty.count, 0);
      for await (const _ of empty.pages) assert.fail('no page for a session without results');
    }),
  );

  test(`[${kind.name}] concurrent claims never hand out one job twice`, opt, () =>
    withStore(kind.open, async (s) => {
      await s.addJobs('C', Array.from({ length: 60 }, (_, i) => job(`j${i}`)));
      const got = await Promise.all(Array.from({ length: 80 }, (_, i) => s.claimNext('C', cl(`t${i}`), 1, 2)));
      const ids = got.filter((x) => x !== null).map((x) => x!.id);
      assert.equal(ids.length, 60);
      assert.equal(new Set(ids).size, 60);
    }),
  );
}

// SPDX-License-Identifier: MIT
/**
 * The worker socket against bad input: malformed, binary and oversized frames, results for
 * jobs the socket does not hold, vectors of the wrong length or with NaN, unknown and expired
 * pairing codes (refused with a clear close reason) and floods of them (rate-limited). Each is
 * refused with a logged reason, nothing is stored, and the server keeps serving.
 */
import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { afterEach, test } from 'node:test';
import type { CoordinatorHandle } from '../src/coordinator/server.js';
import { LogEvent } from '../src/log/events.js';
import { RawClient, api, coordinator, capturedLogs, goodResult, newSession, socketUrl, status } from './support/coordinator.js';
import { waitUntil } from './support/wait.js';
import { sleep } from './support/stand-ins.js';

let srv: CoordinatorHandle | null = null;
const raws: RawClient[] = [];
const logs = capturedLogs();

afterEach(async () => {
  for (const r of raws.splice(0)) r.close();
  await srv?.close();
  srv = null;
  logs.reset();
});


async function client(code: string): Promise<RawClient> {
  const c = await RawClient.connect(socketUrl(srv!.url, code));
  raws.push(c);
  return c;
}

async function storedCount(code: string): Promise<number> {
  return (await api<unknown[]>(srv!.url, `/api/sessions/${code}/results`)).body.length;
}

async function oneJob(code: string, c: RawClient, line = 'A - T'): Promise<string> {
  await api(srv!.url, `/api/sessions/${code}/jobs`, { body: { lines: [line] } });
  return (await waitUntil(() => c.jobs()[0], 3000, 'job')).job_id;
}

test('the job frame carries the payload of the protocol', async () => {
  srv = await coordinator();
  const code = await newSession(srv.url);
  const c = await client(code);
  await oneJob(code, c, 'Daft Punk - One More Time');
  const job = c.jobs()[0];
  assert.match(job.job_id, /^[0-9a-f-]{36}$/);
  assert.deepEqual(job.payload, { artist: 'Daft Punk', title: 'One More Time', table_name: null, youtube_url: null });
});

test('rejects a result for a job it does not hold; the holder\'s result is accepted', async () => {
  srv = await coordinator({ logger: logs.logger() });
  const code = await newSession(srv.url);
  const holder = await client(code);
  const jobId = await oneJob(code, holder);
  const other = await client(code);
  await waitUntil(async () => (await status(srv!.url, code)).worker_count === 2, 3000, 'two workers');
  other.send(goodResult(jobId));
  other.send(goodResult('00000000-0000-0000-0000-000000000000'));
  await waitUntil(() => logs.lines.filter((l) => l.msg === LogEvent.refusedResultNotHeld).length === 2, 3000, 'two refusals');
  assert.equal(await storedCount(code), 0);
  holder.send(goodResult(jobId));
  await waitUntil(async () => (await storedCount(code)) === 1, 3000, 'stored');
  // A second copy of the same result is refused: the socket no longer holds the job.
  holder.send(goodResult(jobId, 9));
  await waitUntil(() => logs.lines.filter((l) => l.msg === LogEvent.refusedResultNotHeld).length === 3, 3000, 'third refusal');
  const rows = (await api<{ vector: number[] }[]>(srv.url, `/api/sessions/${code}/results`)).body;
  assert.equal(rows.length, 1);
  assert.equal(rows[0].vector[0], 0.5);
});

for (const [what, vector, reason] of [
  ['a vector with NaN', null, /Invalid result: Expected a finite number for data.vector\[7\] but received null/],
  ['a vector of 199 values', Array.from({ length: 199 }, () => 0.1), /Invalid result: Expected 200 values in data.vector but received 199/],
  ['a vector of strings', Array.from({ length: 200 }, () => '0.1'), /Invalid result: Expected a finite number for data.vector\[0\] but received a string/],
] as const) {
  test(`refuses ${what}: nothing stored, the attempt counted with the reason`, async () => {
    srv = await coordinator({ logger: logs.logger(), retries: 2 });
    const code = await newSession(srv.url);
    const c = await client(code);
    const jobId = await oneJob(code, c);
    const r = goodResult(jobId);
    // JSON has no NaN: a worker's NaN arrives as null (JSON.stringify), which is what this sends.
    (r.data as { vector: unknown[] }).vector = vector ? [...vector] : Array.from({ length: 200 }, (_, i) => (i === 7 ? null : 0.1));
    c.send(r);
    const line = await waitUntil(() => logs.lines.find((l) => l.msg === LogEvent.refusedResult), 3000, 'refusal logged');
    assert.match(String(line.reason), reason);
    assert.equal(await storedCount(code), 0);
    const job = (await api<{ attempts: number; last_error: string; state: string }[]>(srv.url, `/api/sessions/${code}/jobs`)).body[0];
    assert.equal(job.attempts, 1);
    assert.match(job.last_error, reason);
    // The job comes back to this (now idle) socket for a second try.
    await waitUntil(() => c.jobs().length === 2, 3000, 'retry sent');
  });
}

test('malformed, binary and unknown frames are logged and ignored; the socket stays', async () => {
  srv = await coordinator({ logger: logs.logger() });
  const code = await newSession(srv.url);
  const c = await client(code);
  const jobId = await oneJob(code, c);
  c.send('{not json');
  c.send('[1,2,3]');
  c.ws.send(Buffer.from([1, 2, 3]), { binary: true });
  c.send({ type: 'result' });
  c.send({ type: 'result', job_id: jobId, status: 'maybe' });
  c.send({ type: 'whatever' });
  await waitUntil(() => logs.lines.some((l) => l.msg === LogEvent.refusedResult), 3000, 'bad status refused');
  const msgs = logs.lines.map((l) => l.msg);
  for (const m of [LogEvent.ignoredNonJsonFrame, LogEvent.ignoredNonObjectFrame, LogEvent.ignoredBinaryFrame, LogEvent.ignoredResultWithoutJobId, LogEvent.ignoredUnknownFrame])
    assert.ok(msgs.includes(m), `logged: ${m}`);
  assert.equal(c.closed, null);
  // The job was counted as a failed attempt (bad status) and comes back; a good result is stored.
  const again = await waitUntil(() => c.jobs()[1], 3000, 'job again');
  c.send(goodResult(again.job_id));
  await waitUntil(async () => (await storedCount(code)) === 1, 3000, 'stored');
});

test('an oversized frame closes that socket with 1009 and its job goes back to the queue', async () => {
  srv = await coordinator({ logger: logs.logger(), maxFrameBytes: 64 * 1024 });
  const code = await newSession(srv.url);
  const c = await client(code);
  const jobId = await oneJob(code, c);
  c.send({ type: 'result', job_id: jobId, status: 'failed', error: 'x'.repeat(100 * 1024) });
  await waitUntil(() => c.closed, 3000, 'closed');
  assert.equal(c.closed!.code, 1009);
  await waitUntil(() => logs.lines.some((l) => l.msg === LogEvent.refusedOversizeFrame), 3000, 'logged');
  const jobs = (await api<{ state: string; attempts: number }[]>(srv.url, `/api/sessions/${code}/jobs`)).body;
  assert.deepEqual(jobs.map((j) => [j.state, j.attempts]), [['queued', 0]]);
});

test('an unknown or malformed code is refused with close code 4404 and a clear reason', async () => {
  srv = await coordinator({ logger: logs.logger() });
  for (const code of ['ZZZZZ-ZZZZZ', '1234', 'not a code']) {
    const c = await client(code);
    await waitUntil(() => c.closed, 3000, 'closed');
    assert.deepEqual(c.closed, { code: 4404, reason: 'unknown pairing code' });
  }
  assert.ok(logs.lines.some((l) => l.msg === 'refused a worker socket: unknown pairing code'));
  const ui = await RawClient.connect(socketUrl(srv.url, 'ZZZZZ-ZZZZZ', 'ui'));
  raws.push(ui);
  await waitUntil(() => ui.closed, 3000, 'closed');
  assert.equal(ui.closed!.code, 4404);
});

test('an expired code is refused with 4410', async () => {
  srv = await coordinator({ codeTtlMs: 50 });
  const code = await newSession(srv.url);
  await sleep(80);
  const c = await client(code);
  await waitUntil(() => c.closed, 3000, 'closed');
  assert.deepEqual(c.closed, { code: 4410, reason: 'pairing code expired' });
  assert.equal((await api(srv.url, `/api/sessions/${code}`)).status, 410);
});

test('codes are forgiving: lower case, no dash, O for 0 and I/L for 1 reach the same session', async () => {
  srv = await coordinator();
  const code = await newSession(srv.url);
  const typed = code.replace('-', '').toLowerCase().replace(/0/g, 'o').replace(/1/g, 'l');
  const c = await client(typed);
  await waitUntil(async () => (await status(srv!.url, code)).worker_count === 1, 3000, 'joined');
  assert.equal(c.closed, null);
});

test('--accept-any-code opens a session for any code, as the original server does', async () => {
  srv = await coordinator({ acceptAnyCode: true });
  const c = await client('1234');
  await waitUntil(async () => (await status(srv!.url, '1234')).worker_count === 1, 3000, 'joined');
  await api(srv.url, '/api/sessions/1234/jobs', { body: { lines: ['A - B'] } });
  await waitUntil(() => c.jobs().length === 1, 3000, 'job');
});

test('a flood of unknown codes is rate-limited per address; other addresses keep working', async () => {
  srv = await coordinator({ logger: logs.logger(), rateLimit: { max: 10, windowMs: 60_000 } });
  const good = await newSession(srv.url);
  const tries = await Promise.all(Array.from({ length: 40 }, (_, i) => RawClient.connect(socketUrl(srv!.url, `ZZZZZ-${String(i).padStart(5, 'Z')}`))));
  raws.push(...tries);
  await waitUntil(() => tries.every((t) => t.closed), 5000, 'all refused');
  const refused4404 = tries.filter((t) => t.closed!.code === 4404).length;
  const limited = tries.filter((t) => t.unexpected === 429).length;
  assert.ok(refused4404 <= 10, `at most 10 unknown-code sockets were upgraded (got ${refused4404})`);
  assert.equal(refused4404 + limited, 40);
  // The flooding address gets 429 on the API too, even for a real code (no oracle for guessing).
  assert.equal((await api(srv.url, '/api/sessions/ZZZZZ-ZZZZZ')).status, 429);
  assert.equal((await api(srv.url, `/api/sessions/${good}`)).status, 429);
  // A worker from another loopback address joins and gets work (all of 127/8 is loopback on
  // Linux; elsewhere only 127.0.0.1 may exist, so this part runs on Linux).
  if (process.platform !== 'linux') return;
  const w = await RawClient.connect(socketUrl(srv.url, good), { localAddress: '127.0.0.2' });
  raws.push(w);
  assert.equal(w.closed, null);
  await srv.scheduler.enqueue((await srv.store.getSession(good))!, [
    { payload: { artist: 'A', title: 'B', youtube_url: null }, dedupeKey: 'at:a|b', label: 'A - B' },
  ]);
  await waitUntil(() => w.jobs().length === 1, 3000, 'job for the other address');
  assert.deepEqual((await api(srv.url, '/api/keepalive')).body, { ok: true });
});

test('the limiter keys by address and its window slides', async () => {
  const { FailureLimiter } = await import('../src/coordinator/rate-limit.js');
  let t = 0;
  const l = new FailureLimiter(3, 1000, 100, () => t);
  for (let i = 0; i < 3; i++) l.hit('10.0.0.1');
  assert.equal(l.blocked('10.0.0.1'), true);
  assert.equal(l.blocked('10.0.0.2'), false);
  t = 1001;
  assert.equal(l.blocked('10.0.0.1'), false, 'the window slides');
});

test('a socket that stops answering pings is dropped and its job goes back to the queue', async () => {
  srv = await coordinator({ heartbeatMs: 100 });
  const code = await newSession(srv.url);
  // A bare TCP client that completes the WebSocket handshake and then never reads or answers a
  // frame: a half-open peer, like a worker whose machine vanished.
  const port = Number(new URL(srv.url).port);
  const sock = connect(port, '127.0.0.1');
  await new Promise((r) => sock.once('connect', r));
  sock.write(
    `GET /ws/remote/${code}/worker HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
      'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n',
  );
  let got = '';
  sock.on('data', (d) => (got += d.toString('latin1')));
  await waitUntil(() => got.includes('101 Switching Protocols'), 3000, 'handshake');
  await api(srv.url, `/api/sessions/${code}/jobs`, { body: { lines: ['Half - Open'] } });
  await waitUntil(async () => (await status(srv!.url, code)).queue.active === 1, 3000, 'job sent to the silent peer');
  await waitUntil(async () => (await status(srv!.url, code)).worker_count === 0, 3000, 'silent peer dropped');
  const jobs = (await api<{ state: string; attempts: number }[]>(srv.url, `/api/sessions/${code}/jobs`)).body;
  assert.deepEqual(jobs.map((j) => [j.state, j.attempts]), [['queued', 0]]);
  sock.destroy();
});

// SPDX-License-Identifier: MIT
/**
 * The coordinator's hook for YouTube's limits (scheduler.sourceLimitedNote): a `failed` result
 * that the worker announced with our own `rate_limited` message is queued again without counting
 * an attempt against --retries; without the note, or for a job the socket does not hold, the
 * same failure counts as before.
 */
import assert from 'node:assert/strict';
import { afterEach, test } from 'node:test';
import type { CoordinatorHandle } from '../src/coordinator/server.js';
import { RawClient, api, capturedLogs, coordinator, goodResult, newSession, socketUrl } from './support/coordinator.js';
import { waitUntil } from './support/wait.js';

let srv: CoordinatorHandle | null = null;
const raws: RawClient[] = [];
const logs = capturedLogs();
afterEach(async () => {
  for (const r of raws.splice(0)) r.close();
  await srv?.close();
  srv = null;
  logs.reset();
});

type JobRow = { attempts: number; state: string; last_error: string | null };
const jobsOf = async (code: string) => (await api<JobRow[]>(srv!.url, `/api/sessions/${code}/jobs`)).body;
const LIMITED = 'Download failed: YouTube is limiting this worker (HTTP 429 Too Many Requests)';

async function setUp(retries: number): Promise<{ code: string; c: RawClient; jobId: string }> {
  srv = await coordinator({ logger: logs.logger(), retries });
  const code = await newSession(srv.url);
  const c = await RawClient.connect(socketUrl(srv.url, code));
  raws.push(c);
  await api(srv.url, `/api/sessions/${code}/jobs`, { body: { lines: ['A - T'] } });
  const jobId = (await waitUntil(() => c.jobs()[0], 3000, 'job')).job_id;
  return { code, c, jobId };
}

test('a failure announced as rate_limited is queued again without counting an attempt', async () => {
  const { code, c, jobId } = await setUp(1);
  for (let i = 1; i <= 3; i++) {
    c.send({ type: 'rate_limited', job_id: jobId, reason: LIMITED });
    c.send({ type: 'result', job_id: jobId, status: 'failed', error: LIMITED });
    // with --retries 1 a counted failure would have failed the job at once
    await waitUntil(() => c.jobs().length === i + 1, 3000, `the job sent again (${i})`);
  }
  const [job] = await jobsOf(code);
  assert.equal(job.attempts, 0);
  assert.equal(job.state, 'active');
  assert.equal(logs.lines.filter((l) => l.msg === "job met the source's limits on its worker; queued again, not counted as an attempt").length, 3);
  c.send(goodResult(jobId));
  await waitUntil(async () => (await jobsOf(code))[0].state === 'done', 3000, 'done');
});

test('without the note, or with a note for another job, the same failure counts', async () => {
  const { code, c, jobId } = await setUp(2);
  c.send({ type: 'rate_limited', job_id: '00000000-0000-0000-0000-000000000000', reason: LIMITED });
  c.send({ type: 'result', job_id: jobId, status: 'failed', error: LIMITED });
  await waitUntil(() => c.jobs().length === 2, 3000, 'retry sent');
  assert.equal((await jobsOf(code))[0].attempts, 1);
  // a note is good for one result only: the next failure of the same job counts again
  c.send({ type: 'result', job_id: jobId, status: 'failed', error: LIMITED });
  await waitUntil(async () => (await jobsOf(code))[0].state === 'failed', 3000, 'failed after 2 attempts');
  assert.equal((await jobsOf(code))[0].attempts, 2);
});

// SPDX-License-Identifier: MIT
/** The fault suite's end-of-run checks (test/system/support/fault-checks.ts), on made-up runs. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { LogEvent, logEventMessage } from '../src/log/events.js';
import { checkCoordinatorLogs, checkWorkerLogs, unlandedFaults, type GenerationLog } from './system/support/fault-checks.js';
import type { LogLine } from './system/support/processes.js';

const T0 = Date.parse('2026-12-01T12:00:00.000Z');
const at = (ms: number) => new Date(T0 + ms).toISOString();
const line = (ms: number, msg: string, fields: Record<string, unknown> = {}): LogLine => ({ time: at(ms), level: 'info', msg, ...fields });
const gen = (name: string, lines: LogLine[], killedAt: number | null = null): GenerationLog => ({ name, killed: killedAt !== null, killedAt: killedAt === null ? null : T0 + killedAt, lines });

const storedA = [{ jobId: 'a', finishedAt: T0 + 5000 }];

test('coordinator logs: a clean run passes', () => {
  const c = gen('c1#1', [line(1000, LogEvent.jobSent, { job: 'a' }), line(5001, LogEvent.resultStored, { job: 'a' }), line(6000, LogEvent.jobLeaseExpired, { job: 'b' })]);
  assert.deepEqual(checkCoordinatorLogs([c], storedA), { problems: [], leaseExpiries: 1 });
});

test('coordinator logs: no lines at all for a stored result fail (the check is never empty)', () => {
  const r = checkCoordinatorLogs([gen('c1#1', [])], storedA);
  assert.equal(r.problems.length, 3, r.problems.join('\n'));
  assert.match(r.problems.join('\n'), /no coordinator logged 'result stored'/);
  assert.match(r.problems.join('\n'), /no coordinator logged 'job sent'/);
  assert.match(r.problems.join('\n'), /no 'result stored' line at all/);
});

test('coordinator logs: a renamed event reads as missing, not as a pass', () => {
  const c = gen('c1#1', [line(1000, 'job dispatched', { job: 'a' }), line(5001, 'result saved', { job: 'a' })]);
  assert.ok(checkCoordinatorLogs([c], storedA).problems.length > 0);
});

test('coordinator logs: a job sent after its result was stored fails', () => {
  const c = gen('c1#1', [line(1000, LogEvent.jobSent, { job: 'a' }), line(5001, LogEvent.resultStored, { job: 'a' }), line(7000, LogEvent.jobSent, { job: 'a' })]);
  assert.deepEqual(checkCoordinatorLogs([c], storedA).problems, ['c1#1 sent a 2000 ms after its result was stored']);
});

test('coordinator logs: a result stored twice, or logged for a job the store lacks, fails', () => {
  const twice = gen('c1#1', [line(1000, LogEvent.jobSent, { job: 'a' }), line(5001, LogEvent.resultStored, { job: 'a' }), line(5002, LogEvent.resultStored, { job: 'a' })]);
  assert.deepEqual(checkCoordinatorLogs([twice], storedA).problems, ["a: 'result stored' logged 2 times (stored more than once)"]);
  const ghost = gen('c1#1', [line(1000, LogEvent.jobSent, { job: 'a' }), line(5001, LogEvent.resultStored, { job: 'a' }), line(5001, LogEvent.resultStored, { job: 'z' })]);
  assert.deepEqual(checkCoordinatorLogs([ghost], storedA).problems, ["z: 'result stored' logged, but the store has no result for it"]);
});

test('coordinator logs: a missing stored line is excused only just before a coordinator kill', () => {
  const sent = line(1000, LogEvent.jobSent, { job: 'a' });
  const other = [{ jobId: 'b', finishedAt: T0 + 100 }];
  const logged = line(101, LogEvent.resultStored, { job: 'b' });
  const sentB = line(50, LogEvent.jobSent, { job: 'b' });
  // killed 1 s after taking the result: the line may have died with it
  assert.deepEqual(checkCoordinatorLogs([gen('c1#1', [sentB, logged, sent], 6000)], [...other, ...storedA]).problems, []);
  // killed a minute later: no excuse
  assert.equal(checkCoordinatorLogs([gen('c1#1', [sentB, logged, sent], 65000)], [...other, ...storedA]).problems.length, 1);
  // not killed: no excuse
  assert.equal(checkCoordinatorLogs([gen('c1#1', [sentB, logged, sent])], [...other, ...storedA]).problems.length, 1);
});

test('worker logs: a clean run passes; a stored job no worker started or finished fails', () => {
  const ok = gen('w1#1', [line(1000, logEventMessage(LogEvent.jobStarted, 'A - B'), { job: 'a', conn: 1 }), line(4900, logEventMessage(LogEvent.jobDone, 'A - B'), { job: 'a', conn: 1, sent: true })]);
  assert.deepEqual(checkWorkerLogs([ok], storedA), { problems: [], lateStarts: 0, restarted: 0 });
  assert.deepEqual(checkWorkerLogs([gen('w1#1', [])], storedA).problems, ["a: stored, but no worker logged 'job started' for it"]);
  const unfinished = gen('w1#1', [line(1000, logEventMessage(LogEvent.jobStarted, 'A - B'), { job: 'a', conn: 1 })]);
  assert.deepEqual(checkWorkerLogs([unfinished], storedA).problems, ["a: stored, but no worker logged 'job done' with its result sent"]);
  // ...unless the worker that started it was killed (its last lines may be missing)
  assert.deepEqual(checkWorkerLogs([gen('w1#1', unfinished.lines, 4950)], storedA).problems, []);
});

test('worker logs: a job started after its result was stored and then finished again fails', () => {
  const first = gen('w1#1', [line(1000, logEventMessage(LogEvent.jobStarted, 'A - B'), { job: 'a', conn: 1 }), line(4900, logEventMessage(LogEvent.jobDone, 'A - B'), { job: 'a', conn: 1, sent: true })]);
  const late = gen('w2#1', [line(6000, logEventMessage(LogEvent.jobStarted, 'A - B'), { job: 'a', conn: 2 }), line(9000, logEventMessage(LogEvent.jobDone, 'A - B'), { job: 'a', conn: 2, sent: true })]);
  const r = checkWorkerLogs([first, late], storedA);
  assert.deepEqual(r.problems, ['w2#1 redid a after its result was stored']);
  assert.equal(r.lateStarts, 1);
  assert.equal(r.restarted, 1);
  // started late but never finished (the close came behind it): fine, counted
  const dropped = gen('w2#1', [late.lines[0]]);
  assert.deepEqual(checkWorkerLogs([first, dropped], storedA).problems, []);
});

test('unlanded faults: misses and count mismatches fail; all landed passes', () => {
  const schedule = [
    { kind: 'proxy-cut' as const, at: 1000, r: 0.1 },
    { kind: 'proxy-cut' as const, at: 2000, r: 0.2 },
    { kind: 'kill-coordinator' as const, at: 3000, r: 0.3 },
  ];
  assert.deepEqual(unlandedFaults(schedule, { 'proxy-cut': 2, 'kill-coordinator': 1 }, []), []);
  assert.deepEqual(unlandedFaults(schedule, { 'proxy-cut': 1, 'kill-coordinator': 1 }, ['proxy-cut: no open connection']), ['proxy-cut: no open connection', 'proxy-cut: scheduled 2, injected 1']);
  // neither landed nor recorded as missed: still caught
  assert.deepEqual(unlandedFaults(schedule, { 'proxy-cut': 2 }, []), ['kill-coordinator: scheduled 1, injected 0']);
  assert.deepEqual(unlandedFaults([], { 'disk-full': 1 }, []), ['disk-full: scheduled 0, injected 1']);
});

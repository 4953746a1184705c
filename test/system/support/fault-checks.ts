// SPDX-License-Identifier: MIT
/**
 * The end-of-run checks of the fault suite, as pure functions over what the run left (the log
 * lines of every process generation, the results in the store, the fault schedule), so that
 * each check is tested on its own (test/fault-checks.test.ts) without running the suite.
 *
 * Every check also proves it had something to look at: a stored result with no log line
 * behind it fails, so renaming a log event or losing the lines cannot make a check pass.
 */
import { isLogEvent, LogEvent } from '../../../src/log/events.js';
import type { FaultEvent, FaultKind } from './fault-schedule.js';
import type { LogLine } from './processes.js';

/** One process generation as the checks see it. */
export interface GenerationLog {
  name: string;
  /** Killed with -9 by the run (its last lines may be missing). */
  killed: boolean;
  /** When it was killed (ms since the epoch), for killed generations. */
  killedAt?: number | null;
  lines: LogLine[];
}

export interface StoredAt {
  jobId: string;
  /** When the coordinator took the result (ms since the epoch). */
  finishedAt: number;
}

/** How long before its kill a coordinator may have stored a result without logging it yet. */
export const UNLOGGED_STORE_WINDOW_MS = 10_000;

export interface CoordinatorLogCheck {
  problems: string[];
  leaseExpiries: number;
}

/**
 * Coordinator logs against the store: each stored result has its 'result stored' line (unless
 * a coordinator was killed just after storing it) and no more than one; each line names a stored
 * job; each stored job was sent ('job sent', --verbose) before its result came, and never after.
 */
export function checkCoordinatorLogs(gens: GenerationLog[], stored: StoredAt[]): CoordinatorLogCheck {
  const problems: string[] = [];
  const storedAt = new Map(stored.map((r) => [r.jobId, r.finishedAt]));
  const storedLines = new Map<string, number>();
  const sentBefore = new Set<string>();
  let leaseExpiries = 0;
  for (const g of gens)
    for (const l of g.lines) {
      const job = String(l.job);
      if (isLogEvent(l.msg, LogEvent.resultStored)) storedLines.set(job, (storedLines.get(job) ?? 0) + 1);
      if (isLogEvent(l.msg, LogEvent.jobLeaseExpired)) leaseExpiries++;
      if (isLogEvent(l.msg, LogEvent.jobSent) && storedAt.has(job)) {
        const late = Date.parse(l.time) - storedAt.get(job)!;
        if (late > 0) problems.push(`${g.name} sent ${job} ${late} ms after its result was stored`);
        else sentBefore.add(job);
      }
    }
  const kills = gens.filter((g) => g.killed && typeof g.killedAt === 'number').map((g) => g.killedAt!);
  const justBeforeAKill = (t: number) => kills.some((k) => t <= k && k - t <= UNLOGGED_STORE_WINDOW_MS);
  for (const [job, t] of storedAt) {
    const n = storedLines.get(job) ?? 0;
    if (n === 0 && !justBeforeAKill(t)) problems.push(`${job}: stored, but no coordinator logged '${LogEvent.resultStored}' for it`);
    if (n > 1) problems.push(`${job}: '${LogEvent.resultStored}' logged ${n} times (stored more than once)`);
    if (!sentBefore.has(job)) problems.push(`${job}: stored, but no coordinator logged '${LogEvent.jobSent}' for it before`);
  }
  for (const job of storedLines.keys()) if (!storedAt.has(job)) problems.push(`${job}: '${LogEvent.resultStored}' logged, but the store has no result for it`);
  if (stored.length > 0 && storedLines.size === 0) problems.push(`no '${LogEvent.resultStored}' line at all for ${stored.length} stored result(s)`);
  return { problems, leaseExpiries };
}

export interface WorkerLogCheck {
  problems: string[];
  /** Job frames that reached a worker after the job's result was stored elsewhere. */
  lateStarts: number;
  /** Jobs started on a worker more than once. */
  restarted: number;
}

/**
 * Worker logs against the store: each stored job was started ('job started') by some worker
 * and finished with its result sent ('job done', sent) by one, unless a worker that started it
 * was killed; and no worker that started a job after its result was stored finished it.
 */
export function checkWorkerLogs(gens: GenerationLog[], stored: StoredAt[]): WorkerLogCheck {
  const problems: string[] = [];
  const storedAt = new Map(stored.map((r) => [r.jobId, r.finishedAt]));
  const afterStore = (job: string, time: string) => storedAt.has(job) && Date.parse(time) > storedAt.get(job)!;
  const starts = new Map<string, number>();
  const startedByKilled = new Set<string>();
  const doneSent = new Set<string>();
  let lateStarts = 0;
  for (const g of gens) {
    const lateHere = new Set<string>();
    for (const l of g.lines) {
      if (typeof l.job !== 'string') continue;
      if (isLogEvent(l.msg, LogEvent.jobStarted)) {
        starts.set(l.job, (starts.get(l.job) ?? 0) + 1);
        if (g.killed) startedByKilled.add(l.job);
        // A job frame held by a stalled connection arrives late, with the close behind it.
        if (afterStore(l.job, l.time)) {
          lateHere.add(`${String(l.conn)}/${l.job}`);
          lateStarts++;
        }
      }
      if (isLogEvent(l.msg, LogEvent.jobDone) && l.sent === true) {
        doneSent.add(l.job);
        if (lateHere.has(`${String(l.conn)}/${l.job}`)) problems.push(`${g.name} redid ${l.job} after its result was stored`);
      }
    }
  }
  for (const job of storedAt.keys()) {
    if (!starts.has(job)) problems.push(`${job}: stored, but no worker logged '${LogEvent.jobStarted}' for it`);
    else if (!doneSent.has(job) && !startedByKilled.has(job)) problems.push(`${job}: stored, but no worker logged '${LogEvent.jobDone}' with its result sent`);
  }
  return { problems, lateStarts, restarted: [...starts.values()].filter((n) => n > 1).length };
}

/**
 * Faults the schedule promised that did not land: every miss the run recorded, and every kind
 * injected fewer (or more) times than scheduled, so a fault that neither landed nor said so
 * also fails.
 */
export function unlandedFaults(schedule: FaultEvent[], injected: Partial<Record<FaultKind, number>>, missed: string[]): string[] {
  const out = [...missed];
  const want = new Map<FaultKind, number>();
  for (const e of schedule) want.set(e.kind, (want.get(e.kind) ?? 0) + 1);
  const kinds = new Set<FaultKind>([...want.keys(), ...(Object.keys(injected) as FaultKind[])]);
  for (const k of kinds) {
    const w = want.get(k) ?? 0;
    const got = injected[k] ?? 0;
    if (got !== w) out.push(`${k}: scheduled ${w}, injected ${got}`);
  }
  return out;
}

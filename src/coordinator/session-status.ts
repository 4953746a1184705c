// SPDX-License-Identifier: MIT
/**
 * A session's status as the API reports it: its state, the queue by job state, every worker
 * socket with the job it runs, and throughput (results in the last 5 minutes of this run) with
 * the ETA it gives.
 */
import type { SessionRuntime } from './session-runtime.js';
import type { JobCounts, JobKind, SessionRow, SessionStatus, Store } from './store.js';

export interface WorkerStatus {
  id: string;
  name: string;
  version: string | null;
  backend: string | null;
  platform: string | null;
  remote: string;
  connected_at: string;
  state: 'idle' | 'busy';
  job: { id: string; label: string; kind: JobKind; running_s: number; stage: string | null; fraction: number | null } | null;
  done: number;
  failed: number;
}

export interface SessionStatusReport {
  code: string;
  status: SessionStatus;
  message: string;
  expires_at: string;
  worker_count: number;
  workers: WorkerStatus[];
  queue: JobCounts;
  throughput_per_min: number;
  eta_s: number | null;
}

const THROUGHPUT_WINDOW_MS = 5 * 60_000;

export async function sessionStatus(s: SessionRuntime, row: SessionRow, store: Store, now = Date.now()): Promise<SessionStatusReport> {
  const queue = await store.counts(s.code);
  const window = Math.max(10_000, Math.min(THROUGHPUT_WINDOW_MS, now - s.runningSince));
  const recent = await store.doneSince(s.code, now - window);
  const perMin = (recent / window) * 60_000;
  const left = queue.queued + queue.active;
  const workers: WorkerStatus[] = [...s.workers.values()].map((p) => ({
    id: p.id,
    name: p.info?.name || p.id,
    version: p.info?.version || null,
    backend: p.info?.backend || null,
    platform: p.info?.platform || null,
    remote: p.link.remote,
    connected_at: new Date(p.connectedAt).toISOString(),
    state: p.job ? 'busy' : 'idle',
    job: p.job
      ? { id: p.job.id, label: p.job.label, kind: p.job.kind, running_s: Math.round((now - p.job.startedAt) / 100) / 10, stage: p.job.stage, fraction: p.job.fraction }
      : null,
    done: p.done,
    failed: p.failed,
  }));
  return {
    code: s.code,
    status: s.status,
    message: s.message,
    expires_at: new Date(row.expiresAt).toISOString(),
    worker_count: s.workers.size,
    workers,
    queue,
    throughput_per_min: Math.round(perMin * 100) / 100,
    eta_s: left === 0 ? 0 : perMin > 0 ? Math.round((left / perMin) * 60) : null,
  };
}

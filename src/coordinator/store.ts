// SPDX-License-Identifier: MIT
/**
 * The coordinator's durable state behind one interface: sessions (pairing codes), the job
 * queue and the stored results. Every method is async so that a networked store fits the
 * same shape; the SQLite store answers synchronously inside. A store is the only truth:
 * the scheduler keeps just the live sockets in memory.
 */
import type { DownloadPayload, GenrePayload } from '../protocol/messages.js';

export type SessionStatus = 'idle' | 'running' | 'paused' | 'stopped' | 'complete';
export type JobState = 'queued' | 'active' | 'done' | 'failed' | 'cancelled';
export type JobKind = 'download' | 'fetch_genre';

export interface SessionRow {
  code: string;
  createdAt: number;
  /** ms since the epoch; the code is refused after this. */
  expiresAt: number;
  status: SessionStatus;
  message: string;
}

export interface NewJob {
  kind: JobKind;
  payload: DownloadPayload | GenrePayload;
  /** Two jobs of one session with the same key are one track; null = never a duplicate. */
  dedupeKey: string | null;
  label: string;
  /** For a genre job: how many of the returned tracks to queue (null = all). */
  requestedCount?: number | null;
}

export interface JobRow {
  id: string;
  code: string;
  kind: JobKind;
  payload: DownloadPayload | GenrePayload;
  label: string;
  state: JobState;
  /** Failed attempts so far. */
  attempts: number;
  /** Sockets that closed while holding this job (a track that kills every worker that takes it). */
  drops: number;
  lastError: string | null;
  worker: string | null;
  /** The claim token of the socket that holds it; null unless active. */
  claim: string | null;
  requestedCount: number | null;
  createdAt: number;
  startedAt: number | null;
  finishedAt: number | null;
  leaseUntil: number | null;
}

export interface ResultInput {
  artist: string;
  title: string;
  youtubeId: string;
  sourceUrl: string | null;
  vector: Float32Array;
  worker: string;
  finishedAt: number;
  /** The worker's top MSD tag names, highest first (our workers' extra result field), or null. */
  tags?: string[] | null;
}

export interface ResultRow extends ResultInput {
  jobId: string;
  code: string;
  queuedAt: number;
  startedAt: number;
}

/** One stored vector with what the collection map and similarity search show of it. */
export interface VectorRow {
  /** Position in the store's insertion order (ascending across the whole store). */
  n: number;
  jobId: string;
  code: string;
  artist: string;
  title: string;
  tags: string[] | null;
  vector: Float32Array;
  finishedAt: number;
}

export type JobCounts = Record<JobState, number>;

/** A session's results as stored when asked: how many, then page by page in stored order. */
export interface ResultPages {
  count: number;
  pages: AsyncIterable<ResultRow[]>;
}

export interface AddJobsResult {
  added: number;
  duplicates: number;
  ids: string[];
}

/** Who holds an active job: the socket (`token`, unique across processes) and its process. */
export interface Claim {
  /** Display name of the worker. */
  worker: string;
  /** Unique per worker socket across every coordinator process. */
  token: string;
  /** The coordinator process (see heartbeat). */
  owner: string;
}

/** The claim of the next job for the same socket, made in the same transaction as a result. */
export interface NextClaim {
  code: string;
  claim: Claim;
  now: number;
  leaseUntil: number;
}

export interface CompleteItem {
  id: string;
  token: string;
  result: ResultInput;
  next: NextClaim | null;
}

export interface Store {
  readonly kind: 'sqlite' | 'postgres';
  /** True when several coordinator processes may share this store (they must poll it). */
  readonly shared: boolean;
  createSession(code: string, expiresAt: number, now: number): Promise<SessionRow>;
  /** Make the session unless it exists (a code accepted by --accept-any-code, on its first change). */
  ensureSession(code: string, expiresAt: number, now: number): Promise<void>;
  getSession(code: string): Promise<SessionRow | null>;
  setSessionStatus(code: string, status: SessionStatus, message: string): Promise<void>;
  /**
   * Queue jobs at the back (or the front), skipping those whose dedupeKey is already queued,
   * running or done in that session; a failed or cancelled duplicate is queued again.
   * `limit` caps how many are added.
   */
  addJobs(code: string, jobs: NewJob[], opts?: { front?: boolean; limit?: number; now?: number }): Promise<AddJobsResult>;
  /** Take the job at the front of the session's queue for this claim, or null when empty. */
  claimNext(code: string, claim: Claim, now: number, leaseUntil: number): Promise<JobRow | null>;
  getJob(id: string): Promise<JobRow | null>;
  /**
   * Every change to an active job below names the claim `token` it was given with, and does
   * nothing (false / 'not-active' / null) when the job is no longer active under that token.
   */
  /** An active job back to the front of the queue (its socket closed). */
  requeueFront(id: string, token: string): Promise<boolean>;
  /**
   * Count a failed attempt of an active job: back in the queue (at the front when `front`),
   * or `failed` with this error once attempts reach `maxAttempts`.
   */
  failAttempt(id: string, token: string, error: string, maxAttempts: number, now: number, front: boolean): Promise<'queued' | 'failed' | 'not-active'>;
  /**
   * The socket holding an active job closed: back to the front of the queue, or `failed` with
   * this error once `maxDrops` sockets closed while holding it. Drops are not attempts.
   */
  dropHeld(id: string, token: string, maxDrops: number, error: string, now: number): Promise<'queued' | 'failed' | 'not-active'>;
  /** Store the result of an active download job and mark it done, in one transaction. */
  completeDownload(id: string, token: string, result: ResultInput): Promise<boolean>;
  /**
   * completeDownload, then claimNext for the same socket, in one transaction: one commit per
   * job instead of two on the hot path.
   */
  completeAndClaim(id: string, token: string, result: ResultInput, next: NextClaim): Promise<{ stored: boolean; next: JobRow | null }>;
  /**
   * Many completeAndClaim steps in one transaction, in order (group commit: the results that
   * arrived while the last commit was in flight share the next one). `next: null` only stores.
   */
  completeAndClaimMany(items: CompleteItem[]): Promise<{ stored: boolean; next: JobRow | null }[]>;
  /** Mark an active genre job done and queue its tracks, in one transaction. */
  completeGenre(id: string, token: string, tracks: NewJob[], limit: number | null, now: number): Promise<AddJobsResult | null>;
  /** Cancel every queued job of a session; returns how many. */
  cancelQueued(code: string): Promise<number>;
  counts(code: string): Promise<JobCounts>;
  /** Results stored in this session since `since` (for throughput). */
  doneSince(code: string, since: number): Promise<number>;
  listJobs(code: string, opts?: { state?: JobState; limit?: number; offset?: number }): Promise<JobRow[]>;
  /** Results in the order they were stored (at most 100,000 a call). */
  listResults(code: string, opts?: { limit?: number; offset?: number }): Promise<ResultRow[]>;
  /** Every result stored so far, `pageSize` rows at a time (exports stream these). */
  resultPages(code: string, pageSize?: number): Promise<ResultPages>;
  /**
   * Stored vectors in insertion order, those with `n` above `afterN` (default: all), of one
   * session or (no `code`) of the whole store, at most `limit` (default 100000).
   */
  listVectors(opts?: { code?: string; afterN?: number; limit?: number }): Promise<VectorRow[]>;
  /**
   * Active jobs whose coordinator process is gone back to the front of their queues. SQLite
   * (one process): at start-up, every active job. PostgreSQL: jobs whose owner has not sent a
   * heartbeat for `staleMs`. A job whose lease ran out meanwhile counts a failed attempt
   * (failed once attempts reach `maxAttempts`): leases hold across restarts.
   */
  recoverActive(now: number, staleMs: number, maxAttempts?: number): Promise<number>;
  /** This process is alive (shared stores only; a no-op for SQLite). */
  heartbeat(owner: string, now: number): Promise<void>;
  close(): Promise<void>;
}

export const emptyCounts = (): JobCounts => ({ queued: 0, active: 0, done: 0, failed: 0, cancelled: 0 });


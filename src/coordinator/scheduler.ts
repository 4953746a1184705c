// SPDX-License-Identifier: MIT
/**
 * Scheduling as the ChaarFM server does it, without its weak points (spec, "How the server
 * schedules"): sessions keyed by pairing code, each with a queue, its worker sockets and at
 * most one job per socket. A result is accepted only from the socket that holds that job; a
 * closed socket's job goes back to the front of the queue, and after `drops` sockets closed
 * while holding it (a track that crashes or exhausts every worker that takes it) it is failed;
 * a job not answered within the lease goes back to the front too (and its socket is closed);
 * after `retries` failed attempts a job is failed with its last error. The store holds every
 * job, result and lease; the session runtimes (session-runtime.ts) hold only the live sockets.
 * All changes to one session run one after another.
 */
import { randomUUID } from 'node:crypto';
import { LogEvent } from '../log/events.js';
import type { Logger } from '../log/logger.js';
import type { GenrePayload } from '../protocol/messages.js';
import { sessionKey } from './codes.js';
import { SessionRuntime, type HotResult, type Level, type UiLink, type WorkerLink, type WorkerPeer } from './session-runtime.js';
import { sessionStatus, type SessionStatusReport } from './session-status.js';
import { jobsForStart, toNewJob, type ControlMessage, type ControlOutcome } from './start-jobs.js';
import type { JobRow, SessionRow, SessionStatus, Store } from './store.js';
import { urlTrack, type TrackInput } from './tracks.js';
import { checkDownloadData, checkGenreData, type WorkerInfo } from './validate.js';

export type { ControlMessage, ControlOutcome } from './start-jobs.js';
export type { Level, UiLink, WorkerLink, WorkerPeer } from './session-runtime.js';
export type { SessionStatusReport, WorkerStatus } from './session-status.js';

/** A worker's result frame after the socket layer parsed it. */
export type ResultFrame =
  | { jobId: string; status: 'success'; data: unknown }
  | { jobId: string; status: 'failed'; error: string }
  | { jobId: string; status: 'invalid'; reason: string };

export interface SchedulerOptions {
  store: Store;
  /** A job not answered within this goes back to the queue (default 15 min). */
  leaseMs?: number;
  /** Failed attempts after which a job is failed (default 3). */
  retries?: number;
  /** Worker sockets lost while holding one job after which it is failed (default 3). */
  drops?: number;
  /** Any code opens a session, as the original server does. */
  acceptAnyCode?: boolean;
  /** Lifetime of a code made by createSession (default 30 days). */
  codeTtlMs?: number;
  log: Logger;
}

export type Resolved = { ok: true; session: SessionRow } | { ok: false; why: 'unknown' | 'expired' };

/** Lifetime of a session opened by --accept-any-code (the original server's codes never end). */
const ANY_CODE_TTL_MS = 100 * 365 * 24 * 3600_000;

export class Scheduler {
  readonly leaseMs: number;
  readonly retries: number;
  readonly drops: number;
  readonly acceptAnyCode: boolean;
  readonly codeTtlMs: number;
  private readonly store: Store;
  private readonly log: Logger;
  private readonly sessions = new Map<string, SessionRuntime>();
  /** Jobs whose worker said the source limits it (`rate_limited`): their next failure is not counted. */
  private readonly sourceLimited = new WeakMap<WorkerPeer, string>();
  private peerCounter = 0;
  private closing = false;
  /** This process, in claim tokens and the shared store's heartbeat. */
  readonly owner = randomUUID();
  private tickTimer: NodeJS.Timeout | null = null;
  private ticking = false;

  constructor(opts: SchedulerOptions) {
    this.store = opts.store;
    this.log = opts.log;
    this.leaseMs = opts.leaseMs ?? 15 * 60_000;
    this.retries = opts.retries ?? 3;
    this.drops = opts.drops ?? 3;
    this.acceptAnyCode = opts.acceptAnyCode ?? false;
    this.codeTtlMs = opts.codeTtlMs ?? 30 * 24 * 3600_000;
    if (!(this.leaseMs > 0)) throw new RangeError(`Expected a positive lease for leaseMs but received ${this.leaseMs}`);
    if (!Number.isInteger(this.retries) || this.retries < 1)
      throw new RangeError(`Expected an integer of at least 1 for retries but received ${this.retries}`);
    if (!Number.isInteger(this.drops) || this.drops < 1) throw new RangeError(`Expected an integer of at least 1 for drops but received ${this.drops}`);
  }

  /** Session runtimes in memory now (sessions with live sockets or work in flight). */
  get liveSessions(): number {
    return this.sessions.size;
  }

  /** Make a new session with a fresh code. */
  async createSession(code: string, ttlMs = this.codeTtlMs): Promise<SessionRow> {
    const now = Date.now();
    return this.store.createSession(code, now + ttlMs, now);
  }

  /**
   * Find the session a code in a URL names. With --accept-any-code an unknown code opens a
   * session without writing anything: its row is made on its first change (a start, queued
   * tracks), so guesses cost no storage.
   */
  async resolve(rawCode: string): Promise<Resolved> {
    const key = sessionKey(rawCode, this.acceptAnyCode);
    if (!key) return { ok: false, why: 'unknown' };
    const row = await this.store.getSession(key);
    if (!row && this.acceptAnyCode) {
      const now = Date.now();
      return { ok: true, session: { code: key, createdAt: now, expiresAt: now + ANY_CODE_TTL_MS, status: 'idle', message: '' } };
    }
    if (!row) return { ok: false, why: 'unknown' };
    if (row.expiresAt <= Date.now()) return { ok: false, why: 'expired' };
    return { ok: true, session: row };
  }

  /** Recover the jobs of coordinator processes that are gone (at start, and on every tick of a shared store). */
  async recover(staleMs: number): Promise<number> {
    return this.store.recoverActive(Date.now(), staleMs, this.retries);
  }

  private runtime(row: SessionRow): SessionRuntime {
    let s = this.sessions.get(row.code);
    if (!s) {
      s = new SessionRuntime(row.code, row, !this.acceptAnyCode);
      this.sessions.set(row.code, s);
    }
    return s;
  }

  /** Forget a runtime that has nothing attached and nothing in flight (the store has the rest). */
  private release(s: SessionRuntime): void {
    if (s.idle() && this.sessions.get(s.code) === s) this.sessions.delete(s.code);
  }

  /** The session's row exists before its first change (see resolve). */
  private async persist(s: SessionRuntime): Promise<void> {
    if (s.stored) return;
    const now = Date.now();
    await this.store.ensureSession(s.code, now + ANY_CODE_TTL_MS, now);
    s.stored = true;
  }

  private async setStatus(s: SessionRuntime, status: SessionStatus, message: string, level: Level = 'info'): Promise<void> {
    // stopping a session that was never used (--accept-any-code) leaves nothing to store
    const store = s.stored || status !== 'stopped';
    if (store) await this.persist(s);
    s.status = status;
    s.message = message;
    if (status === 'running') s.runningSince = Date.now();
    if (store) await this.store.setSessionStatus(s.code, status, message);
    s.broadcast(s.stateMessage(level));
  }

  // ---- page sockets -------------------------------------------------------------------------

  attachUi(row: SessionRow, ui: UiLink): () => void {
    const s = this.runtime(row);
    s.uis.add(ui);
    ui.send(s.stateMessage('info'));
    return () => {
      s.uis.delete(ui);
      this.release(s);
    };
  }

  // ---- worker sockets -----------------------------------------------------------------------

  /** A worker socket joined `row`'s session: it gets a job at once when one is waiting. */
  async attachWorker(row: SessionRow, link: WorkerLink): Promise<WorkerPeer> {
    const s = this.runtime(row);
    const peer: WorkerPeer = {
      id: `w${++this.peerCounter}`,
      code: s.code,
      token: `${this.owner}/w${this.peerCounter}`,
      link,
      connectedAt: Date.now(),
      info: null,
      job: null,
      closed: false,
      done: 0,
      failed: 0,
      leaseTimer: null,
    };
    await s.run(async () => {
      s.workers.set(peer.id, peer);
      this.log.info('worker connected', { code: s.code, worker: peer.id, remote: link.remote, workers: s.workers.size });
      s.pageLog(`Worker ${peer.id} connected (${s.workers.size} now)`);
      s.broadcast(s.stateMessage('info'));
      await this.dispatch(s);
    });
    return peer;
  }

  private sessionOf(peer: WorkerPeer): SessionRuntime | undefined {
    const s = this.sessions.get(peer.code);
    return s && s.workers.get(peer.id) === peer ? s : undefined;
  }

  workerName(peer: WorkerPeer): string {
    return peer.info?.name ? `${peer.info.name} (${peer.id})` : peer.id;
  }

  hello(peer: WorkerPeer, info: WorkerInfo): void {
    peer.info = info;
    const s = this.sessionOf(peer);
    this.log.info('worker hello', { worker: peer.id, name: info.name, version: info.version, backend: info.backend, platform: info.platform });
    s?.pageLog(`Worker ${this.workerName(peer)}: chaarfm-worker ${info.version}, ${info.backend}, ${info.platform}`);
  }

  progress(peer: WorkerPeer, jobId: string, stage: string, fraction: number): void {
    if (!peer.job || peer.job.id !== jobId) return;
    peer.job.stage = stage;
    peer.job.fraction = fraction;
    const s = this.sessionOf(peer);
    if (s && s.uis.size) s.broadcast({ type: 'progress', job_id: jobId, label: peer.job.label, worker: this.workerName(peer), stage, fraction });
  }

  /**
   * Hook: the worker says the job it holds failed on the source's limits (YouTube's bot check,
   * HTTP 429), not on its track; the `failed` result that follows is requeued without counting
   * an attempt against `--retries`.
   */
  sourceLimitedNote(peer: WorkerPeer, jobId: string): void {
    if (peer.job?.id === jobId) this.sourceLimited.set(peer, jobId);
  }

  /**
   * The socket closed: its job goes back to the front of the queue for another worker. An
   * abnormal close (no close frame, as when the worker process crashed or was killed for its
   * memory) counts a drop of that job; after `drops` of them the job fails with that reason.
   * A clean close (the worker stopping) does not count.
   */
  async workerClosed(peer: WorkerPeer, why: string, abnormal = true): Promise<void> {
    const s = this.sessionOf(peer);
    if (!s) return;
    await s.run(async () => {
      peer.closed = true;
      this.clearLease(peer);
      s.workers.delete(peer.id);
      const job = peer.job;
      peer.job = null;
      this.log.info('worker disconnected', { code: s.code, worker: peer.id, why, workers: s.workers.size });
      if (job && !this.closing) {
        const error = `Lost ${this.drops} worker(s) while running it (the track may crash the worker or exhaust its memory); the last closed with ${why}`;
        const outcome = abnormal ? await this.store.dropHeld(job.id, peer.token, this.drops, error, Date.now()) : (await this.store.requeueFront(job.id, peer.token)) ? 'queued' : 'not-active';
        if (outcome === 'failed') {
          this.log.warn('job failed', { job: job.id, label: job.label, error, drops: this.drops });
          s.pageLog(`Failed: ${job.label}: ${error}`, 'error');
        } else {
          this.log.info('job back to the front of the queue', { job: job.id, label: job.label, worker: peer.id, counted: abnormal });
          s.pageLog(`Worker ${this.workerName(peer)} left during "${job.label}"; it goes back to the front of the queue`, 'warning');
        }
      } else s.pageLog(`Worker ${this.workerName(peer)} disconnected (${s.workers.size} left)`);
      s.broadcast(s.stateMessage('info'));
      if (!this.closing) {
        await this.dispatch(s);
        await this.maybeComplete(s);
      }
    });
    this.release(s);
  }

  /**
   * A result frame from `peer`. Refused (logged, nothing stored) unless `peer` holds that job
   * when it arrives. Valid download results take the one completion path, the group commit
   * (flushHot); failures, invalid results and genre results are handled one by one.
   */
  async result(peer: WorkerPeer, r: ResultFrame): Promise<void> {
    const s = this.sessionOf(peer);
    if (!s) return;
    const held = peer.job?.id === r.jobId ? peer.job : null;
    if (r.status === 'success' && held?.kind === 'download') {
      const d = checkDownloadData(r.data);
      if (d instanceof Error) r = { jobId: r.jobId, status: 'invalid', reason: d.message };
      else {
        // Results that arrive while a commit runs share the next one, with their sockets' next jobs.
        s.hot.push({ peer, jobId: r.jobId, data: d, at: Date.now() });
        s.hotFlush ??= s.run(() => this.flushHot(s));
        return s.hotFlush;
      }
    }
    const frame = r;
    await s.run(async () => {
      const job = peer.job;
      if (!held || job !== held) {
        this.log.warn(LogEvent.refusedResultNotHeld, { worker: peer.id, job: frame.jobId.slice(0, 80), holds: job?.id ?? null });
        return;
      }
      this.clearLease(peer);
      peer.job = null;
      const now = Date.now();
      let failure: string | null = null;
      if (frame.status === 'failed') failure = frame.error;
      else if (frame.status === 'invalid') failure = `Invalid result: ${frame.reason}`;
      else {
        const urls = checkGenreData(frame.data);
        if (urls instanceof Error) failure = `Invalid result: ${urls.message}`;
        else {
          const row = await this.store.getJob(job.id);
          const added = await this.store.completeGenre(job.id, peer.token, urls.map((u) => toNewJob(urlTrack(u))), row?.requestedCount ?? null, now);
          if (added) {
            peer.done++;
            const genre = (row?.payload as GenrePayload | undefined)?.genre ?? '';
            this.log.info('genre fetched', { job: job.id, genre, returned: urls.length, queued: added.added, duplicates: added.duplicates });
            s.pageLog(`Genre "${genre}": ${urls.length} tracks found, ${added.added} queued (${added.duplicates} already known)`, 'success');
          }
        }
      }
      const notCounted = frame.status === 'failed' && this.sourceLimited.get(peer) === job.id;
      this.sourceLimited.delete(peer);
      if (failure !== null && notCounted && (await this.store.requeueFront(job.id, peer.token))) {
        this.log.info('job met the source\'s limits on its worker; queued again, not counted as an attempt', { job: job.id, label: job.label, error: failure });
        s.pageLog(`${job.label}: ${failure}; the source limits ${this.workerName(peer)}, so it is queued again (not counted as an attempt)`, 'warning');
      } else if (failure !== null) {
        peer.failed++;
        if (frame.status !== 'failed') this.log.warn(LogEvent.refusedResult, { worker: peer.id, job: job.id, reason: failure });
        const outcome = await this.store.failAttempt(job.id, peer.token, failure, this.retries, now, false);
        if (outcome === 'failed') {
          this.log.warn('job failed', { job: job.id, label: job.label, error: failure, attempts: this.retries });
          s.pageLog(`Failed: ${job.label}: ${failure}`, 'error');
        } else if (outcome === 'queued') {
          this.log.info('job attempt failed, queued again', { job: job.id, label: job.label, error: failure });
          s.pageLog(`Attempt failed for ${job.label} (${failure}); queued again`, 'warning');
        }
      }
      await this.dispatch(s);
      await this.maybeComplete(s);
    });
  }

  /** Store the waiting valid results and claim their sockets' next jobs, in one transaction. */
  private async flushHot(s: SessionRuntime): Promise<void> {
    s.hotFlush = null;
    const items = s.hot.splice(0);
    const held: { it: HotResult; job: NonNullable<WorkerPeer['job']> }[] = [];
    for (const it of items) {
      const job = it.peer.job;
      if (!job || job.id !== it.jobId) {
        this.log.warn(LogEvent.refusedResultNotHeld, { worker: it.peer.id, job: it.jobId.slice(0, 80), holds: job?.id ?? null });
        continue;
      }
      this.clearLease(it.peer);
      it.peer.job = null;
      held.push({ it, job });
    }
    if (!held.length) return;
    const running = s.status === 'running' && !this.closing;
    const t = Date.now();
    const outs = await this.store.completeAndClaimMany(
      held.map(({ it, job }) => ({
        id: job.id,
        token: it.peer.token,
        result: { ...it.data, worker: it.peer.info?.name || it.peer.id, finishedAt: it.at },
        next: running && !it.peer.closed ? { code: s.code, claim: this.claimOf(it.peer), now: t, leaseUntil: t + this.leaseMs } : null,
      })),
    );
    outs.forEach((o, i) => {
      const { it, job } = held[i];
      const { peer, data: d } = it;
      if (o.next) this.assign(s, peer, o.next, t);
      if (!o.stored) return void this.log.warn('dropped a result: its job was taken back from this socket', { worker: peer.id, job: job.id });
      peer.done++;
      const ms = it.at - job.startedAt;
      this.log.info(LogEvent.resultStored, { job: job.id, label: `${d.artist} - ${d.title}`, worker: peer.id, ms });
      if (s.uis.size) s.pageLog(`Done: ${d.artist} - ${d.title} (${this.workerName(peer)}, ${(ms / 1000).toFixed(1)} s)`, 'success');
    });
    await this.maybeComplete(s);
  }

  private clearLease(peer: WorkerPeer): void {
    if (peer.leaseTimer) clearTimeout(peer.leaseTimer);
    peer.leaseTimer = null;
  }

  private async leaseExpired(s: SessionRuntime, peer: WorkerPeer, jobId: string): Promise<void> {
    await s.run(async () => {
      const job = peer.job;
      if (!job || job.id !== jobId || peer.closed) return;
      peer.job = null;
      peer.leaseTimer = null;
      const error = `No result within the ${formatMs(this.leaseMs)} lease (worker ${this.workerName(peer)})`;
      const outcome = await this.store.failAttempt(job.id, peer.token, error, this.retries, Date.now(), true);
      this.log.warn(LogEvent.jobLeaseExpired, { job: job.id, label: job.label, worker: peer.id, outcome });
      s.pageLog(`${job.label}: ${error}; ${outcome === 'failed' ? 'failed' : 'back to the front of the queue'}`, 'warning');
      // The worker is stuck on it: drop its socket (it reconnects and starts fresh). Marked
      // closed now, so the dispatch below does not hand a job (the same one, back at the front)
      // to this closing socket, where it would sit until the close completes (up to 30 s).
      peer.closed = true;
      peer.link.close(4008, 'job lease expired');
      await this.dispatch(s);
      await this.maybeComplete(s);
    });
  }

  /** Give a job to every idle worker while the session runs and the queue has jobs. */
  private async dispatch(s: SessionRuntime): Promise<void> {
    if (s.status !== 'running' || this.closing) return;
    for (const peer of s.workers.values()) {
      if (peer.job || peer.closed) continue;
      const now = Date.now();
      const job = await this.store.claimNext(s.code, this.claimOf(peer), now, now + this.leaseMs);
      if (!job) return;
      this.assign(s, peer, job, now);
    }
  }

  private claimOf(peer: WorkerPeer) {
    return { worker: peer.info?.name || peer.id, token: peer.token, owner: this.owner };
  }

  /** `peer` holds `job` (claimed in the store): start its lease and send it. */
  private assign(s: SessionRuntime, peer: WorkerPeer, job: JobRow, now: number): void {
    peer.job = { id: job.id, kind: job.kind, label: job.label, startedAt: now, stage: null, fraction: null };
    peer.leaseTimer = setTimeout(() => void this.leaseExpired(s, peer, job.id).catch((e) => this.internal(e)), this.leaseMs);
    peer.leaseTimer.unref?.();
    this.log.debug(LogEvent.jobSent, { job: job.id, worker: peer.id });
    peer.link.send({ type: 'job', job_id: job.id, payload: wirePayload(job) });
  }

  private async maybeComplete(s: SessionRuntime): Promise<void> {
    if (s.status !== 'running') return;
    // A job in hand here means not complete; skip counting the whole session on every result.
    for (const p of s.workers.values()) if (p.job) return;
    const c = await this.store.counts(s.code);
    if (c.queued === 0 && c.active === 0)
      await this.setStatus(s, 'complete', `Complete: ${c.done} done, ${c.failed} failed`, c.failed ? 'warning' : 'success');
  }

  private internal(e: unknown): void {
    this.log.error('scheduler error', { error: e instanceof Error ? (e.stack ?? e.message) : String(e) });
  }

  // ---- control: page messages and the JSON API ------------------------------------------------

  /** A page's start/pause/resume/stop (the same shapes over the API). */
  async control(row: SessionRow, msg: ControlMessage): Promise<ControlOutcome> {
    const s = this.runtime(row);
    const out = await s.run(async () => {
      const o = await this.controlLocked(s, msg);
      if (!o.ok) s.pageLog(o.message, 'warning');
      return o;
    });
    this.release(s);
    return out;
  }

  private async controlLocked(s: SessionRuntime, msg: ControlMessage): Promise<ControlOutcome> {
    switch (msg.type) {
      case 'pause':
        if (s.status !== 'running') return { ok: false, message: `Nothing to pause (the session is ${s.status})` };
        await this.setStatus(s, 'paused', 'Paused: running jobs finish, no new ones are sent');
        return { ok: true, message: s.message };
      case 'resume':
        if (s.status !== 'paused') return { ok: false, message: `Nothing to resume (the session is ${s.status})` };
        await this.setStatus(s, 'running', 'Resumed');
        await this.dispatch(s);
        await this.maybeComplete(s);
        return { ok: true, message: s.message };
      case 'stop': {
        const cleared = await this.store.cancelQueued(s.code);
        const c = await this.store.counts(s.code);
        await this.setStatus(s, 'stopped', `Stopped: ${cleared} queued job(s) cleared, ${c.active} running job(s) will finish`);
        return { ok: true, message: s.message };
      }
      case 'start':
        return this.start(s, msg);
      default:
        return { ok: false, message: `Unknown control message ${JSON.stringify(String(msg.type).slice(0, 40))}` };
    }
  }

  private async start(s: SessionRuntime, msg: ControlMessage): Promise<ControlOutcome> {
    const c = await this.store.counts(s.code);
    if ((msg.mode ?? 'queue') === 'queue') {
      if (c.queued === 0) return { ok: false, message: 'Nothing queued to start' };
      await this.setStatus(s, 'running', `Running: ${c.queued} job(s) queued`);
      await this.dispatch(s);
      return { ok: true, message: s.message };
    }
    if (c.queued + c.active > 0 && (s.status === 'running' || s.status === 'paused'))
      return { ok: false, message: `Jobs are still active (${c.active} running, ${c.queued} queued): wait, or stop first` };
    const asked = jobsForStart(msg);
    if ('refused' in asked) return asked.refused;
    const { jobs, invalid } = asked;
    await this.persist(s);
    const r = await this.store.addJobs(s.code, jobs);
    if (r.added === 0) return { ok: false, message: `Nothing new to queue (${r.duplicates} duplicate(s))`, added: 0, duplicates: r.duplicates, invalid };
    await this.setStatus(s, 'running', `Running: ${r.added} job(s) queued${r.duplicates ? `, ${r.duplicates} duplicate(s) skipped` : ''}`);
    await this.dispatch(s);
    return { ok: true, message: s.message, added: r.added, duplicates: r.duplicates, invalid };
  }

  /** Queue tracks (API); with `start` an idle, complete or stopped session starts running. */
  async enqueue(row: SessionRow, tracks: TrackInput[], start = true): Promise<{ added: number; duplicates: number }> {
    const s = this.runtime(row);
    const out = await s.run(async () => {
      if (tracks.length) await this.persist(s);
      const r = await this.store.addJobs(s.code, tracks.map(toNewJob));
      this.log.info('tracks queued', { code: s.code, added: r.added, duplicates: r.duplicates });
      if (r.added) s.pageLog(`${r.added} track(s) queued${r.duplicates ? `, ${r.duplicates} duplicate(s) skipped` : ''}`);
      if (start && r.added && s.status !== 'running' && s.status !== 'paused') await this.setStatus(s, 'running', `Running: ${r.added} job(s) queued`);
      await this.dispatch(s);
      return { added: r.added, duplicates: r.duplicates };
    });
    this.release(s);
    return out;
  }

  async status(row: SessionRow): Promise<SessionStatusReport> {
    const s = this.sessions.get(row.code) ?? new SessionRuntime(row.code, row);
    return sessionStatus(s, row, this.store);
  }

  /**
   * For a store shared by several processes: every `ms`, say this process is alive, requeue
   * the jobs of processes that are gone, adopt session states changed elsewhere, and give
   * waiting jobs (queued by another process) to idle workers here.
   */
  startTicking(ms: number, staleMs: number): void {
    if (this.tickTimer) return;
    this.tickTimer = setInterval(() => {
      if (this.ticking || this.closing) return;
      this.ticking = true;
      this.tick(staleMs)
        .catch((e: unknown) => this.internal(e))
        .finally(() => (this.ticking = false));
    }, ms);
    this.tickTimer.unref?.();
  }

  /** Stop the shared-store polling (shutdown does this; tests use it to play a hung process). */
  stopTicking(): void {
    if (this.tickTimer) clearInterval(this.tickTimer);
    this.tickTimer = null;
  }

  async tick(staleMs: number): Promise<void> {
    await this.store.heartbeat(this.owner, Date.now());
    const n = await this.recover(staleMs);
    if (n) this.log.warn(`${n} job(s) held by a coordinator process that stopped went back to the front of the queue`);
    for (const s of [...this.sessions.values()]) {
      if (!s.workers.size && !s.uis.size) continue;
      await s.run(async () => {
        const row = await this.store.getSession(s.code);
        if (row && (row.status !== s.status || row.message !== s.message)) {
          s.status = row.status;
          s.message = row.message;
          if (row.status === 'running') s.runningSince = Date.now();
          s.broadcast(s.stateMessage('info'));
        }
        await this.dispatch(s);
      });
    }
  }

  /** Stop scheduling; jobs in hand go back to the front of their queues. Sockets are closed by the server. */
  async shutdown(): Promise<void> {
    this.closing = true;
    if (this.tickTimer) clearInterval(this.tickTimer);
    for (const s of this.sessions.values())
      await s.run(async () => {
        for (const p of s.workers.values()) {
          this.clearLease(p);
          if (p.job) await this.store.requeueFront(p.job.id, p.token);
          p.job = null;
        }
      });
  }
}

/** 300 ms, 45 s, 15 min. */
export function formatMs(ms: number): string {
  if (ms < 1000) return `${ms} ms`;
  if (ms < 120_000) return `${Math.round(ms / 100) / 10} s`;
  return `${Math.round(ms / 6000) / 10} min`;
}

/** The payload as the wire carries it (download payloads with table_name, as the Python server sends). */
function wirePayload(job: JobRow): object {
  if (job.kind === 'fetch_genre') return job.payload;
  const p = job.payload as { artist: string | null; title: string | null; youtube_url: string | null };
  return { artist: p.artist, title: p.title, table_name: null, youtube_url: p.youtube_url };
}

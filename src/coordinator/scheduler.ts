// SPDX-License-Identifier: MIT
/**
 * Scheduling as the ChaarFM server does it, without its weak points (spec, "How the server
 * schedules"): sessions keyed by pairing code, each with a queue, its worker sockets and at
 * most one job per socket. A result is accepted only from the socket that holds that job; a
 * closed socket's job goes back to the front of the queue; a job not answered within the
 * lease goes back to the front too (and its socket is closed); after `retries` failed attempts
 * a job is failed with its last error. The store holds every job and result; this module keeps
 * only the live sockets. All changes to one session run one after another.
 */
import { randomUUID } from 'node:crypto';
import type { Logger } from '../log/logger.js';
import type { GenrePayload } from '../protocol/messages.js';
import { preview } from '../util/preview.js';
import { sessionKey } from './codes.js';
import type { JobKind, JobRow, NewJob, SessionRow, SessionStatus, Store } from './store.js';
import { parseTracks, urlTrack, type TrackInput } from './tracks.js';
import { checkDownloadData, checkGenreData, type CheckedDownload, type WorkerInfo } from './validate.js';

export type Level = 'info' | 'warning' | 'error' | 'success';

/** What the scheduler needs from a worker socket. */
export interface WorkerLink {
  send(msg: object): void;
  close(code: number, reason: string): void;
  readonly remote: string;
}

/** What the scheduler needs from a page socket. */
export interface UiLink {
  send(msg: object): void;
}

export interface WorkerPeer {
  readonly id: string;
  /** The session key this socket joined. */
  readonly code: string;
  /** This socket's claim token, unique across coordinator processes. */
  readonly token: string;
  readonly link: WorkerLink;
  readonly connectedAt: number;
  info: WorkerInfo | null;
  job: { id: string; kind: JobKind; label: string; startedAt: number; stage: string | null; fraction: number | null } | null;
  closed: boolean;
  done: number;
  failed: number;
  leaseTimer: NodeJS.Timeout | null;
}

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
  /** Any code opens a session, as the original server does. */
  acceptAnyCode?: boolean;
  /** Lifetime of a code made by createSession (default 30 days). */
  codeTtlMs?: number;
  log: Logger;
}

export type Resolved = { ok: true; session: SessionRow } | { ok: false; why: 'unknown' | 'expired' };

export interface ControlMessage {
  type: string;
  mode?: unknown;
  youtubeUrl?: unknown;
  genre?: unknown;
  requestedCount?: unknown;
  useMax?: unknown;
  lines?: unknown;
  text?: unknown;
}

export interface ControlOutcome {
  ok: boolean;
  message: string;
  added?: number;
  duplicates?: number;
  invalid?: { line: number; text: string; reason: string }[];
}

interface HotResult {
  peer: WorkerPeer;
  jobId: string;
  data: CheckedDownload;
  at: number;
}

class SessionRuntime {
  status: SessionStatus;
  message: string;
  readonly workers = new Map<string, WorkerPeer>();
  readonly uis = new Set<UiLink>();
  /** When the current run started or resumed (for throughput). */
  runningSince = Date.now();
  /** Valid download results waiting for the next group commit. */
  readonly hot: HotResult[] = [];
  hotFlush: Promise<void> | null = null;
  private chain: Promise<unknown> = Promise.resolve();

  constructor(readonly code: string, row: SessionRow) {
    this.status = row.status;
    this.message = row.message;
  }

  /** Run `fn` after everything queued before it on this session. */
  run<T>(fn: () => Promise<T>): Promise<T> {
    const p = this.chain.then(fn, fn);
    this.chain = p.catch(() => undefined);
    return p;
  }
}

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
  queue: Record<string, number>;
  throughput_per_min: number;
  eta_s: number | null;
}

const THROUGHPUT_WINDOW_MS = 5 * 60_000;

export class Scheduler {
  readonly leaseMs: number;
  readonly retries: number;
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
    this.acceptAnyCode = opts.acceptAnyCode ?? false;
    this.codeTtlMs = opts.codeTtlMs ?? 30 * 24 * 3600_000;
    if (!(this.leaseMs > 0)) throw new RangeError(`Expected a positive lease for leaseMs but received ${this.leaseMs}`);
    if (!Number.isInteger(this.retries) || this.retries < 1)
      throw new RangeError(`Expected an integer of at least 1 for retries but received ${this.retries}`);
  }

  /** Make a new session with a fresh code. */
  async createSession(code: string, ttlMs = this.codeTtlMs): Promise<SessionRow> {
    const now = Date.now();
    return this.store.createSession(code, now + ttlMs, now);
  }

  /** Find the session a code in a URL names (creating it with --accept-any-code). */
  async resolve(rawCode: string): Promise<Resolved> {
    const key = sessionKey(rawCode, this.acceptAnyCode);
    if (!key) return { ok: false, why: 'unknown' };
    let row = await this.store.getSession(key);
    if (!row && this.acceptAnyCode) {
      try {
        row = await this.store.createSession(key, Date.now() + 100 * 365 * 24 * 3600_000, Date.now());
      } catch {
        row = await this.store.getSession(key); // made at the same moment by another socket
      }
    }
    if (!row) return { ok: false, why: 'unknown' };
    if (row.expiresAt <= Date.now()) return { ok: false, why: 'expired' };
    return { ok: true, session: row };
  }

  private runtime(row: SessionRow): SessionRuntime {
    let s = this.sessions.get(row.code);
    if (!s) {
      s = new SessionRuntime(row.code, row);
      this.sessions.set(row.code, s);
    }
    return s;
  }

  // ---- page sockets -------------------------------------------------------------------------

  attachUi(row: SessionRow, ui: UiLink): () => void {
    const s = this.runtime(row);
    s.uis.add(ui);
    ui.send(this.stateMessage(s, 'info'));
    return () => s.uis.delete(ui);
  }

  private stateMessage(s: SessionRuntime, level: Level) {
    return { type: 'state', status: s.status, message: s.message, level, worker_count: s.workers.size };
  }

  private broadcast(s: SessionRuntime, msg: object): void {
    for (const u of s.uis) {
      try {
        u.send(msg);
      } catch {
        /* a closing page socket */
      }
    }
  }

  private pageLog(s: SessionRuntime, message: string, level: Level = 'info'): void {
    this.broadcast(s, { type: 'log', message, level });
  }

  private async setStatus(s: SessionRuntime, status: SessionStatus, message: string, level: Level = 'info'): Promise<void> {
    s.status = status;
    s.message = message;
    if (status === 'running') s.runningSince = Date.now();
    await this.store.setSessionStatus(s.code, status, message);
    this.broadcast(s, this.stateMessage(s, level));
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
      this.pageLog(s, `Worker ${peer.id} connected (${s.workers.size} now)`);
      this.broadcast(s, this.stateMessage(s, 'info'));
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
    if (s) this.pageLog(s, `Worker ${this.workerName(peer)}: chaarfm-worker ${info.version}, ${info.backend}, ${info.platform}`);
  }

  progress(peer: WorkerPeer, jobId: string, stage: string, fraction: number): void {
    if (!peer.job || peer.job.id !== jobId) return;
    peer.job.stage = stage;
    peer.job.fraction = fraction;
    const s = this.sessionOf(peer);
    if (s && s.uis.size) this.broadcast(s, { type: 'progress', job_id: jobId, label: peer.job.label, worker: this.workerName(peer), stage, fraction });
  }

  /**
   * Hook: the worker says the job it holds failed on the source's limits (YouTube's bot check,
   * HTTP 429), not on its track; the `failed` result that follows is requeued without counting
   * an attempt against `--retries`.
   */
  sourceLimitedNote(peer: WorkerPeer, jobId: string): void {
    if (peer.job?.id === jobId) this.sourceLimited.set(peer, jobId);
  }

  /** The socket closed: its job goes back to the front of the queue for another worker. */
  async workerClosed(peer: WorkerPeer, why: string): Promise<void> {
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
        await this.store.requeueFront(job.id, peer.token);
        this.log.info('job back to the front of the queue', { job: job.id, label: job.label, worker: peer.id });
        this.pageLog(s, `Worker ${this.workerName(peer)} left during "${job.label}"; it goes back to the front of the queue`, 'warning');
      } else this.pageLog(s, `Worker ${this.workerName(peer)} disconnected (${s.workers.size} left)`);
      this.broadcast(s, this.stateMessage(s, 'info'));
      if (!this.closing) await this.dispatch(s);
    });
  }

  /** A result frame from `peer`. Refused (logged, nothing stored) unless `peer` holds that job. */
  async result(peer: WorkerPeer, r: ResultFrame): Promise<void> {
    const s = this.sessionOf(peer);
    if (!s) return;
    if (r.status === 'success' && peer.job?.id === r.jobId && peer.job.kind === 'download') {
      const d = checkDownloadData(r.data);
      if (!(d instanceof Error)) {
        // The hot path: valid results are stored, and their sockets' next jobs claimed, in
        // group commits (one transaction for all that arrived while the last one ran).
        s.hot.push({ peer, jobId: r.jobId, data: d, at: Date.now() });
        s.hotFlush ??= s.run(() => this.flushHot(s));
        return s.hotFlush;
      }
    }
    await s.run(async () => {
      const job = peer.job;
      if (!job || job.id !== r.jobId) {
        this.log.warn('refused a result for a job this socket does not hold', { worker: peer.id, job: r.jobId.slice(0, 80), holds: job?.id ?? null });
        return;
      }
      this.clearLease(peer);
      peer.job = null;
      const now = Date.now();
      const ms = now - job.startedAt;
      const who = this.workerName(peer);
      let failure: string | null = null;
      if (r.status === 'failed') failure = r.error;
      else if (r.status === 'invalid') failure = `Invalid result: ${r.reason}`;
      else if (job.kind === 'download') {
        const d = checkDownloadData(r.data);
        if (d instanceof Error) failure = `Invalid result: ${d.message}`;
        else {
          const input = { ...d, worker: peer.info?.name || peer.id, finishedAt: now };
          let stored: boolean;
          if (s.status === 'running' && !this.closing) {
            // The hot path: store this result and claim this socket's next job in one commit.
            const t = Date.now();
            const out = await this.store.completeAndClaim(job.id, peer.token, input, { code: s.code, claim: this.claimOf(peer), now: t, leaseUntil: t + this.leaseMs });
            stored = out.stored;
            if (out.next) this.assign(s, peer, out.next, t);
          } else stored = await this.store.completeDownload(job.id, peer.token, input);
          if (stored) {
            peer.done++;
            this.log.info('result stored', { job: job.id, label: `${d.artist} - ${d.title}`, worker: peer.id, ms });
            this.pageLog(s, `Done: ${d.artist} - ${d.title} (${who}, ${(ms / 1000).toFixed(1)} s)`, 'success');
          } else this.log.warn('dropped a result: its job was taken back from this socket', { worker: peer.id, job: job.id });
        }
      } else {
        const urls = checkGenreData(r.data);
        if (urls instanceof Error) failure = `Invalid result: ${urls.message}`;
        else {
          const row = await this.store.getJob(job.id);
          const tracks = urls.map((u) => toNewJob(urlTrack(u)));
          const added = await this.store.completeGenre(job.id, peer.token, tracks, row?.requestedCount ?? null, now);
          if (added) {
            peer.done++;
            const genre = (row?.payload as GenrePayload | undefined)?.genre ?? '';
            this.log.info('genre fetched', { job: job.id, genre, returned: urls.length, queued: added.added, duplicates: added.duplicates });
            this.pageLog(s, `Genre "${genre}": ${urls.length} tracks found, ${added.added} queued (${added.duplicates} already known)`, 'success');
          }
        }
      }
      const notCounted = r.status === 'failed' && this.sourceLimited.get(peer) === job.id;
      this.sourceLimited.delete(peer);
      if (failure !== null && notCounted && (await this.store.requeueFront(job.id, peer.token))) {
        this.log.info('job met the source\'s limits on its worker; queued again, not counted as an attempt', { job: job.id, label: job.label, error: failure });
        this.pageLog(s, `${job.label}: ${failure}; the source limits ${who}, so it is queued again (not counted as an attempt)`, 'warning');
      } else if (failure !== null) {
        peer.failed++;
        if (r.status !== 'failed') this.log.warn('refused a result, nothing stored', { worker: peer.id, job: job.id, reason: failure });
        const outcome = await this.store.failAttempt(job.id, peer.token, failure, this.retries, now, false);
        if (outcome === 'failed') {
          this.log.warn('job failed', { job: job.id, label: job.label, error: failure, attempts: this.retries });
          this.pageLog(s, `Failed: ${job.label}: ${failure}`, 'error');
        } else if (outcome === 'queued') {
          this.log.info('job attempt failed, queued again', { job: job.id, label: job.label, error: failure });
          this.pageLog(s, `Attempt failed for ${job.label} (${failure}); queued again`, 'warning');
        }
      }
      await this.dispatch(s);
      await this.maybeComplete(s);
    });
  }

  private async flushHot(s: SessionRuntime): Promise<void> {
    s.hotFlush = null;
    const items = s.hot.splice(0);
    const held: { it: HotResult; job: NonNullable<WorkerPeer['job']> }[] = [];
    for (const it of items) {
      const job = it.peer.job;
      if (!job || job.id !== it.jobId) {
        this.log.warn('refused a result for a job this socket does not hold', { worker: it.peer.id, job: it.jobId.slice(0, 80), holds: job?.id ?? null });
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
      this.log.info('result stored', { job: job.id, label: `${d.artist} - ${d.title}`, worker: peer.id, ms });
      if (s.uis.size) this.pageLog(s, `Done: ${d.artist} - ${d.title} (${this.workerName(peer)}, ${(ms / 1000).toFixed(1)} s)`, 'success');
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
      this.log.warn('job lease expired', { job: job.id, label: job.label, worker: peer.id, outcome });
      this.pageLog(s, `${job.label}: ${error}; ${outcome === 'failed' ? 'failed' : 'back to the front of the queue'}`, 'warning');
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
    this.log.debug('job sent', { job: job.id, worker: peer.id });
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
    return s.run(async () => {
      const out = await this.controlLocked(s, msg);
      if (!out.ok) this.pageLog(s, out.message, 'warning');
      return out;
    });
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
    const mode = msg.mode ?? 'queue';
    const c = await this.store.counts(s.code);
    if (mode === 'queue') {
      if (c.queued === 0) return { ok: false, message: 'Nothing queued to start' };
      await this.setStatus(s, 'running', `Running: ${c.queued} job(s) queued`);
      await this.dispatch(s);
      return { ok: true, message: s.message };
    }
    if (c.queued + c.active > 0 && (s.status === 'running' || s.status === 'paused'))
      return { ok: false, message: `Jobs are still active (${c.active} running, ${c.queued} queued): wait, or stop first` };
    let jobs: NewJob[];
    let invalid: ControlOutcome['invalid'] = [];
    if (mode === 'single') {
      const u = typeof msg.youtubeUrl === 'string' ? msg.youtubeUrl.trim() : '';
      const p = parseTracks(u);
      if (!u || p.tracks.length !== 1 || !p.tracks[0].payload.youtube_url)
        return { ok: false, message: `Expected an http(s) URL for youtubeUrl but received ${JSON.stringify(u.slice(0, 80))}` };
      jobs = [toNewJob(p.tracks[0])];
    } else if (mode === 'genre') {
      const genre = typeof msg.genre === 'string' ? msg.genre.trim().slice(0, 100) : '';
      if (!genre) return { ok: false, message: 'Expected a genre name for genre' };
      let count: number | null = null;
      if (msg.useMax !== true && msg.requestedCount !== undefined && msg.requestedCount !== null) {
        // no Number() of an object: one whose toString is not a function makes it throw
        const n = typeof msg.requestedCount === 'object' ? NaN : Number(msg.requestedCount);
        if (!Number.isInteger(n) || n < 1 || n > 10000)
          return { ok: false, message: `Expected an integer from 1 to 10000 for requestedCount but received ${preview(msg.requestedCount)}` };
        count = n;
      }
      const payload: GenrePayload = { job_type: 'fetch_genre', genre, limit: count, quality_config: null };
      jobs = [{ kind: 'fetch_genre', payload, dedupeKey: null, label: `genre: ${genre}`, requestedCount: count }];
    } else if (mode === 'tracks') {
      const text = Array.isArray(msg.lines) ? msg.lines.filter((l) => typeof l === 'string').join('\n') : typeof msg.text === 'string' ? msg.text : '';
      const p = parseTracks(text);
      invalid = p.invalid;
      if (!p.tracks.length) return { ok: false, message: 'No tracks in the input (one URL or "Artist - Title" per line)', invalid };
      jobs = p.tracks.map(toNewJob);
    } else if (mode === 'lastfm') {
      return { ok: false, message: 'Last.fm import is not available on this coordinator: paste the tracks or upload a file instead' };
    } else return { ok: false, message: `Unknown start mode ${preview(mode)}` };
    const r = await this.store.addJobs(s.code, jobs);
    if (r.added === 0) return { ok: false, message: `Nothing new to queue (${r.duplicates} duplicate(s))`, added: 0, duplicates: r.duplicates, invalid };
    await this.setStatus(s, 'running', `Running: ${r.added} job(s) queued${r.duplicates ? `, ${r.duplicates} duplicate(s) skipped` : ''}`);
    await this.dispatch(s);
    return { ok: true, message: s.message, added: r.added, duplicates: r.duplicates, invalid };
  }

  /** Queue tracks (API); with `start` an idle, complete or stopped session starts running. */
  async enqueue(row: SessionRow, tracks: TrackInput[], start = true): Promise<{ added: number; duplicates: number }> {
    const s = this.runtime(row);
    return s.run(async () => {
      const r = await this.store.addJobs(s.code, tracks.map(toNewJob));
      this.log.info('tracks queued', { code: s.code, added: r.added, duplicates: r.duplicates });
      if (r.added) this.pageLog(s, `${r.added} track(s) queued${r.duplicates ? `, ${r.duplicates} duplicate(s) skipped` : ''}`);
      if (start && r.added && s.status !== 'running' && s.status !== 'paused')
        await this.setStatus(s, 'running', `Running: ${r.added} job(s) queued`);
      await this.dispatch(s);
      return { added: r.added, duplicates: r.duplicates };
    });
  }

  async status(row: SessionRow): Promise<SessionStatusReport> {
    const s = this.runtime(row);
    const now = Date.now();
    const queue = await this.store.counts(s.code);
    const window = Math.max(10_000, Math.min(THROUGHPUT_WINDOW_MS, now - s.runningSince));
    const recent = await this.store.doneSince(s.code, now - window);
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
    const now = Date.now();
    await this.store.heartbeat(this.owner, now);
    const n = await this.store.recoverActive(now, staleMs);
    if (n) this.log.warn(`${n} job(s) held by a coordinator process that stopped went back to the front of the queue`);
    for (const s of this.sessions.values()) {
      if (!s.workers.size && !s.uis.size) continue;
      await s.run(async () => {
        const row = await this.store.getSession(s.code);
        if (row && (row.status !== s.status || row.message !== s.message)) {
          s.status = row.status;
          s.message = row.message;
          if (row.status === 'running') s.runningSince = Date.now();
          this.broadcast(s, this.stateMessage(s, 'info'));
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

export function toNewJob(t: TrackInput): NewJob {
  return { kind: 'download', payload: t.payload, dedupeKey: t.dedupeKey, label: t.label };
}

/** The payload as the wire carries it (download payloads with table_name, as the Python server sends). */
function wirePayload(job: JobRow): object {
  if (job.kind === 'fetch_genre') return job.payload;
  const p = job.payload as { artist: string | null; title: string | null; youtube_url: string | null };
  return { artist: p.artist, title: p.title, table_name: null, youtube_url: p.youtube_url };
}

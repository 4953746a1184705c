// SPDX-License-Identifier: MIT
/**
 * One worker socket: connects to `/ws/remote/{code}/worker`, reconnects forever with backoff,
 * answers pings, runs at most one job at a time and sends exactly one result per job.
 * Every incoming frame is validated; bad frames are logged and answered with `failed` where
 * they carry a job id, never fatal.
 */
import { EventEmitter } from 'node:events';
import WebSocket from 'ws';
import type { Logger } from '../log/logger.js';
import {
  MAX_FRAME_BYTES,
  parseServerFrame,
  type HelloMessage,
  type JobMessage,
  type WorkerMessage,
} from '../protocol/messages.js';
import { firstLine, oneLineText } from '../util/values.js';
import { LEASE_HEADER, jobTimeoutFor, parseLeaseHeader } from '../protocol/lease.js';
import { Backoff, type BackoffOptions } from './backoff.js';
import { jobLabel, runJob, type JobOutcome, type JobRunnerDeps } from './job-runner.js';
import { ProgressThrottle } from './progress-throttle.js';

/** Frames above this are dropped by `ws` itself (the socket closes with 1009). */
const WS_MAX_PAYLOAD = 16 * MAX_FRAME_BYTES;

export interface ConnectionOptions {
  index: number;
  socketUrl: string;
  hello: HelloMessage['worker'];
  runner: JobRunnerDeps;
  log: Logger;
  backoff?: BackoffOptions;
  /** Client-side WebSocket ping interval; the socket is dropped when a pong is missing for this long. 0 = off. */
  heartbeatMs?: number;
  /** Minimum interval between progress frames (default 500 ms: twice a second). */
  progressIntervalMs?: number;
  userAgent?: string;
}

export interface ConnectionEvents {
  connected: [{ index: number; attempt: number }];
  disconnected: [{ index: number; code: number; reason: string; willRetryInMs: number | null }];
  'job-started': [{ index: number; jobId: string; label: string; kind: 'download' | 'fetch_genre' }];
  'job-progress': [{ index: number; jobId: string; label: string; stage: string; fraction: number }];
  'job-finished': [
    { index: number; jobId: string; label: string; status: 'success' | 'failed'; error?: string; ms: number; sent: boolean },
  ];
}

type State = 'idle' | 'connecting' | 'open' | 'waiting' | 'stopped';

/** Best effort: pull a job id out of a frame too large to parse. */
function sniffJobId(buf: Buffer): string | undefined {
  const head = buf.subarray(0, 65536).toString('utf8');
  if (!/"type"\s*:\s*"job"/.test(head)) return undefined;
  const m = /"job_id"\s*:\s*"([^"\\]{1,200})"/.exec(head);
  return m?.[1];
}

export class WorkerConnection extends EventEmitter<ConnectionEvents> {
  private ws: WebSocket | null = null;
  /** The job lease the server named at the upgrade (null: it named none). */
  private leaseMs: number | null = null;
  private state: State = 'idle';
  private readonly backoff: Backoff;
  private attempt = 0;
  private openedAt = 0;
  private reconnectTimer: NodeJS.Timeout | null = null;
  private heartbeatTimer: NodeJS.Timeout | null = null;
  private awaitingPong = false;
  private current: { id: string; ac: AbortController; done: Promise<void> } | null = null;
  private lastError = '';
  private readonly log: Logger;

  constructor(private readonly opts: ConnectionOptions) {
    super();
    this.backoff = new Backoff(opts.backoff);
    this.log = opts.log.child({ conn: opts.index + 1 });
  }

  get isOpen(): boolean {
    return this.state === 'open';
  }

  get busy(): boolean {
    return this.current !== null;
  }

  start(): void {
    if (this.state !== 'idle') return;
    this.connect();
  }

  /** Stop taking jobs, abort the job in hand (the server requeues it), close the socket. */
  async stop(): Promise<void> {
    if (this.state === 'stopped') return;
    this.state = 'stopped';
    if (this.reconnectTimer) clearTimeout(this.reconnectTimer);
    this.stopHeartbeat();
    const job = this.current;
    job?.ac.abort(new Error('worker stopping'));
    const ws = this.ws;
    if (ws && (ws.readyState === WebSocket.OPEN || ws.readyState === WebSocket.CONNECTING)) {
      await new Promise<void>((resolve) => {
        const t = setTimeout(() => {
          ws.terminate();
          resolve();
        }, 1000);
        ws.once('close', () => {
          clearTimeout(t);
          resolve();
        });
        if (ws.readyState === WebSocket.CONNECTING) ws.terminate();
        else ws.close(1001, 'worker shutting down');
      });
    }
    if (job) await job.done;
  }

  private connect(): void {
    if (this.state === 'stopped') return;
    this.state = 'connecting';
    this.attempt++;
    this.lastError = '';
    this.log.debug('connecting', { url: this.opts.socketUrl, attempt: this.attempt });
    const ws = new WebSocket(this.opts.socketUrl, {
      maxPayload: WS_MAX_PAYLOAD,
      handshakeTimeout: 15000,
      headers: this.opts.userAgent ? { 'User-Agent': this.opts.userAgent } : undefined,
    });
    this.ws = ws;
    this.leaseMs = null;
    ws.on('upgrade', (res) => {
      this.leaseMs = parseLeaseHeader(res.headers[LEASE_HEADER]);
    });
    ws.on('open', () => {
      if (this.ws !== ws) return;
      if (this.state === 'stopped') {
        ws.close(1001, 'worker shutting down');
        return;
      }
      this.state = 'open';
      this.openedAt = Date.now();
      this.send({ type: 'hello', worker: this.opts.hello });
      this.startHeartbeat(ws);
      this.emit('connected', { index: this.opts.index, attempt: this.attempt });
      this.attempt = 0;
    });
    ws.on('message', (data, isBinary) => {
      if (this.ws !== ws) return;
      const buf = Array.isArray(data) ? Buffer.concat(data) : Buffer.isBuffer(data) ? data : Buffer.from(data);
      this.onFrame(buf, isBinary);
    });
    ws.on('pong', () => {
      this.awaitingPong = false;
    });
    ws.on('error', (err) => {
      this.lastError = describeSocketError(err);
    });
    ws.on('close', (code, reasonBuf) => {
      if (this.ws !== ws) return;
      this.ws = null;
      this.stopHeartbeat();
      const lasted = this.openedAt ? Date.now() - this.openedAt : 0;
      this.openedAt = 0;
      const reason = this.lastError || closeText(code, reasonBuf.toString('utf8'));
      // The server requeues the job this socket held; finishing it would be wasted work.
      if (this.current) this.current.ac.abort(new Error('socket closed'));
      if (this.state === 'stopped') {
        this.emit('disconnected', { index: this.opts.index, code, reason, willRetryInMs: null });
        return;
      }
      this.backoff.connectionLasted(lasted);
      const delay = this.backoff.next();
      this.state = 'waiting';
      this.log.warn(`connection lost, reconnecting in ${(delay / 1000).toFixed(1)} s`, { reason });
      this.emit('disconnected', { index: this.opts.index, code, reason, willRetryInMs: delay });
      this.reconnectTimer = setTimeout(() => {
        this.reconnectTimer = null;
        this.connect();
      }, delay);
    });
  }

  private startHeartbeat(ws: WebSocket): void {
    const every = this.opts.heartbeatMs ?? 30000;
    if (!every) return;
    this.awaitingPong = false;
    this.heartbeatTimer = setInterval(() => {
      if (this.awaitingPong) {
        this.lastError = `no pong from the server for ${Math.round(every / 1000)} s`;
        ws.terminate();
        return;
      }
      this.awaitingPong = true;
      try {
        ws.ping();
      } catch {
        /* closing */
      }
    }, every);
    this.heartbeatTimer.unref?.();
  }

  private stopHeartbeat(): void {
    if (this.heartbeatTimer) clearInterval(this.heartbeatTimer);
    this.heartbeatTimer = null;
  }

  private send(msg: WorkerMessage): boolean {
    const ws = this.ws;
    if (!ws || ws.readyState !== WebSocket.OPEN) return false;
    ws.send(JSON.stringify(msg));
    return true;
  }

  private failJob(jobId: string, error: string): void {
    this.send({ type: 'result', job_id: jobId, status: 'failed', error });
  }

  private onFrame(buf: Buffer, isBinary: boolean): void {
    if (buf.length > MAX_FRAME_BYTES) {
      const id = sniffJobId(buf);
      this.log.warn('ignored a frame over 1 MiB', { bytes: buf.length, job_id: id });
      if (id && this.current?.id !== id) this.failJob(id, `Job frame too large (${buf.length} bytes; limit 1 MiB)`);
      return;
    }
    const parsed = parseServerFrame(buf, isBinary);
    if (!parsed.ok) {
      this.log.warn('ignored a bad frame', { reason: parsed.reason, frame: firstLine(buf.toString('utf8'), 120) });
      if (parsed.jobId && this.current?.id !== parsed.jobId) this.failJob(parsed.jobId, `Invalid job: ${parsed.reason}`);
      return;
    }
    const msg = parsed.message;
    if (msg.type === 'ping') {
      this.send({ type: 'pong' });
      return;
    }
    if (this.state === 'stopped') return;
    if (this.current) {
      if (this.current.id === msg.job_id) {
        this.log.warn('ignored a repeat of the job in hand', { job_id: msg.job_id });
        return;
      }
      this.log.warn('refused a second job while one is running on this connection', { job_id: msg.job_id });
      this.failJob(msg.job_id, `Worker busy: job ${oneLineText(this.current.id)} is still running on this connection`); // an id may hold a newline
      return;
    }
    this.startJob(msg);
  }

  private startJob(job: JobMessage): void {
    const ac = new AbortController();
    const ws = this.ws;
    let label = jobLabel(job);
    const index = this.opts.index;
    const kind = 'job_type' in job.payload && job.payload.job_type === 'fetch_genre' ? 'fetch_genre' : 'download';
    const throttle = new ProgressThrottle((stage, fraction) => {
      if (this.ws === ws) this.send({ type: 'progress', job_id: job.job_id, stage, fraction: Number(fraction.toFixed(4)) });
    }, this.opts.progressIntervalMs ?? 500);
    this.emit('job-started', { index, jobId: job.job_id, label, kind });
    const runner = { ...this.opts.runner, timeoutMs: jobTimeoutFor(this.opts.runner.timeoutMs, this.leaseMs) };
    const done = runJob(job, runner, {
      signal: ac.signal,
      onProgress: (stage, fraction) => {
        throttle.report(stage, fraction);
        this.emit('job-progress', { index, jobId: job.job_id, label, stage, fraction });
      },
      onLabel: (l) => {
        label = l;
      },
    })
      .then((out: JobOutcome) => {
        throttle.cancel();
        let sent = false;
        if (!out.aborted && this.ws === ws) {
          if (out.sourceLimited && out.result.status === 'failed')
            this.send({ type: 'rate_limited', job_id: job.job_id, reason: out.result.error.slice(0, 300) });
          sent = this.send(out.result);
        }
        const r = out.result;
        this.emit('job-finished', {
          index,
          jobId: job.job_id,
          label: out.label,
          status: r.status,
          error: r.status === 'failed' ? r.error : undefined,
          ms: out.ms,
          sent,
        });
      })
      .catch((e: unknown) => {
        // runJob never throws; this is a last line of defence.
        this.log.error('job runner crashed', { error: e instanceof Error ? e.stack : String(e) });
        this.failJob(job.job_id, 'Vectorization failed: internal error');
      })
      .finally(() => {
        if (this.current?.id === job.job_id) this.current = null;
      });
    this.current = { id: job.job_id, ac, done };
  }
}

function closeText(code: number, reason: string): string {
  const r = reason ? `: ${reason}` : '';
  return `closed with code ${code}${r}`;
}

/** Socket errors as one readable line, with the hint for the common cases. */
export function describeSocketError(err: Error): string {
  const code = (err as NodeJS.ErrnoException).code;
  const m = firstLine(err.message, 200);
  if (code === 'ECONNREFUSED') return `connection refused (${m}); is the server running and the URL right?`;
  if (code === 'ENOTFOUND' || code === 'EAI_AGAIN') return `host not found (${m}); check the URL and your network`;
  if (code === 'ETIMEDOUT') return `connection timed out (${m})`;
  if (code && /CERT|SSL|TLS/i.test(code)) return `TLS/SSL error ${code} (${m}); see README "SSL errors"`;
  if (/Unexpected server response: 40[34]/.test(m)) return `${m}; the server refused this code or has no worker endpoint`;
  return m;
}

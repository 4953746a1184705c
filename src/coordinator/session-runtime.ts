// SPDX-License-Identifier: MIT
/**
 * What the coordinator keeps in memory for one session while something is attached to it: its
 * live worker sockets (each with at most one job), its page sockets, the valid results waiting
 * for the next group commit, and one chain on which every change to the session runs, one
 * after another. The store holds the rest; a runtime with nothing attached and nothing running
 * is dropped (`idle`), so the map of runtimes stays as small as the live sockets.
 */
import type { JobKind, SessionRow, SessionStatus } from './store.js';
import type { CheckedDownload, WorkerInfo } from './validate.js';

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

/** A valid download result waiting for the next group commit. */
export interface HotResult {
  peer: WorkerPeer;
  jobId: string;
  data: CheckedDownload;
  at: number;
}

export class SessionRuntime {
  status: SessionStatus;
  message: string;
  readonly workers = new Map<string, WorkerPeer>();
  readonly uis = new Set<UiLink>();
  /** When the current run started or resumed (for throughput). */
  runningSince = Date.now();
  /** Valid download results waiting for the next group commit. */
  readonly hot: HotResult[] = [];
  hotFlush: Promise<void> | null = null;
  /** The session has a row in the store (with --accept-any-code it gets one on its first change). */
  stored: boolean;
  private chain: Promise<unknown> = Promise.resolve();
  private running = 0;

  constructor(
    readonly code: string,
    row: SessionRow,
    stored = true,
  ) {
    this.status = row.status;
    this.message = row.message;
    this.stored = stored;
  }

  /** Run `fn` after everything queued before it on this session. */
  run<T>(fn: () => Promise<T>): Promise<T> {
    this.running++;
    const p = this.chain.then(fn, fn).finally(() => this.running--);
    this.chain = p.catch(() => undefined);
    return p;
  }

  /** Nothing attached, nothing queued on the chain, no result waiting: safe to forget. */
  idle(): boolean {
    return this.running === 0 && !this.workers.size && !this.uis.size && !this.hot.length && !this.hotFlush;
  }

  stateMessage(level: Level) {
    return { type: 'state', status: this.status, message: this.message, level, worker_count: this.workers.size };
  }

  broadcast(msg: object): void {
    for (const u of this.uis) {
      try {
        u.send(msg);
      } catch {
        /* a closing page socket */
      }
    }
  }

  pageLog(message: string, level: Level = 'info'): void {
    this.broadcast({ type: 'log', message, level });
  }
}

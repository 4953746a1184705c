// SPDX-License-Identifier: MIT
/**
 * Helpers for coordinator tests: a real coordinator on a free port (in-memory SQLite unless a
 * file is given), JSON API calls, polling waits, real workers (startWorker) with the stand-in
 * embedder and media, and raw `ws` clients for frames a real worker never sends.
 */
import WebSocket from 'ws';
import { createLogger, type Logger } from '../../src/log/logger.js';
import { startCoordinator, type CoordinatorHandle, type CoordinatorOptions } from '../../src/coordinator/server.js';
import type { Media } from '../../src/media/media.js';
import { startWorker, type WorkerHandle } from '../../src/worker/worker.js';
import { StubEmbedder, StubMedia } from './stand-ins.js';
import type { StoreKind } from './stores.js';

/** A coordinator on a free port with a fresh store of this kind (default in-memory SQLite). */
export async function coordinator(opts: CoordinatorOptions = {}, kind?: StoreKind): Promise<CoordinatorHandle> {
  if (!kind || kind.name === 'sqlite') return startCoordinator({ port: 0, db: ':memory:', heartbeatMs: 0, ...opts });
  const store = await kind.open();
  const h = await startCoordinator({ port: 0, heartbeatMs: 0, store, tickMs: 200, ...opts });
  return Object.assign(Object.create(h) as CoordinatorHandle, {
    close: async () => {
      await h.close();
      await store.close();
    },
  });
}

export async function api<T = Record<string, unknown>>(base: string, path: string, init: { method?: string; body?: unknown; raw?: string; type?: string } = {}): Promise<{ status: number; body: T }> {
  const headers: Record<string, string> = {};
  let body: string | undefined;
  if (init.raw !== undefined) {
    body = init.raw;
    headers['content-type'] = init.type ?? 'text/plain';
  } else if (init.body !== undefined) {
    body = JSON.stringify(init.body);
    headers['content-type'] = 'application/json';
  }
  const res = await fetch(base + path, { method: init.method ?? (body !== undefined ? 'POST' : 'GET'), headers, body });
  const text = await res.text();
  let parsed: unknown = text;
  try {
    parsed = JSON.parse(text);
  } catch {
    /* not JSON */
  }
  return { status: res.status, body: parsed as T };
}

export async function newSession(base: string): Promise<string> {
  const r = await api<{ code: string }>(base, '/api/sessions', { method: 'POST' });
  if (r.status !== 201) throw new Error(`create session: ${r.status}`);
  return r.body.code;
}

export interface StatusBody {
  status: string;
  worker_count: number;
  queue: Record<string, number>;
  workers: { name: string; backend: string | null; version: string | null; state: string; done: number }[];
  throughput_per_min: number;
  eta_s: number | null;
}

export async function status(base: string, code: string): Promise<StatusBody> {
  return (await api<StatusBody>(base, `/api/sessions/${code}`)).body;
}

export function stubWorker(url: string, code: string, o: { name?: string; jobs?: number; delayMs?: number; media?: Media } = {}): Promise<WorkerHandle> {
  return startWorker({
    url,
    code,
    jobs: o.jobs ?? 1,
    name: o.name ?? 'stub',
    embedder: new StubEmbedder({ delayMs: o.delayMs ?? 0 }),
    media: o.media ?? new StubMedia(),
    reconnect: { initialMs: 50, factor: 1.5, maxMs: 200 },
    keepaliveMs: 0,
    heartbeatMs: 0,
    progressIntervalMs: 20,
  });
}

/** A raw client socket that records every frame and how it closed. */
export class RawClient {
  readonly messages: Record<string, unknown>[] = [];
  closed: { code: number; reason: string } | null = null;
  unexpected: number | null = null;
  private constructor(readonly ws: WebSocket) {
    ws.on('message', (d) => {
      try {
        this.messages.push(JSON.parse(String(d)) as Record<string, unknown>);
      } catch {
        this.messages.push({ type: '<not json>' });
      }
    });
    ws.on('close', (code, reason) => (this.closed = { code, reason: reason.toString() }));
    ws.on('error', () => {});
  }

  /** Connect; resolves once open, or once refused (then `closed` or `unexpected` says how). */
  static connect(url: string, opts: { localAddress?: string } = {}): Promise<RawClient> {
    const ws = new WebSocket(url, opts);
    const c = new RawClient(ws);
    return new Promise((resolve) => {
      ws.on('open', () => resolve(c));
      ws.on('unexpected-response', (_req, res) => {
        c.unexpected = res.statusCode ?? 0;
        c.closed = { code: 1006, reason: `HTTP ${res.statusCode}` };
        resolve(c);
      });
      ws.on('close', () => resolve(c));
      ws.on('error', () => resolve(c));
    });
  }

  send(m: unknown): void {
    this.ws.send(typeof m === 'string' ? m : JSON.stringify(m));
  }

  jobs(): { job_id: string; payload: Record<string, unknown> }[] {
    return this.messages.filter((m) => m.type === 'job') as unknown as { job_id: string; payload: Record<string, unknown> }[];
  }

  close(): void {
    this.ws.terminate();
  }
}

export function socketUrl(base: string, code: string, role: 'worker' | 'ui' = 'worker'): string {
  return `${base.replace(/^http/, 'ws')}/ws/remote/${encodeURIComponent(code)}/${role}`;
}

/** A valid download result for a job. */
export function goodResult(jobId: string, fill = 0.5): Record<string, unknown> {
  return {
    type: 'result',
    job_id: jobId,
    status: 'success',
    data: { artist: 'A', title: 'T', youtube_id: 'abc', source_url: null, vector: Array.from({ length: 200 }, (_, i) => fill + i / 1000) },
  };
}

/** A debug-level JSON logger for a coordinator under test, whose lines land in `lines`. */
export function capturedLogs(): { lines: Record<string, unknown>[]; logger(): Logger; reset(): void } {
  const lines: Record<string, unknown>[] = [];
  return {
    lines,
    logger: () => createLogger({ format: 'json', level: 'debug', stream: { write: (s: string) => lines.push(JSON.parse(s) as Record<string, unknown>) } }),
    reset: () => void lines.splice(0),
  };
}

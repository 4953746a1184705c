// SPDX-License-Identifier: MIT
/**
 * One worker socket at `/ws/remote/{code}/worker`: parses each frame (text JSON objects only;
 * the size cap is enforced by `ws` before parsing) and hands results, hellos and progress to
 * the scheduler. Anything malformed is logged with its reason and ignored; the socket stays.
 * A WebSocket ping every `heartbeatMs` finds dead peers: no pong by the next ping, and the
 * socket is dropped (so its job is requeued).
 */
import type { WebSocket } from 'ws';
import { LogEvent } from '../log/events.js';
import type { Logger } from '../log/logger.js';
import { preview } from '../util/preview.js';
import type { ResultFrame, Scheduler, WorkerPeer } from './scheduler.js';
import type { SessionRow } from './store.js';
import { checkHello } from './validate.js';

function isObj(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Turn a `result` frame into the scheduler's shape; null when it carries no usable job id. */
export function readResult(m: Record<string, unknown>): ResultFrame | null {
  const id = m.job_id;
  if (typeof id !== 'string' || id.length === 0 || id.length > 200) return null;
  if (m.status === 'success') return { jobId: id, status: 'success', data: m.data };
  if (m.status === 'failed') {
    const e = typeof m.error === 'string' && m.error.trim() ? m.error.replace(/[\u0000-\u001f]/g, ' ').trim().slice(0, 1000) : 'failed without a reason';
    return { jobId: id, status: 'failed', error: e };
  }
  return { jobId: id, status: 'invalid', reason: `Expected "success" or "failed" for status but received ${preview(m.status)}` };
}

export async function serveWorkerSocket(
  ws: WebSocket,
  remote: string,
  session: SessionRow,
  scheduler: Scheduler,
  log: Logger,
  heartbeatMs: number,
): Promise<void> {
  let peer: WorkerPeer | null = null;
  const pending: [Buffer, boolean][] = [];
  let alive = true;
  const heartbeat = heartbeatMs
    ? setInterval(() => {
        if (!alive) {
          log.warn('worker socket missed a heartbeat; dropping it', { remote, worker: peer?.id });
          ws.terminate();
          return;
        }
        alive = false;
        try {
          ws.ping();
        } catch {
          /* closing */
        }
      }, heartbeatMs)
    : null;
  heartbeat?.unref?.();
  ws.on('pong', () => (alive = true));

  const onFrame = (buf: Buffer, isBinary: boolean): void => {
    alive = true;
    const p = peer;
    if (!p) return void pending.push([buf, isBinary]);
    const wlog = { worker: p.id, remote };
    if (isBinary) return void log.warn(LogEvent.ignoredBinaryFrame, wlog);
    let m: unknown;
    try {
      m = JSON.parse(buf.toString('utf8'));
    } catch {
      return void log.warn(LogEvent.ignoredNonJsonFrame, { ...wlog, frame: buf.subarray(0, 80).toString('utf8') });
    }
    if (!isObj(m)) return void log.warn(LogEvent.ignoredNonObjectFrame, wlog);
    switch (m.type) {
      case 'result': {
        const r = readResult(m);
        if (!r) return void log.warn(LogEvent.ignoredResultWithoutJobId, wlog);
        scheduler.result(p, r).catch((e: unknown) => log.error('result handling failed', { ...wlog, error: String(e) }));
        return;
      }
      case 'hello': {
        const info = checkHello(m);
        if (info instanceof Error) return void log.warn('ignored a bad hello', { ...wlog, reason: info.message });
        scheduler.hello(p, info);
        return;
      }
      case 'progress': {
        const f = m.fraction;
        if (typeof m.job_id === 'string' && typeof f === 'number' && f >= 0 && f <= 1)
          scheduler.progress(p, m.job_id, typeof m.stage === 'string' ? m.stage.slice(0, 40) : '', f);
        return;
      }
      case 'rate_limited':
        if (typeof m.job_id === 'string') scheduler.sourceLimitedNote(p, m.job_id);
        return;
      case 'pong':
        return;
      default:
        log.debug(LogEvent.ignoredUnknownFrame, { ...wlog, type: typeof m.type === 'string' ? m.type.slice(0, 40) : preview(m.type) });
    }
  };

  ws.on('message', (data, isBinary) => {
    const buf = Array.isArray(data) ? Buffer.concat(data) : Buffer.isBuffer(data) ? data : Buffer.from(data);
    onFrame(buf, isBinary);
  });
  ws.on('error', (err: Error & { code?: string }) => {
    if (err.code === 'WS_ERR_UNSUPPORTED_MESSAGE_LENGTH') log.warn(LogEvent.refusedOversizeFrame, { remote, worker: peer?.id });
    else log.warn('worker socket error', { remote, worker: peer?.id, error: err.message });
  });
  const closedP = new Promise<{ why: string; clean: boolean }>((resolve) =>
    ws.on('close', (code, reason) => {
      if (heartbeat) clearInterval(heartbeat);
      // 1000/1001: the worker said goodbye; anything else (1006: no close frame at all) is a lost worker
      resolve({ why: `code ${code}${reason.length ? ` ${reason.toString('utf8').slice(0, 80)}` : ''}`, clean: code === 1000 || code === 1001 });
    }),
  );

  peer = await scheduler.attachWorker(session, {
    remote,
    send: (msg) => {
      if (ws.readyState === ws.OPEN) ws.send(JSON.stringify(msg));
    },
    close: (code, reason) => ws.close(code, reason),
  });
  for (const [b, bin] of pending.splice(0)) onFrame(b, bin);
  const closed = await closedP;
  await scheduler.workerClosed(peer, closed.why, !closed.clean);
}

// SPDX-License-Identifier: MIT
/**
 * The coordinator: one HTTP server, with the WebSocket upgrade on the same port, for
 * `/ws/remote/{code}/worker`, `/ws/remote/{code}/ui`, the JSON API and the /ingest page.
 * `startCoordinator` is the library entry point; `chaarfm-worker serve` is a thin layer over it.
 * At start, jobs that were in flight when the last process ended go back to the queue.
 */
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type WebSocket } from 'ws';
import { silentLogger, type Logger } from '../log/logger.js';
import { LEASE_HEADER } from '../protocol/lease.js';
import { MAX_FRAME_BYTES } from '../protocol/messages.js';
import { handleHttp } from './api.js';
import { clientAddress, trustedProxies } from './client-address.js';
import { FailureLimiter } from './rate-limit.js';
import { Scheduler } from './scheduler.js';
import type { Store } from './store.js';
import { serveUiSocket } from './ui-socket.js';
import { serveWorkerSocket } from './worker-socket.js';

export interface CoordinatorOptions {
  /** Default 127.0.0.1. */
  host?: string;
  /** Default 8000; 0 picks a free port. */
  port?: number;
  /**
   * A SQLite file path (default `chaarfm-coordinator.db`), `:memory:`, or a PostgreSQL URL
   * (`?schema=name` keeps the tables in that schema). Ignored when `store` is given.
   */
  db?: string;
  /** Use this store (not closed by close() unless `ownStore`). */
  store?: Store;
  /** A job not answered within this goes back to the front of the queue (default 15 min). */
  leaseMs?: number;
  /** Failed attempts after which a job is failed (default 3). */
  retries?: number;
  /** Worker sockets lost (closed without a goodbye) while holding one job after which it is failed (default 3). */
  drops?: number;
  /** Any code opens a session (the original server's behaviour). */
  acceptAnyCode?: boolean;
  /** Lifetime of a new pairing code (default 30 days). */
  codeTtlMs?: number;
  /** WebSocket ping interval; a socket without a pong by the next ping is dropped (default 30 s, 0 = off). */
  heartbeatMs?: number;
  /**
   * Proxies whose `X-Forwarded-For` names the client (addresses or CIDR ranges), for the rate
   * limits and the logs; without them the header is ignored and the peer is the client.
   */
  trustProxy?: string[];
  /** Refused attempts (unknown codes) allowed per client (IPv4 address, IPv6 /64) per window (default 20 per minute). */
  rateLimit?: { max: number; windowMs: number };
  /** Shared stores: how often to poll the store and send the heartbeat (default 1 s). */
  tickMs?: number;
  /** Shared stores: a process silent this long is gone and its jobs are requeued (default 20 s). */
  staleMs?: number;
  /** New pairing codes allowed per address per minute (default 30). */
  codesPerMinute?: number;
  /** Frames over this many bytes close the socket (default 1 MiB). */
  maxFrameBytes?: number;
  logger?: Logger;
}

export interface CoordinatorHandle {
  readonly url: string;
  readonly port: number;
  readonly store: Store;
  readonly scheduler: Scheduler;
  /** Close every socket (workers reconnect elsewhere or later), stop listening, close the store. */
  close(): Promise<void>;
}

/**
 * Open the store a `--db` value names. A PostgreSQL URL may end in `?schema=name`: the tables
 * then live in that schema (made when missing), so several deployments or test runs can share
 * one database.
 */
export async function openStore(db: string): Promise<Store> {
  if (/^postgres(ql)?:\/\//i.test(db)) {
    const { PostgresStore } = await import('./store-postgres.js');
    let url = db;
    let schema: string | undefined;
    if (/[?&]schema=/.test(db)) {
      const u = new URL(db);
      schema = u.searchParams.get('schema') ?? undefined;
      u.searchParams.delete('schema');
      url = u.toString();
    }
    return PostgresStore.open(url, { schema });
  }
  const { SqliteStore } = await import('./store-sqlite.js');
  return new SqliteStore(db);
}

const SOCKET_PATH = /^\/ws\/remote\/([^/?#]+)\/(worker|ui)\/?$/;

function refuseUpgrade(socket: Duplex, status: number, text: string): void {
  socket.end(`HTTP/1.1 ${status} ${text}\r\nConnection: close\r\nContent-Type: text/plain\r\nContent-Length: ${Buffer.byteLength(text)}\r\n\r\n${text}`);
}

export async function startCoordinator(options: CoordinatorOptions = {}): Promise<CoordinatorHandle> {
  const log = options.logger ?? silentLogger;
  const ownStore = !options.store;
  const store = options.store ?? (await openStore(options.db ?? 'chaarfm-coordinator.db'));
  const scheduler = new Scheduler({
    store,
    leaseMs: options.leaseMs,
    retries: options.retries,
    drops: options.drops,
    acceptAnyCode: options.acceptAnyCode,
    codeTtlMs: options.codeTtlMs,
    log,
  });
  const recovered = await scheduler.recover(options.staleMs ?? 20_000);
  if (recovered) log.info(`${recovered} job(s) in flight when the last run ended went back to the front of the queue`);
  if (store.shared) {
    await scheduler.tick(options.staleMs ?? 20_000);
    scheduler.startTicking(options.tickMs ?? 1000, options.staleMs ?? 20_000);
  }
  const limiter = new FailureLimiter(options.rateLimit?.max ?? 20, options.rateLimit?.windowMs ?? 60_000);
  const heartbeatMs = options.heartbeatMs ?? 30_000;
  const createLimiter = new FailureLimiter(options.codesPerMinute ?? 30, 60_000);
  const remoteOf = clientAddress(options.trustProxy?.length ? trustedProxies(options.trustProxy) : null);
  const ctx = { scheduler, store, limiter, createLimiter, log, remoteOf };
  const http: Server = createServer((req, res) => void handleHttp(req, res, ctx));
  const wss = new WebSocketServer({ noServer: true, maxPayload: options.maxFrameBytes ?? MAX_FRAME_BYTES, perMessageDeflate: false });
  // The lease in the upgrade response, outside the frames of the wire contract (protocol/lease.ts).
  wss.on('headers', (headers) => headers.push(`${LEASE_HEADER}: ${scheduler.leaseMs}`));

  http.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    socket.on('error', () => {});
    const remote = remoteOf(req);
    const m = SOCKET_PATH.exec((req.url ?? '').split('?')[0]);
    if (!m) return refuseUpgrade(socket, 404, 'Not Found');
    if (limiter.blocked(remote)) {
      log.debug('refused a socket: too many unknown codes from this address', { remote });
      return refuseUpgrade(socket, 429, 'Too Many Requests');
    }
    let raw: string;
    try {
      raw = decodeURIComponent(m[1]);
    } catch {
      raw = '';
    }
    const role = m[2] as 'worker' | 'ui';
    scheduler
      .resolve(raw)
      .then((r) => {
        // decided now, against the count now: parallel attempts cannot all pass the check above
        if (!limiter.settle(remote, !r.ok)) {
          log.debug('refused a socket: too many unknown codes from this address', { remote });
          return refuseUpgrade(socket, 429, 'Too Many Requests');
        }
        wss.handleUpgrade(req, socket, head, (ws: WebSocket) => {
          if (!r.ok) {
            log.warn(`refused a ${role} socket: ${r.why} pairing code`, { remote, code: raw.slice(0, 40) });
            ws.close(r.why === 'expired' ? 4410 : 4404, r.why === 'expired' ? 'pairing code expired' : 'unknown pairing code');
            return;
          }
          if (role === 'worker')
            void serveWorkerSocket(ws, remote, r.session, scheduler, log, heartbeatMs).catch((e: unknown) =>
              log.error('worker socket failed', { remote, error: e instanceof Error ? (e.stack ?? e.message) : String(e) }),
            );
          else serveUiSocket(ws, remote, r.session, scheduler, log);
        });
      })
      .catch((e: unknown) => {
        log.error('socket upgrade failed', { remote, error: e instanceof Error ? e.message : String(e) });
        refuseUpgrade(socket, 500, 'Internal Server Error');
      });
  });

  await new Promise<void>((resolve, reject) => {
    http.once('error', reject);
    http.listen(options.port ?? 8000, options.host ?? '127.0.0.1', () => {
      http.off('error', reject);
      resolve();
    });
  });
  http.on('error', (e) => log.error('HTTP server error', { error: e.message }));
  const addr = http.address() as AddressInfo;
  const host = addr.family === 'IPv6' ? `[${addr.address}]` : addr.address;
  let closing: Promise<void> | null = null;
  return {
    url: `http://${host}:${addr.port}`,
    port: addr.port,
    store,
    scheduler,
    close() {
      closing ??= (async () => {
        await scheduler.shutdown();
        for (const ws of wss.clients) ws.close(1001, 'server shutting down');
        await new Promise<void>((r) => setTimeout(r, 50));
        for (const ws of wss.clients) ws.terminate();
        await new Promise<void>((r) => wss.close(() => r()));
        http.closeAllConnections();
        await new Promise<void>((r) => http.close(() => r()));
        if (ownStore) await store.close();
      })();
      return closing;
    },
  };
}

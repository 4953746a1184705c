// SPDX-License-Identifier: MIT
/**
 * A real `ws` server playing a ChaarFM coordinator the way the Python server does: it accepts
 * worker sockets at /ws/remote/{code}/worker, sends jobs and pings, records every frame, and can
 * drop sockets, stop and restart on the same port. /api/keepalive answers {"ok":true}.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { WebSocketServer, WebSocket } from 'ws';

export interface Peer {
  ws: WebSocket;
  code: string;
  path: string;
  messages: Record<string, unknown>[];
  closed: boolean;
  closeCode?: number;
}

export class FakeServer {
  private http!: Server;
  private wss!: WebSocketServer;
  port = 0;
  peers: Peer[] = [];
  keepaliveHits = 0;
  private waiters: (() => void)[] = [];

  static async start(port = 0): Promise<FakeServer> {
    const s = new FakeServer();
    await s.listen(port);
    return s;
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  private async listen(port: number): Promise<void> {
    this.http = createServer((req, res) => {
      if (req.url === '/api/keepalive') {
        this.keepaliveHits++;
        res.writeHead(200, { 'content-type': 'application/json' }).end('{"ok":true}');
      } else res.writeHead(404).end('not found');
      this.notify();
    });
    this.wss = new WebSocketServer({ noServer: true, maxPayload: 64 * 1024 * 1024 });
    this.http.on('upgrade', (req, socket, head) => {
      const m = /^\/ws\/remote\/([^/]+)\/worker$/.exec(req.url ?? '');
      if (!m) {
        socket.end('HTTP/1.1 404 Not Found\r\n\r\n');
        return;
      }
      this.wss.handleUpgrade(req, socket, head, (ws) => {
        const peer: Peer = { ws, code: decodeURIComponent(m[1]), path: req.url ?? '', messages: [], closed: false };
        this.peers.push(peer);
        ws.on('message', (d) => {
          try {
            peer.messages.push(JSON.parse(d.toString()) as Record<string, unknown>);
          } catch {
            peer.messages.push({ type: '<not json>' });
          }
          this.notify();
        });
        ws.on('close', (code) => {
          peer.closed = true;
          peer.closeCode = code;
          this.notify();
        });
        this.notify();
      });
    });
    await new Promise<void>((resolve, reject) => {
      this.http.once('error', reject);
      this.http.listen(port, '127.0.0.1', () => resolve());
    });
    this.port = (this.http.address() as AddressInfo).port;
  }

  private notify(): void {
    const w = this.waiters;
    this.waiters = [];
    w.forEach((f) => f());
  }

  /** Wait until `pred` holds, re-checked on every event; rejects after `timeoutMs`. */
  async waitFor<T>(pred: () => T | undefined | false | null, timeoutMs = 10000, what = 'condition'): Promise<T> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const v = pred();
      if (v) return v;
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`timed out waiting for ${what}`);
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, Math.min(left, 200));
        this.waiters.push(() => {
          clearTimeout(t);
          resolve();
        });
      });
    }
  }

  openPeers(): Peer[] {
    return this.peers.filter((p) => !p.closed);
  }

  async waitForPeers(n: number, timeoutMs = 10000): Promise<Peer[]> {
    return this.waitFor(() => (this.openPeers().length >= n ? this.openPeers() : undefined), timeoutMs, `${n} open peers`);
  }

  /** Wait for a message from `peer` matching `pred` (searching all received so far). */
  async waitForMessage(peer: Peer, pred: (m: Record<string, unknown>) => boolean, timeoutMs = 10000, what = 'message') {
    return this.waitFor(() => peer.messages.find(pred), timeoutMs, what);
  }

  sendJob(peer: Peer, jobId: string, payload: Record<string, unknown>): void {
    peer.ws.send(JSON.stringify({ type: 'job', job_id: jobId, payload }));
  }

  sendRaw(peer: Peer, data: string | Buffer, binary = false): void {
    peer.ws.send(data, { binary });
  }

  /** Stop listening and drop every socket; `restart()` listens again on the same port. */
  async stop(): Promise<void> {
    for (const p of this.peers) if (!p.closed) p.ws.terminate();
    await new Promise<void>((resolve) => this.wss.close(() => resolve()));
    this.http.closeAllConnections?.();
    await new Promise<void>((resolve) => this.http.close(() => resolve()));
  }

  async restart(): Promise<void> {
    await this.listen(this.port);
  }
}

export function resultsOf(peer: Peer): Record<string, unknown>[] {
  return peer.messages.filter((m) => m.type === 'result');
}

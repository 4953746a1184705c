// SPDX-License-Identifier: MIT
/**
 * A TCP proxy for fault injection: clients connect to it, it connects to one of its upstreams
 * (round robin, skipping ones that refuse) and pipes bytes both ways. Faults act on the open
 * connections: `cut` destroys them, `stall` stops forwarding for a while (both directions,
 * bytes held, then delivered), `dropBytes` throws away a slice of the bytes in one direction
 * (a corrupted stream). An optional rate limit slows the bytes to the client (slow downloads).
 */
import { createServer, connect, type Server, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';

export interface ProxyConn {
  readonly id: number;
  readonly client: Socket;
  upstream: Socket | null;
  /** Forwarding is held until this time (ms since the epoch). */
  stalledUntil: number;
  /** Bytes still to throw away, per direction. */
  drop: { up: number; down: number };
}

export interface TcpProxyOptions {
  /** Bytes per second towards the client, per connection (default unlimited). */
  downRateBps?: number;
}

export class TcpProxy {
  readonly conns = new Set<ProxyConn>();
  private upstreams: number[] = [];
  private next = 0;
  private counter = 0;
  /** Connections accepted, and those refused because no upstream answered. */
  accepted = 0;
  refused = 0;

  private constructor(
    private readonly server: Server,
    private readonly opts: TcpProxyOptions,
  ) {}

  static async start(upstreams: number[], opts: TcpProxyOptions = {}): Promise<TcpProxy> {
    let self: TcpProxy | null = null;
    const server = createServer((client) => self!.accept(client));
    self = new TcpProxy(server, opts);
    self.setUpstreams(upstreams);
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    return self;
  }

  get port(): number {
    return (this.server.address() as AddressInfo).port;
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  /** Where new connections go (ports on 127.0.0.1). Open connections keep their upstream. */
  setUpstreams(ports: number[]): void {
    this.upstreams = [...ports];
  }

  private accept(client: Socket): void {
    this.accepted++;
    const c: ProxyConn = { id: ++this.counter, client, upstream: null, stalledUntil: 0, drop: { up: 0, down: 0 } };
    this.conns.add(c);
    client.setNoDelay(true);
    client.on('error', () => {});
    client.pause();
    const end = () => {
      if (!this.conns.delete(c)) return;
      client.destroy();
      c.upstream?.destroy();
    };
    client.on('close', end);
    const tries = this.upstreams.length ? this.upstreams.map((_, i) => this.upstreams[(this.next + i) % this.upstreams.length]) : [];
    this.next++;
    const attempt = (i: number) => {
      if (!this.conns.has(c)) return;
      if (i >= tries.length) {
        this.refused++;
        return end();
      }
      const up = connect(tries[i], '127.0.0.1');
      up.setNoDelay(true);
      let opened = false;
      up.on('error', () => {
        if (!opened) attempt(i + 1);
      });
      up.on('connect', () => {
        opened = true;
        c.upstream = up;
        this.pipe(c, client, up, 'up');
        const down = this.pipe(c, up, client, 'down');
        // The upstream closed: deliver what it sent before closing, then close the client.
        up.on('close', () => {
          const later = () => (down.idle() || !this.conns.has(c) ? end() : setTimeout(later, 20).unref());
          later();
        });
        client.resume();
      });
    };
    attempt(0);
  }

  /** Forward `from` → `to`, honouring stalls, drops and the rate limit, in order. */
  private pipe(c: ProxyConn, from: Socket, to: Socket, dir: 'up' | 'down'): { idle(): boolean } {
    const queue: Buffer[] = [];
    let timer: NodeJS.Timeout | null = null;
    let budgetAt = Date.now();
    const rate = dir === 'down' ? this.opts.downRateBps : undefined;
    const pump = () => {
      timer = null;
      while (queue.length && this.conns.has(c)) {
        const now = Date.now();
        if (c.stalledUntil > now) {
          timer = setTimeout(pump, c.stalledUntil - now).unref();
          return;
        }
        let chunk = queue[0];
        if (rate) {
          // Send at most what the rate allows since budgetAt; wait for the rest.
          budgetAt = Math.max(budgetAt, now - 100);
          const allowed = Math.floor(((now - budgetAt) / 1000) * rate);
          if (allowed < Math.min(chunk.length, 1024)) {
            timer = setTimeout(pump, Math.max(5, Math.ceil((Math.min(chunk.length, 1024) / rate) * 1000))).unref();
            return;
          }
          if (chunk.length > allowed) {
            queue[0] = chunk.subarray(allowed);
            chunk = chunk.subarray(0, allowed);
          } else queue.shift();
          budgetAt += (chunk.length / rate) * 1000;
        } else queue.shift();
        if (c.drop[dir] > 0) {
          // Throw away a slice from the middle of this chunk (or all of it).
          const n = Math.min(c.drop[dir], chunk.length);
          const at = Math.floor((chunk.length - n) / 2);
          c.drop[dir] -= n;
          chunk = Buffer.concat([chunk.subarray(0, at), chunk.subarray(at + n)]);
        }
        if (chunk.length && !to.destroyed) to.write(chunk);
      }
      if (queue.length === 0 && from.isPaused() && !from.destroyed) from.resume();
    };
    from.on('data', (d: Buffer) => {
      queue.push(d);
      if (queue.length > 64) from.pause();
      if (!timer) pump();
    });
    from.on('end', () => {
      const finish = () => {
        if (!this.conns.has(c) || to.destroyed) return;
        if (queue.length || timer) setTimeout(finish, 20).unref();
        else to.end();
      };
      finish();
    });
    return { idle: () => queue.length === 0 && timer === null };
  }

  /** Destroy open connections (all, or those `pick` chooses). Returns how many. */
  cut(pick: (c: ProxyConn) => boolean = () => true): number {
    let n = 0;
    for (const c of [...this.conns])
      if (pick(c)) {
        n++;
        this.conns.delete(c);
        c.client.destroy();
        c.upstream?.destroy();
      }
    return n;
  }

  /** Hold every byte of the chosen open connections for `ms`. Returns how many. */
  stall(ms: number, pick: (c: ProxyConn) => boolean = () => true): number {
    let n = 0;
    const until = Date.now() + ms;
    for (const c of this.conns)
      if (pick(c)) {
        n++;
        c.stalledUntil = until;
      }
    return n;
  }

  /** Throw away the next `bytes` bytes going `dir` on one connection. */
  dropBytes(c: ProxyConn, dir: 'up' | 'down', bytes: number): void {
    c.drop[dir] += bytes;
  }

  /** Open connections that have an upstream. */
  live(): ProxyConn[] {
    return [...this.conns].filter((c) => c.upstream);
  }

  async close(): Promise<void> {
    this.cut();
    await new Promise<void>((r) => this.server.close(() => r()));
  }
}

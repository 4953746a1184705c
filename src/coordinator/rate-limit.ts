// SPDX-License-Identifier: MIT
/**
 * A per-client budget for refused attempts (unknown pairing codes on sockets or the API): at
 * most `max` in any `windowMs`. A client is an IPv4 address or an IPv6 /64 (one host's share
 * of a network; a single IPv6 host can use billions of addresses). Past the budget a client is
 * answered `429` without any lookup until the window slides, and an attempt whose lookup was
 * already under way is decided when it ends, against the count at that moment (`settle`), so
 * parallel attempts cannot outrun the count on a store whose lookups take time.
 *
 * Memory is bounded: old entries are swept, and past `maxKeys` clients the one that failed
 * longest ago is forgotten, so every new client is still limited. Only failures are counted:
 * one client's failures never refuse another client's valid code.
 */
import { isIPv4, isIPv6 } from 'node:net';

/** The key a limiter counts an address under: IPv4 as is (also when IPv4-mapped), IPv6 by its /64. */
export function limitKey(address: string): string {
  const a = address.trim();
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(a);
  if (mapped && isIPv4(mapped[1])) return mapped[1];
  if (isIPv4(a)) return a;
  const bare = a.split('%')[0]; // a zone index (fe80::1%eth0) names no other host
  if (!isIPv6(bare)) return a;
  const [head, tail = ''] = bare.split('::');
  const h = head ? head.split(':') : [];
  const t = tail ? tail.split(':') : [];
  // an embedded IPv4 tail takes two groups
  const groups = (parts: string[]) => parts.reduce((n, p) => n + (p.includes('.') ? 2 : 1), 0);
  const full = bare.includes('::') ? [...h, ...Array<string>(8 - groups(h) - groups(t)).fill('0'), ...t] : h;
  return `${full
    .slice(0, 4)
    .map((g) => parseInt(g, 16).toString(16))
    .join(':')}::/64`;
}

export class FailureLimiter {
  private readonly hits = new Map<string, number[]>();
  private lastSweep = 0;

  constructor(
    readonly max = 20,
    readonly windowMs = 60_000,
    private readonly maxKeys = 50_000,
    private readonly now: () => number = Date.now,
  ) {}

  private recent(key: string, t: number): number[] {
    const list = this.hits.get(key);
    if (!list) return [];
    while (list.length && list[0] <= t - this.windowMs) list.shift();
    if (!list.length) this.hits.delete(key);
    return list;
  }

  /** True while this address's client has used up its budget. */
  blocked(address: string): boolean {
    return this.recent(limitKey(address), this.now()).length >= this.max;
  }

  /** Count one refused attempt. */
  hit(address: string): void {
    const key = limitKey(address);
    const t = this.now();
    this.sweep(t);
    const list = this.recent(key, t);
    this.hits.delete(key); // re-inserted last: the map's order is the order of last failure
    this.hits.set(key, list);
    list.push(t);
    while (this.hits.size > this.maxKeys) this.hits.delete(this.hits.keys().next().value as string);
  }

  /**
   * Decide an attempt whose lookup has finished, synchronously with the count: a refused one
   * is counted; either kind is let through only while the client is within its budget
   * (a valid code found after the budget ran out is refused too, or guessing would have an
   * oracle). Returns whether to answer it.
   */
  settle(address: string, refused: boolean): boolean {
    if (this.blocked(address)) return false;
    if (refused) this.hit(address);
    return true;
  }

  /** Clients tracked now (for tests of the bound). */
  get size(): number {
    return this.hits.size;
  }

  private sweep(t: number): void {
    if (t - this.lastSweep < this.windowMs) return;
    this.lastSweep = t;
    for (const k of [...this.hits.keys()]) this.recent(k, t);
  }
}

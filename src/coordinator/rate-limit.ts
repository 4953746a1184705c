// SPDX-License-Identifier: MIT
/**
 * A per-address budget for refused attempts (unknown pairing codes on sockets or the API):
 * at most `max` in any `windowMs`; past it the address is answered `429` without any work
 * until the window slides. Memory is bounded: old entries are swept, and at most `maxKeys`
 * addresses are tracked.
 */
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

  /** True while this address has used up its budget. */
  blocked(key: string): boolean {
    return this.recent(key, this.now()).length >= this.max;
  }

  /** Count one refused attempt. */
  hit(key: string): void {
    const t = this.now();
    this.sweep(t);
    const list = this.recent(key, t);
    if (!this.hits.has(key)) {
      if (this.hits.size >= this.maxKeys) return;
      this.hits.set(key, list);
    }
    list.push(t);
  }

  private sweep(t: number): void {
    if (t - this.lastSweep < this.windowMs) return;
    this.lastSweep = t;
    for (const k of [...this.hits.keys()]) this.recent(k, t);
  }
}

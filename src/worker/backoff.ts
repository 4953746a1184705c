// SPDX-License-Identifier: MIT
/**
 * Reconnect delays of the protocol: 2 s, then ×1.5 each time, at most 60 s; back to the
 * start after a connection that stayed up longer than `resetAfterMs`.
 */
export interface BackoffOptions {
  initialMs?: number;
  factor?: number;
  maxMs?: number;
  /** A connection that lasted longer than this resets the delay. */
  resetAfterMs?: number;
}

export class Backoff {
  readonly initialMs: number;
  readonly factor: number;
  readonly maxMs: number;
  readonly resetAfterMs: number;
  private current: number;

  constructor(opts: BackoffOptions = {}) {
    this.initialMs = opts.initialMs ?? 2000;
    this.factor = opts.factor ?? 1.5;
    this.maxMs = opts.maxMs ?? 60000;
    this.resetAfterMs = opts.resetAfterMs ?? 60000;
    if (!(this.initialMs > 0) || !(this.factor >= 1) || !(this.maxMs >= this.initialMs))
      throw new RangeError('Expected initialMs > 0, factor >= 1 and maxMs >= initialMs for the reconnect backoff');
    this.current = this.initialMs;
  }

  /** The delay before the next attempt; each call grows the one after it. */
  next(): number {
    const d = this.current;
    this.current = Math.min(this.maxMs, this.current * this.factor);
    return d;
  }

  /** Call when a connection closes, with how long it had been open (0 if it never opened). */
  connectionLasted(ms: number): void {
    if (ms > this.resetAfterMs) this.reset();
  }

  reset(): void {
    this.current = this.initialMs;
  }
}

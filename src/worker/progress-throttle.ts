// SPDX-License-Identifier: MIT
/**
 * Progress reports limited to one per `intervalMs` (500 ms: at most twice a second). A stage
 * change is sent at once unless the limit forbids it; then it is held and the latest value is
 * sent when the interval allows. `flushPending` never exceeds the rate either.
 */
export class ProgressThrottle {
  private last = -Infinity;
  private pending: { stage: string; fraction: number } | null = null;
  private timer: NodeJS.Timeout | null = null;

  constructor(
    private readonly send: (stage: string, fraction: number) => void,
    private readonly intervalMs = 500,
    private readonly now: () => number = () => Date.now(),
  ) {}

  report(stage: string, fraction: number): void {
    const f = Math.max(0, Math.min(1, Number.isFinite(fraction) ? fraction : 0));
    const t = this.now();
    if (t - this.last >= this.intervalMs) {
      this.last = t;
      this.pending = null;
      this.send(stage, f);
      return;
    }
    this.pending = { stage, fraction: f };
    if (!this.timer) {
      this.timer = setTimeout(() => {
        this.timer = null;
        const p = this.pending;
        this.pending = null;
        if (p) {
          this.last = this.now();
          this.send(p.stage, p.fraction);
        }
      }, this.intervalMs - (t - this.last));
      this.timer.unref?.();
    }
  }

  /** Drop anything pending (the job ended). */
  cancel(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    this.pending = null;
  }
}

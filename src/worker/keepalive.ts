// SPDX-License-Identifier: MIT
/**
 * The protocol's keep-alive: GET /api/keepalive every 10 minutes while connected, so a
 * free-tier host does not sleep. A 404 or a network error is a debug line, nothing more.
 */
import type { Logger } from '../log/logger.js';

export class KeepAlive {
  private timer: NodeJS.Timeout | null = null;

  constructor(
    private readonly url: string,
    private readonly isConnected: () => boolean,
    private readonly log: Logger,
    private readonly intervalMs = 10 * 60 * 1000,
  ) {}

  start(): void {
    if (this.timer || this.intervalMs <= 0) return;
    this.timer = setInterval(() => void this.ping(), this.intervalMs);
    this.timer.unref?.();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }

  /** One keep-alive request; resolves to the HTTP status, or null on a network error. */
  async ping(): Promise<number | null> {
    if (!this.isConnected()) return null;
    try {
      const res = await fetch(this.url, { signal: AbortSignal.timeout(30000) });
      await res.body?.cancel();
      if (res.ok) this.log.debug('keep-alive ok', { status: res.status });
      else this.log.debug('keep-alive answered with an error status (harmless)', { status: res.status });
      return res.status;
    } catch (e) {
      this.log.debug('keep-alive request failed (harmless)', { error: e instanceof Error ? e.message : String(e) });
      return null;
    }
  }
}

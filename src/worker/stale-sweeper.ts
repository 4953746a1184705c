// SPDX-License-Identifier: MIT
/**
 * The worker's sweep of temp folders left by dead processes (util/job-dirs.ts): once at start,
 * then every so often while it runs, since a killed worker's tools may write there for a moment
 * after its restart. One sweep at a time; what it removes or cannot remove is logged.
 */
import { LogEvent, logEventMessage } from '../log/events.js';
import type { Logger } from '../log/logger.js';
import { cleanStaleJobDirs } from '../util/job-dirs.js';

export class StaleSweeper {
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<void> | null = null;
  constructor(
    private readonly root: string,
    private readonly log: Logger,
  ) {}

  sweep(): Promise<void> {
    this.running ??= (async () => {
      try {
        const r = await cleanStaleJobDirs(this.root);
        if (r.removed.length)
          this.log.info(logEventMessage(LogEvent.staleFoldersRemoved, r.removed.length), {
            dir: this.root,
            ...(r.stopped.length && { stopped_tools: r.stopped }),
          });
        if (r.failed.length) this.log.warn('could not remove temp folder(s) left by an earlier run', { dir: this.root, failed: r.failed });
      } catch (e) {
        this.log.warn('could not look for temp folders left by an earlier run', { dir: this.root, error: (e as Error).message });
      } finally {
        this.running = null;
      }
    })();
    return this.running;
  }

  start(everyMs: number): void {
    if (everyMs > 0) {
      this.timer = setInterval(() => void this.sweep(), everyMs);
      this.timer.unref();
    }
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }
}

// SPDX-License-Identifier: MIT
/**
 * Turns worker events into what a person (pretty) or a service (JSON lines) reads: connection
 * state, each job's label, stage and time, and a live progress line on a terminal.
 */
import { LogEvent, logEventMessage } from '../log/events.js';
import type { Logger } from '../log/logger.js';
import type { WorkerHandle } from '../worker/worker.js';
import type { StatusLine } from './status-line.js';

interface Slot {
  label: string;
  stage: string;
  fraction: number;
}

export function attachReporter(worker: WorkerHandle, log: Logger, status: StatusLine | null): () => void {
  const slots = new Map<number, Slot>();
  let done = 0;
  let failed = 0;
  let lastDraw = 0;
  const redraw = (force = false) => {
    if (!status?.enabled) return;
    const now = Date.now();
    if (!force && now - lastDraw < 100) return;
    lastDraw = now;
    const parts = [...slots.entries()]
      .sort(([a], [b]) => a - b)
      .map(([i, s]) => `[${i + 1}] ${s.stage} ${Math.round(s.fraction * 100)}% ${s.label}`);
    const head = `${worker.connectedCount()}/${worker.jobs} connected, ${done} done, ${failed} failed`;
    status.set(parts.length ? `${head} | ${parts.join(' | ')}` : head);
  };
  worker.on('connected', (e) => {
    log.info(`connected`, { conn: e.index + 1, url: worker.socketUrl });
    redraw(true);
  });
  worker.on('disconnected', (e) => {
    slots.delete(e.index);
    redraw(true);
  });
  worker.on('job-started', (e) => {
    slots.set(e.index, { label: e.label, stage: 'start', fraction: 0 });
    log.info(logEventMessage(LogEvent.jobStarted, e.label), { conn: e.index + 1, job: e.jobId, kind: e.kind });
    redraw(true);
  });
  worker.on('job-progress', (e) => {
    const s = slots.get(e.index);
    if (s) {
      s.label = e.label;
      s.stage = e.stage;
      s.fraction = e.fraction;
    }
    redraw();
  });
  worker.on('job-finished', (e) => {
    slots.delete(e.index);
    const secs = Number((e.ms / 1000).toFixed(1));
    if (e.status === 'success') {
      done++;
      log.info(logEventMessage(LogEvent.jobDone, e.label), { conn: e.index + 1, job: e.jobId, seconds: secs, sent: e.sent });
    } else {
      failed++;
      log.warn(`job failed: ${e.label}`, { conn: e.index + 1, job: e.jobId, seconds: secs, error: e.error, sent: e.sent });
    }
    redraw(true);
  });
  const tick = setInterval(() => redraw(true), 1000);
  tick.unref();
  return () => {
    clearInterval(tick);
    status?.clear();
  };
}

// SPDX-License-Identifier: MIT
/**
 * YouTube's limits, worker-wide. Every yt-dlp run that asks YouTube for something (a download
 * of a YouTube URL, a search, a genre listing) takes a turn here first:
 *  - turns start at least `gapMs` apart across every socket of the worker (`--youtube-gap`),
 *    so N sockets do not hit YouTube N times at once;
 *  - when YouTube pushes back ({@link youtubeLimitReason}: "Sign in to confirm you're not a
 *    bot", "try again later", HTTP 429), {@link YouTubeGate.pause} holds every turn for a pause
 *    that grows (1 min, ×2, at most 10 min: below the coordinator's default 15 min lease) and is
 *    back to the start after a run that got through.
 * The job that met the limit is run again after the pause while its deadline allows
 * (ytdlp-media.ts); otherwise it fails with {@link YouTubeLimitError}, which the worker reports
 * to the server as not the track's fault (protocol.md: a `rate_limited` message of our own).
 */
import { DOWNLOAD_FAILED, SourceLimitError } from '../worker/job-error.js';

export const DEFAULT_GAP_MS = 2000;

/** A job that failed on YouTube's limits rather than on its track. */
export class YouTubeLimitError extends SourceLimitError {
  constructor(reason: string) {
    super(`${DOWNLOAD_FAILED}: YouTube is limiting this worker (${reason})`);
    this.name = 'YouTubeLimitError';
  }
}

const LIMITS: [RegExp, string][] = [
  [/Sign in to confirm you.re not a bot/i, "Sign in to confirm you're not a bot"],
  [/try again later/i, 'try again later'],
  [/HTTP Error 429|\b429: Too Many Requests/i, 'HTTP 429 Too Many Requests'],
];

/** The limit yt-dlp's error lines report, in short, or null. */
export function youtubeLimitReason(lines: readonly string[]): string | null {
  for (const l of lines) for (const [re, short] of LIMITS) if (re.test(l)) return short;
  return null;
}

/** Whether yt-dlp's target is YouTube (a search, or a youtube.com / youtu.be URL). */
export function isYouTubeTarget(target: string): boolean {
  if (/^ytsearch\d*:/.test(target)) return true;
  try {
    const host = new URL(target).hostname.toLowerCase();
    return host === 'youtu.be' || host === 'youtube.com' || host.endsWith('.youtube.com');
  } catch {
    return false;
  }
}

export interface GateOptions {
  gapMs?: number;
  initialPauseMs?: number;
  factor?: number;
  maxPauseMs?: number;
  now?: () => number;
  /** Waits `ms` or rejects with the signal's reason (tests pass a fake clock's). */
  wait?: (ms: number, signal?: AbortSignal) => Promise<void>;
}

/** Resolves after `ms`, or rejects with the signal's reason when it aborts first. */
function waitOrAbort(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    const onAbort = (): void => {
      clearTimeout(timer);
      reject(signal!.reason);
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

export class YouTubeGate {
  readonly gapMs: number;
  readonly initialPauseMs: number;
  readonly factor: number;
  readonly maxPauseMs: number;
  readonly #now: () => number;
  readonly #wait: (ms: number, signal?: AbortSignal) => Promise<void>;
  #nextStart = 0;
  #pausedUntil = 0;
  #nextPause: number;

  constructor(opts: GateOptions = {}) {
    this.gapMs = opts.gapMs ?? DEFAULT_GAP_MS;
    this.initialPauseMs = opts.initialPauseMs ?? 60_000;
    this.factor = opts.factor ?? 2;
    this.maxPauseMs = opts.maxPauseMs ?? 10 * 60_000;
    if (!(this.gapMs >= 0) || !(this.initialPauseMs > 0) || !(this.factor >= 1) || !(this.maxPauseMs >= this.initialPauseMs))
      throw new RangeError('Expected gapMs >= 0, initialPauseMs > 0, factor >= 1 and maxPauseMs >= initialPauseMs for the YouTube gate');
    this.#now = opts.now ?? Date.now;
    this.#wait = opts.wait ?? waitOrAbort;
    this.#nextPause = this.initialPauseMs;
  }

  /** When the pause (if any) ends; 0 when there is none. */
  get pausedUntil(): number {
    return this.#pausedUntil > this.#now() ? this.#pausedUntil : 0;
  }

  /** Wait for this caller's turn: after any pause, and `gapMs` after the turn before it. */
  async turn(signal?: AbortSignal): Promise<void> {
    for (;;) {
      signal?.throwIfAborted();
      const now = this.#now();
      const at = Math.max(this.#pausedUntil, this.#nextStart);
      if (at <= now) {
        this.#nextStart = now + this.gapMs;
        return;
      }
      await this.#wait(at - now, signal);
    }
  }

  /** YouTube pushed back: hold every turn; returns the pause in ms (each one longer). */
  pause(): number {
    const now = this.#now();
    // jobs on other sockets meeting the same limit during a pause do not grow it again
    if (this.#pausedUntil > now) return this.#pausedUntil - now;
    const ms = this.#nextPause;
    this.#nextPause = Math.min(this.maxPauseMs, this.#nextPause * this.factor);
    this.#pausedUntil = now + ms;
    return ms;
  }

  /** A run got through: the next pause starts short again. */
  passed(): void {
    this.#nextPause = this.initialPauseMs;
  }
}

// SPDX-License-Identifier: MIT
/** Polling for tests: wait until a condition holds (a hang guard, never a speed assertion). */
import { setTimeout as sleep } from 'node:timers/promises';

/**
 * Poll `pred` every `everyMs` until it returns a truthy value, and return that value. A `pred`
 * that throws is tried again; after `timeoutMs` this rejects, naming `what` and the last error.
 */
export async function waitUntil<T>(
  pred: () => Promise<T | false | null | undefined> | T | false | null | undefined,
  timeoutMs = 10000,
  what = 'condition',
  everyMs = 25,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await pred();
      if (v) return v;
    } catch (e) {
      last = e;
    }
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs / 1000} s waiting for ${what}${last ? ` (last error: ${String(last)})` : ''}`);
    await sleep(everyMs);
  }
}

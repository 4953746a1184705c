// SPDX-License-Identifier: MIT
/**
 * The one limit on embedding threads, shared by the CLI's `--threads`, both embedders and the
 * addon (native/src/addon.cc refuses more than 64 too): 1 to 64, one message for all of them.
 */
export const MAX_THREADS = 64;

/** The message for a thread count out of range (`name`: `threads`, or `--threads` on the command line). */
export function threadsMessage(name: string, received: string): string {
  return `Expected an integer from 1 to ${MAX_THREADS} for ${name} but received ${received}`;
}

/** `n` when it is a whole number from 1 to MAX_THREADS; a RangeError otherwise. */
export function checkThreads(n: number): number {
  if (!Number.isInteger(n) || n < 1 || n > MAX_THREADS) throw new RangeError(threadsMessage('threads', String(n)));
  return n;
}

// SPDX-License-Identifier: MIT
/** Validation of command-line flags, with messages of the form "Expected X for Y but received Z". */
import { UsageError } from './errors.js';

/**
 * Default sockets per process. Two: on the portable backend a second job overlaps its download
 * and decoding with the first one's inference (see the README's --jobs measurement).
 */
export const DEFAULT_JOBS = 2;

export function parseIntFlag(name: string, value: unknown, min: number, max: number): number {
  const s = String(value).trim();
  const n = /^\d+$/.test(s) ? Number(s) : NaN;
  if (!Number.isInteger(n) || n < min || n > max)
    throw new UsageError(`Expected an integer from ${min} to ${max} for --${name} but received ${JSON.stringify(String(value))}`);
  return n;
}

export function parseEnumFlag<T extends string>(name: string, value: unknown, allowed: readonly T[]): T {
  const s = String(value).trim() as T;
  if (!allowed.includes(s))
    throw new UsageError(`Expected one of ${allowed.join('|')} for --${name} but received ${JSON.stringify(value)}`);
  return s;
}

/** A flag that takes a value must not be given twice or empty (cac turns repeats into arrays). */
export function parseStringFlag(name: string, value: unknown): string | undefined {
  if (value === undefined) return undefined;
  if (Array.isArray(value)) throw new UsageError(`Expected --${name} once but it was given ${value.length} times`);
  if (typeof value === 'boolean' || String(value).trim() === '')
    throw new UsageError(`Expected a value for --${name} but received none`);
  return String(value);
}

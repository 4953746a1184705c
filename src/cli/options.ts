// SPDX-License-Identifier: MIT
/** Validation of command-line flags, with messages of the form "Expected X for Y but received Z". */
import { availableParallelism } from 'node:os';
import { UsageError } from './errors.js';

/**
 * Default sockets per process: one per core (at most 8), and at least 2. On the portable backend
 * one job runs on one thread, so jobs = cores keeps every core busy, and a second job overlaps its
 * download with the first one's inference; more jobs than cores measured slower (README).
 */
export const DEFAULT_JOBS = Math.max(2, Math.min(8, availableParallelism()));

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

/** A number of seconds from `min` to `max` (decimals allowed: 0.5). */
export function parseSecondsFlag(name: string, value: unknown, min: number, max: number): number {
  if (Array.isArray(value)) throw new UsageError(`Expected --${name} once but it was given ${value.length} times`);
  const s = String(value).trim();
  const n = /^\d+(\.\d+)?$/.test(s) ? Number(s) : NaN;
  if (!Number.isFinite(n) || n < min || n > max)
    throw new UsageError(`Expected a number of seconds from ${min} to ${max} for --${name} but received ${JSON.stringify(String(value))}`);
  return n;
}

/** A flag that may be given several times, each with a non-empty value; true when given at all. */
export function parseRepeatedFlag(name: string, value: unknown): boolean {
  if (value === undefined) return false;
  for (const v of Array.isArray(value) ? value : [value])
    if (typeof v === 'boolean' || String(v) === '') throw new UsageError(`Expected a value for --${name} but received none (write --${name}=VALUE)`);
  return true;
}

/** A flag that takes a value must not be given twice or empty (cac turns repeats into arrays). */
export function parseStringFlag(name: string, value: unknown): string | undefined {
  if (value === undefined) return undefined;
  if (Array.isArray(value)) throw new UsageError(`Expected --${name} once but it was given ${value.length} times`);
  if (typeof value === 'boolean' || String(value).trim() === '')
    throw new UsageError(`Expected a value for --${name} but received none`);
  return String(value);
}

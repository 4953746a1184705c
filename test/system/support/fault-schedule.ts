// SPDX-License-Identifier: MIT
/**
 * A seeded fault schedule: which faults, at which moments of a run, drawn from one seed
 * (CHAARFM_FAULT_SEED, else a random one) with the package's mulberry32 PRNG, so a failing
 * run can be replayed with the seed it printed.
 */
import { randomInt } from 'node:crypto';
import { mulberry32 } from '../../../src/util/random.js';

export type FaultKind =
  | 'kill-worker-download'
  | 'kill-worker-inference'
  | 'kill-coordinator'
  | 'proxy-cut'
  | 'proxy-stall'
  | 'proxy-drop-bytes'
  | 'no-answer-worker'
  | 'disk-full';

export const FAULT_KINDS: FaultKind[] = [
  'kill-worker-download',
  'kill-worker-inference',
  'kill-coordinator',
  'proxy-cut',
  'proxy-stall',
  'proxy-drop-bytes',
  'no-answer-worker',
  'disk-full',
];

export interface FaultEvent {
  kind: FaultKind;
  /** ms after the jobs were queued. */
  at: number;
  /** A uniform draw in [0, 1) for the fault's own choices (which worker, how many bytes...). */
  r: number;
}

/** The seed of this test process: CHAARFM_FAULT_SEED, or a fresh random one. */
export function faultSeed(): number {
  const env = process.env.CHAARFM_FAULT_SEED;
  if (env !== undefined && env !== '') {
    const n = Number(env);
    if (!Number.isInteger(n) || n < 0 || n > 0xffffffff) throw new Error(`Expected an integer from 0 to 4294967295 for CHAARFM_FAULT_SEED but received ${JSON.stringify(env)}`);
    return n;
  }
  return randomInt(0, 0x7fffffff);
}

export function rng(seed: number): () => number {
  return mulberry32(seed);
}

/**
 * `counts[kind]` events of each kind at uniform moments within [from, to) ms, sorted by time.
 * Draws come from `rand` in a fixed order, so one seed gives one schedule.
 */
export function makeSchedule(rand: () => number, counts: Partial<Record<FaultKind, number>>, from: number, to: number): FaultEvent[] {
  const out: FaultEvent[] = [];
  for (const kind of FAULT_KINDS)
    for (let i = 0; i < (counts[kind] ?? 0); i++) out.push({ kind, at: Math.round(from + rand() * (to - from)), r: rand() });
  return out.sort((a, b) => a.at - b.at);
}

// SPDX-License-Identifier: MIT
/**
 * Seeded input generation for the fuzz suites: a seed read from CHAARFM_FUZZ_SEED (or made at
 * random and printed so a failure can be replayed), a small random toolkit over mulberry32, and
 * mutators that turn a valid JSON frame into a broken one: byte flips, inserts and deletes,
 * truncation, wrong types, huge numbers, deep nesting, odd unicode, very long strings.
 */
import { randomInt } from 'node:crypto';
import { mulberry32 } from '../../../src/util/random.js';

/** The seed of this run: CHAARFM_FUZZ_SEED when set, else a fresh one. */
export function fuzzSeed(): number {
  const env = process.env.CHAARFM_FUZZ_SEED;
  if (env !== undefined && env.trim() !== '') {
    const n = Number(env);
    if (!Number.isInteger(n) || n < 0 || n > 0xffffffff) throw new Error(`CHAARFM_FUZZ_SEED must be an integer 0..4294967295, got ${JSON.stringify(env)}`);
    return n;
  }
  return randomInt(0, 0xffffffff);
}

export class Rng {
  private readonly next: () => number;
  constructor(readonly seed: number) {
    this.next = mulberry32(seed);
  }
  float(): number {
    return this.next();
  }
  int(lo: number, hi: number): number {
    return lo + Math.floor(this.next() * (hi - lo + 1));
  }
  chance(p: number): boolean {
    return this.next() < p;
  }
  pick<T>(xs: readonly T[]): T {
    return xs[Math.floor(this.next() * xs.length)];
  }
  bytes(n: number): Buffer {
    const b = Buffer.alloc(n);
    for (let i = 0; i < n; i++) b[i] = Math.floor(this.next() * 256);
    return b;
  }
  /** A string of mixed ASCII, control characters, accents, emoji, lone surrogates and RTL marks. */
  text(n: number): string {
    const pools = ['abcXYZ019 -_/', '\u0000\u0001\n\r\t\u001f\u007f', 'éñüßøÅ', '😀🎵💥', '\ud800\udfff\u200f\u202e\ufeff', '"\\{}[]:,', '%00%zz%2F'];
    let s = '';
    while (s.length < n) {
      const p = this.pick(pools);
      s += p[Math.floor(this.next() * p.length)] ?? 'x';
    }
    return s;
  }
}

/** Values that break type expectations. */
export function oddValue(r: Rng): unknown {
  const choices: (() => unknown)[] = [
    () => null,
    () => true,
    () => 0,
    () => -1,
    () => 1e308,
    () => -1e308,
    () => Number.MAX_SAFE_INTEGER + 2,
    () => 1.5,
    () => '',
    () => ' ',
    () => r.text(r.int(1, 40)),
    () => 'x'.repeat(r.int(1000, 70000)),
    () => [],
    () => [1, 'a', null],
    () => ({}),
    () => ({ nested: { deeper: [1, 2, { x: null }] } }),
    () => deepNest(r.int(10, 1000)),
    // stands for nesting too deep for JSON.stringify: toFrame writes it as text
    () => DEEP,
    () => 'https://',
    () => 'http://127.0.0.1:1/' + r.text(10),
    () => 'javascript:alert(1)',
    () => 'file:///etc/passwd',
    () => '__proto__',
    () => JSON.parse('{"__proto__":{"polluted":true}}'),
    // String() of this throws: toString is not callable and valueOf gives an object
    () => ({ toString: 1, valueOf: 1 }),
    () => ({ toString: 'x' }),
    () => ({ length: 1e9 }),
    () => Array.from({ length: r.int(0, 400) }, () => r.float() * 2 - 1),
  ];
  return r.pick(choices)();
}

/** A placeholder that toFrame turns into an array nested 5,000 to 150,000 deep. */
export const DEEP = '\u0000deep\u0000';

/** JSON text of a value, with every DEEP placeholder written as deep nesting. */
export function toFrame(r: Rng, v: unknown): string {
  const s = JSON.stringify(v) ?? 'null';
  return s.includes('"\\u0000deep\\u0000"') ? s.replace(/"\\u0000deep\\u0000"/g, () => deepNestText(r.int(5000, 150000))) : s;
}

/** An array nested `depth` deep: [[[...]]]. */
export function deepNest(depth: number): unknown {
  let v: unknown = [];
  for (let i = 0; i < depth; i++) v = [v];
  return v;
}

/** Deep nesting as text (faster and deeper than JSON.stringify of a deep value). */
export function deepNestText(depth: number, open = '[', close = ']'): string {
  return open.repeat(depth) + close.repeat(depth);
}

/** Replace, delete or add one field somewhere in a JSON object (a copy). */
export function mutateStructure(r: Rng, obj: Record<string, unknown>): Record<string, unknown> {
  const copy = structuredClone(obj) as Record<string, unknown>;
  const targets: Record<string, unknown>[] = [copy];
  for (const v of Object.values(copy)) if (v && typeof v === 'object' && !Array.isArray(v)) targets.push(v as Record<string, unknown>);
  const t = r.pick(targets);
  const keys = Object.keys(t);
  const op = r.int(0, 3);
  if (op === 0 && keys.length) delete t[r.pick(keys)];
  else if (op === 1 && keys.length) t[r.pick(keys)] = oddValue(r);
  else if (op === 2) t[r.pick(['type', 'job_id', 'payload', 'status', 'data', 'error', 'extra', r.text(5)])] = oddValue(r);
  else if (keys.length) {
    // two changes at once
    t[r.pick(keys)] = oddValue(r);
    delete t[r.pick(keys)];
  }
  return copy;
}

/** Byte-level damage to a serialized frame. */
export function mutateBytes(r: Rng, text: string): Buffer {
  let b = Buffer.from(text, 'utf8');
  const n = r.int(1, 4);
  for (let k = 0; k < n; k++) {
    const op = r.int(0, 4);
    const at = b.length ? r.int(0, b.length - 1) : 0;
    if (op === 0 && b.length) b[at] ^= 1 << r.int(0, 7);
    else if (op === 1) b = Buffer.concat([b.subarray(0, at), r.bytes(r.int(1, 8)), b.subarray(at)]);
    else if (op === 2 && b.length) b = Buffer.concat([b.subarray(0, at), b.subarray(Math.min(b.length, at + r.int(1, 8)))]);
    else if (op === 3) b = b.subarray(0, at);
    else b = Buffer.concat([b.subarray(0, at), Buffer.from(r.pick(['"', '{', '}', ',', '\\', '\u0000', 'null', ':', ']']), 'utf8'), b.subarray(at)]);
  }
  return b;
}

/** One fuzzed text frame from a valid template: a structural mutation, byte damage, or both. */
export function mutateFrame(r: Rng, valid: Record<string, unknown>): string | Buffer {
  const roll = r.int(0, 9);
  if (roll < 5) return toFrame(r, mutateStructure(r, valid));
  if (roll < 8) return mutateBytes(r, JSON.stringify(valid));
  return mutateBytes(r, toFrame(r, mutateStructure(r, valid)));
}

/** Pure noise: random bytes, random text, random JSON scalars and containers. */
export function randomFrame(r: Rng): string | Buffer {
  const roll = r.int(0, 7);
  if (roll === 0) return r.bytes(r.int(0, 300));
  if (roll === 1) return r.text(r.int(0, 300));
  if (roll === 2) return toFrame(r, oddValue(r));
  if (roll === 3) return deepNestText(r.int(100, 100000), r.pick(['[', '{"a":']), '');
  if (roll === 4) return deepNestText(r.int(100, 20000));
  if (roll === 5) return '';
  if (roll === 6) return toFrame(r, { type: r.text(r.int(0, 20)), [r.text(4)]: oddValue(r) });
  return toFrame(r, Array.from({ length: r.int(0, 50) }, () => oddValue(r)));
}

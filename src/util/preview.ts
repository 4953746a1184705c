// SPDX-License-Identifier: MIT
/**
 * A short rendering of any value parsed from untrusted JSON, for log lines and error messages.
 * Never throws: no String() (an object whose toString is not a function makes it throw) and no
 * JSON.stringify of containers (a value nested 100,000 deep overflows the stack).
 */
export function preview(v: unknown, max = 40): string {
  if (typeof v === 'string') return JSON.stringify(v.slice(0, max));
  if (typeof v === 'number' || typeof v === 'boolean' || v === null || v === undefined) return String(v);
  if (Array.isArray(v)) return `an array of ${v.length}`;
  return typeof v === 'object' ? 'an object' : `a ${typeof v}`;
}

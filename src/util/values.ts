// SPDX-License-Identifier: MIT
/** Small checks and renderings of unknown values, shared by the modules that parse or report them. */

/** A plain JSON object (not null, not an array). */
export function isObj(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** The first line of an error's message (or of a value's text), trimmed, at most `max` characters. */
export function firstLine(v: unknown, max = Infinity): string {
  return (v instanceof Error ? v.message : String(v)).split('\n')[0].trim().slice(0, max);
}

/** A text on one line: control characters, quotes and backslashes escaped as JSON escapes them (a plain id stays as it is). */
export function oneLineText(s: string): string {
  return JSON.stringify(s).slice(1, -1);
}

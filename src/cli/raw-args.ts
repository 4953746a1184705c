// SPDX-License-Identifier: MIT
import { UsageError } from './errors.js';

/**
 * cac's parser turns numeric-looking values into numbers ("0123" becomes 123), which would
 * corrupt pairing codes. String flags are therefore read back from the raw argv.
 */

/**
 * A flag whose values are other programs' flags must be written `--name=VALUE`: with a space,
 * the parser would take the value for a flag of ours. Throws a UsageError that says so.
 */
export function checkPassThroughFlag(argv: readonly string[], long: string): void {
  for (let i = 0; i < argv.length && argv[i] !== '--'; i++) {
    if (argv[i] !== `--${long}`) continue;
    const next = argv[i + 1];
    if (next === undefined || next.startsWith('-'))
      throw new UsageError(`Expected a value for --${long} but received ${next === undefined ? 'none' : JSON.stringify(next)} (write --${long}=VALUE, e.g. --${long}=${next ?? '--plugin-dirs=DIR'})`);
  }
}

/** Every raw string given for a repeatable flag (`--name v`, `--name=v`), in order. */
export function rawFlagValues(argv: readonly string[], long: string): string[] {
  const values: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--') break;
    if (a === `--${long}`) {
      if (i + 1 < argv.length) values.push(argv[++i]);
    } else if (a.startsWith(`--${long}=`)) values.push(a.slice(long.length + 3));
  }
  return values;
}

/** The raw string given for a flag (`--name v`, `--name=v`, `-a v`); the last one wins. */
export function rawFlagValue(argv: readonly string[], long: string, short?: string): string | undefined {
  let value: string | undefined;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--') break;
    if (a === `--${long}` || (short && a === `-${short}`)) {
      if (i + 1 < argv.length) value = argv[++i];
    } else if (a.startsWith(`--${long}=`)) value = a.slice(long.length + 3);
    else if (short && a.startsWith(`-${short}=`)) value = a.slice(3);
  }
  return value;
}

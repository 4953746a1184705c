// SPDX-License-Identifier: MIT
/**
 * cac's parser turns numeric-looking values into numbers ("0123" becomes 123), which would
 * corrupt pairing codes. String flags are therefore read back from the raw argv.
 */

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

// SPDX-License-Identifier: MIT
/**
 * The CPU feature flags of this x64 Linux machine (/proc/cpuinfo's first `flags` line), for the
 * tests whose expectation depends on them (FMA, AVX2); undefined where they cannot be read.
 */
import { readFileSync } from 'node:fs';

export function x64LinuxCpuFlags(): Set<string> | undefined {
  if (process.platform !== 'linux' || process.arch !== 'x64') return undefined;
  try {
    const line = readFileSync('/proc/cpuinfo', 'utf8').match(/^flags\s*:(.*)$/m)?.[1];
    return line === undefined ? undefined : new Set(line.trim().split(/\s+/));
  } catch {
    return undefined;
  }
}

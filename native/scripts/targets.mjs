// SPDX-License-Identifier: MIT
/**
 * The platforms a prebuild can be made for from this machine, and the cmake-js arguments of each.
 *   host          this machine's own platform (Linux, macOS, Windows with MSVC)
 *   win32-x64     cross-built on Linux with mingw-w64 (native/cmake/toolchains/win32-x64-mingw.cmake)
 *   linux-arm64   cross-built on Linux x64 with Debian's multiarch toolchain
 *                 (native/cmake/toolchains/linux-arm64.cmake)
 * The engine's kernels are its own (no BLAS library), so a cross build needs only the toolchain.
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
export const hostTarget = `${process.platform}-${process.arch}`;

const CROSS = {
  'win32-x64': { toolchain: 'win32-x64-mingw.cmake', strip: 'x86_64-w64-mingw32-strip', exe: '.exe' },
  'linux-arm64': { toolchain: 'linux-arm64.cmake', strip: 'aarch64-linux-gnu-strip', exe: '' },
};

/**
 * `--target X` from argv (removed from the returned rest), else the host.
 * Returns { target, cross, rest, cmakeArgs, strip, exe }.
 */
export function parseTarget(argv) {
  const rest = [...argv];
  let target = hostTarget;
  const i = rest.indexOf('--target');
  if (i >= 0) {
    target = rest[i + 1];
    rest.splice(i, 2);
    if (!target) throw new Error('--target needs a value: win32-x64 or linux-arm64');
  }
  if (target === hostTarget) return { target, cross: false, rest, cmakeArgs: [], strip: 'strip', exe: process.platform === 'win32' ? '.exe' : '' };
  const spec = CROSS[target];
  if (!spec) throw new Error(`unknown --target ${target}: this machine (${hostTarget}) builds ${[hostTarget, ...Object.keys(CROSS)].join(', ')}`);
  if (process.platform !== 'linux' || process.arch !== 'x64') throw new Error(`--target ${target} is cross-built on linux-x64 only (this is ${hostTarget})`);
  const toolchain = path.join(root, 'native', 'cmake', 'toolchains', spec.toolchain);
  if (!existsSync(toolchain)) throw new Error(`toolchain file ${toolchain} is missing`);
  const cmakeArgs = [`--CDCMAKE_TOOLCHAIN_FILE=${toolchain}`];
  return { target, cross: true, rest, cmakeArgs, strip: spec.strip, exe: spec.exe };
}

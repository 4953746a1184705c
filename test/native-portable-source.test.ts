// SPDX-License-Identifier: MIT
/**
 * The addon's C++ compiles for every platform we ship: no POSIX-only math constants (M_PI and
 * friends: strict C++17, MSVC without _USE_MATH_DEFINES and mingw-w64 do not define them), and,
 * where Debian's mingw-w64 is installed, the audio front end and the engine sources pass a strict
 * C++17 syntax check for Windows (the compiler the win32-x64 prebuild is built with).
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';

const root = resolve(fileURLToPath(new URL('../..', import.meta.url)));
const src = join(root, 'native', 'src');
const cxx = (dir: string) => (readdirSync(dir, { recursive: true }) as string[]).filter((f) => /\.(cc|h)$/.test(f)).map((f) => join(dir, f));
const sources = cxx(src);
// the C++ tests and benches are cross-built for Windows too (the windows leg runs them)
const everyCxx = [...sources, ...cxx(join(root, 'native', 'test')), ...cxx(join(root, 'bench', 'kernels'))];
const MINGW = 'x86_64-w64-mingw32-g++-posix';
const noMingw = spawnSync(MINGW, ['--version']).status === 0 ? false : `${MINGW} is not installed (apt-get install mingw-w64)`;

test('no native source, C++ test or bench uses the POSIX-only M_* math constants', () => {
  const uses = everyCxx.flatMap((f) =>
    readFileSync(f, 'utf8')
      .split('\n')
      .map((line, i) => [line.replace(/\/\/.*$/, ''), i + 1] as const)
      .filter(([line]) => /\bM_(PI|PI_2|PI_4|1_PI|2_PI|2_SQRTPI|E|LOG2E|LOG10E|LN2|LN10|SQRT2|SQRT1_2)\b/.test(line))
      .map(([, n]) => `${relative(root, f)}:${n}`),
  );
  assert.deepEqual(uses, []);
});

test('the audio front end and the engine pass a strict C++17 syntax check for Windows (mingw-w64)', { skip: noMingw }, () => {
  const units = sources.filter((f) => f.endsWith('.cc') && /[\\/](audio|graph|kernels)[\\/]/.test(f) && !/avx|neon|wasm128|sinc_medium_table\.cc/.test(f)); // other ISAs' units; the table needs libsamplerate's header
  assert.ok(units.some((f) => f.endsWith('mel_frontend.cc')));
  const r = spawnSync(MINGW, ['-std=c++17', '-fsyntax-only', `-I${src}`, ...units], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
});

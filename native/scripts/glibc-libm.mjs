// SPDX-License-Identifier: MIT
/**
 * Builds glibc's sinf, cosf and exp2f from glibc's pinned source (native/deps/sources.json
 * "glibc": Debian bookworm's 2.36, the C library of Debian's /usr/bin/ffmpeg) into one static
 * archive whose functions are named chaarfm_sinf, chaarfm_cosf and chaarfm_exp2f
 * (native/ffmpeg-libm/chaarfm_libm.c). native/scripts/build-ffmpeg.mjs links it into the
 * bundled decoder of targets whose C library is not glibc, and test/ffmpeg-libm.test.ts builds
 * it for this machine and compares it with the running glibc's functions.
 *
 * On x86-64, as glibc does (sysdeps/x86_64/fpu/multiarch), each function is built twice: plain
 * (chaarfm_<f>_sse2) and with -mfma -mavx2 (chaarfm_<f>_fma), and chaarfm_libm.c picks one the
 * way glibc's ifunc does. On other CPUs one build under the plain name.
 *
 *   import { buildGlibcLibm } from './glibc-libm.mjs'
 *   buildGlibcLibm({ cc, ar, x86, outDir }) -> the archive's path
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, rmSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const here = path.join(root, 'native', 'ffmpeg-libm');

function run(cmd, args) {
  const r = spawnSync(cmd, args, { encoding: 'utf8' });
  if (r.error) throw new Error(`${cmd}: ${r.error.message}`);
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} exited ${r.status}:\n${r.stderr}`);
}

/** glibc's source folder (fetched, checked and unpacked by native/deps/fetch-source.mjs). */
export function glibcSource() {
  const r = spawnSync(process.execPath, [path.join(root, 'native/deps/fetch-source.mjs'), 'glibc'], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  if (r.status !== 0) throw new Error('could not fetch the pinned glibc source (native/deps/fetch-source.mjs glibc)');
  return r.stdout.trim();
}

/**
 * Compiles the units with `cc` into outDir and archives them with `ar` as libchaarfm_libm.a;
 * returns its path. x86: the two builds and chaarfm_libm.c's dispatch.
 */
export function buildGlibcLibm({ cc, ar, x86, outDir, src = glibcSource() }) {
  const flt = path.join(src, 'sysdeps', 'ieee754', 'flt-32');
  // -frounding-math as glibc's libm is built (Makeconfig's +math-flags); -ffp-contract=off: glibc
  // builds its C with GCC's default, which contracts only where FMA is
  // enabled (the -mfma build); the plain build must not contract whatever the compiler's default
  const base = ['-O2', '-frounding-math', '-ffp-contract=off', '-include', path.join(here, 'shim', 'glibc-shim.h'),
    '-I', path.join(here, 'shim'), '-I', flt];
  rmSync(outDir, { recursive: true, force: true });
  mkdirSync(outDir, { recursive: true });
  const objs = [];
  const compile = (file, name, flags) => {
    const o = path.join(outDir, `${name}.o`);
    run(cc, [...base, ...flags, '-c', file, '-o', o]);
    objs.push(o);
  };
  const variants = x86 ? [['sse2', []], ['fma', ['-mfma', '-mavx2', '-ffp-contract=fast']]] : [['', []]];
  for (const [v, flags] of variants) {
    const n = (f) => `chaarfm_${f}${v ? `_${v}` : ''}`;
    compile(path.join(flt, 's_sinf.c'), n('sinf'), [`-DSINF=${n('sinf')}`, ...flags]);
    compile(path.join(flt, 's_cosf.c'), n('cosf'), [`-DCOSF=${n('cosf')}`, ...flags]);
    compile(path.join(flt, 'e_exp2f.c'), n('exp2f'), [`-D__exp2f=${n('exp2f')}`, ...flags]);
  }
  compile(path.join(flt, 's_sincosf_data.c'), 'sincosf_data', []);
  compile(path.join(flt, 'e_exp2f_data.c'), 'exp2f_data', []);
  compile(path.join(flt, 'math_errf.c'), 'math_errf', []);
  if (x86) compile(path.join(here, 'chaarfm_libm.c'), 'chaarfm_libm', []);
  const archive = path.join(outDir, 'libchaarfm_libm.a');
  run(ar, ['rcsD', archive, ...objs]);
  return archive;
}

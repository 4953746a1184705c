// SPDX-License-Identifier: MIT
/**
 * glibc's sinf, cosf and exp2f as the bundled decoder of a non-glibc target gets them
 * (native/scripts/glibc-libm.mjs, from glibc's pinned source): built here for this machine with
 * the same units and flags, and compared bit for bit with the running glibc's own functions on
 * every 97th float bit pattern and on Opus' MDCT twiddle arguments
 * (native/ffmpeg-libm/test/compare_libm.c): the dispatching build, the FMA build where the CPU
 * has FMA and AVX2, and the plain (SSE2) build against glibc made to pick its plain build
 * (GLIBC_TUNABLES=glibc.cpu.hwcaps=-AVX2,-FMA). The Windows leg (scripts/ci/windows-leg.sh) then
 * checks the decoder it is linked into: every format decoded as Debian's ffmpeg, bit for bit.
 * Measured 2026-12-02 over all 2^32 floats: 0 differ for each function and build; the plain and
 * FMA builds differ from each other on 12 (sinf) and 22 (cosf) arguments, so each is checked
 * against the glibc build it stands for.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, test } from 'node:test';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { x64LinuxCpuFlags } from './support/cpu-flags.js';

const root = path.resolve(fileURLToPath(new URL('../..', import.meta.url)));
const { buildGlibcLibm } = (await import(pathToFileURL(path.join(root, 'native', 'scripts', 'glibc-libm.mjs')).href)) as {
  buildGlibcLibm: (o: { cc: string; ar: string; x86: boolean; outDir: string }) => string;
};

const glibc = (process.report.getReport() as { header?: { glibcVersionRuntime?: string } }).header?.glibcVersionRuntime;
const cc = spawnSync('cc', ['--version']).status === 0;
const skip = !glibc ? 'the comparison needs a glibc system (its sinf, cosf, exp2f are the reference)' : !cc ? 'no C compiler (cc) here' : false;
const dir = mkdtempSync(path.join(tmpdir(), 'chaarfm-libm-'));
after(() => rmSync(dir, { recursive: true, force: true }));

test("glibc's sinf, cosf and exp2f built from its pinned source equal this glibc's, bit for bit, in each build", { skip, timeout: 600_000 }, (t) => {
  const x86 = process.arch === 'x64';
  const archive = buildGlibcLibm({ cc: 'cc', ar: 'ar', x86, outDir: path.join(dir, 'lib') });
  const prog = path.join(dir, 'compare_libm');
  const c = spawnSync('cc', ['-O2', path.join(root, 'native', 'ffmpeg-libm', 'test', 'compare_libm.c'), archive, '-o', prog, '-lm'], { encoding: 'utf8' });
  assert.equal(c.status, 0, c.stderr);
  const compare = (args: string[], env: Record<string, string> = {}) => {
    const r = spawnSync(prog, ['97', ...args], { encoding: 'utf8', env: { ...process.env, ...env } });
    assert.equal(r.status, 0, `compare_libm ${args.join(' ')} ${JSON.stringify(env)}:\n${r.stdout}${r.stderr}`);
    const lines = r.stdout.trim().split('\n');
    assert.equal(lines.length, 3, r.stdout);
    for (const l of lines) {
      assert.match(l, /^(sinf|cosf|exp2f)\S*: 0 of [1-9]\d+ arguments differ from the C library's$/);
      t.diagnostic(`${l}${env.GLIBC_TUNABLES ? ` (GLIBC_TUNABLES=${env.GLIBC_TUNABLES})` : ''}`);
    }
  };
  t.diagnostic(`glibc ${glibc} here`);
  compare([]);
  if (!x86) return;
  const flags = x64LinuxCpuFlags();
  if (flags?.has('fma') && flags.has('avx2')) {
    compare(['fma']);
    // and glibc here runs its FMA build: the plain one differs from it exactly where they split
    const r = spawnSync(prog, ['97', 'sse2'], { encoding: 'utf8' });
    assert.equal(r.status, 1, r.stdout);
    assert.match(r.stdout, /^sinf_sse2: 12 of \d+ arguments differ/m);
    assert.match(r.stdout, /^cosf_sse2: 22 of \d+ arguments differ/m);
    assert.match(r.stdout, /^exp2f_sse2: 0 of \d+ arguments differ/m);
  } else t.diagnostic('this CPU has no FMA/AVX2: the FMA build is not compared (glibc uses its plain build here)');
  compare(['sse2'], { GLIBC_TUNABLES: 'glibc.cpu.hwcaps=-AVX2,-FMA' });
});

// SPDX-License-Identifier: MIT
/**
 * Builds the bundled decoder: a minimal, static, LGPL FFmpeg command-line program that reads
 * the formats a worker downloads (webm/opus, m4a/aac, mp3, ogg/vorbis, flac, wav) and writes
 * float PCM, from the pinned source in native/deps/sources.json (`ffmpeg`, Debian's orig tarball
 * of the same version as Debian's /usr/bin/ffmpeg), and puts it at
 * prebuilds/<platform>-<arch>/ffmpeg[.exe], next to the addon.
 *
 *   node native/scripts/build-ffmpeg.mjs [--platform linux|win32|darwin] [--arch x64|arm64]
 *                                        [--jobs N] [--out DIR]
 * Default: this machine's platform and arch. Cross builds from Linux: win32-x64 with mingw-w64
 * (x86_64-w64-mingw32-), linux-arm64 with crossbuild-essential-arm64 (aarch64-linux-gnu-).
 * x86 builds need nasm: the SIMD DSP (float transforms, resampling) is the same assembly
 * Debian's build runs, picked at run time by the same CPU detection, so decoded samples equal
 * Debian's ffmpeg bit for bit (test/ffmpeg-bundled.test.ts).
 *
 * Why each decoder: ffmpeg takes the first registered decoder of a codec, and in Debian's build
 * that is FFmpeg's own (opus, vorbis, aac, mp3float: native decoders come before the external
 * libraries), so these are the ones built. No GPL or non-free parts, no network, no external
 * libraries (--disable-autodetect), no --enable-small (it changes code paths),
 * --enable-hardcoded-tables (the tables come from the build host's libm).
 * Where the target's C library is not glibc (win32, darwin), sinf, cosf and exp2f are glibc's,
 * built from glibc's pinned source (native/scripts/glibc-libm.mjs, native/ffmpeg-libm/), linked
 * in and force-included over the C library's: Opus' decoder calls them per band and for its
 * MDCT's twiddles, AAC's SBR exp2f.
 * Build folder: build-ffmpeg/<platform>-<arch> (out of tree; the cached source stays clean).
 */
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildGlibcLibm } from './glibc-libm.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

function arg(name, fallback) {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 && process.argv[i + 1] ? process.argv[i + 1] : fallback;
}
function fail(msg) {
  process.stderr.write(`build-ffmpeg: ${msg}\n`);
  process.exit(1);
}
function run(cmd, args, opts = {}) {
  process.stderr.write(`+ ${cmd} ${args.join(' ')}\n`);
  const r = spawnSync(cmd, args, { stdio: ['ignore', 'inherit', 'inherit'], ...opts });
  if (r.error) fail(`${cmd}: ${r.error.message}`);
  if (r.status !== 0) fail(`${cmd} exited ${r.status}`);
}

const platform = arg('platform', process.platform);
const arch = arg('arch', process.arch);
const jobs = arg('jobs', String(Math.min(2, os.availableParallelism?.() ?? 2)));
const target = `${platform}-${arch}`;
const out = path.resolve(arg('out', path.join(root, 'prebuilds', target)));
const exe = platform === 'win32' ? 'ffmpeg.exe' : 'ffmpeg';
const native = platform === process.platform && arch === process.arch;
/** A Windows target built from another OS: mingw-w64's tools (x86_64-w64-mingw32-*). */
const mingwCross = platform === 'win32' && process.platform !== 'win32';

/** What the worker's decode needs, and nothing else. */
const COMPONENTS = [
  '--enable-protocol=file,pipe',
  '--enable-demuxer=matroska,mov,mp3,ogg,flac,wav',
  // images only to be recognised as such: a picture named .mp3 is "no audio stream", as with a full ffmpeg
  '--enable-demuxer=image_png_pipe,image_jpeg_pipe,image_webp_pipe,image_bmp_pipe,gif',
  '--enable-decoder=opus,aac,mp3float,mp3,vorbis,flac,pcm_*',
  '--enable-parser=aac,aac_latm,flac,mpegaudio,opus,vorbis',
  '--enable-muxer=wav,pcm_f32le', // pcm_f32le: the raw f32le format
  '--enable-encoder=pcm_f32le',
  '--enable-filter=abuffer,abuffersink,aformat,anull,aresample',
  '--enable-swresample',
  // the aac tables (cbrt, pow) made at build time by the build host's libm, not at run time by
  // the target's: with mingw-w64's libm the Windows aac output differed from glibc's in 79
  // samples (2.98e-8); with this it is bit for bit, and Linux's output is unchanged
  '--enable-hardcoded-tables',
];

const COMMON = [
  '--disable-everything',
  '--disable-autodetect',
  '--disable-network',
  '--disable-doc',
  '--disable-debug',
  '--disable-ffplay',
  '--disable-ffprobe',
  '--disable-avdevice',
  '--disable-swscale',
  '--disable-postproc',
  '--enable-static',
  '--disable-shared',
  '--extra-version=chaarfm',
];

function toolchain() {
  if (platform === 'linux' && arch === 'x64') {
    if (!native) fail('linux-x64 builds only on linux-x64');
    return ['--arch=x86_64', '--enable-pthreads', '--extra-ldflags=-static'];
  }
  if (platform === 'linux' && arch === 'arm64') {
    if (native) return ['--arch=aarch64', '--enable-pthreads', '--extra-ldflags=-static'];
    return ['--enable-cross-compile', '--arch=aarch64', '--target-os=linux', '--cross-prefix=aarch64-linux-gnu-',
      '--enable-pthreads', '--extra-ldflags=-static'];
  }
  if (platform === 'win32' && arch === 'x64') {
    const cross = mingwCross ? ['--enable-cross-compile', '--cross-prefix=x86_64-w64-mingw32-'] : [];
    return [...cross, '--arch=x86_64', '--target-os=mingw32', '--enable-w32threads', '--extra-ldflags=-static'];
  }
  if (platform === 'darwin') {
    if (process.platform !== 'darwin') fail('darwin builds only on macOS');
    return [`--arch=${arch === 'arm64' ? 'arm64' : 'x86_64'}`, '--cc=clang', '--enable-pthreads'];
  }
  fail(`no recipe for ${target}`);
}

const flags = [...COMMON, ...toolchain(), ...COMPONENTS];
if (arch === 'x64') {
  const nasm = spawnSync('nasm', ['-v'], { encoding: 'utf8' });
  if (nasm.status !== 0) fail('nasm is needed for the x86 SIMD code (Debian: apt-get install nasm; macOS: brew install nasm)');
}

const fetched = spawnSync(process.execPath, [path.join(root, 'native/deps/fetch-source.mjs'), 'ffmpeg'], {
  encoding: 'utf8',
  stdio: ['ignore', 'pipe', 'inherit'],
});
if (fetched.status !== 0) fail('could not fetch the pinned FFmpeg source');
const src = fetched.stdout.trim();

const build = path.join(root, 'build-ffmpeg', target);

/**
 * Non-glibc targets: glibc's sinf, cosf and exp2f from glibc's pinned source
 * (native/scripts/glibc-libm.mjs), built with the target's compiler; returns the configure
 * flags that put them in place of the C library's. A changed archive removes the linked
 * program, so make links it again.
 */
function glibcLibm() {
  if (platform === 'linux') return [];
  const cc = mingwCross ? 'x86_64-w64-mingw32-gcc' : platform === 'darwin' ? 'clang' : 'cc';
  const ar = mingwCross ? 'x86_64-w64-mingw32-ar' : 'ar';
  const dir = path.join(build, 'chaarfm-libm');
  const header = path.join(root, 'native', 'ffmpeg-libm', 'chaarfm_libm.h');
  for (const p of [dir, header]) if (/\s/.test(p)) fail(`configure cannot take a path with spaces: ${p}`);
  const before = existsSync(path.join(dir, 'libchaarfm_libm.a')) ? readFileSync(path.join(dir, 'libchaarfm_libm.a')) : null;
  let archive;
  try {
    archive = buildGlibcLibm({ cc, ar, x86: arch === 'x64', outDir: dir });
  } catch (err) {
    fail(`glibc's sinf, cosf and exp2f: ${err.message}`);
  }
  if (!before || !before.equals(readFileSync(archive))) {
    for (const f of [exe, exe.replace('ffmpeg', 'ffmpeg_g')]) rmSync(path.join(build, f), { force: true });
  }
  return [`--extra-cflags=-include ${header}`, `--extra-libs=${archive}`];
}
const stampFile = path.join(build, '.configured-with');
mkdirSync(build, { recursive: true });
const libmFlags = glibcLibm();
flags.push(...libmFlags);
const stamp = JSON.stringify({ src, flags });
const t0 = Date.now();
if (!existsSync(stampFile) || readFileSync(stampFile, 'utf8') !== stamp) {
  mkdirSync(build, { recursive: true });
  for (const f of readdirSync(build)) if (f !== 'chaarfm-libm') rmSync(path.join(build, f), { recursive: true, force: true });
  run(path.join(src, 'configure'), flags, { cwd: build });
  writeFileSync(stampFile, stamp);
}
// configure found them (else libavutil/libm.h puts its own fallbacks in their place)
if (libmFlags.length) {
  const config = readFileSync(path.join(build, 'config.h'), 'utf8');
  for (const f of ['EXP2F', 'SINF', 'COSF']) {
    if (!new RegExp(`^#define HAVE_${f} 1$`, 'm').test(config)) fail(`configure did not find ${f.toLowerCase()} with glibc's linked in (config.h)`);
  }
}
const t1 = Date.now();
run('make', [`-j${jobs}`, exe], { cwd: build });
const t2 = Date.now();
if (libmFlags.length) {
  // the linked program has ours: their symbols are in the unstripped ffmpeg_g
  const nm = mingwCross ? 'x86_64-w64-mingw32-nm' : 'nm';
  const syms = spawnSync(nm, [path.join(build, exe.replace('ffmpeg', 'ffmpeg_g'))], { encoding: 'utf8', maxBuffer: 64 << 20 });
  if (syms.status !== 0) fail(`${nm} could not list ffmpeg_g's symbols`);
  for (const f of ['sinf', 'cosf', 'exp2f']) {
    if (!new RegExp(`\\bT _?chaarfm_${f}\\b`).test(syms.stdout)) fail(`ffmpeg_g does not define chaarfm_${f}: glibc's ${f} is not linked in`);
  }
}

mkdirSync(out, { recursive: true });
const dest = path.join(out, exe);
copyFileSync(path.join(build, exe), dest);
const strip = mingwCross ? 'x86_64-w64-mingw32-strip'
  : platform === 'linux' && arch === 'arm64' && !native ? 'aarch64-linux-gnu-strip' : 'strip';
run(strip, platform === 'darwin' ? ['-x', dest] : ['--strip-all', dest]);
// LGPL 2.1: the licence travels with the binary; the source is the pinned tarball (sources.json).
copyFileSync(path.join(src, 'COPYING.LGPLv2.1'), path.join(out, 'ffmpeg-COPYING.LGPLv2.1'));
process.stderr.write(
  `build-ffmpeg: ${path.relative(root, dest)} (${statSync(dest).size} bytes); configure ${((t1 - t0) / 1000).toFixed(0)} s, make ${((t2 - t1) / 1000).toFixed(0)} s\n`,
);
process.stdout.write(`${dest}\n`);

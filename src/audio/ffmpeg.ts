// SPDX-License-Identifier: MIT
/**
 * Finding ffmpeg and decoding any media file to mono float PCM at the file's own rate, as
 * Essentia's MonoLoader does before it resamples (AudioLoader + MonoMixer).
 *
 * Resolution ({@link findFfmpeg}), first hit wins:
 *  1. the `ffmpegPath` option (the CLI's --ffmpeg), else env `CHAARFM_FFMPEG` (a bare name is
 *     looked up on PATH; when given and unusable that is an error, with no fallback);
 *  2. the bundled decoder: `prebuilds/<platform>-<arch>/ffmpeg[.exe]` in the package root, a
 *     minimal LGPL FFmpeg built from pinned source by native/scripts/build-ffmpeg.mjs (the
 *     single executable carries it and unpacks it into its user-cache tree with the addon);
 *  3. `ffmpeg` on PATH.
 * Otherwise an {@link FfmpegNotFoundError} says how to install ffmpeg.
 *
 * Decoding ({@link decodeToPcm}) runs one ffmpeg process, ffmpeg-only (no ffprobe, which the
 * bundled decoder lacks): `-map 0:a:0` (Essentia loads the first audio stream), no `-ar`/`-ac`
 * (the file's own rate and channels), `pcm_f32le` in a WAV container on stdout. The WAV
 * header carries the rate and channel count, so nothing is probed twice. A stream input is
 * copied to a temp file first (see {@link decodeToPcm} for why). ffmpeg converts integer
 * formats to float with libswresample exactly as Essentia's AudioLoader does (s16 → x/32768). Essentia refuses more than 2 channels
 * ("Audio file has more than 2 channels"); so do we. Stereo is mixed as MonoMixer's "mix":
 * `(left + right) * 0.5` with the sum rounded to float32 first.
 *
 * Streaming: chunks are yielded as ffmpeg writes them (about 16k samples each), with pipe
 * backpressure, so memory stays bounded whatever the duration; nothing blocks the event loop.
 * Aborting (the `signal`, `close()`, or leaving a for-await loop) kills ffmpeg.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { endianness, tmpdir } from 'node:os';
import { basename, join, resolve as resolvePath } from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { packageRoot } from '../embed/model-file.js';
import { findOnPath, isExecutableFile } from '../util/executables.js';

const INSTALL_HINT =
  'install ffmpeg (Debian/Ubuntu: sudo apt install ffmpeg; macOS: brew install ffmpeg; ' +
  'Windows: winget install Gyan.FFmpeg) or set CHAARFM_FFMPEG to its path';

/** No usable ffmpeg binary. The message is one line and ends with how to install it. */
export class FfmpegNotFoundError extends Error {
  readonly code = 'ERR_FFMPEG_NOT_FOUND';
  constructor(reason: string) {
    super(`ffmpeg is not available (${reason}); ${INSTALL_HINT}`);
    this.name = 'FfmpegNotFoundError';
  }
}

/** ffmpeg could not decode the input. `stderr` holds ffmpeg's last words, if any. */
export class DecodeError extends Error {
  readonly code = 'ERR_DECODE';
  constructor(
    message: string,
    readonly stderr = '',
  ) {
    super(message);
    this.name = 'DecodeError';
  }
}

export interface ResolveFfmpegOptions {
  /** An explicit binary (path, or a bare name looked up on PATH); wins over CHAARFM_FFMPEG. */
  ffmpegPath?: string;
  /** Where CHAARFM_FFMPEG and PATH are read; default process.env. */
  env?: NodeJS.ProcessEnv;
  /** The package root whose prebuilds/ holds the bundled decoder; default this package's. */
  root?: string;
}

async function explicitBinary(value: string, source: string, env: NodeJS.ProcessEnv): Promise<string> {
  const bare = !value.includes('/') && !value.includes('\\');
  const found = bare ? await findOnPath(value, env) : (await isExecutableFile(value)) ? resolvePath(value) : null;
  if (!found) {
    throw new FfmpegNotFoundError(
      `expected an executable file for ${source} but received "${value}", which ${bare ? 'is not on PATH' : 'does not exist or is not executable'}`,
    );
  }
  return found;
}

/** Where the chosen ffmpeg came from. */
export type FfmpegSource = 'option' | 'CHAARFM_FFMPEG' | 'bundled' | 'PATH';

export interface FoundFfmpeg {
  path: string;
  source: FfmpegSource;
}

/** The bundled decoder's path for this platform (it may not exist: no prebuild for it). */
export function bundledFfmpegPath(root: string = packageRoot()): string {
  const exe = process.platform === 'win32' ? 'ffmpeg.exe' : 'ffmpeg';
  return join(root, 'prebuilds', `${process.platform}-${process.arch}`, exe);
}

/** The ffmpeg binary to run and where it came from, by the order in the file header. */
export async function findFfmpeg(opts: ResolveFfmpegOptions = {}): Promise<FoundFfmpeg> {
  const env = opts.env ?? process.env;
  if (opts.ffmpegPath) return { path: await explicitBinary(opts.ffmpegPath, 'the ffmpegPath option', env), source: 'option' };
  if (env.CHAARFM_FFMPEG) return { path: await explicitBinary(env.CHAARFM_FFMPEG, 'CHAARFM_FFMPEG', env), source: 'CHAARFM_FFMPEG' };
  const bundled = bundledFfmpegPath(opts.root);
  if (await isExecutableFile(bundled)) return { path: bundled, source: 'bundled' };
  const onPath = await findOnPath('ffmpeg', env);
  if (onPath) return { path: onPath, source: 'PATH' };
  throw new FfmpegNotFoundError(`not given, no bundled decoder for ${process.platform}-${process.arch}, none on PATH`);
}

/** The ffmpeg binary to run ({@link findFfmpeg}'s path). */
export async function resolveFfmpeg(opts: ResolveFfmpegOptions = {}): Promise<string> {
  return (await findFfmpeg(opts)).path;
}

/** ffmpeg's own version string, e.g. "5.1.9-0+deb12u1". Rejects when the binary does not run. */
export function ffmpegVersion(ffmpegPath: string): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(ffmpegPath, ['-hide_banner', '-version'], { timeout: 15_000, windowsHide: true }, (err, stdout) => {
      if (err) {
        reject(new FfmpegNotFoundError(`"${ffmpegPath}" -version failed: ${err.message.split('\n')[0]}`));
        return;
      }
      const m = /ffmpeg version (\S+)/.exec(stdout);
      resolve(m ? m[1] : stdout.split('\n')[0].trim());
    });
  });
}

/**
 * ffmpeg's arguments for decoding `file`: the first audio stream at its own rate and channels,
 * as float32 in a WAV container on stdout, with no metadata or version strings in the output.
 */
export function decodeArgs(file: string): string[] {
  return [
    '-nostdin', '-hide_banner', '-v', 'error',
    '-i', `file:${file}`,
    '-map', '0:a:0', '-vn', '-sn', '-dn',
    '-map_metadata', '-1', '-fflags', '+bitexact', '-flags:a', '+bitexact',
    '-acodec', 'pcm_f32le', '-f', 'wav', 'pipe:1',
  ];
}

export interface DecodeOptions {
  /** An ffmpeg binary; default {@link resolveFfmpeg}(). */
  ffmpegPath?: string;
  /** Kills ffmpeg; iteration then rejects with the signal's reason. */
  signal?: AbortSignal;
}

/**
 * Mono float32 PCM at the source's own rate, read once with for-await. Each chunk is a fresh
 * array the consumer may keep or transfer. Iteration throws a {@link DecodeError} when ffmpeg
 * fails or decodes nothing.
 */
export interface PcmStream extends AsyncIterable<Float32Array> {
  /** The source's sample rate in Hz. */
  readonly sampleRate: number;
  /** Channels in the source (1 or 2); the chunks are always mono. */
  readonly channels: number;
  /** Mono samples yielded so far. */
  readonly samples: number;
  /** Kills ffmpeg if it still runs; iteration then ends. Idempotent. */
  close(): void;
}

interface WavFormat {
  sampleRate: number;
  channels: number;
  dataOffset: number;
}

const MAX_HEADER_BYTES = 1 << 16;

/** Parses ffmpeg's streamed WAV header; null until the `data` chunk has started. */
function parseWavHeader(buf: Buffer): WavFormat | null {
  if (buf.length < 12) return null;
  if (buf.toString('latin1', 0, 4) !== 'RIFF' || buf.toString('latin1', 8, 12) !== 'WAVE') {
    throw new Error('ffmpeg did not write a WAV header');
  }
  let pos = 12;
  let fmt: { channels: number; sampleRate: number } | null = null;
  while (pos + 8 <= buf.length) {
    const id = buf.toString('latin1', pos, pos + 4);
    const size = buf.readUInt32LE(pos + 4);
    if (id === 'data') {
      if (!fmt) throw new Error('WAV data before its fmt chunk');
      return { ...fmt, dataOffset: pos + 8 };
    }
    if (pos + 8 + size > buf.length) return null;
    if (id === 'fmt ') {
      const tag = buf.readUInt16LE(pos + 8);
      const bits = buf.readUInt16LE(pos + 22);
      const sub = tag === 0xfffe && size >= 26 ? buf.readUInt16LE(pos + 32) : tag;
      if (sub !== 3 || bits !== 32) throw new Error(`unexpected WAV format ${tag}/${sub}, ${bits} bits`);
      fmt = { channels: buf.readUInt16LE(pos + 10), sampleRate: buf.readUInt32LE(pos + 12) };
    }
    pos += 8 + size + (size & 1);
  }
  return null;
}

/** The last few non-empty lines of ffmpeg's stderr, as one line. */
function summarize(stderr: string): string {
  const lines = stderr
    .split(/\r?\n/)
    .map((l) => l.replace(/\[([^\]]+?) @ 0x[0-9a-f]+\] /g, '$1: ').trim())
    // ffmpeg's bookkeeping, and advice about its own command line: no help to our users
    .filter((l) => l && !/^Last message repeated \d+ times?$/.test(l) && !/^To ignore this, add a trailing '\?' to the map/.test(l));
  let text = lines.slice(-3).join(' | ');
  if (lines.some((l) => /Stream map '0:a:0' matches no streams/.test(l))) text = `the file has no audio stream (${text})`;
  return text.length > 400 ? `${text.slice(0, 400)}…` : text;
}

const LITTLE_ENDIAN = endianness() === 'LE';

/** Interleaved f32le bytes (whole frames) to mono, downmixing as MonoMixer "mix". */
function toMono(bytes: Buffer, channels: number): Float32Array {
  const frames = bytes.length / (4 * channels);
  const out = new Float32Array(frames);
  let src: Float32Array;
  if (LITTLE_ENDIAN) {
    const aligned = bytes.byteOffset % 4 === 0 ? bytes : Buffer.from(bytes);
    src = new Float32Array(aligned.buffer, aligned.byteOffset, frames * channels);
  } else {
    src = new Float32Array(frames * channels);
    for (let i = 0; i < src.length; i++) src[i] = bytes.readFloatLE(4 * i);
  }
  if (channels === 1) {
    out.set(src);
  } else {
    // float32 sum, then * 0.5 (exact), stored as float32: Essentia's (l + r) * 0.5
    for (let i = 0, j = 0; i < frames; i++, j += 2) out[i] = Math.fround(src[j] + src[j + 1]) * 0.5;
  }
  return out;
}

function abortReason(signal: AbortSignal): unknown {
  return signal.reason ?? new DOMException('This operation was aborted', 'AbortError');
}

/** Copies a stream into a fresh temp folder; `remove()` deletes it (never rejects). */
async function spool(input: Readable, signal?: AbortSignal): Promise<{ path: string; remove: () => Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), 'chaarfm-decode-'));
  const remove = () => rm(dir, { recursive: true, force: true }).catch(() => {});
  const path = join(dir, 'input');
  try {
    await pipeline(input, createWriteStream(path), { signal });
  } catch (err) {
    await remove();
    if (signal?.aborted) throw abortReason(signal);
    throw new DecodeError(`could not read the input stream: ${(err as Error).message}`);
  }
  return { path, remove };
}

/**
 * Starts ffmpeg on `input` and resolves once the stream's rate and channels are known.
 * `input` is a file path, or a readable stream of an encoded file, which is first copied to a
 * temp file (removed afterwards): ffmpeg trims an mp3's encoder padding (LAME tag) only from a
 * seekable input, and Essentia always reads files, so a pipe would decode a few hundred samples
 * too many. Rejects with a {@link DecodeError} when ffmpeg cannot open the input, an
 * {@link FfmpegNotFoundError} when there is no ffmpeg.
 */
export async function decodeToPcm(input: string | Readable, opts: DecodeOptions = {}): Promise<PcmStream> {
  const { signal } = opts;
  if (signal?.aborted) throw abortReason(signal);
  const ffmpeg = opts.ffmpegPath ?? (await resolveFfmpeg());
  const label = typeof input === 'string' ? `"${basename(input)}"` : 'the input stream';
  let removeSpool = async () => {};
  let file: string;
  if (typeof input === 'string') {
    file = input;
  } else {
    const spooled = await spool(input, signal);
    file = spooled.path;
    removeSpool = spooled.remove;
  }
  const child: ChildProcess = spawn(ffmpeg, decodeArgs(file), { stdio: ['ignore', 'pipe', 'pipe'], windowsHide: true });

  let stderr = '';
  child.stderr!.setEncoding('utf8');
  child.stderr!.on('data', (s: string) => {
    stderr = (stderr + s).slice(-16_384);
  });
  let spawnError: Error | null = null;
  const exited = new Promise<{ code: number | null; sig: NodeJS.Signals | null }>((resolve) => {
    child.on('error', (err) => {
      spawnError = err;
      resolve({ code: null, sig: null });
    });
    child.on('close', (code, sig) => resolve({ code, sig }));
  });

  let closed = false;
  const kill = () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  };
  const onAbort = () => {
    closed = true;
    kill();
  };
  signal?.addEventListener('abort', onAbort, { once: true });
  const reader = child.stdout![Symbol.asyncIterator]() as AsyncIterator<Buffer>;
  let cleanedUp = false;
  const cleanup = async () => {
    if (cleanedUp) return;
    cleanedUp = true;
    signal?.removeEventListener('abort', onAbort);
    kill();
    await reader.return?.();
    await exited;
    await removeSpool();
  };

  const failure = async (what: string): Promise<Error> => {
    const { code, sig } = await exited;
    if (signal?.aborted) return abortReason(signal) as Error;
    if (spawnError) return new FfmpegNotFoundError(`could not run "${ffmpeg}": ${spawnError.message}`);
    const why = summarize(stderr) || (sig ? `killed by ${sig}` : code ? `exit code ${code}` : '');
    return new DecodeError(`ffmpeg could not decode ${label}: ${what}${why ? `: ${why}` : ''}`, stderr);
  };

  // Read until the WAV header is complete.
  let head = Buffer.alloc(0);
  let format: WavFormat | null = null;
  try {
    while (!format) {
      const r = await reader.next();
      if (r.done) throw await failure('cannot open it');
      head = Buffer.concat([head, r.value]);
      format = parseWavHeader(head);
      if (!format && head.length > MAX_HEADER_BYTES) throw new Error('WAV header too long');
    }
  } catch (err) {
    await cleanup();
    if (err instanceof DecodeError || err instanceof FfmpegNotFoundError || signal?.aborted) throw err;
    throw await failure((err as Error).message);
  }

  const { sampleRate, channels } = format;
  if (channels < 1 || channels > 2 || sampleRate <= 0) {
    await cleanup();
    throw new DecodeError(
      `cannot load ${label}: it has ${channels} channels at ${sampleRate} Hz; Essentia's MonoLoader loads only mono or stereo audio`,
    );
  }

  const frameBytes = 4 * channels;
  let samples = 0;
  let started = false;
  const stream: PcmStream = {
    sampleRate,
    channels,
    get samples() {
      return samples;
    },
    close() {
      closed = true;
      void cleanup();
    },
    async *[Symbol.asyncIterator]() {
      if (started) throw new Error('a PcmStream can be iterated only once');
      started = true;
      let rest: Buffer = head.subarray(format!.dataOffset);
      try {
        for (;;) {
          if (rest.length >= frameBytes) {
            const usable = rest.length - (rest.length % frameBytes);
            const mono = toMono(rest.subarray(0, usable), channels);
            rest = rest.subarray(usable);
            samples += mono.length;
            yield mono;
          }
          if (closed) break;
          const r = await reader.next();
          if (r.done) break;
          rest = rest.length ? Buffer.concat([rest, r.value]) : r.value;
        }
        if (signal?.aborted) throw abortReason(signal);
        if (closed) return;
        const { code, sig } = await exited;
        if (signal?.aborted) throw abortReason(signal);
        if (code !== 0 || sig) throw await failure('decoding failed');
        if (samples === 0) throw await failure('no audio samples decoded');
      } finally {
        await cleanup();
      }
    },
  };
  return stream;
}

// SPDX-License-Identifier: MIT
/**
 * Choosing the embedding backend.
 *
 * - `wasm`: the portable embedder (ffmpeg + libsamplerate WASM + essentia.js + TF.js WASM).
 * - `native`: the C++ addon. It is looked for, in order, at env `CHAARFM_NATIVE_ADDON` (a path
 *   to a .node file), then by node-gyp-build in the package's `build/Release` and
 *   `prebuilds/<platform>-<arch>/` (src/embed/native-embedder.ts drives it). When none loads,
 *   a NativeUnavailableError says what was tried, why each failed, and how to build it.
 * - `auto` (default): native when it loads, else wasm with one log line saying why.
 *
 * `describeBackend()` reports the choice and the reason without loading a model (for `doctor`).
 */
import { execFile } from 'node:child_process';
import { availableParallelism } from 'node:os';
import { createRequire } from 'node:module';
import path from 'node:path';
import { resolveFfmpeg, decodeToPcm } from '../audio/ffmpeg.js';
import { silentLogger, type Logger } from '../log/logger.js';
import type { BackendChoice, BackendName, Embedder, EmbedderOptions } from './embedder.js';
import { openModelFile, packageRoot } from './model-file.js';
import { asBinding } from './native-binding.js';
import { WasmEmbedder, type DecodeFn } from './wasm-embedder.js';

/** How to build the native addon (one place, for every message that needs it). */
export const NATIVE_BUILD_HINT =
  'build it with `npm run build:native` in the package folder (needs CMake, a C++17 compiler and libsamplerate; ' +
  'the addon lands in build/Release), or use --backend wasm';

export interface CreateEmbedderOptions extends EmbedderOptions {
  logger?: Logger;
}

/** The native addon could not be loaded; `attempts` says what was tried and why each failed. */
export class NativeUnavailableError extends Error {
  constructor(readonly attempts: string[]) {
    super(`The native backend is not available: ${attempts.join('; ')}. To use it, ${NATIVE_BUILD_HINT}`);
    this.name = 'NativeUnavailableError';
  }
}

export interface NativeAddon {
  binding: unknown;
  path: string;
}

function firstLine(err: unknown): string {
  return (err instanceof Error ? err.message : String(err)).split('\n')[0].trim();
}

/** Tries to load the native addon; throws NativeUnavailableError listing every attempt. */
export function loadNativeAddon(env: NodeJS.ProcessEnv = process.env): NativeAddon {
  const require = createRequire(import.meta.url);
  const attempts: string[] = [];
  const explicit = env.CHAARFM_NATIVE_ADDON;
  if (explicit) {
    try {
      const file = path.resolve(explicit);
      return { binding: asBinding(require(file), file), path: file };
    } catch (err) {
      attempts.push(`CHAARFM_NATIVE_ADDON=${explicit} did not load (${firstLine(err)})`);
    }
  }
  const root = packageRoot();
  try {
    const nodeGypBuild = require('node-gyp-build') as { (dir: string): unknown; resolve(dir: string): string };
    const file = nodeGypBuild.resolve(root);
    return { binding: asBinding(require(file), file), path: file };
  } catch (err) {
    const msg = firstLine(err);
    attempts.push(
      /No native build was found/.test(msg)
        ? `no addon built for ${process.platform}-${process.arch} (node ${process.versions.node}, ABI ${process.versions.modules}) in ` +
            `${path.join(root, 'build', 'Release')} or ${path.join(root, 'prebuilds', `${process.platform}-${process.arch}`)}`
        : `the addon found by node-gyp-build did not load (${msg})`,
    );
  }
  throw new NativeUnavailableError(attempts);
}

export interface BackendReport {
  backend: BackendName;
  /** Why this backend: the user's choice, or why native was not used. */
  reason: string;
  /** Path of the native addon, when one loaded. */
  nativePath?: string;
}

function choose(choice: BackendChoice, env: NodeJS.ProcessEnv): { report: BackendReport; addon?: NativeAddon } {
  if (choice === 'wasm') return { report: { backend: 'wasm', reason: 'chosen with --backend wasm' } };
  try {
    const addon = loadNativeAddon(env);
    return { report: { backend: 'native', reason: `native addon loaded from ${addon.path}`, nativePath: addon.path }, addon };
  } catch (err) {
    if (choice === 'native') throw err;
    const why = err instanceof NativeUnavailableError ? err.attempts.join('; ') : firstLine(err);
    return { report: { backend: 'wasm', reason: `native backend unavailable: ${why}` } };
  }
}

/**
 * Which backend `createEmbedder` would use, and why (loads the addon, not the model).
 * Throws NativeUnavailableError for `native` when there is no addon.
 */
export function describeBackend(choice: BackendChoice = 'auto', env: NodeJS.ProcessEnv = process.env): BackendReport {
  return choose(choice, env).report;
}

/**
 * Threads when `threads` is not given, one thread budget per process: the cores shared by the
 * `jobs` embeds that run at once, at least 1, at most 8. The portable backend's pool is shared
 * by all embeds (jobs = 1); the native backend gives each embed its own threads, so it uses
 * floor(cores / jobs) and `jobs` sockets x threads never exceed the cores.
 */
export function defaultThreads(jobs = 1, cores = availableParallelism()): number {
  if (!Number.isInteger(jobs) || jobs < 1) throw new RangeError(`Expected a positive integer for jobs but received ${jobs}`);
  return Math.max(1, Math.min(8, Math.floor(cores / jobs)));
}

/**
 * The container's announced duration in seconds (ffmpeg's "Duration:" line), for progress
 * only; undefined when unknown. Costs one short ffmpeg run that reads only the header.
 */
export function probeDuration(ffmpegPath: string, file: string, signal?: AbortSignal): Promise<number | undefined> {
  return new Promise((resolve) => {
    execFile(
      ffmpegPath,
      ['-hide_banner', '-nostdin', '-i', `file:${file}`],
      { timeout: 15_000, windowsHide: true, signal },
      (_err, _stdout, stderr) => {
        const m = /Duration: (\d+):(\d\d):(\d\d(?:\.\d+)?)/.exec(String(stderr));
        resolve(m ? Number(m[1]) * 3600 + Number(m[2]) * 60 + Number(m[3]) : undefined);
      },
    );
  });
}

/** The ffmpeg decoder for the portable embedder (plus a duration probe for file inputs). */
export function ffmpegDecoder(): DecodeFn {
  return async (input, o) => {
    const ffmpegPath = o.ffmpegPath ?? (await resolveFfmpeg());
    const [pcm, duration] = await Promise.all([
      decodeToPcm(input, { ffmpegPath, signal: o.signal }),
      typeof input === 'string' ? probeDuration(ffmpegPath, input, o.signal) : undefined,
    ]);
    return { sampleRate: pcm.sampleRate, duration, chunks: pcm, close: () => pcm.close() };
  };
}

async function createNative(addon: NativeAddon, opts: CreateEmbedderOptions): Promise<Embedder> {
  const { createNativeEmbedder } = await import('./native-embedder.js'); // lazily: only when native is used
  return createNativeEmbedder(addon.binding, opts);
}

/** Creates the embedder for `opts.backend` (default auto); see the header. */
export async function createEmbedder(opts: CreateEmbedderOptions = {}): Promise<Embedder> {
  const log = opts.logger ?? silentLogger;
  const choice = opts.backend ?? 'auto';
  if (!['auto', 'native', 'wasm'].includes(choice)) {
    throw new TypeError(`Expected auto, native or wasm for backend but received ${JSON.stringify(choice)}`);
  }
  if (choice !== 'wasm') {
    const { report, addon } = choose(choice, process.env); // throws for 'native' when unavailable
    if (addon) return createNative(addon, opts);
    log.warn('using the portable wasm backend', { reason: report.reason }); // a slower path: say so by default
  }
  const model = await openModelFile({ modelPath: opts.modelPath, outputNode: opts.outputNode, tagsNode: opts.tagsNode });
  if (!model.bundled) log.info('using a custom model', { path: model.path, sha256: model.sha256 });
  const ffmpegPath = await resolveFfmpeg({ ffmpegPath: opts.ffmpegPath });
  return WasmEmbedder.create({
    modelBytes: model.bytes,
    outputNode: model.outputNode,
    tagsNode: model.tagsNode,
    decode: ffmpegDecoder(),
    ffmpegPath,
    tmpDir: opts.tmpDir,
    threads: opts.threads ?? defaultThreads(),
    logger: log,
  });
}

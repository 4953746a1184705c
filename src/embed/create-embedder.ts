// SPDX-License-Identifier: MIT
/**
 * Choosing the embedding backend.
 *
 * - `wasm`: the portable backend: our own engine (resampler, mel, MusiCNN kernels) compiled to
 *   WebAssembly (prebuilds/wasm), on a pool of worker threads (src/embed/wasm-embedder.ts).
 * - `native`: the C++ addon, found by src/embed/native-addon.ts (which says what was tried and
 *   how to build it when none loads) and driven by src/embed/native-embedder.ts.
 * - `auto` (default): native when it loads, else wasm with one log line saying why.
 * - `essentia.js`: the reference backend (libsamplerate-js + essentia.js + TF.js WASM, the
 *   design's original fallback; optional dependencies, absent from the single executables), for
 *   the fidelity tests and cross-checking; never chosen by `auto`.
 *
 * `describeBackend()` reports the choice and the reason without loading a model (for `doctor`).
 */
import { resolveFfmpeg } from '../audio/ffmpeg.js';
import { silentLogger } from '../log/logger.js';
import { LogEvent } from '../log/events.js';
import { firstLine } from '../util/values.js';
import { BACKEND_CHOICES, type BackendChoice, type BackendName, type Embedder } from './embedder.js';
import { defaultThreads, type CreateEmbedderOptions } from './embedder-options.js';
import { ffmpegDecoder } from './ffmpeg-decoder.js';
import { loadNativeAddon, NativeUnavailableError, type NativeAddon } from './native-addon.js';
import { openModelFile } from './model-file.js';
import { assertReferenceBackend } from './reference-backend.js';
import { WasmEmbedder } from './wasm-embedder.js';

export interface BackendReport {
  backend: BackendName;
  /** Why this backend: the user's choice, or why native was not used. */
  reason: string;
  /** Path of the native addon, when one loaded. */
  nativePath?: string;
}

function choose(choice: BackendChoice, env: NodeJS.ProcessEnv): { report: BackendReport; addon?: NativeAddon } {
  if (choice === 'wasm' || choice === 'essentia.js') return { report: { backend: choice, reason: `chosen with --backend ${choice}` } };
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

async function createNative(addon: NativeAddon, opts: CreateEmbedderOptions): Promise<Embedder> {
  const { createNativeEmbedder } = await import('./native-embedder.js'); // lazily: only when native is used
  return createNativeEmbedder(addon.binding, opts);
}

/** Creates the embedder for `opts.backend` (default auto); see the header. */
export async function createEmbedder(opts: CreateEmbedderOptions = {}): Promise<Embedder> {
  const log = opts.logger ?? silentLogger;
  const choice = opts.backend ?? 'auto';
  if (!(BACKEND_CHOICES as readonly string[]).includes(choice)) {
    throw new TypeError(`Expected auto, native, wasm or essentia.js for backend but received ${JSON.stringify(choice)}`);
  }
  if (choice === 'auto' || choice === 'native') {
    const { report, addon } = choose(choice, process.env); // throws for 'native' when unavailable
    if (addon) return createNative(addon, opts);
    log.warn(LogEvent.portableBackend, { reason: report.reason }); // a slower path: say so by default
  }
  if (choice === 'essentia.js') assertReferenceBackend();
  const model = await openModelFile({ modelPath: opts.modelPath, outputNode: opts.outputNode, tagsNode: opts.tagsNode });
  if (!model.bundled) log.info('using a custom model', { path: model.path, sha256: model.sha256 });
  const ffmpegPath = await resolveFfmpeg({ ffmpegPath: opts.ffmpegPath });
  return WasmEmbedder.create({
    engine: choice === 'essentia.js' ? 'essentia.js' : 'wasm',
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

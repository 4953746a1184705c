// SPDX-License-Identifier: MIT
/**
 * The embedding layer's contract with the job runner.
 * An Embedder turns decoded-or-not audio into the 200-d MusiCNN vector exactly as Essentia does.
 * Implementations: the native addon; the portable backend (our engine in WebAssembly); the
 * reference backend (essentia.js + TF.js WASM).
 */
import type { Readable } from 'node:stream';
import type { Logger } from '../log/logger.js';

export type BackendName = 'native' | 'wasm' | 'essentia.js';

/** The error both backends give for decoded audio with a NaN or infinite sample (a float file can
 *  hold them; MusiCNN would turn them into NaN, or its Relu into a plausible-looking vector). */
export const NON_FINITE_AUDIO = 'the audio contains NaN or infinite samples';
/** What --backend takes (the CLI's flags list these). */
export const BACKEND_CHOICES = ['auto', 'native', 'wasm', 'essentia.js'] as const;
export type BackendChoice = (typeof BACKEND_CHOICES)[number];

export interface EmbedProgress {
  /** 'decode' | 'mel' | 'inference' or another short word */
  stage: string;
  /** 0..1 within the stage, or overall when known */
  fraction: number;
}

export interface EmbedOptions {
  /** Aborts the work; the promise then rejects with an AbortError. */
  signal?: AbortSignal;
  onProgress?: (p: EmbedProgress) => void;
}

export interface EmbedResult {
  /** The mean of the patch rows of the output node (200 values for model/dense/BiasAdd). */
  vector: Float32Array;
  /** Seconds of audio decoded. */
  duration: number;
  /** Number of patches averaged. */
  patches: number;
  /** Largest absolute sample of the decoded mono signal (0 for digital silence), when known. */
  peak?: number;
  /** Optional extra output (e.g. model/Sigmoid tag means) when requested. */
  tags?: Float32Array;
}

export interface Embedder {
  readonly backend: BackendName | string;
  /** A file path, or a readable stream of an encoded media file. Several calls may run at once. */
  embed(input: string | Readable, opts?: EmbedOptions): Promise<EmbedResult>;
  /** Releases the model and any threads. */
  close(): Promise<void>;
}

export interface EmbedderOptions {
  backend?: BackendChoice;
  /** Path of a frozen MusiCNN GraphDef; default: the bundled models/msd-musicnn-1.pb */
  modelPath?: string;
  /** Output node; default model/dense/BiasAdd */
  outputNode?: string;
  /** Also compute the mean of this node (e.g. model/Sigmoid) */
  tagsNode?: string;
  /** Folder for temporary files */
  tmpDir?: string;
  /** Explicit ffmpeg path */
  ffmpegPath?: string;
  /**
   * Threads. Portable backend: the size of its thread pool, shared by every embed (default: the
   * cores, at most 8). Native backend: the threads of each embed (default: the cores shared by
   * `jobs`, see {@link defaultThreads}).
   */
  threads?: number;
  /**
   * Embeds that will run at once (a worker's `--jobs` sockets); default 1. Sets the native
   * backend's default threads per embed so that jobs x threads never exceed the cores.
   */
  jobs?: number;
  /** Where the backend choice and its reason are logged. */
  logger?: Logger;
}

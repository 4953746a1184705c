// SPDX-License-Identifier: MIT
/** What both backends' factories take (createEmbedder, createNativeEmbedder), and their default pool size. */
import { availableParallelism } from 'node:os';
import type { Logger } from '../log/logger.js';
import type { EmbedderOptions } from './embedder.js';

export interface CreateEmbedderOptions extends EmbedderOptions {
  logger?: Logger;
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

// SPDX-License-Identifier: MIT
/** What both backends' factories take (createEmbedder, createNativeEmbedder), and their default pool size. */
import { availableParallelism } from 'node:os';
import type { Logger } from '../log/logger.js';
import type { EmbedderOptions } from './embedder.js';

export interface CreateEmbedderOptions extends EmbedderOptions {
  logger?: Logger;
}

/** The pool size when `threads` is not given: one per core, at most 8. */
export function defaultThreads(): number {
  return Math.max(1, Math.min(8, availableParallelism()));
}

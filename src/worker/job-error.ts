// SPDX-License-Identifier: MIT
/**
 * An expected job failure: its message is what the server shows, so it starts with one of the
 * protocol's error strings (`Download failed`, `Vectorization failed`, `File size out of range: <n>MB`).
 */
export class JobError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'JobError';
  }
}

/**
 * A failure that is not the track's fault: the source is limiting this worker (YouTube's bot
 * check, HTTP 429). The worker tells the server so before the result (a `rate_limited` message).
 */
export class SourceLimitError extends JobError {
  constructor(message: string) {
    super(message);
    this.name = 'SourceLimitError';
  }
}

export const DOWNLOAD_FAILED = 'Download failed';
export const VECTORIZATION_FAILED = 'Vectorization failed';

export function fileSizeOutOfRange(bytes: number): JobError {
  return new JobError(`File size out of range: ${(bytes / (1024 * 1024)).toFixed(2)}MB`);
}

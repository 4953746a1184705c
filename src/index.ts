// SPDX-License-Identifier: MIT
/** Library entry point of chaarfm-worker. */
export { startWorker, type WorkerOptions, type WorkerHandle, type WorkerEvents } from './worker/worker.js';
export { runJob, checkVector, type JobOutcome, type JobRunnerDeps } from './worker/job-runner.js';
export { JobError, DOWNLOAD_FAILED, VECTORIZATION_FAILED, fileSizeOutOfRange } from './worker/job-error.js';
export { Backoff, type BackoffOptions } from './worker/backoff.js';
export * from './protocol/messages.js';
export { workerSocketUrl, keepaliveUrl, normaliseServerUrl, DEFAULT_SERVER_URL } from './protocol/url.js';
export type { Embedder, EmbedderOptions, EmbedOptions, EmbedResult, EmbedProgress, BackendChoice, BackendName } from './embed/embedder.js';
export type { Media, FetchedAudio, JobContext } from './media/media.js';
export { createLogger, silentLogger, type Logger, type LogFormat, type LogLevel } from './log/logger.js';
export { VERSION } from './version.js';
export { startCoordinator, openStore, type CoordinatorOptions, type CoordinatorHandle } from './coordinator/server.js';
export type { Store, SessionRow, JobRow, ResultRow, JobState, SessionStatus } from './coordinator/store.js';
export { newCode, canonicalCode } from './coordinator/codes.js';

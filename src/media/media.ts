// SPDX-License-Identifier: MIT
/**
 * The media layer's contract with the job runner: fetch the audio a job names.
 */
import type { DownloadPayload, GenrePayload, GenreResultData } from '../protocol/messages.js';
import type { Logger } from '../log/logger.js';

export interface FetchedAudio {
  /** Local path of the downloaded media file (inside ctx.workDir). */
  path: string;
  artist: string;
  title: string;
  youtubeId: string;
  sourceUrl: string | null;
  /** Duration from the media metadata, seconds, when known. */
  metadataDuration: number | null;
  /** Size of the downloaded file in bytes. */
  sizeBytes: number;
}

export interface JobContext {
  /** A folder owned by this job; the runner removes it afterwards. */
  workDir: string;
  signal: AbortSignal;
  /** When the job must be done (epoch ms; its timeout): a retry after a pause must fit before it. */
  deadline?: number;
  log: Logger;
  onProgress(stage: string, fraction: number): void;
}

export interface Media {
  /** Download the track of a download job. Throws JobError on failure. */
  fetch(payload: DownloadPayload, ctx: JobContext): Promise<FetchedAudio>;
  /** Run a fetch_genre job. Throws JobError on failure. */
  fetchGenre(payload: GenrePayload, ctx: JobContext): Promise<GenreResultData>;
}

// SPDX-License-Identifier: MIT
/**
 * The yt-dlp media layer: downloads a job's track (by URL, or by YouTube search) and runs
 * genre fetches (genre.ts).
 *
 * One yt-dlp run downloads and reports metadata:
 *   --ignore-config --no-playlist -f bestaudio/best   best audio as published, no re-encode
 *   -P <workDir> -o media.%(ext)s                     fixed, safe file name inside the job folder
 *   --newline --progress                              one `[download]  42.0% of ...` line per update
 *   --print after_move:%()j                           the full info JSON, with `filepath`, once the
 *                                                     file is in place (implies --quiet, not simulate)
 *   --js-runtimes node:<the worker itself>            only where `--help` lists the flag (js-runtime.ts)
 *   --max-filesize <bytes> --no-quiet                 POST_DOWNLOAD_MAX_SIZE_MB, so an oversized file is refused
 *                                                     from its Content-Length, not after the download; --no-quiet
 *                                                     so the refusal is printed (--print implies --quiet). Only
 *                                                     where `--help` lists --no-quiet (not 2023's yt-dlp, which
 *                                                     keeps the check after the download alone)
 *   --cookies <workDir>/cookies.txt                   when YTDL_COOKIES is set (see below)
 * with the user's `--yt-dlp-arg` values right after --ignore-config (ours come later and win).
 * and for searches `ytsearch1:<artist> <title> lyrics` with
 * `--match-filter "duration > 60 & duration < 600"`. The spec's quotes delimit the string;
 * they are not sent, since quotes would make YouTube search for the exact phrase.
 *
 * YTDL_COOKIES: a value that contains a line break or starts with `#` is the cookie file's
 * content; anything else is a path. Either way a copy is written to the job folder and that
 * copy is passed, because yt-dlp writes the cookie jar back on exit and parallel jobs must not
 * race on, or rewrite, the user's file. A path that does not exist is a warning, not a failure.
 *
 * Every run that asks YouTube takes a turn at the worker-wide YouTubeGate (youtube-gate.ts:
 * spacing, and a growing pause of every socket when YouTube limits us; the job runs again after
 * the pause while its deadline allows). A failure that names an outdated extractor has the
 * cached yt-dlp checked against its release at once, and the job runs once more on a new build.
 *
 * yt-dlp is spawned directly rather than through yt-dlp-wrap: the wrapper's abort runs
 * `execSync("pgrep -P ... | xargs kill")` (blocks the event loop, reaches only direct children),
 * it parses progress from unsplit chunks, and it folds stderr into a multi-line error. Killing
 * a process group and reading lines ourselves is short (ytdlp-binary.ts) and testable.
 */
import { copyFile, stat, writeFile } from 'node:fs/promises';
import { isAbsolute, join } from 'node:path';
import type { Logger } from '../log/logger.js';
import { silentLogger } from '../log/logger.js';
import type { DownloadPayload, GenrePayload, GenreResultData } from '../protocol/messages.js';
import { DOWNLOAD_FAILED, JobError, fileSizeOutOfRange } from '../worker/job-error.js';
import { fetchGenre, type GenreOptions } from './genre.js';
import type { FetchedAudio, JobContext, Media } from './media.js';
import { YouTubeGate, YouTubeLimitError, isYouTubeTarget, youtubeLimitReason } from './youtube-gate.js';
import {
  findYtDlp,
  jobRun,
  jsRuntimeArgs,
  jsRuntimeProblem,
  refreshAfterOutdatedFailure,
  runYtDlp,
  ytdlpErrorReason,
  ytdlpHasFlag,
  type RunOptions,
  type RunResult,
  type YtDlpFound,
} from './ytdlp-binary.js';
import { namesOutdatedExtractor } from './ytdlp-update.js';

export interface YtDlpMediaOptions {
  /** `--yt-dlp PATH`; otherwise see resolveYtDlp. */
  ytdlpPath?: string;
  logger?: Logger;
  /** Configuration environment (size limits, YTDL_COOKIES, binary lookup). Default process.env. */
  env?: NodeJS.ProcessEnv;
  genre?: GenreOptions;
  /** `--yt-dlp-arg` values: passed to every yt-dlp run, before ours. */
  extraArgs?: readonly string[];
  /** The worker-wide YouTube gate (one per worker; default: one of this instance's own). */
  gate?: YouTubeGate;
}

/** How long a job must still have after a pause for its retry to be worth starting. */
const RETRY_NEEDS_MS = 60_000;
/** A job meets YouTube's limits at most this many times before it fails. */
const MAX_LIMITED_RUNS = 5;

/** `[download] File is larger than max-filesize (N bytes > M bytes). Aborting.` → N. */
export function parseTooLargeLine(line: string): number | null {
  const m = /^\[download\] File is larger than max-filesize \((\d+) bytes > \d+ bytes\)/.exec(line);
  return m ? Number(m[1]) : null;
}

/** A yt-dlp run as the media layer makes it: the YouTube gate, the user's args, the job's options. */
export type YtDlpRun = (args: string[], opts: Pick<RunOptions, 'onStdoutLine'> & { target: string }) => Promise<RunResult>;

export interface SizeLimits {
  minMb: number;
  maxMb: number;
}

const DEFAULT_LIMITS: SizeLimits = { minMb: 0.5, maxMb: 50 };

/** POST_DOWNLOAD_MIN_SIZE_MB / POST_DOWNLOAD_MAX_SIZE_MB; a bad value falls back with a warning. */
export function sizeLimits(env: NodeJS.ProcessEnv, log: Logger = silentLogger): SizeLimits {
  const read = (name: string, def: number): number => {
    const raw = env[name];
    if (raw === undefined || raw.trim() === '') return def;
    const v = Number(raw);
    if (Number.isFinite(v) && v >= 0) return v;
    log.warn(`Expected a number >= 0 for ${name} but received ${JSON.stringify(raw)}; using ${def}`);
    return def;
  };
  const minMb = read('POST_DOWNLOAD_MIN_SIZE_MB', DEFAULT_LIMITS.minMb);
  const maxMb = read('POST_DOWNLOAD_MAX_SIZE_MB', DEFAULT_LIMITS.maxMb);
  if (minMb > maxMb) {
    log.warn(`POST_DOWNLOAD_MIN_SIZE_MB (${minMb}) is above POST_DOWNLOAD_MAX_SIZE_MB (${maxMb}); using the defaults`);
    return { ...DEFAULT_LIMITS };
  }
  return { minMb, maxMb };
}

/** `[download]  42.3% of ...` → 0.423; anything else → null. */
export function parseProgressLine(line: string): number | null {
  const m = /^\[download\]\s+(\d+(?:\.\d+)?)%/.exec(line);
  return m ? Math.min(1, Number(m[1]) / 100) : null;
}

function str(v: unknown): string | null {
  return typeof v === 'string' && v.trim() !== '' ? v.trim() : null;
}

/** The search yt-dlp runs for a job without a URL. */
export function searchTarget(payload: DownloadPayload): string {
  const words = [str(payload.artist), str(payload.title), 'lyrics'].filter(Boolean).join(' ');
  return `ytsearch1:${words}`;
}

/** Artist/title/id/source from the job and yt-dlp's info JSON, with the spec's fallbacks. */
export function trackMetadata(
  payload: DownloadPayload,
  info: Record<string, unknown>,
): Pick<FetchedAudio, 'artist' | 'title' | 'youtubeId' | 'sourceUrl' | 'metadataDuration'> {
  const id = str(info.id) ?? (typeof info.id === 'number' ? String(info.id) : 'unknown');
  // Newer yt-dlp also gives `artists` (a list) for what older ones call `artist`.
  const artists = Array.isArray(info.artists) ? info.artists.filter((a) => typeof a === 'string').join(', ') : null;
  const duration = typeof info.duration === 'number' && Number.isFinite(info.duration) ? info.duration : null;
  return {
    artist: str(payload.artist) ?? str(info.artist) ?? str(artists) ?? str(info.uploader) ?? 'YouTube Artist',
    title: str(payload.title) ?? str(info.title) ?? `Test Track ${id}`,
    youtubeId: id,
    sourceUrl: str(payload.youtube_url) ?? str(info.webpage_url) ?? str(info.original_url),
    metadataDuration: duration,
  };
}

export class YtDlpMedia implements Media {
  readonly #opts: YtDlpMediaOptions;
  readonly #log: Logger;
  readonly #env: NodeJS.ProcessEnv;
  readonly #limits: SizeLimits;
  readonly #gate: YouTubeGate;

  constructor(opts: YtDlpMediaOptions = {}) {
    this.#opts = opts;
    this.#log = opts.logger ?? silentLogger;
    this.#env = opts.env ?? process.env;
    this.#limits = sizeLimits(this.#env, this.#log);
    this.#gate = opts.gate ?? new YouTubeGate();
  }

  /** The yt-dlp this instance runs now, and where it came from (looked up per job: it may be updated). */
  found(): Promise<YtDlpFound> {
    return findYtDlp({ explicitPath: this.#opts.ytdlpPath, env: this.#env, log: this.#log });
  }

  /** What is wrong with yt-dlp's JavaScript runtime (one line), or null; never downloads. */
  async runtimeProblem(): Promise<string | null> {
    let found: YtDlpFound;
    try {
      found = await findYtDlp({ explicitPath: this.#opts.ytdlpPath, env: this.#env, download: false });
    } catch {
      return null; // no yt-dlp yet: the first job downloads a current one
    }
    return jsRuntimeProblem(found.path);
  }

  /** The path of the yt-dlp this instance runs now. */
  async binary(): Promise<string> {
    return (await this.found()).path;
  }

  /**
   * One yt-dlp run of a job: the user's args after --ignore-config; for a YouTube target a turn
   * at the gate first, and on YouTube's limits a pause of every socket and the same run again
   * after it, while the job's deadline leaves room (else YouTubeLimitError).
   */
  #runner(bin: string, ctx: JobContext): YtDlpRun {
    const extra = this.#opts.extraArgs ?? [];
    return async (args, opts) => {
      const full = args[0] === '--ignore-config' ? ['--ignore-config', ...extra, ...args.slice(1)] : [...extra, ...args];
      const youtube = isYouTubeTarget(opts.target);
      for (let runs = 1; ; runs++) {
        if (youtube) await this.#gate.turn(ctx.signal);
        const r = await runYtDlp(bin, full, { ...jobRun(ctx), onStdoutLine: opts.onStdoutLine });
        const limit = youtube && r.code !== 0 ? youtubeLimitReason(r.errorLines) : null;
        if (!limit) {
          if (youtube && r.code === 0) this.#gate.passed();
          return r;
        }
        const pauseMs = this.#gate.pause();
        const left = ctx.deadline === undefined ? Infinity : ctx.deadline - Date.now();
        const again = runs < MAX_LIMITED_RUNS && left > pauseMs + RETRY_NEEDS_MS;
        ctx.log.warn(
          `YouTube is limiting this worker (${limit}): every socket pauses ${Math.round(pauseMs / 1000)} s; ` +
            (again ? 'this job runs again after the pause' : 'this job fails (no time left for a retry)'),
        );
        if (!again) throw new YouTubeLimitError(limit);
      }
    };
  }

  async #cookieArgs(ctx: JobContext): Promise<string[]> {
    const v = this.#env.YTDL_COOKIES;
    if (!v || v.trim() === '') return [];
    const dest = join(ctx.workDir, 'cookies.txt');
    if (/[\r\n]/.test(v) || v.trimStart().startsWith('#')) {
      await writeFile(dest, v.endsWith('\n') ? v : `${v}\n`, { mode: 0o600 });
    } else {
      try {
        await copyFile(v.trim(), dest);
      } catch (e) {
        ctx.log.warn('YTDL_COOKIES names a file that cannot be read; downloading without cookies', {
          path: v.trim(),
          error: (e as Error).message,
        });
        return [];
      }
    }
    return ['--cookies', dest];
  }

  async fetch(payload: DownloadPayload, ctx: JobContext): Promise<FetchedAudio> {
    const url = str(payload.youtube_url);
    const target = url ?? searchTarget(payload);
    const maxBytes = Math.floor(this.#limits.maxMb * 1024 * 1024);
    let found = await this.found();
    let info: Record<string, unknown> | null = null;
    let tooLarge: number | null = null;
    let last = -1;
    for (let refreshed = false; ; ) {
      const bin = found.path;
      const args = [
        '--ignore-config', '--no-playlist', '-f', 'bestaudio/best',
        '-P', ctx.workDir, '-o', 'media.%(ext)s',
        '--newline', '--progress', '--print', 'after_move:%()j',
        ...(maxBytes > 0 && (await ytdlpHasFlag(bin, '--no-quiet').catch(() => false)) ? ['--max-filesize', String(maxBytes), '--no-quiet'] : []),
        ...(await jsRuntimeArgs(bin)),
        ...(await this.#cookieArgs(ctx)),
      ];
      if (!url) args.push('--match-filter', 'duration > 60 & duration < 600');
      args.push('--', target);
      ctx.log.debug('yt-dlp download', { bin, target });
      info = null;
      tooLarge = null;
      const r = await this.#runner(bin, ctx)(args, {
        target,
        onStdoutLine: (line) => {
          if (line.startsWith('{')) {
            try {
              info = JSON.parse(line) as Record<string, unknown>;
            } catch {
              ctx.log.debug('yt-dlp printed a line that is not JSON', { line: line.slice(0, 200) });
            }
            return;
          }
          tooLarge ??= parseTooLargeLine(line);
          const f = parseProgressLine(line);
          if (f !== null && f !== last) ctx.onProgress('download', (last = f));
        },
      });
      if (r.code === 0) break;
      if (!refreshed && namesOutdatedExtractor(r.stderrTail)) {
        refreshed = true;
        const outcome = await refreshAfterOutdatedFailure(found, { env: this.#env, log: ctx.log });
        if (outcome === 'updated') {
          found = await this.found();
          ctx.log.info('running the job again on the updated yt-dlp');
          continue;
        }
      }
      throw new JobError(`${DOWNLOAD_FAILED}: ${ytdlpErrorReason(r)}`);
    }
    if (tooLarge !== null && !info) throw fileSizeOutOfRange(tooLarge);
    const got = info as Record<string, unknown> | null;
    const file = got ? str(got.filepath) ?? str(got._filename) : null;
    if (!got || !file) {
      throw new JobError(
        url
          ? `${DOWNLOAD_FAILED}: yt-dlp downloaded nothing for ${url}`
          : `${DOWNLOAD_FAILED}: no search result for "${target.slice('ytsearch1:'.length)}" lasting between 60 and 600 s`,
      );
    }
    const path = isAbsolute(file) ? file : join(ctx.workDir, file);
    let sizeBytes: number;
    try {
      sizeBytes = (await stat(path)).size;
    } catch (e) {
      throw new JobError(`${DOWNLOAD_FAILED}: yt-dlp reported ${path}, which does not exist`, { cause: e });
    }
    const mb = sizeBytes / (1024 * 1024);
    if (mb < this.#limits.minMb || mb > this.#limits.maxMb) throw fileSizeOutOfRange(sizeBytes);
    if (last !== 1) ctx.onProgress('download', 1);
    return { path, sizeBytes, ...trackMetadata(payload, got) };
  }

  async fetchGenre(payload: GenrePayload, ctx: JobContext): Promise<GenreResultData> {
    const bin = await this.binary();
    return fetchGenre(bin, payload, ctx, { ...this.#opts.genre, run: this.#runner(bin, ctx) });
  }
}

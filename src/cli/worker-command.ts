// SPDX-License-Identifier: MIT
/**
 * The default command: join a server with a pairing code and run jobs until Ctrl+C.
 * First SIGINT/SIGTERM: stop taking jobs, close the sockets (the server requeues the job in
 * hand), remove temp files, exit 0 within 2 s. A second one exits at once.
 */
import type { Readable, Writable } from 'node:stream';
import { BACKEND_CHOICES, type Embedder } from '../embed/embedder.js';
import { MAX_THREADS } from '../embed/threads.js';
import { createLogger } from '../log/logger.js';
import type { Media } from '../media/media.js';
import { jobRoot, removeOwnJobDirsSync } from '../util/job-dirs.js';
import { VERSION } from '../version.js';
import { startWorker } from '../worker/worker.js';
import { UsageError } from './errors.js';
import { DEFAULT_JOBS, parseEnumFlag, parseIntFlag, parseRepeatedFlag, parseSecondsFlag, parseStringFlag } from './options.js';
import { canPrompt, promptConnection } from './prompt.js';
import { rawFlagValue, rawFlagValues } from './raw-args.js';
import { attachReporter } from './reporter.js';
import { StatusLine } from './status-line.js';

export const USAGE_LINE = 'Usage: chaarfm-worker --url <server-url> --code <pairing-code> [--jobs N]   (chaarfm-worker --help for more)';

export interface CliIO {
  stdin: Readable;
  stdout: Writable & { isTTY?: boolean; columns?: number };
  stderr: Writable;
}

/** Stand-ins for tests and embedding applications. */
export interface CliOverrides {
  embedder?: Embedder;
  media?: Media;
  /** Reconnect delays etc. for tests. */
  reconnect?: { initialMs?: number; factor?: number; maxMs?: number };
}

export async function runWorkerCommand(
  argv: readonly string[],
  opts: Record<string, unknown>,
  io: CliIO,
  overrides: CliOverrides = {},
): Promise<void> {
  const format = parseEnumFlag('log-format', opts.logFormat ?? 'pretty', ['pretty', 'json'] as const);
  const jobs = parseIntFlag('jobs', opts.jobs ?? DEFAULT_JOBS, 1, 64);
  const backend = parseEnumFlag('backend', opts.backend ?? 'auto', BACKEND_CHOICES);
  const threads = opts.threads === undefined ? undefined : parseIntFlag('threads', opts.threads, 1, MAX_THREADS);
  parseStringFlag('url', opts.url);
  parseStringFlag('code', opts.code);
  let url = rawFlagValue(argv, 'url', 'u');
  let code = rawFlagValue(argv, 'code', 'c');
  const modelPath = parseStringFlag('model', opts.model) && rawFlagValue(argv, 'model');
  const outputNode = parseStringFlag('output-node', opts.outputNode) && rawFlagValue(argv, 'output-node');
  const tmpDir = parseStringFlag('tmp-dir', opts.tmpDir) && rawFlagValue(argv, 'tmp-dir');
  const ytdlpPath = parseStringFlag('yt-dlp', opts.ytDlp) && rawFlagValue(argv, 'yt-dlp');
  const ffmpegPath = parseStringFlag('ffmpeg', opts.ffmpeg) && rawFlagValue(argv, 'ffmpeg');
  const name = parseStringFlag('name', opts.name) && rawFlagValue(argv, 'name');
  const ytdlpArgs = parseRepeatedFlag('yt-dlp-arg', opts.ytDlpArg) ? rawFlagValues(argv, 'yt-dlp-arg') : undefined;
  const youtubeGapMs = opts.youtubeGap === undefined ? undefined : parseSecondsFlag('youtube-gap', opts.youtubeGap, 0, 600) * 1000;

  if (!url || !code) {
    if (!canPrompt({ input: io.stdin, output: io.stdout })) throw new UsageError(USAGE_LINE, 1);
    ({ url, code } = await promptConnection({ url, code }, { input: io.stdin, output: io.stdout }));
  }

  const status = format === 'pretty' ? new StatusLine(io.stdout) : null;
  const log = createLogger({ format, stream: status ?? io.stdout, level: opts.verbose ? 'debug' : 'info' });
  log.info(`chaarfm-worker ${VERSION} starting`, { jobs, backend });
  const worker = await startWorker({
    url,
    code,
    jobs,
    name,
    logger: log,
    backend,
    modelPath,
    outputNode,
    threads,
    tmpDir,
    ytdlpPath,
    ytdlpArgs,
    youtubeGapMs,
    ffmpegPath,
    embedder: overrides.embedder,
    media: overrides.media,
    reconnect: overrides.reconnect,
  });
  log.info(`backend ${worker.backend}; ${jobs} socket(s) to ${worker.socketUrl}`);
  const detach = attachReporter(worker, log, status);

  await new Promise<void>((resolve) => {
    let signals = 0;
    const onSignal = (sig: NodeJS.Signals) => {
      signals++;
      if (signals > 1) {
        removeOwnJobDirsSync(jobRoot(tmpDir));
        process.exit(130);
      }
      log.info(`${sig}: stopping; the server requeues jobs in hand (press Ctrl+C again to quit at once)`);
      // Whatever happens, the process is gone within 2 s.
      setTimeout(() => {
        removeOwnJobDirsSync(jobRoot(tmpDir));
        process.exit(0);
      }, 1900).unref();
      void worker.stop().then(() => {
        detach();
        log.info('stopped');
        resolve();
      });
    };
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
  });
}

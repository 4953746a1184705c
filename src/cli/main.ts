// SPDX-License-Identifier: MIT
/**
 * The command line: the worker (default command), plus subcommands. Heavy modules are imported
 * inside the actions so `--help` is instant. Expected errors print one line; unexpected ones
 * print their stack. Sets process.exitCode; the bin file does the rest.
 */
import { cac } from 'cac';
import { MAX_THREADS } from '../embed/threads.js';
import { VERSION } from '../version.js';
import { UsageError } from './errors.js';
import { DEFAULT_JOBS } from './options.js';
import { checkPassThroughFlag } from './raw-args.js';
import type { CliIO, CliOverrides } from './worker-command.js';

export type { CliIO, CliOverrides };

function defaultIO(): CliIO {
  return { stdin: process.stdin, stdout: process.stdout, stderr: process.stderr };
}

export async function main(argv: readonly string[] = process.argv, io: CliIO = defaultIO(), overrides: CliOverrides = {}): Promise<void> {
  const args = argv.slice(2);
  const cli = cac('chaarfm-worker');
  cli
    .command('[...args]', 'Join a ChaarFM server and process its jobs (default command)')
    .option('-u, --url <url>', 'Server URL (default: https://chaarfm.onrender.com when prompted)')
    .option('-c, --code <code>', 'Pairing code shown on the server\'s /ingest page')
    .option('--jobs <n>', `Jobs at once: N sockets sharing one loaded model (1-64; default: cores, 2 to 8, here ${DEFAULT_JOBS})`)
    .option('--backend <name>', 'Embedding backend: auto|native|wasm|essentia.js (default auto; essentia.js: the reference backend, optional dependencies)')
    .option('--threads <n>', `Threads for the embedding engine (1-${MAX_THREADS}; default, native: the cores shared by the jobs, floor(cores / jobs); portable: the cores; at most 8)`)
    .option('--model <path>', 'A MusiCNN frozen graph (.pb) instead of the bundled msd-musicnn-1.pb')
    .option('--output-node <name>', 'Graph node to average (default model/dense/BiasAdd)')
    .option('--tmp-dir <dir>', 'Folder for per-job temp folders (default: the OS temp folder)')
    .option('--yt-dlp <path>', 'yt-dlp executable (default: CHAARFM_YTDLP, PATH unless older than 90 days, then a cached download kept current)')
    .option('--yt-dlp-arg <arg>', 'One more argument for every yt-dlp run, repeatable; write it with = (--yt-dlp-arg=--extractor-args=youtube:player_client=web)')
    .option('--youtube-gap <seconds>', 'Least time between two YouTube requests over all sockets (0-600; default 2)')
    .option('--ffmpeg <path>', 'ffmpeg executable (default: CHAARFM_FFMPEG, the bundled decoder, then PATH)')
    .option('--name <name>', 'Worker name sent to the server (default: host name)')
    .option('--log-format <format>', 'pretty|json (default pretty)')
    .option('--verbose', 'Debug log lines (keep-alive, connection attempts)')
    .example('chaarfm-worker --url https://chaarfm.onrender.com --code ABC123')
    .action(async (extra: string[], opts: Record<string, unknown>) => {
      if (extra.length) throw new UsageError(`Unknown command or argument ${JSON.stringify(extra[0])} (see --help)`);
      const { runWorkerCommand } = await import('./worker-command.js');
      await runWorkerCommand(args, opts, io, overrides);
    });
  const embeddingOptions = (c: ReturnType<typeof cli.command>) =>
    c
      .option('--backend <name>', 'Embedding backend: auto|native|wasm|essentia.js (default auto; essentia.js: the reference backend, optional dependencies)')
      .option('--threads <n>', `Threads for the embedding engine (1-${MAX_THREADS}; default: the number of cores, at most 8)`)
      .option('--model <path>', 'A MusiCNN frozen graph (.pb) instead of the bundled msd-musicnn-1.pb')
      .option('--output-node <name>', 'Graph node to average (default model/dense/BiasAdd)')
      .option('--ffmpeg <path>', 'ffmpeg executable (default: CHAARFM_FFMPEG, the bundled decoder, then PATH)')
      .option('--tmp-dir <dir>', 'Folder for temp files (default: the OS temp folder)');
  embeddingOptions(cli.command('vectorize <...inputs>', 'Print the embedding of local files or URLs as JSON lines'))
    .option('--out <file>', 'Write the vectors to FILE.jsonl or FILE.npy instead of stdout')
    .option('--tags <n>', 'Add the top N MSD tags (model/Sigmoid) with their names')
    .option('--yt-dlp <path>', 'yt-dlp executable for URLs')
    .option('--verbose', 'More log lines on stderr')
    .example('chaarfm-worker vectorize song.mp3 --tags 5')
    .action(async (inputs: string[], opts: Record<string, unknown>) => {
      const { runVectorizeCommand } = await import('./vectorize-command.js');
      await runVectorizeCommand(inputs, args, opts, io);
    });
  embeddingOptions(cli.command('similar [file]', 'Embed a local file and list the stored tracks nearest to it (cosine)'))
    .option('--db <path>', 'The coordinator database to search: a SQLite file or a postgres:// URL')
    .option('--code <code>', 'Only this session (default: every session in the database)')
    .option('-k, --top <n>', 'How many tracks (1-100; default 10)')
    .option('--json', 'One JSON object instead of lines')
    .option('--verbose', 'More log lines on stderr')
    .example('chaarfm-worker similar song.mp3 --db chaarfm-coordinator.db -k 5')
    .action(async (file: string | undefined, opts: Record<string, unknown>) => {
      const { runSimilarCommand } = await import('./similar-command.js');
      await runSimilarCommand(file, args, opts, io);
    });
  cli
    .command('doctor', 'Check Node, the backend, the model, ffmpeg, yt-dlp and the folders')
    .option('--backend <name>', 'Backend to check: auto|native|wasm|essentia.js (default auto; essentia.js: the reference backend, optional dependencies)')
    .option('--model <path>', 'Model to check instead of the bundled one')
    .option('--ffmpeg <path>', 'ffmpeg executable to check')
    .option('--yt-dlp <path>', 'yt-dlp executable to check')
    .option('--tmp-dir <dir>', 'Temp folder to check')
    .option('--json', 'Machine-readable output')
    .action(async (opts: Record<string, unknown>) => {
      const { runDoctorCommand } = await import('./doctor-command.js');
      await runDoctorCommand(args, opts, io);
    });
  embeddingOptions(cli.command('demo', 'Embed a generated 30 s clip: a first check that everything works')).action(
    async (opts: Record<string, unknown>) => {
      const { runDemoCommand } = await import('./demo-command.js');
      await runDemoCommand(args, opts, io);
    },
  );
  cli
    .command('serve', 'Run a ChaarFM-compatible coordinator: pairing codes, a durable queue, the /ingest page')
    .option('--host <host>', 'Address to listen on (default 127.0.0.1; 0.0.0.0 for every interface)')
    .option('--port <port>', 'Port for HTTP and WebSocket (0-65535; default 8000)')
    .option('--db <path>', 'SQLite file for jobs and results (default chaarfm-coordinator.db), or a postgres:// URL to share one database between several coordinators')
    .option('--lease <duration>', 'A job not answered within this goes back to the queue: 15m, 90s, 1h (default 15m)')
    .option('--retries <n>', 'Failed attempts after which a job is failed (1-100; default 3)')
    .option('--drops <n>', 'Workers lost (closed without a goodbye) while running one job after which it is failed (1-100; default 3)')
    .option('--trust-proxy <list>', 'Comma-separated proxy addresses or CIDR ranges whose X-Forwarded-For names the client (for rate limits and logs; default none)')
    .option('--accept-any-code', 'Any code opens a session, as the original server does (default: only codes this server made)')
    .option('--new-code', 'Make a pairing code at start and print it on stdout')
    .option('--log-format <format>', 'pretty|json (default pretty)')
    .option('--verbose', 'Debug log lines')
    .example('chaarfm-worker serve --port 8000 --new-code')
    .action(async (opts: Record<string, unknown>) => {
      const { runServeCommand } = await import('./serve-command.js');
      await runServeCommand(args, opts, io);
    });
  cli.help();
  cli.version(VERSION);
  try {
    checkPassThroughFlag(args, 'yt-dlp-arg');
    cli.parse(['node', 'chaarfm-worker', ...args], { run: false });
    if (cli.options.help || cli.options.version) return;
    await cli.runMatchedCommand();
  } catch (e) {
    if (e instanceof UsageError) {
      io.stderr.write(`chaarfm-worker: ${e.message}\n`);
      process.exitCode = e.exitCode;
    } else if (e instanceof Error && (e.name === 'CACError' || e instanceof TypeError || e instanceof RangeError)) {
      io.stderr.write(`chaarfm-worker: ${e.message}\n`);
      process.exitCode = 1;
    } else if (e instanceof Error && ['ExpectedError', 'NativeUnavailableError', 'ModelFileError', 'FfmpegNotFoundError'].includes(e.name)) {
      // a bad --model, --output-node or --ffmpeg: the message says what and why
      io.stderr.write(`chaarfm-worker: ${e.message}\n`);
      process.exitCode = 1;
    } else {
      io.stderr.write(`chaarfm-worker: unexpected error\n${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
      process.exitCode = 70;
    }
  }
}

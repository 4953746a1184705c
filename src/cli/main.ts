// SPDX-License-Identifier: MIT
/**
 * The command line: the worker (default command), plus subcommands. Heavy modules are imported
 * inside the actions so `--help` is instant. Expected errors print one line; unexpected ones
 * print their stack. Sets process.exitCode; the bin file does the rest.
 */
import { cac } from 'cac';
import { VERSION } from '../version.js';
import { UsageError } from './errors.js';
import { DEFAULT_JOBS } from './options.js';
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
    .option('--jobs <n>', `Jobs at once: N sockets sharing one loaded model (1-64, default ${DEFAULT_JOBS})`)
    .option('--backend <name>', 'Embedding backend: auto|native|wasm (default auto)')
    .option('--threads <n>', 'Threads for the embedding engine (default: the number of cores)')
    .option('--model <path>', 'A MusiCNN frozen graph (.pb) instead of the bundled msd-musicnn-1.pb')
    .option('--output-node <name>', 'Graph node to average (default model/dense/BiasAdd)')
    .option('--tmp-dir <dir>', 'Folder for per-job temp folders (default: the OS temp folder)')
    .option('--yt-dlp <path>', 'yt-dlp executable (default: CHAARFM_YTDLP, PATH, then a cached download)')
    .option('--ffmpeg <path>', 'ffmpeg executable (default: CHAARFM_FFMPEG, ffmpeg-static, then PATH)')
    .option('--name <name>', 'Worker name sent to the server (default: host name)')
    .option('--log-format <format>', 'pretty|json (default pretty)')
    .option('--verbose', 'Debug log lines (keep-alive, connection attempts)')
    .example('chaarfm-worker --url https://chaarfm.onrender.com --code ABC123')
    .action(async (extra: string[], opts: Record<string, unknown>) => {
      if (extra.length) throw new UsageError(`Unknown command or argument ${JSON.stringify(extra[0])} (see --help)`);
      const { runWorkerCommand } = await import('./worker-command.js');
      await runWorkerCommand(args, opts, io, overrides);
    });
  cli.help();
  cli.version(VERSION);
  try {
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
    } else if (e instanceof Error && e.name === 'ExpectedError') {
      io.stderr.write(`chaarfm-worker: ${e.message}\n`);
      process.exitCode = 1;
    } else {
      io.stderr.write(`chaarfm-worker: unexpected error\n${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
      process.exitCode = 70;
    }
  }
}

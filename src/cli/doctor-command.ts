// SPDX-License-Identifier: MIT
/**
 * `chaarfm-worker doctor`: what this machine gives the worker. Node version, the backend that
 * would be chosen and why, the model's checksum, the decoder (ffmpeg), yt-dlp (path, version,
 * age, where it came from), the JavaScript runtime yt-dlp gets (path, version, whether yt-dlp
 * supports it), and whether the cache and temp folders are writable. Exit 1 when something a job needs is missing.
 */
import { access, constants, mkdir } from 'node:fs/promises';
import { jobRoot } from '../util/job-dirs.js';
import { firstLine } from '../util/values.js';
import { VERSION } from '../version.js';
import { BACKEND_CHOICES, type BackendChoice } from '../embed/embedder.js';
import { parseEnumFlag, parseStringFlag } from './options.js';
import { rawFlagValue } from './raw-args.js';
import type { CliIO } from './worker-command.js';

export interface Check {
  name: string;
  ok: boolean;
  /** What was found. */
  detail: string;
  /** A missing item that does not stop jobs (e.g. yt-dlp that will be downloaded). */
  warning?: boolean;
}

/** The oldest Node.js the package runs on (package.json's `engines`, checked against it by cli-doctor.test). */
export const MIN_NODE = '22.0.0';
/** The oldest Node.js whose `node:sqlite` needs no flag: `serve`'s SQLite store (src/coordinator/store-sqlite.ts). */
export const MIN_NODE_SQLITE = '22.13.0';

const older = (a: string, b: string) => a.localeCompare(b, 'en', { numeric: true }) < 0;

/**
 * The `node` check for a Node.js version (`process.versions.node`): fails below MIN_NODE; warns
 * below MIN_NODE_SQLITE (jobs work, `serve` only with --db postgres://...). The detail starts with
 * the version (and the platform, when given).
 */
export function nodeCheck(version: string, platform?: string): Omit<Check, 'name'> {
  const v = platform ? `v${version} (${platform})` : `v${version}`;
  if (older(version, MIN_NODE)) return { ok: false, detail: `${v} is too old; chaarfm-worker needs Node.js ${MIN_NODE.split('.')[0]} or newer` };
  if (older(version, MIN_NODE_SQLITE))
    return { ok: false, warning: true, detail: `${v}: jobs work, but serve's SQLite store needs node:sqlite, built into Node.js ${MIN_NODE_SQLITE.replace(/\.0$/, '')} and newer (or use serve --db postgres://...)` };
  return { ok: true, detail: v };
}

async function writable(dir: string): Promise<string> {
  await mkdir(dir, { recursive: true });
  await access(dir, constants.W_OK);
  return dir;
}

export async function runChecks(opts: {
  backend: BackendChoice;
  modelPath?: string;
  ffmpegPath?: string;
  ytdlpPath?: string;
  tmpDir?: string;
}): Promise<Check[]> {
  const checks: Check[] = [];
  const add = async (name: string, fn: () => Promise<string>, warnOnly = false) => {
    try {
      checks.push({ name, ok: true, detail: await fn() });
    } catch (e) {
      checks.push({ name, ok: false, detail: firstLine(e), warning: warnOnly || undefined });
    }
  };
  await add('chaarfm-worker', async () => VERSION);
  checks.push({ name: 'node', ...nodeCheck(process.versions.node, `${process.platform}-${process.arch}`) });
  const embed = await import('../embed/create-embedder.js');
  await add('backend', async () => {
    const r = embed.describeBackend(opts.backend);
    return `${r.backend}: ${r.reason}`;
  });
  const model = await import('../embed/model-file.js');
  await add('model', async () => {
    const m = await model.openModelFile({ modelPath: opts.modelPath });
    return `${m.path} sha256 ${m.sha256}${m.bundled ? ' (bundled, verified)' : ' (custom)'}`;
  });
  const ff = await import('../audio/ffmpeg.js');
  await add('decoder', async () => {
    const found = await ff.findFfmpeg({ ffmpegPath: opts.ffmpegPath });
    const from = { option: 'from --ffmpeg', CHAARFM_FFMPEG: 'from CHAARFM_FFMPEG', bundled: 'bundled', PATH: 'from PATH' }[found.source];
    return `ffmpeg ${found.path} (${await ff.ffmpegVersion(found.path)}, ${from})`;
  });
  const yt = await import('../media/ytdlp-binary.js');
  const { ageDays } = await import('../media/ytdlp-update.js');
  let ytdlp: string | null = null;
  await add(
    'yt-dlp',
    async () => {
      const found = await yt.findYtDlp({ explicitPath: opts.ytdlpPath, download: false });
      ytdlp = found.path;
      const version = await yt.ytdlpVersion(found.path);
      const age = ageDays(version);
      const from = found.source === 'cache' ? 'the cached download (checked against the release weekly)' : found.source;
      const skipped = found.skipped ? `; ${found.skipped}${found.source === 'PATH' ? ', used since no current one is cached' : ', so skipped'}` : '';
      const detail = `${found.path} (${version}${age === null ? '' : `, ${age} days old`}, from ${from})${skipped}`;
      if (found.skipped && found.source === 'PATH') throw new Error(detail); // works, but a warning
      return detail;
    },
    true,
  );
  const rt = await import('../media/js-runtime.js');
  await add(
    'js runtime',
    async () => {
      const r = await yt.jsRuntime();
      const what = `${r.path} (${r.spec.startsWith('node:') ? `node ${r.version}` : r.version}${r.source === 'self' ? ', the worker itself' : ', from PATH'})`;
      const problem = ytdlp ? await yt.jsRuntimeProblem(ytdlp) : r.supported ? null : `node ${r.version} is older than yt-dlp's minimum, ${rt.MIN_NODE_MAJOR}`;
      if (problem) throw new Error(`${what}: ${problem}`);
      return `${what}, supported by yt-dlp`;
    },
    true,
  );
  await add('cache folder', async () => `${await writable(yt.cacheDir())} (writable)`, true);
  await add('temp folder', async () => `${await writable(jobRoot(opts.tmpDir))} (writable)`);
  return checks;
}

export async function runDoctorCommand(argv: readonly string[], opts: Record<string, unknown>, io: CliIO): Promise<void> {
  const checks = await runChecks({
    backend: parseEnumFlag('backend', opts.backend ?? 'auto', BACKEND_CHOICES),
    modelPath: parseStringFlag('model', opts.model) && rawFlagValue(argv, 'model'),
    ffmpegPath: parseStringFlag('ffmpeg', opts.ffmpeg) && rawFlagValue(argv, 'ffmpeg'),
    ytdlpPath: parseStringFlag('yt-dlp', opts.ytDlp) && rawFlagValue(argv, 'yt-dlp'),
    tmpDir: parseStringFlag('tmp-dir', opts.tmpDir) && rawFlagValue(argv, 'tmp-dir'),
  });
  if (opts.json) io.stdout.write(JSON.stringify({ ok: checks.every((c) => c.ok || c.warning), checks }, null, 2) + '\n');
  else {
    const w = Math.max(...checks.map((c) => c.name.length));
    for (const c of checks) {
      const mark = c.ok ? 'ok  ' : c.warning ? 'warn' : 'FAIL';
      io.stdout.write(`${mark}  ${c.name.padEnd(w)}  ${c.detail}\n`);
    }
  }
  if (checks.some((c) => !c.ok && !c.warning)) process.exitCode = 1;
}

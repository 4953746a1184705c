// SPDX-License-Identifier: MIT
/**
 * The yt-dlp executable: finding it, asking it what it can do, and running it.
 *
 * Resolution order (first hit wins, every miss is remembered for the error):
 *  1. an explicit path: the `--yt-dlp PATH` option, else env `CHAARFM_YTDLP`. A bare name
 *     (no slash) is looked up on PATH. When given and unusable, that is an error: no fallback.
 *  2. `yt-dlp` on PATH.
 *  3. a copy in the user's cache folder (`<cache>/chaarfm-worker/yt-dlp[.exe]`), downloaded
 *     there once from the yt-dlp release (env `CHAARFM_YTDLP_RELEASE_URL`, default GitHub's
 *     latest release), checked against that release's `SHA2-256SUMS`, written to a temp file,
 *     chmod 755, then renamed into place (atomic). The copy is not updated afterwards.
 * When none can be had a {@link YtDlpUnavailableError} (a JobError) says, in one line, how to
 * install yt-dlp.
 *
 * Running: {@link runYtDlp} spawns the binary directly (not through yt-dlp-wrap; see
 * ytdlp-media.ts), streams stdout/stderr line by line, and on abort kills the whole process
 * group (POSIX; `taskkill /T` on Windows), waiting for the child to exit before it rejects.
 */
import { spawn, execFile, type ChildProcess } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { chmod, mkdir, rename, rm } from 'node:fs/promises';
import { dirname, join, isAbsolute, resolve as resolvePath } from 'node:path';
import { Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { ReadableStream as WebReadableStream } from 'node:stream/web';
import { promisify } from 'node:util';
import type { Logger } from '../log/logger.js';
import { silentLogger } from '../log/logger.js';
import { findOnPath, isExecutableFile } from '../util/executables.js';
import { recordChild } from '../util/child-records.js';
import type { JobContext } from './media.js';
import { DOWNLOAD_FAILED, JobError } from '../worker/job-error.js';
import { userCacheDir } from '../util/user-cache.js';

const execFileP = promisify(execFile);

export const DEFAULT_RELEASE_URL = 'https://github.com/yt-dlp/yt-dlp/releases/latest/download';
const INSTALL_HINT =
  'install yt-dlp (pip install -U yt-dlp, brew install yt-dlp or winget install yt-dlp) or pass --yt-dlp PATH';

/** yt-dlp cannot be found, run or downloaded. Its message is one line and ends with the fix. */
export class YtDlpUnavailableError extends JobError {
  constructor(reason: string, options?: { cause?: unknown }) {
    super(`${DOWNLOAD_FAILED}: yt-dlp is not available (${reason}); ${INSTALL_HINT}`, options);
    this.name = 'YtDlpUnavailableError';
  }
}

export interface ResolveOptions {
  /** From `--yt-dlp PATH`; wins over env `CHAARFM_YTDLP`. */
  explicitPath?: string;
  /** Where CHAARFM_YTDLP, CHAARFM_YTDLP_RELEASE_URL, PATH and the cache folders are read. */
  env?: NodeJS.ProcessEnv;
  platform?: NodeJS.Platform;
  arch?: string;
  log?: Logger;
  /** false: never download; report a missing copy instead (for `doctor`). Default true. */
  download?: boolean;
}

/** The release asset for a platform, or null when yt-dlp publishes none we know. */
export function releaseAssetName(platform: NodeJS.Platform, arch: string): string | null {
  if (platform === 'linux') return arch === 'x64' ? 'yt-dlp_linux' : arch === 'arm64' ? 'yt-dlp_linux_aarch64' : null;
  if (platform === 'darwin') return 'yt-dlp_macos';
  if (platform === 'win32') return 'yt-dlp.exe';
  return null;
}

/** This package's cache folder for a platform (src/util/user-cache.js). */
export const cacheDir = userCacheDir;

/** Parse a `sha256sum`-style file; the hash listed for `asset`, lower case, or null. */
export function checksumFor(sums: string, asset: string): string | null {
  for (const line of sums.split(/\r?\n/)) {
    const m = /^([0-9a-fA-F]{64})\s+\*?(.+?)\s*$/.exec(line);
    if (m && m[2] === asset) return m[1].toLowerCase();
  }
  return null;
}

/** Download `asset` of the release at `base` into `dest`, verified, atomically. */
async function downloadRelease(base: string, asset: string, dest: string): Promise<void> {
  const sumsUrl = `${base}/SHA2-256SUMS`;
  const sumsRes = await fetch(sumsUrl, { signal: AbortSignal.timeout(60_000) });
  if (!sumsRes.ok) throw new Error(`${sumsUrl}: HTTP ${sumsRes.status}`);
  const expected = checksumFor(await sumsRes.text(), asset);
  if (!expected) throw new Error(`${asset} is not listed in ${sumsUrl}`);
  await mkdir(dirname(dest), { recursive: true });
  const tmp = `${dest}.${process.pid}-${randomBytes(4).toString('hex')}.tmp`;
  try {
    const url = `${base}/${asset}`;
    const res = await fetch(url, { signal: AbortSignal.timeout(10 * 60_000) });
    if (!res.ok || !res.body) throw new Error(`${url}: HTTP ${res.status}`);
    const hash = createHash('sha256');
    const tap = new Transform({
      transform(chunk: Buffer, _enc, cb) {
        hash.update(chunk);
        cb(null, chunk);
      },
    });
    const body = Readable.fromWeb(res.body as unknown as WebReadableStream<Uint8Array>);
    await pipeline(body, tap, createWriteStream(tmp, { mode: 0o755 }));
    const actual = hash.digest('hex');
    if (actual !== expected) throw new Error(`checksum mismatch for ${asset} (expected ${expected}, got ${actual})`);
    await chmod(tmp, 0o755);
    await rename(tmp, dest);
  } catch (e) {
    await rm(tmp, { force: true });
    throw e;
  }
}

const downloads = new Map<string, Promise<void>>();

/** Find (or download once) a usable yt-dlp. Throws YtDlpUnavailableError. */
export async function resolveYtDlp(opts: ResolveOptions = {}): Promise<string> {
  const env = opts.env ?? process.env;
  const platform = opts.platform ?? process.platform;
  const log = opts.log ?? silentLogger;
  const explicit = opts.explicitPath ?? env.CHAARFM_YTDLP;
  if (explicit) {
    const from = opts.explicitPath ? '--yt-dlp' : 'CHAARFM_YTDLP';
    const bare = !/[\\/]/.test(explicit);
    const found = bare ? await findOnPath(explicit, env, platform) : isAbsolute(explicit) ? explicit : resolvePath(explicit);
    if (found && (await isExecutableFile(found, platform))) return found;
    throw new YtDlpUnavailableError(`${from} names ${explicit}, which is not an executable file`);
  }
  const onPath = await findOnPath('yt-dlp', env, platform);
  if (onPath) return onPath;

  const asset = releaseAssetName(platform, opts.arch ?? process.arch);
  if (!asset) throw new YtDlpUnavailableError(`not on PATH, and no release build for ${platform}-${opts.arch ?? process.arch}`);
  const dest = join(cacheDir(env, platform), platform === 'win32' ? 'yt-dlp.exe' : 'yt-dlp');
  if (await isExecutableFile(dest, platform)) return dest;
  if (opts.download === false)
    throw new YtDlpUnavailableError(`not on PATH, and no copy in ${dest} yet (the worker downloads one at its first job)`);
  const base = (env.CHAARFM_YTDLP_RELEASE_URL || DEFAULT_RELEASE_URL).replace(/\/+$/, '');
  let pending = downloads.get(dest);
  if (!pending) {
    log.info('yt-dlp is not on PATH; downloading it once', { asset, from: base, to: dest });
    pending = downloadRelease(base, asset, dest).finally(() => downloads.delete(dest));
    downloads.set(dest, pending);
  }
  try {
    await pending;
  } catch (e) {
    const why = e instanceof Error ? e.message.split('\n')[0] : String(e);
    throw new YtDlpUnavailableError(`not on PATH, and downloading ${asset} failed: ${why}`, { cause: e });
  }
  return dest;
}

const versions = new Map<string, Promise<string>>();
const helps = new Map<string, Promise<string>>();

function memo(cache: Map<string, Promise<string>>, key: string, make: () => Promise<string>): Promise<string> {
  let p = cache.get(key);
  if (!p) {
    p = make();
    cache.set(key, p);
    p.catch(() => cache.delete(key));
  }
  return p;
}

/** `yt-dlp --version`, trimmed (e.g. "2023.03.04"). Cached per path. */
export function ytdlpVersion(bin: string): Promise<string> {
  return memo(versions, bin, async () => (await execFileP(bin, ['--version'], { timeout: 60_000 })).stdout.trim());
}

/** Whether this yt-dlp knows `--js-runtimes` (read once from its `--help`). */
export async function supportsJsRuntimes(bin: string): Promise<boolean> {
  const help = await memo(helps, bin, async () =>
    (await execFileP(bin, ['--help'], { timeout: 60_000, maxBuffer: 8 * 1024 * 1024 })).stdout,
  );
  return /(^|\s)--js-runtimes\b/m.test(help);
}

/** Whether this process is a single executable application (`npm run build:exe`). */
async function runningAsSea(): Promise<boolean> {
  try {
    return (await import('node:sea')).isSea();
  } catch {
    return false; // a Node without node:sea runs no single executables
  }
}

/**
 * The JavaScript runtime for yt-dlp's `--js-runtimes` (YouTube's challenges): this Node; in a
 * single executable, where process.execPath is the worker itself, a `node` or `deno` on `env`'s
 * PATH instead, or null when there is none.
 */
export async function jsRuntime(sea?: boolean, env: NodeJS.ProcessEnv = process.env): Promise<string | null> {
  if (!(sea ?? (await runningAsSea()))) return `node:${process.execPath}`;
  for (const name of ['node', 'deno']) {
    const found = await findOnPath(name, env);
    if (found) return `${name}:${found}`;
  }
  return null;
}

/** `--js-runtimes <runtime>` where this yt-dlp supports it and a runtime is found, else nothing. */
export async function jsRuntimeArgs(bin: string): Promise<string[]> {
  if (!(await supportsJsRuntimes(bin).catch(() => false))) return [];
  const runtime = await jsRuntime();
  return runtime ? ['--js-runtimes', runtime] : [];
}

export interface RunOptions {
  signal?: AbortSignal;
  onStdoutLine?(line: string): void;
  onStderrLine?(line: string): void;
  /** After SIGTERM on abort, SIGKILL follows after this long. */
  killGraceMs?: number;
  /**
   * The job folder: the process is recorded there (util/child-records.ts), so that if this
   * process is killed, its next start stops the yt-dlp it left running before removing the folder.
   */
  recordIn?: string;
}

export interface RunResult {
  code: number | null;
  /** Every `ERROR:` line yt-dlp printed (at most 20), then the last stderr lines. */
  errorLines: string[];
  stderrTail: string[];
}

/** What every yt-dlp run of a job takes: the job's abort signal, its folder (for the record), stderr to its debug log. */
export function jobRun(ctx: JobContext): Pick<RunOptions, 'signal' | 'recordIn' | 'onStderrLine'> {
  return { signal: ctx.signal, recordIn: ctx.workDir, onStderrLine: (line) => ctx.log.debug('yt-dlp', { line }) };
}

const live = new Set<ChildProcess>();
let exitHooked = false;

function killTree(child: ChildProcess, sig: NodeJS.Signals): void {
  if (child.pid === undefined || child.exitCode !== null || child.signalCode !== null) return;
  if (process.platform === 'win32') {
    spawn('taskkill', ['/pid', String(child.pid), '/T', '/F'], { stdio: 'ignore', windowsHide: true }).on('error', () => {});
    return;
  }
  try {
    process.kill(-child.pid, sig);
  } catch {
    child.kill(sig);
  }
}

function lineSplitter(onLine: (l: string) => void): { push(s: string): void; end(): void } {
  let carry = '';
  return {
    push(s) {
      const parts = (carry + s).split(/\r\n|\r|\n/);
      carry = parts.pop() ?? '';
      for (const p of parts) if (p) onLine(p);
    },
    end() {
      if (carry) onLine(carry);
      carry = '';
    },
  };
}

/**
 * Run yt-dlp with `args`. Resolves with the exit code whatever it is; rejects when the process
 * cannot be started, or with `signal.reason` once an aborted run's processes are gone.
 */
export function runYtDlp(bin: string, args: string[], opts: RunOptions = {}): Promise<RunResult> {
  const { signal } = opts;
  if (signal?.aborted) return Promise.reject(signal.reason);
  return new Promise((resolve, reject) => {
    const child = spawn(bin, args, {
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: process.platform !== 'win32',
      windowsHide: true,
      env: { ...process.env, PYTHONIOENCODING: 'utf-8' },
    });
    live.add(child);
    if (opts.recordIn) void recordChild(opts.recordIn, child.pid);
    if (!exitHooked) {
      exitHooked = true;
      process.once('exit', () => {
        for (const c of live) killTree(c, 'SIGKILL');
      });
    }
    const errorLines: string[] = [];
    const stderrTail: string[] = [];
    const out = lineSplitter((l) => opts.onStdoutLine?.(l));
    const err = lineSplitter((l) => {
      if (l.startsWith('ERROR:') && errorLines.length < 20) errorLines.push(l);
      stderrTail.push(l);
      if (stderrTail.length > 30) stderrTail.shift();
      opts.onStderrLine?.(l);
    });
    child.stdout!.setEncoding('utf8').on('data', (s: string) => out.push(s));
    child.stderr!.setEncoding('utf8').on('data', (s: string) => err.push(s));
    let killTimer: NodeJS.Timeout | undefined;
    const onAbort = (): void => {
      killTree(child, 'SIGTERM');
      killTimer = setTimeout(() => killTree(child, 'SIGKILL'), opts.killGraceMs ?? 3000);
    };
    signal?.addEventListener('abort', onAbort, { once: true });
    let spawnError: Error | undefined;
    child.on('error', (e) => (spawnError = e));
    child.on('close', (code) => {
      live.delete(child);
      if (killTimer) clearTimeout(killTimer);
      signal?.removeEventListener('abort', onAbort);
      out.end();
      err.end();
      if (signal?.aborted) reject(signal.reason);
      else if (spawnError) reject(spawnError);
      else resolve({ code, errorLines, stderrTail });
    });
  });
}

/** One short line saying why a yt-dlp run failed, from its last ERROR line. */
export function ytdlpErrorReason(r: RunResult): string {
  const raw = r.errorLines.at(-1) ?? r.stderrTail.at(-1);
  if (!raw) return `yt-dlp exited with code ${r.code}`;
  let s = raw.replace(/^ERROR:\s*/, '');
  const tagged = /^\[[^\]]+\]\s*/.exec(s);
  if (tagged) s = s.slice(tagged[0].length).replace(/^[\w.-]+:\s+/, '');
  s = s.replace(/;\s*please report this issue.*$/i, '').replace(/\s*\(caused by .*\)\s*$/, '').trim();
  return s.length > 300 ? `${s.slice(0, 297)}...` : s || `yt-dlp exited with code ${r.code}`;
}

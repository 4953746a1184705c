// SPDX-License-Identifier: MIT
/**
 * The yt-dlp executable: finding it, asking it what it can do, and running it.
 *
 * Resolution order (first hit wins, every miss is remembered for the error):
 *  1. an explicit path: the `--yt-dlp PATH` option, else env `CHAARFM_YTDLP`. A bare name
 *     (no slash) is looked up on PATH. When given and unusable, that is an error: no fallback.
 *  2. `yt-dlp` on PATH, unless its version is older than 90 days (or it does not answer
 *     `--version`): then it is skipped, with the reason logged once.
 *  3. a copy in the user's cache folder (`<cache>/chaarfm-worker/yt-dlp[.exe]`), downloaded
 *     there from the yt-dlp release (env `CHAARFM_YTDLP_RELEASE_URL`, default GitHub's
 *     latest release), checked against that release's `SHA2-256SUMS`, written to a temp file,
 *     chmod 755, then renamed into place (atomic). It is checked against the release again a
 *     week later, or at once after a failure that names an outdated extractor (ytdlp-update.ts).
 * When none can be had a {@link YtDlpUnavailableError} (a JobError) says, in one line, how to
 * install yt-dlp.
 *
 * Running: {@link runYtDlp} spawns the binary directly (not through yt-dlp-wrap; see
 * ytdlp-media.ts), streams stdout/stderr line by line, and on abort kills the whole process
 * group (POSIX; `taskkill /T` on Windows), waiting for the child to exit before it rejects.
 */
import { spawn, execFile, type ChildProcess } from 'node:child_process';
import { stat } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join, isAbsolute, resolve as resolvePath } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import type { Logger } from '../log/logger.js';
import { silentLogger } from '../log/logger.js';
import { findOnPath, isExecutableFile } from '../util/executables.js';
import { recordChild } from '../util/child-records.js';
import type { JobContext } from './media.js';
import { DOWNLOAD_FAILED, JobError } from '../worker/job-error.js';
import {
  FORCED_CHECK_MS,
  PATH_MAX_AGE_DAYS,
  ageDays,
  cachedCopyIsDue,
  downloadRelease,
  refreshCachedCopy,
  type RefreshOutcome,
} from './ytdlp-update.js';
import { TOKEN_ENV, chooseJsRuntime, runToken, type JsRuntimeInfo } from './js-runtime.js';

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
  /** false: never download or check the release; report a missing copy instead (for `doctor`). Default true. */
  download?: boolean;
  /** The clock for ages (tests). */
  now?: number;
}

/** The release asset for a platform, or null when yt-dlp publishes none we know. */
export function releaseAssetName(platform: NodeJS.Platform, arch: string): string | null {
  if (platform === 'linux') return arch === 'x64' ? 'yt-dlp_linux' : arch === 'arm64' ? 'yt-dlp_linux_aarch64' : null;
  if (platform === 'darwin') return 'yt-dlp_macos';
  if (platform === 'win32') return 'yt-dlp.exe';
  return null;
}

/** This package's cache folder for a platform. */
export function cacheDir(env: NodeJS.ProcessEnv = process.env, platform: NodeJS.Platform = process.platform): string {
  const home = env.HOME || env.USERPROFILE || homedir();
  if (platform === 'win32') return join(env.LOCALAPPDATA || join(home, 'AppData', 'Local'), 'chaarfm-worker');
  if (platform === 'darwin') return join(home, 'Library', 'Caches', 'chaarfm-worker');
  return join(env.XDG_CACHE_HOME || join(home, '.cache'), 'chaarfm-worker');
}

export { checksumFor } from './ytdlp-update.js';

/** Where a yt-dlp came from, for `doctor` and the log. */
export type YtDlpSource = '--yt-dlp' | 'CHAARFM_YTDLP' | 'PATH' | 'cache';

export interface YtDlpFound {
  path: string;
  source: YtDlpSource;
  /** Why a yt-dlp on PATH was passed over (too old, not answering), when one was. */
  skipped?: string;
}

const downloads = new Map<string, Promise<unknown>>();
/** One download or check per file at a time; concurrent callers share it. */
function once<T>(key: string, make: () => Promise<T>): Promise<T> {
  let p = downloads.get(key) as Promise<T> | undefined;
  if (!p) {
    p = make().finally(() => downloads.delete(key));
    downloads.set(key, p);
  }
  return p;
}
const warnedPath = new Set<string>();
/** After a failed first download, an old yt-dlp on PATH is used without trying again for this long. */
const RETRY_DOWNLOAD_MS = 10 * 60_000;
const failedDownloads = new Map<string, { at: number }>();
const forcedAt = new Map<string, number>();

/** Why a yt-dlp on PATH is not used (older than 90 days, no version), or null when it is fine. */
async function pathSkipReason(found: string, now: number): Promise<string | null> {
  let version: string;
  try {
    version = await ytdlpVersion(found);
  } catch (e) {
    return `yt-dlp on PATH (${found}) does not answer --version: ${e instanceof Error ? e.message.split('\n')[0] : String(e)}`;
  }
  const age = ageDays(version, now);
  if (age !== null && age > PATH_MAX_AGE_DAYS)
    return `yt-dlp on PATH (${found}) is ${version}, ${age} days old (over ${PATH_MAX_AGE_DAYS})`;
  return null;
}

const releaseBase = (env: NodeJS.ProcessEnv): string => (env.CHAARFM_YTDLP_RELEASE_URL || DEFAULT_RELEASE_URL).replace(/\/+$/, '');

/** Find (or download once) a usable yt-dlp, and say where it came from. Throws YtDlpUnavailableError. */
export async function findYtDlp(opts: ResolveOptions = {}): Promise<YtDlpFound> {
  const env = opts.env ?? process.env;
  const platform = opts.platform ?? process.platform;
  const log = opts.log ?? silentLogger;
  const now = opts.now ?? Date.now();
  const explicit = opts.explicitPath ?? env.CHAARFM_YTDLP;
  if (explicit) {
    const from = opts.explicitPath ? '--yt-dlp' : 'CHAARFM_YTDLP';
    const bare = !/[\\/]/.test(explicit);
    const found = bare ? await findOnPath(explicit, env, platform) : isAbsolute(explicit) ? explicit : resolvePath(explicit);
    if (found && (await isExecutableFile(found, platform))) return { path: found, source: from };
    throw new YtDlpUnavailableError(`${from} names ${explicit}, which is not an executable file`);
  }
  const onPath = await findOnPath('yt-dlp', env, platform);
  const skipped = onPath ? await pathSkipReason(onPath, now) : null;
  if (onPath && !skipped) return { path: onPath, source: 'PATH' };
  if (skipped && !warnedPath.has(skipped)) {
    warnedPath.add(skipped);
    log.warn(`${skipped}: skipped for the cached download (--yt-dlp PATH to use it anyway)`);
  }
  const notOnPath = skipped ? 'the one on PATH is skipped' : 'not on PATH';

  const asset = releaseAssetName(platform, opts.arch ?? process.arch);
  if (!asset) throw new YtDlpUnavailableError(`${notOnPath}, and no release build for ${platform}-${opts.arch ?? process.arch}`);
  const dest = join(cacheDir(env, platform), platform === 'win32' ? 'yt-dlp.exe' : 'yt-dlp');
  const base = releaseBase(env);
  const found: YtDlpFound = { path: dest, source: 'cache', ...(skipped ? { skipped } : {}) };
  if (await isExecutableFile(dest, platform)) {
    if (opts.download !== false && (await cachedCopyIsDue(dest, now))) await checkCachedCopy(base, asset, dest, log);
    return found;
  }
  // An old yt-dlp on PATH still beats none: it is used when no current one can be had.
  const stale = onPath && skipped ? { path: onPath, source: 'PATH' as const, skipped } : null;
  if (opts.download === false) {
    if (stale) return stale;
    throw new YtDlpUnavailableError(`${notOnPath}, and no copy in ${dest} yet (the worker downloads one at its first job)`);
  }
  const failed = failedDownloads.get(dest);
  if (stale && failed && now - failed.at < RETRY_DOWNLOAD_MS) return stale;
  try {
    await once(dest, () => {
      log.info(`yt-dlp: ${notOnPath}; downloading it`, { asset, from: base, to: dest });
      return downloadRelease(base, asset, dest);
    });
    failedDownloads.delete(dest);
  } catch (e) {
    const why = e instanceof Error ? e.message.split('\n')[0] : String(e);
    failedDownloads.set(dest, { at: now });
    if (stale) {
      log.warn(`downloading yt-dlp failed (${why}); using the old one on PATH after all`, { path: onPath });
      return stale;
    }
    throw new YtDlpUnavailableError(`${notOnPath}, and downloading ${asset} failed: ${why}`, { cause: e });
  }
  return found;
}

/** Check the cached copy against the release and swap in a newer build; a failure keeps the old copy. */
async function checkCachedCopy(base: string, asset: string, dest: string, log: Logger): Promise<RefreshOutcome | null> {
  try {
    const outcome = await once(dest, () => refreshCachedCopy(base, asset, dest));
    if (outcome === 'updated') {
      log.info('yt-dlp updated in the cache folder', { path: dest, version: await ytdlpVersion(dest).catch(() => 'unknown') });
    } else log.debug('yt-dlp in the cache folder is the current release', { path: dest });
    return outcome;
  } catch (e) {
    log.warn('could not check yt-dlp against its release; keeping the copy in the cache folder', {
      path: dest,
      error: e instanceof Error ? e.message.split('\n')[0] : String(e),
    });
    return null;
  }
}

/**
 * After a run whose error says the extractor is outdated: check the cached copy against the
 * release now (at most once an hour per copy). 'updated' when a newer build is in place, so the
 * job may run again. A yt-dlp from PATH or --yt-dlp is the user's to update: that is a warning.
 */
export async function refreshAfterOutdatedFailure(found: YtDlpFound, opts: ResolveOptions = {}): Promise<RefreshOutcome | null> {
  const log = opts.log ?? silentLogger;
  if (found.source !== 'cache') {
    log.warn(`yt-dlp (${found.path}, from ${found.source}) says its extractor is out of date; update it (yt-dlp -U, pip install -U yt-dlp)`);
    return null;
  }
  const now = opts.now ?? Date.now();
  if (now - (forcedAt.get(found.path) ?? -Infinity) < FORCED_CHECK_MS) return null;
  forcedAt.set(found.path, now);
  const asset = releaseAssetName(opts.platform ?? process.platform, opts.arch ?? process.arch);
  if (!asset) return null;
  log.info('yt-dlp says its extractor is out of date; checking for a newer release now', { path: found.path });
  return checkCachedCopy(releaseBase(opts.env ?? process.env), asset, found.path, log);
}

/** Find (or download once) a usable yt-dlp; its path. Throws YtDlpUnavailableError. */
export async function resolveYtDlp(opts: ResolveOptions = {}): Promise<string> {
  return (await findYtDlp(opts)).path;
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
export async function ytdlpVersion(bin: string): Promise<string> {
  return memo(versions, await fileKey(bin), async () => (await execFileP(bin, ['--version'], { timeout: 60_000 })).stdout.trim());
}

/** A memo key that changes when the file is replaced (an update in place, our swap). */
async function fileKey(bin: string): Promise<string> {
  const st = await stat(bin).catch(() => null);
  return st ? `${bin}\0${st.mtimeMs}\0${st.size}` : bin;
}

/** Whether this yt-dlp's `--help` (read once per file) lists `flag`. */
export async function ytdlpHasFlag(bin: string, flag: string): Promise<boolean> {
  const help = await memo(helps, await fileKey(bin), async () =>
    (await execFileP(bin, ['--help'], { timeout: 60_000, maxBuffer: 8 * 1024 * 1024 })).stdout,
  );
  return new RegExp(`(^|[\\s,])${flag}\\b`, 'm').test(help);
}

/** Whether this yt-dlp knows `--js-runtimes`. */
export function supportsJsRuntimes(bin: string): Promise<boolean> {
  return ytdlpHasFlag(bin, '--js-runtimes');
}

let chosen: Promise<JsRuntimeInfo> | null = null;

/**
 * The JavaScript runtime yt-dlp gets for YouTube's challenges (js-runtime.ts): the worker
 * itself (the single executable, or a launcher of this Node and the bin file written to the
 * cache folder), or a newer deno/node on PATH when this Node is too old. Chosen once.
 */
export function jsRuntime(): Promise<JsRuntimeInfo> {
  if (!chosen) {
    chosen = chooseJsRuntime({
      launcherDir: cacheDir(),
      binJs: fileURLToPath(new URL('../bin.js', import.meta.url)),
      findOnPath: (name) => findOnPath(name),
    });
    chosen.catch(() => (chosen = null));
  }
  return chosen;
}

/**
 * What is wrong with the JavaScript runtime this yt-dlp gets, in one line, or null when nothing
 * is: a yt-dlp too old for `--js-runtimes`, or no runtime yt-dlp supports (node >= 22, deno >= 2.3).
 */
export async function jsRuntimeProblem(bin: string): Promise<string | null> {
  const fix = "YouTube downloads then use a single JavaScript-free client, one YouTube change away from failing";
  if (!(await supportsJsRuntimes(bin).catch(() => false)))
    return `yt-dlp ${await ytdlpVersion(bin).catch(() => '(version unknown)')} at ${bin} has no --js-runtimes, so it cannot solve YouTube's JavaScript challenges: ${fix}; use a current yt-dlp`;
  const rt = await jsRuntime();
  if (!rt.supported)
    return `yt-dlp gets no JavaScript runtime it supports (${rt.path} is node ${rt.version}; it needs node >= 22 or deno >= 2.3, and none is on PATH): ${fix}; run the worker on Node 22 or newer`;
  return null;
}

/** `--js-runtimes <runtime>` where this yt-dlp supports the flag, else nothing. */
export async function jsRuntimeArgs(bin: string): Promise<string[]> {
  if (!(await supportsJsRuntimes(bin).catch(() => false))) return [];
  // a launcher that cannot be written (read-only cache folder): yt-dlp runs without, as `doctor` shows
  const rt = await jsRuntime().catch(() => null);
  return rt ? ['--js-runtimes', rt.spec] : [];
}

/**
 * The environment of every yt-dlp run: ours without NODE_OPTIONS (a `--require` or
 * `--inspect` meant for the worker must not reach the node yt-dlp starts), with this run's
 * token that makes the worker answer yt-dlp's node calls (js-runtime.ts).
 */
export function ytdlpEnv(base: NodeJS.ProcessEnv = process.env): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...base, PYTHONIOENCODING: 'utf-8', [TOKEN_ENV]: runToken() };
  delete env.NODE_OPTIONS;
  return env;
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
      env: ytdlpEnv(),
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

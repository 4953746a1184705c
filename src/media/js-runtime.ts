// SPDX-License-Identifier: MIT
/**
 * The worker as yt-dlp's JavaScript runtime. Since 2026.06 yt-dlp solves YouTube's challenges
 * only with node >= 22 (or deno >= 2.3); the worker hands it itself: `--js-runtimes node:<self>`.
 * yt-dlp makes exactly two calls of a node runtime (yt_dlp/utils/_jsruntime.py and
 * yt_dlp/extractor/youtube/jsc/_builtin/node.py):
 *   <node> --version                                     → `v24.x.y`, read as the version
 *   <node> [--v8-flags=--jitless] --permission -          (Node >= 23.5)
 *   <node> [--v8-flags=--jitless] --experimental-permission --no-warnings=ExperimentalWarning -
 * with the player script on stdin; it wants only the script's JSON on stdout, nothing on stderr
 * and exit code 0. Those argv mean something else to our CLI (`--version` prints the package's
 * version), so they are answered this way only when env CHAARFM_JS_RUNTIME_TOKEN holds the
 * worker's per-run token: 32 random hex digits the worker sets for its yt-dlp children alone.
 * The script runs in js-sandbox.ts (permission model plus a context without require).
 *
 * "<self>": the single executable is itself a program yt-dlp can start. The npm CLI is a
 * script, so the worker writes a launcher into its cache folder that starts this Node with
 * this package's bin file (a `/bin/sh` script; a `.cmd` file on Windows).
 */
import { spawn } from 'node:child_process';
import { randomBytes, createHash } from 'node:crypto';
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { sandboxCommand } from './js-sandbox.js';

export const TOKEN_ENV = 'CHAARFM_JS_RUNTIME_TOKEN';
/** yt-dlp's NodeJsRuntime.MIN_SUPPORTED_VERSION. */
export const MIN_NODE_MAJOR = 22;

export type JsRuntimeCall = { kind: 'version' } | { kind: 'solve'; jitless: boolean };

/** This worker run's token (made once per process). */
let ownToken: string | undefined;
export function runToken(): string {
  return (ownToken ??= randomBytes(16).toString('hex'));
}

/**
 * The call yt-dlp makes, when `env` carries a well-formed token and `args` are exactly one of
 * yt-dlp's two forms; otherwise null (the CLI parses the arguments as usual).
 */
export function jsRuntimeCall(args: readonly string[], env: NodeJS.ProcessEnv = process.env): JsRuntimeCall | null {
  const token = env[TOKEN_ENV];
  if (!token || !/^[0-9a-f]{32}$/.test(token)) return null;
  if (args.length === 1 && args[0] === '--version') return { kind: 'version' };
  const a = [...args];
  const jitless = a[0] === '--v8-flags=--jitless';
  if (jitless) a.shift();
  const stable = a.length === 2 && a[0] === '--permission' && a[1] === '-';
  const experimental = a.length === 3 && a[0] === '--experimental-permission' && a[1] === '--no-warnings=ExperimentalWarning' && a[2] === '-';
  return stable || experimental ? { kind: 'solve', jitless } : null;
}

async function runningAsSea(): Promise<boolean> {
  try {
    return (await import('node:sea')).isSea();
  } catch {
    return false;
  }
}

export interface AnswerIO {
  stdin: NodeJS.ReadableStream;
  stdout: NodeJS.WritableStream;
  stderr: NodeJS.WritableStream;
}

/**
 * Answer one of yt-dlp's calls; resolves with the exit code. `--version` is this process's
 * `process.version`. A solve pipes stdin to the sandbox child and its stdout and stderr back.
 */
export async function answerJsRuntimeCall(call: JsRuntimeCall, io: AnswerIO = process, sea?: boolean): Promise<number> {
  if (call.kind === 'version') {
    io.stdout.write(`${process.version}\n`);
    return 0;
  }
  const cmd = sandboxCommand({ sea: sea ?? (await runningAsSea()), jitless: call.jitless });
  return new Promise<number>((resolve) => {
    const child = spawn(cmd.file, cmd.args, { env: cmd.env, stdio: ['pipe', 'pipe', 'pipe'], windowsHide: true });
    child.stdout.pipe(io.stdout as NodeJS.WritableStream, { end: false });
    child.stderr.pipe(io.stderr as NodeJS.WritableStream, { end: false });
    child.stdin.on('error', () => {}); // a child that exits early: its stderr says why
    io.stdin.pipe(child.stdin);
    child.on('error', (e) => {
      io.stderr.write(`chaarfm-worker: cannot start the JavaScript sandbox (${e.message})\n`);
      resolve(1);
    });
    child.on('close', (code, signal) => resolve(code ?? (signal ? 1 : 0)));
  });
}

/** `'` inside single quotes for /bin/sh. */
const shQuote = (s: string): string => `'${s.replace(/'/g, `'\\''`)}'`;

/** The launcher's file name and text for a Node and a bin file. */
export function launcherFile(node: string, binJs: string, platform: NodeJS.Platform = process.platform): { name: string; text: string } {
  const id = createHash('sha256').update(`${node}\0${binJs}`).digest('hex').slice(0, 12);
  if (platform === 'win32') {
    if (/["%]/.test(node + binJs)) throw new Error(`cannot write a launcher for a path with " or %: ${node} ${binJs}`);
    return { name: `node-runtime-${id}.cmd`, text: `@"${node}" "${binJs}" %*\r\n` };
  }
  return { name: `node-runtime-${id}`, text: `#!/bin/sh\nexec ${shQuote(node)} ${shQuote(binJs)} "$@"\n` };
}

/**
 * Write (once, atomically; unchanged files are left alone) the launcher that starts `node`
 * with `binJs` into `dir`; returns its path.
 */
export async function writeLauncher(dir: string, node: string, binJs: string, platform: NodeJS.Platform = process.platform): Promise<string> {
  const { name, text } = launcherFile(node, binJs, platform);
  const dest = join(dir, name);
  if ((await readFile(dest, 'utf8').catch(() => null)) === text) return dest;
  await mkdir(dir, { recursive: true });
  const tmp = `${dest}.${process.pid}-${randomBytes(4).toString('hex')}.tmp`;
  await writeFile(tmp, text, { mode: 0o755 });
  await rename(tmp, dest);
  return dest;
}

export interface JsRuntimeInfo {
  /** The value for `--js-runtimes`, e.g. `node:/usr/lib/chaarfm/node-runtime-1a2b`. */
  spec: string;
  /** What yt-dlp will start. */
  path: string;
  /** The version yt-dlp will read (`v24.1.0`, `deno 2.4.0`). */
  version: string;
  /** Whether yt-dlp accepts this version (node >= 22, deno >= 2.3). */
  supported: boolean;
  /** The worker itself, or a runtime found on PATH. */
  source: 'self' | 'PATH';
}

const execVersion = (file: string): Promise<string> =>
  new Promise((resolve) => {
    const c = spawn(file, ['--version'], { stdio: ['ignore', 'pipe', 'ignore'], windowsHide: true, timeout: 30_000 });
    let out = '';
    c.stdout.setEncoding('utf8').on('data', (s: string) => (out += s));
    c.on('error', () => resolve(''));
    c.on('close', () => resolve(out.split(/\r?\n/)[0]?.trim() ?? ''));
  });

/** Whether yt-dlp supports a runtime of this `--version` line. */
export function runtimeSupported(name: 'node' | 'deno', versionLine: string): boolean {
  const m = name === 'node' ? /^v(\d+)\./.exec(versionLine) : /^deno (\d+)\.(\d+)/.exec(versionLine);
  if (!m) return false;
  return name === 'node' ? Number(m[1]) >= MIN_NODE_MAJOR : Number(m[1]) > 2 || (Number(m[1]) === 2 && Number(m[2]) >= 3);
}

export interface ChooseOptions {
  /** Folder for the npm CLI's launcher (the package's cache folder). */
  launcherDir: string;
  /** This package's bin file (dist/src/bin.js). */
  binJs: string;
  sea?: boolean;
  /** For a Node too old for yt-dlp: where to look for another runtime. */
  findOnPath(name: string): Promise<string | null>;
  nodeVersion?: string;
}

/**
 * The runtime yt-dlp gets: the worker itself when its Node is new enough for yt-dlp; else a
 * deno or node on PATH that is; else the worker itself anyway (yt-dlp then reports it as
 * unsupported, and the worker says so at start).
 */
export async function chooseJsRuntime(opts: ChooseOptions): Promise<JsRuntimeInfo> {
  const version = `v${opts.nodeVersion ?? process.versions.node}`;
  const sea = opts.sea ?? (await runningAsSea());
  const path = sea ? process.execPath : await writeLauncher(opts.launcherDir, process.execPath, opts.binJs);
  const self: JsRuntimeInfo = { spec: `node:${path}`, path, version, supported: runtimeSupported('node', version), source: 'self' };
  if (self.supported) return self;
  for (const name of ['deno', 'node'] as const) {
    const found = await opts.findOnPath(name);
    if (!found) continue;
    const v = await execVersion(found);
    if (runtimeSupported(name, v)) return { spec: `${name}:${found}`, path: found, version: v, supported: true, source: 'PATH' };
  }
  return self;
}

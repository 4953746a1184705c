// SPDX-License-Identifier: MIT
/**
 * Helpers for the shipping tests (test/ship-*.test.ts): an environment where any compiler or
 * build tool that runs leaves a trace, child processes with a time limit, an environment for
 * npm children without the parent npm run's variables, and the time a worker takes from
 * launch to its first "connected" log line against a coordinator.
 */
import { spawn, spawnSync, type SpawnSyncReturns } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { delimiter, join } from 'node:path';

/** Build tools that must never run while installing or running a shipped worker. */
const TOOLS = ['cc', 'gcc', 'g++', 'c++', 'clang', 'clang++', 'cmake', 'make', 'ninja', 'node-gyp', 'ld'];

export interface NoCompiler {
  env: NodeJS.ProcessEnv;
  /** The tools that were run (empty when none was). */
  touched(): string[];
}

/**
 * An environment whose PATH starts with stand-ins for every compiler and build tool (and
 * CC/CXX naming them): each records its name and fails. `touched()` lists the ones run.
 */
export function noCompilerEnv(dir: string, base: NodeJS.ProcessEnv = process.env): NoCompiler {
  const bin = join(dir, 'no-compiler-bin');
  const log = join(dir, 'no-compiler.log');
  mkdirSync(bin, { recursive: true });
  for (const t of TOOLS) {
    const f = join(bin, t);
    writeFileSync(f, `#!/bin/sh\necho ${t} >> '${log}'\necho 'a build tool (${t}) was run' >&2\nexit 1\n`);
    chmodSync(f, 0o755);
  }
  const env = { ...npmChildEnv(base), PATH: `${bin}${delimiter}${base.PATH ?? ''}`, CC: join(bin, 'cc'), CXX: join(bin, 'c++') };
  return {
    env,
    touched: () => (existsSync(log) ? readFileSync(log, 'utf8').trim().split('\n') : []),
  };
}

/**
 * The environment without the variables of an enclosing `npm run` (so a child npm acts as a
 * user's) and without CHAARFM_NATIVE_ADDON (which would point a shipped worker at this
 * checkout's addon: scripts/test-prebuild.mjs sets it for the native tests).
 */
export function npmChildEnv(base: NodeJS.ProcessEnv = process.env): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(base)) {
    if (/^npm_(lifecycle|package|config_(argv|prefix|global|local_prefix))|^INIT_CWD$|^CHAARFM_NATIVE_ADDON$/i.test(k)) continue;
    env[k] = v;
  }
  return env;
}

/** spawnSync with text output, a time limit and a readable failure. */
export function run(cmd: string, args: string[], opts: { cwd?: string; env?: NodeJS.ProcessEnv; timeoutMs?: number } = {}): SpawnSyncReturns<string> {
  return spawnSync(cmd, args, {
    cwd: opts.cwd,
    env: opts.env,
    encoding: 'utf8',
    timeout: opts.timeoutMs ?? 120_000,
    maxBuffer: 1 << 26,
  });
}

/** What a failed child printed, for assertion messages. */
export function explain(r: SpawnSyncReturns<string>): string {
  return `exit ${r.status ?? r.signal}${r.error ? ` (${r.error.message})` : ''}\nstdout: ${r.stdout?.slice(-2000)}\nstderr: ${r.stderr?.slice(-4000)}`;
}

/** Starts `cmd args` in a process group of its own, and a function that signals that group. */
function spawnGroup(cmd: string, args: string[], opts: { env: NodeJS.ProcessEnv; cwd?: string }) {
  const child = spawn(cmd, args, { env: opts.env, cwd: opts.cwd, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
  const signalGroup = (sig: NodeJS.Signals) => {
    try {
      process.kill(-child.pid!, sig);
    } catch {
      // the group is gone
    }
  };
  return { child, signalGroup };
}

/**
 * Starts `cmd args` (a worker with `--log-format json`) in its own process group, waits for its
 * first `connected` log line, stops the whole group with SIGINT (npx does not pass signals on
 * to the worker it starts), and returns the milliseconds from launch to that line.
 */
export function timeToConnected(cmd: string, args: string[], opts: { env: NodeJS.ProcessEnv; cwd?: string; timeoutMs?: number }): Promise<number> {
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    const { child, signalGroup } = spawnGroup(cmd, args, opts);
    let out = '';
    let ms: number | undefined;
    const timer = setTimeout(() => signalGroup('SIGKILL'), opts.timeoutMs ?? 60_000);
    const onData = (d: Buffer) => {
      out += d.toString();
      if (ms === undefined && /"msg":"connected"/.test(out)) {
        ms = performance.now() - t0;
        signalGroup('SIGINT');
      }
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    child.on('error', reject);
    child.on('exit', (code, signal) => {
      clearTimeout(timer);
      setTimeout(() => signalGroup('SIGKILL'), 3000).unref(); // a worker left behind by a wrapper
      if (ms === undefined) reject(new Error(`the worker exited (${code ?? signal}) before connecting:\n${out.slice(-3000)}`));
      else resolve(ms);
    });
  });
}

export interface ServeHandle {
  url: string;
  /** Everything it printed so far. */
  output(): string;
  /** SIGINT to its process group (npx does not pass signals on), SIGKILL after 5 s. */
  stop(): Promise<void>;
}

/**
 * Starts `cmd args` (a `serve` with `--port 0`) in its own process group and resolves with its
 * URL once it logs that it listens; rejects with its output when it exits first.
 */
export function startServe(cmd: string, args: string[], opts: { env: NodeJS.ProcessEnv; cwd?: string; timeoutMs?: number }): Promise<ServeHandle> {
  return new Promise((resolve, reject) => {
    const { child, signalGroup } = spawnGroup(cmd, args, opts);
    let out = '';
    let started = false;
    const exited = new Promise<void>((r) => child.once('exit', () => r()));
    const timer = setTimeout(() => signalGroup('SIGKILL'), opts.timeoutMs ?? 60_000);
    const stop = async () => {
      signalGroup('SIGINT');
      const k = setTimeout(() => signalGroup('SIGKILL'), 5000);
      await exited;
      clearTimeout(k);
    };
    const onData = (d: Buffer) => {
      out += d.toString();
      const m = /listening on (http:\/\/[\d.]+:\d+)/.exec(out);
      if (m && !started) {
        started = true;
        clearTimeout(timer);
        resolve({ url: m[1], output: () => out, stop });
      }
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    child.on('error', reject);
    child.on('exit', (code, signal) => {
      clearTimeout(timer);
      if (!started) reject(new Error(`serve exited (${code ?? signal}) before listening:\n${out.slice(-3000)}`));
    });
  });
}

/** What `run` returned when it ended, for a child started with `spawn` (several at once). */
export function runAsync(cmd: string, args: string[], opts: { cwd?: string; env?: NodeJS.ProcessEnv; timeoutMs?: number } = {}): Promise<{ status: number | null; signal: string | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { cwd: opts.cwd, env: opts.env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs ?? 120_000);
    child.on('error', reject);
    child.on('close', (status, signal) => {
      clearTimeout(timer);
      resolve({ status, signal, stdout, stderr });
    });
  });
}

/** The packages in `nodeModules` (scoped ones too) that npm would run an install step for. */
export function packagesWithInstallSteps(nodeModules: string): string[] {
  const out: string[] = [];
  const visit = (dir: string) => {
    for (const name of existsSync(dir) ? readdirSync(dir) : []) {
      if (name.startsWith('.')) continue;
      const p = join(dir, name);
      if (name.startsWith('@')) {
        visit(p);
        continue;
      }
      const file = join(p, 'package.json');
      if (!existsSync(file)) continue;
      const pkg = JSON.parse(readFileSync(file, 'utf8')) as { name?: string; scripts?: Record<string, string> };
      const s = pkg.scripts ?? {};
      // npm runs `node-gyp rebuild` for a binding.gyp when the package names no install step
      if (s.preinstall || s.install || s.postinstall || existsSync(join(p, 'binding.gyp'))) out.push(pkg.name ?? name);
      visit(join(p, 'node_modules'));
    }
  };
  visit(nodeModules);
  return out.sort();
}

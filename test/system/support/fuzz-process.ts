// SPDX-License-Identifier: MIT
/**
 * Child processes for the fuzz and broken-media suites: the real CLI (or the CLI with stand-in
 * audio work) with its stdout and stderr captured, a check that it is still running, a scan of
 * its output for crash signs (uncaught exceptions, stack traces, error-level log lines), and a
 * stop that ends it by its own pid.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
/** dist/src/bin.js: the CLI as users run it. */
export const BIN = join(here, '..', '..', '..', 'src', 'bin.js');
/** dist/test/support/cli-with-stand-ins.js: the real CLI with stand-in media and embedder. */
export const STANDIN_CLI = join(here, '..', '..', 'support', 'cli-with-stand-ins.js');

export class Child {
  out = '';
  err = '';
  exit: { code: number | null; signal: NodeJS.Signals | null } | null = null;
  readonly proc: ChildProcess;
  private readonly exited: Promise<void>;

  constructor(args: string[], env: NodeJS.ProcessEnv = {}, cwd?: string) {
    this.proc = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...env }, cwd });
    this.proc.stdout!.on('data', (d: Buffer) => (this.out += d.toString()));
    this.proc.stderr!.on('data', (d: Buffer) => (this.err += d.toString()));
    this.exited = new Promise((resolve) =>
      this.proc.once('close', (code, signal) => {
        this.exit = { code, signal };
        resolve();
      }),
    );
  }

  get alive(): boolean {
    return this.exit === null;
  }

  /** JSON log lines (from --log-format json) found in `stream`. */
  logLines(stream: 'out' | 'err' = 'out'): Record<string, unknown>[] {
    const lines: Record<string, unknown>[] = [];
    for (const l of this[stream].split('\n')) {
      if (!l.startsWith('{')) continue;
      try {
        lines.push(JSON.parse(l) as Record<string, unknown>);
      } catch {
        /* a partial line */
      }
    }
    return lines;
  }

  /** Signs of a crash in both streams: uncaught errors, stack frames, error-level log lines. */
  crashSigns(): string[] {
    const signs: string[] = [];
    const both = this.out + '\n' + this.err;
    for (const re of [/Uncaught|unhandled ?rejection|FATAL ERROR|Segmentation fault|Aborted \(core dumped\)/i, /\n\s+at .+\(.+:\d+:\d+\)/]) {
      const m = re.exec(both);
      if (m) signs.push(both.slice(Math.max(0, m.index - 200), m.index + 300));
    }
    for (const l of [...this.logLines('out'), ...this.logLines('err')]) if (l.level === 'error') signs.push(JSON.stringify(l).slice(0, 500));
    return signs;
  }

  /** SIGTERM, then SIGKILL after `graceMs`; resolves once it has exited. */
  async stop(graceMs = 5000): Promise<void> {
    if (!this.alive) return;
    this.proc.kill('SIGTERM');
    const t = setTimeout(() => this.proc.kill('SIGKILL'), graceMs);
    await this.exited;
    clearTimeout(t);
  }

  kill(): void {
    if (this.alive) this.proc.kill('SIGKILL');
  }
}

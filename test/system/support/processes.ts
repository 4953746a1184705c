// SPDX-License-Identifier: MIT
/**
 * Real processes for the system tests: `chaarfm-worker serve` coordinators and worker CLIs,
 * spawned from the built package, with their JSON log lines collected (kept after a kill -9),
 * `kill -9` and restart with the same arguments, and the check that a process is still up.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The package's CLI in dist/. */
export const BIN = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..', 'src', 'bin.js');

export interface LogLine {
  time: string;
  level: string;
  msg: string;
  [k: string]: unknown;
}

/** One process (one generation of a restartable role). */
export class Proc {
  readonly lines: LogLine[] = [];
  /** Output that was not a JSON log line (stack traces, stdout of serve). */
  raw = '';
  stdout = '';
  killed = false;
  /** When kill9() was called (ms since the epoch). */
  killedAt: number | null = null;
  exit: { code: number | null; signal: string | null } | null = null;
  readonly exited: Promise<void>;

  constructor(
    readonly name: string,
    readonly args: string[],
    readonly env: NodeJS.ProcessEnv,
    readonly child: ChildProcess = spawn(process.execPath, [BIN, ...args], { stdio: ['ignore', 'pipe', 'pipe'], env }),
  ) {
    const take = (stream: 'stdout' | 'stderr') => {
      let buf = '';
      this.child[stream]!.on('data', (d: Buffer) => {
        const s = d.toString();
        if (stream === 'stdout') this.stdout += s;
        buf += s;
        let i: number;
        while ((i = buf.indexOf('\n')) >= 0) {
          const line = buf.slice(0, i);
          buf = buf.slice(i + 1);
          if (line.startsWith('{')) {
            try {
              this.lines.push(JSON.parse(line) as LogLine);
              continue;
            } catch {
              /* not a log line */
            }
          }
          this.raw += line + '\n';
        }
      });
    };
    take('stdout');
    take('stderr');
    this.exited = new Promise((r) =>
      this.child.once('exit', (code, signal) => {
        this.exit = { code, signal };
        r();
      }),
    );
  }

  get pid(): number {
    return this.child.pid ?? -1;
  }

  get alive(): boolean {
    return this.exit === null;
  }

  kill9(): void {
    this.killed = true;
    this.killedAt = Date.now();
    this.child.kill('SIGKILL');
  }

  /** SIGTERM, then SIGKILL after `ms`. */
  async stop(ms = 5000): Promise<void> {
    if (!this.alive) return;
    this.child.kill('SIGTERM');
    const t = setTimeout(() => this.child.kill('SIGKILL'), ms);
    await this.exited;
    clearTimeout(t);
  }

  /** Resolves with the first log line matching, or rejects after `ms` or when the process exits. */
  async waitLine(pred: (l: LogLine) => boolean, ms: number, what: string): Promise<LogLine> {
    const deadline = Date.now() + ms;
    for (;;) {
      const hit = this.lines.find(pred);
      if (hit) return hit;
      if (!this.alive) throw new Error(`${this.name} exited (${JSON.stringify(this.exit)}) before ${what}; output:\n${this.tail()}`);
      if (Date.now() > deadline) throw new Error(`${this.name}: timed out waiting for ${what}; output:\n${this.tail()}`);
      await new Promise((r) => setTimeout(r, 25));
    }
  }

  tail(n = 15): string {
    const ls = this.lines.slice(-n).map((l) => JSON.stringify(l));
    return [...ls, this.raw.slice(-2000)].join('\n');
  }
}

/** A coordinator role: `serve` on a free port; restarts keep the arguments (and get a new port). */
export class CoordinatorRole {
  readonly generations: Proc[] = [];
  constructor(
    readonly name: string,
    private readonly args: string[],
    private readonly env: NodeJS.ProcessEnv = process.env,
  ) {}

  get current(): Proc {
    return this.generations[this.generations.length - 1];
  }

  port = 0;

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  /** Start (or start again); resolves once it listens. `extra` only for this generation. */
  async start(extra: string[] = []): Promise<Proc> {
    const p = new Proc(`${this.name}#${this.generations.length + 1}`, ['serve', '--port', '0', '--log-format', 'json', ...this.args, ...extra], this.env);
    this.generations.push(p);
    const l = await p.waitLine((x) => /listening on http:\/\/[\d.]+:\d+/.test(x.msg), 20000, 'listening');
    this.port = Number(/listening on http:\/\/[\d.]+:(\d+)/.exec(l.msg)![1]);
    return p;
  }
}

/** A worker role: one worker CLI process; restarts keep the arguments and the temp folder. */
export class WorkerRole {
  readonly generations: Proc[] = [];
  constructor(
    readonly name: string,
    private readonly args: string[],
    private readonly env: NodeJS.ProcessEnv,
  ) {}

  get current(): Proc {
    return this.generations[this.generations.length - 1];
  }

  start(): Proc {
    const p = new Proc(`${this.name}#${this.generations.length + 1}`, [...this.args, '--name', this.name], this.env);
    this.generations.push(p);
    return p;
  }
}

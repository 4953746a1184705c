// SPDX-License-Identifier: MIT
/**
 * Where yt-dlp's player script runs when the worker is yt-dlp's node (js-runtime.ts): a child
 * process of this very binary that has Node's permission model switched on with nothing
 * allowed, and inside it a fresh V8 context with no `require`, no `process`, no `fetch`.
 *
 * Two layers, because neither is enough alone:
 *  - Node's permission model (`--permission`, no `--allow-*`) denies file reads and writes,
 *    child processes, worker threads, native addons, WASI and the inspector for the whole
 *    process; but on Node 24 it does not cover the network, and anything that runs in the
 *    process's main context can `require('node:net')`.
 *  - a `vm` context made with `DONT_CONTEXTIFY` has an ordinary global object of its own realm
 *    (no interceptors onto an object of ours), so `this.constructor.constructor('return process')`
 *    reaches the context's own Function, whose global has no `process`. Nothing of the outer
 *    realm is handed in: `console` is defined by code run inside the context, and what comes out
 *    is read back as a string. The vm module does not call itself a security boundary; a V8 bug
 *    that escapes it lands in a process that still cannot touch files or start programs.
 * The child has an empty environment (no NODE_OPTIONS of the user, no secrets) and loads none of
 * our modules: its code is {@link sandboxMain}, passed as source text (`-e` for plain Node; in
 * the single executable, which ignores its command line's Node options, through env
 * CHAARFM_JS_SANDBOX with `NODE_OPTIONS=--permission`, checked by scripts/exe-main.cjs).
 */

/**
 * The sandbox child's whole program. Self-contained (it is sent as source text): reads the
 * script from stdin, runs it in a fresh context, writes what it logged to stdout (and what it
 * wrote with console.error/warn to stderr), exits 0, or 1 with the error on stderr.
 */
export function sandboxMain(): void {
  const vm = require('node:vm') as typeof import('node:vm');
  const chunks: string[] = [];
  process.stdin.setEncoding('utf8');
  process.stdin.on('data', (c: string) => chunks.push(c));
  process.stdin.on('end', () => {
    let out = '';
    let err = '';
    let code = 0;
    try {
      const ctx = vm.createContext(vm.constants.DONT_CONTEXTIFY);
      const take = vm.runInContext(
        `(() => {
          const out = [], err = [];
          const line = (a) => a.map((v) => typeof v === 'string' ? v : String(v)).join(' ');
          const con = { log: (...a) => out.push(line(a)), info: (...a) => out.push(line(a)),
            error: (...a) => err.push(line(a)), warn: (...a) => err.push(line(a)), debug: () => {} };
          Object.defineProperty(globalThis, 'console', { value: con, writable: true, configurable: true });
          return () => [out.join('\\n'), err.join('\\n')].join('\\u0000');
        })()`,
        ctx,
      ) as () => string;
      try {
        vm.runInContext(chunks.join(''), ctx, { filename: '[stdin]', timeout: 120_000 });
      } catch (e) {
        code = 1;
        let why: string;
        try {
          why = String(e);
        } catch {
          why = 'the script threw a value that cannot be printed';
        }
        err = `[stdin]: ${why}`;
      }
      const got = take();
      const [o, e] = typeof got === 'string' ? got.split('\u0000') : ['', ''];
      out = o ? `${o}\n` : '';
      if (e) err = err ? `${e}\n${err}` : e;
    } catch (e) {
      code = 1;
      err = `chaarfm-worker js sandbox: ${(e as Error).message}`;
    }
    process.stdout.write(out, () => {
      if (err) process.stderr.write(`${err}\n`, () => process.exit(code));
      else process.exit(code);
    });
  });
}

/** The source text the sandbox child runs. */
export const SANDBOX_SOURCE = `(${sandboxMain.toString()})();`;

/** Whether this Node names the permission flag `--permission` (22.13+, 23.5+) or `--experimental-permission`. */
export function permissionFlag(version: string = process.versions.node): string {
  const [maj, min] = version.split('.').map(Number);
  return maj > 23 || (maj === 23 && min >= 5) || (maj === 22 && min >= 13) ? '--permission' : '--experimental-permission';
}

export interface SandboxCommand {
  file: string;
  args: string[];
  env: NodeJS.ProcessEnv;
}

/**
 * How to start the sandbox child from this process: `process.execPath` with the permission flag
 * and `-e`; in a single executable (`sea`), the same binary with the flags in NODE_OPTIONS and
 * the source in CHAARFM_JS_SANDBOX (the executable's entry runs it only with permissions on).
 */
export function sandboxCommand(opts: { sea: boolean; jitless: boolean }): SandboxCommand {
  // Node 20's V8 warns on stderr that --jitless turns off WebAssembly unless told so itself
  const jitless = Number(process.versions.node.split('.')[0]) < 22 ? ['--jitless', '--no-expose-wasm'] : ['--jitless'];
  const flags = [permissionFlag(), '--no-warnings', ...(opts.jitless ? jitless : [])];
  if (opts.sea) return { file: process.execPath, args: [], env: { NODE_OPTIONS: flags.join(' '), CHAARFM_JS_SANDBOX: SANDBOX_SOURCE } };
  return { file: process.execPath, args: [...flags, '-e', SANDBOX_SOURCE], env: {} };
}

// SPDX-License-Identifier: MIT
/**
 * Tests of src/media/js-runtime.ts and js-sandbox.ts: the worker's CLI as yt-dlp's node. The
 * real current yt-dlp (../shared/tools/yt-dlp, or CHAARFM_TEST_YTDLP) reports the CLI's launcher
 * as its node runtime, and yt-dlp's own NodeJCP._run_js_runtime (imported from that yt-dlp with
 * python3) runs a script through it. Without the token the flags are the CLI's; the script
 * cannot require, read files, spawn or reach the network, and the sandbox's Node flags deny files
 * and processes even to code outside the vm context. Run with Node 24 first on PATH: under
 * Node 20 yt-dlp calls the runtime unsupported, and the tests check that reason instead.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { chmod, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { TOKEN_ENV, chooseJsRuntime, jsRuntimeCall, launcherFile, runToken, runtimeSupported, writeLauncher } from '../src/media/js-runtime.js';
import { permissionFlag, sandboxCommand } from '../src/media/js-sandbox.js';
import { ytdlpEnv } from '../src/media/ytdlp-binary.js';

const posix = process.platform !== 'win32';
const BIN = fileURLToPath(new URL('../src/bin.js', import.meta.url));
// the shared tools folder beside the checkout (../shared), or beside its parent (a worktree)
const YTDLP =
  process.env.CHAARFM_TEST_YTDLP ??
  ['../../../shared/tools/yt-dlp', '../../../../shared/tools/yt-dlp'].map((u) => fileURLToPath(new URL(u, import.meta.url))).find((p) => existsSync(p)) ??
  'yt-dlp (set CHAARFM_TEST_YTDLP)';
const hasYtDlp = existsSync(YTDLP) && spawnSync('python3', ['--version']).status === 0;
const major = Number(process.versions.node.split('.')[0]);
const newNode = major >= 22;
const TOKEN = runToken();

let dir: string;
let launcher: string;
before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'cfw-jsrt-'));
  launcher = await writeLauncher(dir, process.execPath, BIN);
});
after(() => rm(dir, { recursive: true, force: true }));

/** Run the launcher as yt-dlp would: the given argv, a script on stdin, the token (or not) in env. */
function call(args: string[], stdin = '', token: string | null = TOKEN) {
  const env = { ...process.env };
  delete env[TOKEN_ENV];
  if (token !== null) env[TOKEN_ENV] = token;
  return spawnSync(launcher, args, { input: stdin, env, encoding: 'utf8', timeout: 60_000 });
}

test('recognises exactly yt-dlp\'s two calls, and only with a well-formed token', () => {
  const env = { [TOKEN_ENV]: TOKEN };
  assert.deepEqual(jsRuntimeCall(['--version'], env), { kind: 'version' });
  assert.deepEqual(jsRuntimeCall(['--permission', '-'], env), { kind: 'solve', jitless: false });
  assert.deepEqual(jsRuntimeCall(['--v8-flags=--jitless', '--permission', '-'], env), { kind: 'solve', jitless: true });
  assert.deepEqual(jsRuntimeCall(['--experimental-permission', '--no-warnings=ExperimentalWarning', '-'], env), { kind: 'solve', jitless: false });
  assert.deepEqual(jsRuntimeCall(['--v8-flags=--jitless', '--experimental-permission', '--no-warnings=ExperimentalWarning', '-'], env), { kind: 'solve', jitless: true });
  // anything else is the CLI's
  for (const args of [['--version', '-'], ['--permission'], ['--permission', 'x.js'], ['-'], ['--experimental-permission', '-'], ['doctor']])
    assert.equal(jsRuntimeCall(args, env), null, args.join(' '));
  assert.equal(jsRuntimeCall(['--version'], {}), null);
  assert.equal(jsRuntimeCall(['--version'], { [TOKEN_ENV]: '1' }), null);
  assert.equal(jsRuntimeCall(['--permission', '-'], { [TOKEN_ENV]: TOKEN.toUpperCase() + 'x' }), null);
});

test('yt-dlp\'s environment: the token set, NODE_OPTIONS removed', () => {
  const env = ytdlpEnv({ PATH: '/bin', NODE_OPTIONS: '--require /tmp/evil.js' });
  assert.equal(env[TOKEN_ENV], TOKEN);
  assert.equal('NODE_OPTIONS' in env, false);
  assert.equal(env.PATH, '/bin');
  assert.equal(env.PYTHONIOENCODING, 'utf-8');
});

test('the launcher starts this Node with the bin file; quoting survives odd paths', { skip: !posix }, async () => {
  const odd = join(dir, "it's a dir");
  const p = await writeLauncher(odd, process.execPath, BIN);
  assert.equal(((await stat(p)).mode & 0o111) !== 0, true);
  const r = spawnSync(p, ['--version'], { env: { ...process.env, [TOKEN_ENV]: TOKEN }, encoding: 'utf8' });
  assert.equal(r.stdout, `${process.version}\n`);
  // written once: a second call leaves the same file
  const before = (await stat(p)).mtimeMs;
  assert.equal(await writeLauncher(odd, process.execPath, BIN), p);
  assert.equal((await stat(p)).mtimeMs, before);
  const win = launcherFile('C:\\Program Files\\nodejs\\node.exe', 'C:\\w\\dist\\src\\bin.js', 'win32');
  assert.equal(win.text, '@"C:\\Program Files\\nodejs\\node.exe" "C:\\w\\dist\\src\\bin.js" %*\r\n');
  assert.match(win.name, /^node-runtime-[0-9a-f]{12}\.cmd$/);
  assert.throws(() => launcherFile('C:\\a"b\\node.exe', 'x', 'win32'), /cannot write a launcher/);
});

test('--version answers the real process.version with the token, the package version without', { skip: !posix }, async () => {
  const r = call(['--version']);
  assert.equal(r.status, 0);
  assert.equal(r.stdout, `${process.version}\n`);
  assert.equal(r.stderr, '');
  const pkg = JSON.parse(await readFile(fileURLToPath(new URL('../../package.json', import.meta.url)), 'utf8')) as { version: string };
  const plain = call(['--version'], '', null);
  assert.equal(plain.status, 0);
  assert.match(plain.stdout, new RegExp(`chaarfm-worker/${pkg.version.replace(/\./g, '\\.')}`));
});

test('without the token the solve call is an ordinary (bad) CLI call with a clear error', { skip: !posix }, () => {
  const r = call(["--permission", "-"], "console.log(1)", null);
  assert.equal(r.status, 1);
  assert.equal(r.stdout, '');
  assert.equal(r.stderr, `chaarfm-worker: Unknown option \`--permission\`\n`);
  const bad = call(["--permission", "-"], "console.log(1)", "not-a-token");
  assert.equal(bad.status, 1);
  assert.equal(bad.stderr, `chaarfm-worker: Unknown option \`--permission\`\n`);
});

test('the solve call prints only the script\'s output, nothing on stderr, exit 0', { skip: !posix }, () => {
  const script = 'var jsc = (x) => ({ type: "result", n: x.n * 2 });\nconsole.log(JSON.stringify(jsc({ n: 21 })));\n';
  for (const args of [['--permission', '-'], ['--v8-flags=--jitless', '--permission', '-'], ['--experimental-permission', '--no-warnings=ExperimentalWarning', '-']]) {
    const r = call(args, script);
    assert.equal(r.stderr, '', args.join(' '));
    assert.equal(r.status, 0);
    assert.deepEqual(JSON.parse(r.stdout), { type: 'result', n: 42 });
  }
});

test('the player script has no require, process, fetch or a way to the outer realm', { skip: !posix }, () => {
  const probe = `console.log(JSON.stringify({
    require: typeof require, process: typeof process, fetch: typeof fetch, WebSocket: typeof WebSocket,
    module: typeof module, importMeta: (() => { try { return typeof eval('import.meta'); } catch (e) { return 'error'; } })(),
    escape: typeof this.constructor.constructor('return typeof process === "undefined" ? undefined : process')(),
    viaConsole: typeof console.log.constructor('return typeof process === "undefined" ? undefined : process')(),
  }));`;
  const r = call(['--permission', '-'], probe);
  assert.equal(r.stderr, '');
  assert.deepEqual(JSON.parse(r.stdout), {
    require: 'undefined', process: 'undefined', fetch: 'undefined', WebSocket: 'undefined',
    module: 'undefined', importMeta: 'error', escape: 'undefined', viaConsole: 'undefined',
  });
  const req = call(['--permission', '-'], "require('node:fs').readFileSync('/etc/passwd')");
  assert.equal(req.status, 1);
  assert.equal(req.stdout, '');
  assert.match(req.stderr, /ReferenceError: require is not defined/);
  const imp = call(['--permission', '-'], "import('node:fs').then(() => console.log('imported'), (e) => console.log('refused', e.code || e.message))");
  assert.doesNotMatch(imp.stdout, /^imported/m);
});

test('outside the vm context, the sandbox process itself cannot read files or start processes', { skip: !posix }, async () => {
  const secret = join(dir, 'secret.txt');
  await writeFile(secret, 'top secret');
  await chmod(secret, 0o644);
  const cmd = sandboxCommand({ sea: false, jitless: false });
  const i = cmd.args.indexOf('-e');
  const attempt = (code: string) =>
    spawnSync(cmd.file, [...cmd.args.slice(0, i), '-e', code], { env: cmd.env, encoding: 'utf8', timeout: 30_000 });
  const read = attempt(`try { require('node:fs').readFileSync(${JSON.stringify(secret)}, 'utf8'); console.log('read'); } catch (e) { console.log(e.code); }`);
  assert.equal(read.stdout.trim(), 'ERR_ACCESS_DENIED');
  const spawned = attempt(`try { require('node:child_process').spawnSync('/bin/true'); console.log('spawned'); } catch (e) { console.log(e.code); }`);
  assert.equal(spawned.stdout.trim(), 'ERR_ACCESS_DENIED');
  const worker = attempt(`try { new (require('node:worker_threads').Worker)('1', { eval: true }); console.log('worker'); } catch (e) { console.log(e.code); }`);
  assert.equal(worker.stdout.trim(), 'ERR_ACCESS_DENIED');
  const env = attempt('console.log(JSON.stringify(process.env))');
  assert.deepEqual(JSON.parse(env.stdout), {});
});

test('a script that throws: exit 1, the error on stderr, so yt-dlp reports it', { skip: !posix }, () => {
  const r = call(['--permission', '-'], 'throw new TypeError("no solver here")');
  assert.equal(r.status, 1);
  assert.match(r.stderr, /TypeError: no solver here/);
});

test('yt-dlp\'s support rule: node >= 22, deno >= 2.3', () => {
  assert.equal(runtimeSupported('node', 'v24.22.3'), true);
  assert.equal(runtimeSupported('node', 'v22.0.0'), true);
  assert.equal(runtimeSupported('node', 'v20.20.2'), false);
  assert.equal(runtimeSupported('deno', 'deno 2.3.0 (stable, release, x86_64-unknown-linux-gnu)'), true);
  assert.equal(runtimeSupported('deno', 'deno 2.2.9'), false);
  assert.equal(runtimeSupported('node', 'garbage'), false);
});

test('the runtime chosen: the worker itself on Node >= 22; on an older Node a newer runtime on PATH', { skip: !posix }, async () => {
  const self = await chooseJsRuntime({ launcherDir: dir, binJs: BIN, sea: false, nodeVersion: '24.22.3', findOnPath: async () => null });
  assert.deepEqual(self, { spec: `node:${launcher}`, path: launcher, version: 'v24.22.3', supported: true, source: 'self' });
  const sea = await chooseJsRuntime({ launcherDir: dir, binJs: BIN, sea: true, nodeVersion: '24.22.3', findOnPath: async () => null });
  assert.equal(sea.spec, `node:${process.execPath}`);
  const deno = join(dir, 'deno');
  await writeFile(deno, '#!/bin/sh\necho "deno 2.4.1 (stable)"\n', { mode: 0o755 });
  const old = await chooseJsRuntime({ launcherDir: dir, binJs: BIN, sea: false, nodeVersion: '20.20.2', findOnPath: async (n) => (n === 'deno' ? deno : null) });
  assert.deepEqual(old, { spec: `deno:${deno}`, path: deno, version: 'deno 2.4.1 (stable)', supported: true, source: 'PATH' });
  const none = await chooseJsRuntime({ launcherDir: dir, binJs: BIN, sea: false, nodeVersion: '20.20.2', findOnPath: async () => null });
  assert.equal(none.supported, false);
  assert.equal(none.source, 'self');
});

/** The real yt-dlp's own code: its NodeJsRuntime reads the version, its NodeJCP runs the script. */
function ytdlpPython(code: string, env: NodeJS.ProcessEnv) {
  return spawnSync('python3', ['-c', `import sys, json\nsys.path.insert(0, ${JSON.stringify(YTDLP)})\n${code}`], { env, encoding: 'utf8', timeout: 120_000 });
}

test('the real yt-dlp -v reports the CLI as its node runtime (supported on Node >= 22)', { skip: !posix || !hasYtDlp ? 'needs python3 and the current yt-dlp' : false }, () => {
  const r = spawnSync(YTDLP, ['-v', '--ignore-config', '--no-js-runtimes', '--js-runtimes', `node:${launcher}`, '--simulate', 'http://127.0.0.1:9/'], {
    env: ytdlpEnv(),
    encoding: 'utf8',
    timeout: 120_000,
  });
  const line = r.stderr.split('\n').find((l) => l.startsWith('[debug] JS runtimes:'));
  assert.ok(line, `yt-dlp -v printed no JS runtimes line:\n${r.stderr}`);
  if (newNode) assert.equal(line, `[debug] JS runtimes: node-${process.versions.node}`);
  // under Node 20 the reason yt-dlp will not use the worker is the version
  else assert.equal(line, `[debug] JS runtimes: node-${process.versions.node} (unsupported)`, 'yt-dlp rejects Node < 22');
  // without the token the launcher answers as the CLI, and yt-dlp finds no node version in that
  const env = ytdlpEnv();
  delete env[TOKEN_ENV];
  const plain = spawnSync(YTDLP, ['-v', '--ignore-config', '--no-js-runtimes', '--js-runtimes', `node:${launcher}`, '--simulate', 'http://127.0.0.1:9/'], { env, encoding: 'utf8', timeout: 120_000 });
  assert.match(plain.stderr, /\[debug\] JS runtimes: (none|node-unknown)/);
});

test('a call in yt-dlp\'s exact form (its NodeJCP code) returns the script\'s result', { skip: !posix || !hasYtDlp ? 'needs python3 and the current yt-dlp' : false }, () => {
  const code = `
from yt_dlp.utils._jsruntime import NodeJsRuntime
from yt_dlp.extractor.youtube.jsc._builtin.node import NodeJCP
info = NodeJsRuntime(${JSON.stringify(launcher)}).info
class Log:
    def debug(self, m): print(m, file=sys.stderr)
class Fake:
    runtime_info = info
    logger = Log()
    def __init__(self, jit): self.jit = jit
    def ejs_setting(self, key, default): return self.jit
    _clean_stderr = NodeJCP._clean_stderr
    _ARGS = NodeJCP._ARGS
script = 'var jsc = (d) => ({type: "result", responses: d.requests.map((r) => ({type: "result", data: r.challenges[0].split("").reverse().join("")}))});\\n' \\
    + 'console.log(JSON.stringify(jsc({"type": "player", "requests": [{"type": "n", "challenges": ["abc"]}]})));'
for jit in (['false'], ['true']):
    print(json.dumps({"version": info.version, "supported": info.supported, "out": json.loads(NodeJCP._run_js_runtime(Fake(jit), script))}))
`;
  const r = ytdlpPython(code, ytdlpEnv());
  assert.equal(r.status, 0, r.stderr);
  const lines = r.stdout.trim().split('\n').map((l) => JSON.parse(l) as { version: string; supported: boolean; out: unknown });
  assert.equal(lines.length, 2);
  for (const l of lines) {
    assert.equal(l.version, process.versions.node);
    assert.equal(l.supported, newNode, 'yt-dlp calls Node < 22 unsupported');
    assert.deepEqual(l.out, { type: 'result', responses: [{ type: 'result', data: 'cba' }] });
  }
  // the command yt-dlp logged: its exact flags for this version
  assert.match(r.stderr, newNode && permissionFlag() === '--permission' ? / --permission -$/m : / --experimental-permission --no-warnings=ExperimentalWarning -$/m);
  assert.match(r.stderr, / --v8-flags=--jitless /);
});

// SPDX-License-Identifier: MIT
/**
 * Tests of src/media/ytdlp-binary.ts: resolution order, the verified one-time download from a
 * fake release served on 127.0.0.1 (good and tampered), version and feature detection, the
 * short error line, and starting failures.
 */
import { test, after, before } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import { chmod, mkdtemp, mkdir, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { execFileSync } from 'node:child_process';
import { JobError } from '../src/worker/job-error.js';
import {
  YtDlpUnavailableError,
  cacheDir,
  checksumFor,
  releaseAssetName,
  resolveYtDlp,
  runYtDlp,
  supportsJsRuntimes,
  ytdlpErrorReason,
  ytdlpVersion,
} from '../src/media/ytdlp-binary.js';

const posix = process.platform !== 'win32';
const FAKE = fileURLToPath(new URL('../../test/fixtures/fake-ytdlp.mjs', import.meta.url));
const ASSET = '#!/bin/sh\necho 2099.01.01\n';
const hasRealYtDlp = (() => {
  try {
    execFileSync('yt-dlp', ['--version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
})();

let root: string;
let server: Server;
let base: string;
/** What the fake release serves: asset name → body; SHA2-256SUMS lists `sums`. */
let release: { body: string; sums: string; status: number };
let hits: string[] = [];

before(async () => {
  root = await mkdtemp(join(tmpdir(), 'chaarfm-ytdlp-bin-'));
  server = createServer((req, res) => {
    hits.push(req.url ?? '');
    if (release.status !== 200) return void res.writeHead(release.status).end('nope');
    if (req.url === '/rel/SHA2-256SUMS') return void res.end(release.sums);
    if (req.url === '/rel/yt-dlp_linux') return void res.end(release.body);
    res.writeHead(404).end();
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const addr = server.address();
  if (!addr || typeof addr === 'string') throw new Error('no address');
  base = `http://127.0.0.1:${addr.port}/rel`;
});

after(async () => {
  await new Promise((r) => server.close(r));
  await rm(root, { recursive: true, force: true });
});

const sha = (s: string): string => createHash('sha256').update(s).digest('hex');
let n = 0;
async function freshDir(): Promise<string> {
  const d = join(root, `d${n++}`);
  await mkdir(d, { recursive: true });
  return d;
}
async function exe(dir: string, name: string, body = ASSET): Promise<string> {
  const p = join(dir, name);
  await writeFile(p, body);
  await chmod(p, 0o755);
  return p;
}

function assertUnavailable(e: unknown, re: RegExp): true {
  assert.ok(e instanceof YtDlpUnavailableError, `expected YtDlpUnavailableError, got ${String(e)}`);
  assert.ok(e instanceof JobError);
  assert.match(e.message, /^Download failed: yt-dlp is not available \(/);
  assert.match(e.message, /pip install -U yt-dlp/);
  assert.ok(!e.message.includes('\n'), 'one line');
  assert.match(e.message, re);
  return true;
}

test('maps platforms to the yt-dlp release assets', () => {
  assert.equal(releaseAssetName('linux', 'x64'), 'yt-dlp_linux');
  assert.equal(releaseAssetName('linux', 'arm64'), 'yt-dlp_linux_aarch64');
  assert.equal(releaseAssetName('darwin', 'arm64'), 'yt-dlp_macos');
  assert.equal(releaseAssetName('darwin', 'x64'), 'yt-dlp_macos');
  assert.equal(releaseAssetName('win32', 'x64'), 'yt-dlp.exe');
  assert.equal(releaseAssetName('linux', 'ia32'), null);
  assert.equal(releaseAssetName('freebsd', 'x64'), null);
});

test('puts the cache in the platform cache folder', () => {
  assert.equal(cacheDir({ XDG_CACHE_HOME: '/x/cache', HOME: '/home/u' }, 'linux'), join('/x/cache', 'chaarfm-worker'));
  assert.equal(cacheDir({ HOME: '/home/u' }, 'linux'), join('/home/u', '.cache', 'chaarfm-worker'));
  assert.equal(cacheDir({ HOME: '/Users/u' }, 'darwin'), join('/Users/u', 'Library', 'Caches', 'chaarfm-worker'));
  assert.equal(cacheDir({ LOCALAPPDATA: 'C:\\Users\\u\\AppData\\Local' }, 'win32'), join('C:\\Users\\u\\AppData\\Local', 'chaarfm-worker'));
});

test('reads the hash of one asset from a SHA2-256SUMS file', () => {
  const h = 'a'.repeat(64);
  const sums = `${'b'.repeat(64)}  yt-dlp\n${h}  yt-dlp_linux\r\n${'c'.repeat(64)} *yt-dlp.exe\n`;
  assert.equal(checksumFor(sums, 'yt-dlp_linux'), h);
  assert.equal(checksumFor(sums, 'yt-dlp.exe'), 'c'.repeat(64));
  assert.equal(checksumFor(sums, 'yt-dlp_macos'), null);
});

test('an explicit path wins over CHAARFM_YTDLP and PATH', { skip: !posix }, async () => {
  const d = await freshDir();
  const onPath = await exe(d, 'yt-dlp');
  const fromEnv = await exe(d, 'from-env');
  const explicit = await exe(d, 'explicit');
  const env = { PATH: d, CHAARFM_YTDLP: fromEnv, XDG_CACHE_HOME: d };
  assert.equal(await resolveYtDlp({ explicitPath: explicit, env }), explicit);
  assert.equal(await resolveYtDlp({ env }), fromEnv);
  assert.equal(await resolveYtDlp({ env: { PATH: d, XDG_CACHE_HOME: d } }), onPath);
  assert.equal(await resolveYtDlp({ explicitPath: 'explicit', env }), explicit, 'a bare name is looked up on PATH');
});

test('rejects an explicit path that is not an executable file, without falling back', { skip: !posix }, async () => {
  const d = await freshDir();
  await exe(d, 'yt-dlp');
  const plain = join(d, 'not-exec');
  await writeFile(plain, 'x');
  await assert.rejects(resolveYtDlp({ explicitPath: plain, env: { PATH: d } }), (e) => assertUnavailable(e, /--yt-dlp names .*not-exec/));
  await assert.rejects(resolveYtDlp({ env: { PATH: d, CHAARFM_YTDLP: join(d, 'missing') } }), (e) =>
    assertUnavailable(e, /CHAARFM_YTDLP names/),
  );
});

test('downloads the release asset once, verified, executable, into the cache folder', { skip: !posix }, async () => {
  const d = await freshDir();
  release = { body: ASSET, sums: `${sha('other')}  yt-dlp\n${sha(ASSET)}  yt-dlp_linux\n`, status: 200 };
  hits = [];
  const env = { PATH: join(d, 'empty'), XDG_CACHE_HOME: d, CHAARFM_YTDLP_RELEASE_URL: `${base}/` };
  const opts = { env, platform: 'linux' as const, arch: 'x64' };
  const [a, b] = await Promise.all([resolveYtDlp(opts), resolveYtDlp(opts)]);
  const want = join(d, 'chaarfm-worker', 'yt-dlp');
  assert.equal(a, want);
  assert.equal(b, want);
  assert.deepEqual(hits, ['/rel/SHA2-256SUMS', '/rel/yt-dlp_linux'], 'two concurrent resolutions share one download');
  assert.equal((await stat(want)).mode & 0o777, 0o755);
  assert.deepEqual(await readdir(join(d, 'chaarfm-worker')), ['yt-dlp'], 'no temp file left');
  assert.equal(await ytdlpVersion(want), '2099.01.01');
  hits = [];
  assert.equal(await resolveYtDlp(opts), want);
  assert.deepEqual(hits, [], 'the cached copy is used without a request');
});

test('refuses a tampered download and leaves nothing in the cache', { skip: !posix }, async () => {
  const d = await freshDir();
  release = { body: ASSET + 'echo pwned\n', sums: `${sha(ASSET)}  yt-dlp_linux\n`, status: 200 };
  const env = { PATH: join(d, 'empty'), XDG_CACHE_HOME: d, CHAARFM_YTDLP_RELEASE_URL: base };
  await assert.rejects(resolveYtDlp({ env, platform: 'linux', arch: 'x64' }), (e) =>
    assertUnavailable(e, /downloading yt-dlp_linux failed: checksum mismatch for yt-dlp_linux/),
  );
  assert.deepEqual(await readdir(join(d, 'chaarfm-worker')), []);
});

test('says how to install yt-dlp when the release cannot be had', { skip: !posix }, async () => {
  const d = await freshDir();
  const env = { PATH: join(d, 'empty'), XDG_CACHE_HOME: d, CHAARFM_YTDLP_RELEASE_URL: base };
  release = { body: ASSET, sums: '', status: 404 };
  await assert.rejects(resolveYtDlp({ env, platform: 'linux', arch: 'x64' }), (e) => assertUnavailable(e, /HTTP 404/));
  release = { body: ASSET, sums: `${sha(ASSET)}  yt-dlp_macos\n`, status: 200 };
  await assert.rejects(resolveYtDlp({ env, platform: 'linux', arch: 'x64' }), (e) =>
    assertUnavailable(e, /yt-dlp_linux is not listed in/),
  );
  await assert.rejects(resolveYtDlp({ env, platform: 'linux', arch: 'ia32' }), (e) =>
    assertUnavailable(e, /no release build for linux-ia32/),
  );
});

test('detects --js-runtimes from --help', { skip: !posix }, async () => {
  const d = await freshDir();
  for (const [name, js] of [['with', true], ['without', false]] as const) {
    const scenario = join(d, `${name}.json`);
    await writeFile(scenario, JSON.stringify({ jsRuntimes: js, version: '2025.11.12' }));
    const bin = await exe(d, `yt-dlp-${name}`, `#!/bin/sh\nFAKE_YTDLP_SCENARIO='${scenario}' exec '${process.execPath}' '${FAKE}' "$@"\n`);
    assert.equal(await supportsJsRuntimes(bin), js);
    assert.equal(await ytdlpVersion(bin), '2025.11.12');
  }
});

test('the real yt-dlp answers its version; this old one has no --js-runtimes', { skip: !hasRealYtDlp }, async () => {
  const bin = await resolveYtDlp();
  assert.match(await ytdlpVersion(bin), /^\d{4}\.\d{2}\.\d{2}/);
  if ((await ytdlpVersion(bin)) < '2025') assert.equal(await supportsJsRuntimes(bin), false);
});

test('shortens yt-dlp ERROR lines to the reason', () => {
  const r = (line: string) => ytdlpErrorReason({ code: 1, errorLines: [line], stderrTail: [line] });
  assert.equal(
    r("ERROR: [generic] None: Unable to download webpage: HTTP Error 404: File not found (caused by <HTTPError 404: 'File not found'>); please report this issue on  https://github.com/yt-dlp/yt-dlp/issues?q= , filling out the appropriate issue template. Confirm you are on the latest version using  yt-dlp -U"),
    'Unable to download webpage: HTTP Error 404: File not found',
  );
  assert.equal(r('ERROR: [youtube] dQw4w9WgXcQ: Video unavailable'), 'Video unavailable');
  assert.equal(r('ERROR: Postprocessing: ffprobe not found'), 'Postprocessing: ffprobe not found');
  assert.equal(ytdlpErrorReason({ code: 3, errorLines: [], stderrTail: [] }), 'yt-dlp exited with code 3');
});

test('rejects when yt-dlp cannot be started', async () => {
  await assert.rejects(runYtDlp(join(root, 'no-such-yt-dlp'), ['--version']), { code: 'ENOENT' });
});

test('rejects with the abort reason without starting when already aborted', async () => {
  const reason = new Error('stop');
  await assert.rejects(runYtDlp('yt-dlp', ['--version'], { signal: AbortSignal.abort(reason) }), (e) => e === reason);
});

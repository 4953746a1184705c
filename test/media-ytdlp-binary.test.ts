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
import { chmod, mkdtemp, mkdir, readdir, readFile, rm, stat, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { execFileSync, spawn } from 'node:child_process';
import { JobError } from '../src/worker/job-error.js';
import { createLogger } from '../src/log/logger.js';
import { ageDays, namesOutdatedExtractor, releaseDate } from '../src/media/ytdlp-update.js';
import {
  YtDlpUnavailableError,
  cacheDir,
  findYtDlp,
  refreshAfterOutdatedFailure,
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
  const bin = await resolveYtDlp({ explicitPath: 'yt-dlp' });
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

const DAY = 86_400_000;
const versionScript = (v: string, extra = '') => `#!/bin/sh\n${extra}echo ${v}\n`;
function memLog(): { log: ReturnType<typeof createLogger>; lines: () => { level: string; msg: string; [k: string]: unknown }[] } {
  const out: string[] = [];
  const log = createLogger({ format: 'json', level: 'debug', stream: { write: (s: string) => (out.push(s), true) } as never });
  return { log, lines: () => out.join('').trim().split('\n').filter(Boolean).map((l) => JSON.parse(l)) };
}
/** A cache folder holding a copy of `body`, last checked `daysAgo` days ago. */
async function cachedCopy(d: string, body: string, daysAgo: number): Promise<string> {
  const p = await exe(join(d, 'chaarfm-worker'), 'yt-dlp', body).catch(async () => {
    await mkdir(join(d, 'chaarfm-worker'), { recursive: true });
    return exe(join(d, 'chaarfm-worker'), 'yt-dlp', body);
  });
  const t = new Date(Date.now() - daysAgo * DAY);
  await utimes(p, t, t);
  return p;
}

test('reads the release date and age from a yt-dlp version', () => {
  assert.deepEqual(releaseDate('2026.08.19'), new Date(Date.UTC(2026, 7, 19)));
  assert.deepEqual(releaseDate('2025.06.09.232500'), new Date(Date.UTC(2025, 5, 9)));
  assert.equal(releaseDate('nightly'), null);
  assert.equal(ageDays('2026.08.19', Date.UTC(2026, 11, 1)), 104);
  assert.equal(ageDays('unknown'), null);
});

test('knows the error lines that name an outdated extractor', () => {
  assert.equal(namesOutdatedExtractor([
    'ERROR: [youtube] dQw4w9WgXcQ: Unable to extract yt initial data; please report this issue on  https://github.com/yt-dlp/yt-dlp/issues?q= , filling out the appropriate issue template. Confirm you are on the latest version using  yt-dlp -U',
  ]), true);
  assert.equal(namesOutdatedExtractor(['WARNING: [youtube] dQw4w9WgXcQ: nsig extraction failed: Some formats may be missing']), true);
  assert.equal(namesOutdatedExtractor(['ERROR: [youtube] dQw4w9WgXcQ: Video unavailable']), false);
  assert.equal(namesOutdatedExtractor(['ERROR: [youtube] x: Sign in to confirm you’re not a bot. Use --cookies-from-browser or --cookies for the authentication.']), false);
});

test('skips a yt-dlp on PATH older than 90 days, saying why, for the cached copy; --yt-dlp still wins', { skip: !posix }, async () => {
  const d = await freshDir();
  const bin = join(d, 'bin');
  await mkdir(bin);
  const old = await exe(bin, 'yt-dlp', versionScript('2023.03.04'));
  const cached = await cachedCopy(d, ASSET, 1);
  const { log, lines } = memLog();
  const env = { PATH: bin, XDG_CACHE_HOME: d, CHAARFM_YTDLP_RELEASE_URL: base };
  hits = [];
  const now = Date.UTC(2026, 11, 1);
  const found = await findYtDlp({ env, platform: 'linux', arch: 'x64', log, now });
  assert.equal(found.path, cached);
  assert.equal(found.source, 'cache');
  assert.match(found.skipped ?? '', /yt-dlp on PATH \(.*\/bin\/yt-dlp\) is 2023\.03\.04, 1368 days old \(over 90\)/);
  const warn = lines().filter((l) => l.level === 'warn');
  assert.equal(warn.length, 1);
  assert.match(warn[0].msg, /2023\.03\.04, 1368 days old \(over 90\): skipped for the cached download \(--yt-dlp PATH to use it anyway\)/);
  assert.deepEqual(hits, [], 'a copy checked yesterday is not checked again');
  assert.deepEqual(await findYtDlp({ explicitPath: old, env, now }), { path: old, source: '--yt-dlp' });
  // with no cached copy and no release to be had, the old one is used after all, saying so
  const d2 = await freshDir();
  release = { body: ASSET, sums: '', status: 404 };
  const l2 = memLog();
  const stale = await findYtDlp({ env: { ...env, XDG_CACHE_HOME: d2 }, platform: 'linux', arch: 'x64', log: l2.log, now });
  assert.equal(stale.path, old);
  assert.equal(stale.source, 'PATH');
  assert.match(stale.skipped ?? '', /1368 days old/);
  assert.ok(l2.lines().some((l) => l.level === 'warn' && /downloading yt-dlp failed \(.*HTTP 404\); using the old one on PATH after all/.test(l.msg)));
  // a recent one on PATH is used
  const fresh = await exe(bin, 'yt-dlp', versionScript('2026.11.20'));
  assert.deepEqual(await findYtDlp({ env, platform: 'linux', arch: 'x64', now }), { path: fresh, source: 'PATH' });
});

test('a cached copy checked over a week ago: unchanged release touches it, a new build is swapped in', { skip: !posix }, async () => {
  const d = await freshDir();
  const env = { PATH: join(d, 'empty'), XDG_CACHE_HOME: d, CHAARFM_YTDLP_RELEASE_URL: base };
  const opts = { env, platform: 'linux' as const, arch: 'x64' };
  const cached = await cachedCopy(d, ASSET, 8);
  release = { body: ASSET, sums: `${sha(ASSET)}  yt-dlp_linux\n`, status: 200 };
  hits = [];
  assert.equal(await resolveYtDlp(opts), cached);
  assert.deepEqual(hits, ['/rel/SHA2-256SUMS'], 'the same build is not downloaded again');
  assert.ok(Date.now() - (await stat(cached)).mtimeMs < 60_000, 'checked now: the next check is a week away');
  hits = [];
  await resolveYtDlp(opts);
  assert.deepEqual(hits, []);

  const NEW = versionScript('2099.02.02');
  release = { body: NEW, sums: `${sha(NEW)}  yt-dlp_linux\n`, status: 200 };
  const t = new Date(Date.now() - 8 * DAY);
  await utimes(cached, t, t);
  assert.equal(await ytdlpVersion(cached), '2099.01.01');
  const { log, lines } = memLog();
  assert.equal(await resolveYtDlp({ ...opts, log }), cached);
  assert.deepEqual(hits, ['/rel/SHA2-256SUMS', '/rel/yt-dlp_linux']);
  assert.equal(await readFile(cached, 'utf8'), NEW);
  assert.equal(await ytdlpVersion(cached), '2099.02.02', 'the remembered version is dropped with the old file');
  assert.deepEqual(await readdir(join(d, 'chaarfm-worker')), ['yt-dlp'], 'no temp file left');
  assert.ok(lines().some((l) => l.msg === 'yt-dlp updated in the cache folder' && l.version === '2099.02.02'));
});

test('a failed check or a tampered new build keeps the old copy and says so', { skip: !posix }, async () => {
  const d = await freshDir();
  const env = { PATH: join(d, 'empty'), XDG_CACHE_HOME: d, CHAARFM_YTDLP_RELEASE_URL: base };
  const cached = await cachedCopy(d, ASSET, 30);
  for (const r of [
    { body: ASSET, sums: '', status: 503 },
    { body: versionScript('2099.03.03') + 'echo pwned\n', sums: `${sha(versionScript('2099.03.03'))}  yt-dlp_linux\n`, status: 200 },
  ]) {
    release = r;
    const { log, lines } = memLog();
    assert.equal(await resolveYtDlp({ env, platform: 'linux', arch: 'x64', log }), cached);
    assert.equal(await readFile(cached, 'utf8'), ASSET);
    const w = lines().find((l) => l.level === 'warn');
    assert.ok(w, 'a warning');
    assert.match(String(w.error), r.status === 503 ? /HTTP 503/ : /checksum mismatch/);
  }
  assert.deepEqual(await readdir(join(d, 'chaarfm-worker')), ['yt-dlp']);
});

test('the swap is atomic: a run of the old copy finishes on it while new runs get the new build', { skip: !posix }, async () => {
  const d = await freshDir();
  const env = { PATH: join(d, 'empty'), XDG_CACHE_HOME: d, CHAARFM_YTDLP_RELEASE_URL: base };
  const OLD = versionScript('2099.01.01', 'sleep 1\n');
  const cached = await cachedCopy(d, OLD, 8);
  const running = spawn(cached, [], { stdio: ['ignore', 'pipe', 'ignore'] });
  let out = '';
  running.stdout.setEncoding('utf8').on('data', (s: string) => (out += s));
  const exited = new Promise((r) => running.on('close', r));
  const NEW = versionScript('2099.04.04');
  release = { body: NEW, sums: `${sha(NEW)}  yt-dlp_linux\n`, status: 200 };
  await resolveYtDlp({ env, platform: 'linux', arch: 'x64' });
  assert.equal(execFileSync(cached, { encoding: 'utf8' }), '2099.04.04\n');
  await exited;
  assert.equal(out, '2099.01.01\n', 'the running copy kept its file');
});

test('after a failure naming an outdated extractor the cached copy is checked at once, then not again within the hour', { skip: !posix }, async () => {
  const d = await freshDir();
  const env = { PATH: join(d, 'empty'), XDG_CACHE_HOME: d, CHAARFM_YTDLP_RELEASE_URL: base };
  const cached = await cachedCopy(d, ASSET, 0);
  const NEW = versionScript('2099.05.05');
  release = { body: NEW, sums: `${sha(NEW)}  yt-dlp_linux\n`, status: 200 };
  const found = await findYtDlp({ env, platform: 'linux', arch: 'x64' });
  hits = [];
  const opts = { env, platform: 'linux' as const, arch: 'x64' };
  assert.equal(await refreshAfterOutdatedFailure(found, opts), 'updated');
  assert.equal(await readFile(cached, 'utf8'), NEW);
  assert.equal(await refreshAfterOutdatedFailure(found, opts), null);
  assert.equal(await refreshAfterOutdatedFailure(found, { ...opts, now: Date.now() + 3601_000 }), 'current');
  assert.deepEqual(hits, ['/rel/SHA2-256SUMS', '/rel/yt-dlp_linux', '/rel/SHA2-256SUMS']);
  // one from PATH is the user's to update
  const { log, lines } = memLog();
  hits = [];
  assert.equal(await refreshAfterOutdatedFailure({ path: '/usr/bin/yt-dlp', source: 'PATH' }, { ...opts, log }), null);
  assert.deepEqual(hits, []);
  assert.match(lines()[0].msg, /\/usr\/bin\/yt-dlp, from PATH\) says its extractor is out of date; update it/);
});

// SPDX-License-Identifier: MIT
/**
 * Tests of src/media/ytdlp-media.ts. Downloads run the REAL yt-dlp against clips made with
 * ffmpeg and served from 127.0.0.1 (its generic extractor takes a plain URL); searches, which
 * only YouTube can answer, go through the stand-in test/fixtures/fake-ytdlp.mjs.
 */
import { test, after, before } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createReadStream, existsSync, readFileSync, readdirSync } from 'node:fs';
import { chmod, mkdtemp, mkdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, extname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { JobContext } from '../src/media/media.js';
import { YtDlpMedia, parseProgressLine, parseTooLargeLine, searchTarget, sizeLimits, trackMetadata } from '../src/media/ytdlp-media.js';
import { jsRuntime, releaseAssetName, ytdlpEnv } from '../src/media/ytdlp-binary.js';
import { createHash } from 'node:crypto';
import { YouTubeGate, YouTubeLimitError } from '../src/media/youtube-gate.js';
import { JobError } from '../src/worker/job-error.js';
import { silentLogger, type Logger } from '../src/log/logger.js';
import { unverifiedOnWindows } from './support/windows-unverified.js';

const FAKE = fileURLToPath(new URL('../../test/fixtures/fake-ytdlp.mjs', import.meta.url));
const has = (cmd: string, arg: string): boolean => {
  try {
    execFileSync(cmd, [arg], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
};
const real = has('yt-dlp', '--version') && has('ffmpeg', '-version');
/** The current yt-dlp of the shared tools folder (beside the checkout, or beside its parent), when there. */
const CURRENT =
  process.env.CHAARFM_TEST_YTDLP ??
  ['../../../shared/tools/yt-dlp', '../../../../shared/tools/yt-dlp'].map((u) => fileURLToPath(new URL(u, import.meta.url))).find((p) => existsSync(p));
const posix = process.platform !== 'win32';
const FORMATS: Record<string, string> = { mp3: 'audio/mpeg', ogg: 'audio/ogg', m4a: 'audio/mp4', wav: 'audio/wav' };

let root: string;
let clips: string;
let server: Server;
let base = '';
const sockets = new Set<Socket>();
let stallClosed: Promise<void> = Promise.resolve();

before(async () => {
  root = await mkdtemp(join(tmpdir(), 'chaarfm-ytdlp-media-'));
  clips = join(root, 'clips');
  await mkdir(clips);
  if (!real) return;
  for (const ext of Object.keys(FORMATS)) {
    execFileSync('ffmpeg', ['-hide_banner', '-loglevel', 'error', '-f', 'lavfi', '-i', 'sine=frequency=440:duration=40',
      ...(ext === 'mp3' ? ['-b:a', '128k'] : []), '-y', join(clips, `tone-${ext}.${ext}`)]);
  }
  server = createServer((req, res) => {
    const name = (req.url ?? '/').slice(1);
    if (name === 'stall.mp3') {
      // Sends the first half of a clip, then nothing: a download that never ends on its own.
      stallClosed = new Promise((r) => req.socket.once('close', () => r()));
      void readFile(join(clips, 'tone-mp3.mp3')).then((buf) => {
        res.writeHead(200, { 'Content-Type': 'audio/mpeg', 'Content-Length': buf.length });
        res.write(buf.subarray(0, buf.length >> 1));
      });
      return;
    }
    const type = FORMATS[extname(name).slice(1)];
    if (!type || !/^tone-\w+\.\w+$/.test(name)) return void res.writeHead(404).end('not found');
    void stat(join(clips, name)).then(
      (s) => {
        res.writeHead(200, { 'Content-Type': type, 'Content-Length': s.size });
        createReadStream(join(clips, name)).pipe(res);
      },
      () => res.writeHead(404).end('not found'),
    );
  });
  server.on('connection', (s) => {
    sockets.add(s);
    s.once('close', () => sockets.delete(s));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const addr = server.address();
  if (!addr || typeof addr === 'string') throw new Error('no address');
  base = `http://127.0.0.1:${addr.port}`;
});

after(async () => {
  if (server) {
    for (const s of sockets) s.destroy();
    await new Promise((r) => server.close(r));
  }
  await rm(root, { recursive: true, force: true });
});

let jobs = 0;
async function context(extra: Partial<JobContext> = {}): Promise<JobContext & { progress: [string, number][] }> {
  const workDir = join(root, `job-${jobs++}`);
  await mkdir(workDir);
  const progress: [string, number][] = [];
  return { workDir, signal: new AbortController().signal, log: silentLogger, onProgress: (s, f) => progress.push([s, f]), progress, ...extra };
}

function capture(): Logger & { lines: string[] } {
  const lines: string[] = [];
  const l: Logger & { lines: string[] } = {
    lines,
    debug() {},
    info() {},
    warn: (m) => void lines.push(m),
    error: (m) => void lines.push(m),
    child: () => l,
  };
  return l;
}

/** A stand-in yt-dlp with its own scenario; returns its path and the argv it was run with. */
async function fake(scenario: Record<string, unknown>): Promise<{ bin: string; argv: () => Promise<string[][]> }> {
  const dir = join(root, `fake-${jobs++}`);
  await mkdir(dir);
  const argvLog = join(dir, 'argv.jsonl');
  await writeFile(join(dir, 'scenario.json'), JSON.stringify({ ...scenario, argvLog }));
  const bin = join(dir, 'yt-dlp');
  await writeFile(bin, `#!/bin/sh\nFAKE_YTDLP_SCENARIO='${join(dir, 'scenario.json')}' exec '${process.execPath}' '${FAKE}' "$@"\n`);
  await chmod(bin, 0o755);
  const argv = async () => (await readFile(argvLog, 'utf8')).trim().split('\n').map((l) => JSON.parse(l) as string[]);
  return { bin, argv };
}

const LOW_MIN = { ...process.env, POST_DOWNLOAD_MIN_SIZE_MB: '0' };
const urlJob = (url: string) => ({ artist: null, title: null, youtube_url: url });

test('downloads mp3, ogg, m4a and wav as published, with the generic fallbacks', { skip: !real }, async () => {
  const media = new YtDlpMedia({ ytdlpPath: 'yt-dlp', env: LOW_MIN });
  for (const ext of Object.keys(FORMATS)) {
    const ctx = await context();
    const url = `${base}/tone-${ext}.${ext}`;
    const got = await media.fetch(urlJob(url), ctx);
    assert.equal(dirname(got.path), ctx.workDir);
    assert.equal(extname(got.path), `.${ext}`, 'no re-encode');
    assert.equal(got.sizeBytes, (await stat(join(clips, `tone-${ext}.${ext}`))).size);
    assert.deepEqual(await readFile(got.path), await readFile(join(clips, `tone-${ext}.${ext}`)));
    assert.equal(got.artist, 'YouTube Artist', 'no artist, no uploader');
    assert.equal(got.title, `tone-${ext}`, 'the generic extractor titles a file by its basename');
    assert.equal(got.youtubeId, `tone-${ext}`);
    assert.equal(got.sourceUrl, url);
    assert.equal(got.metadataDuration, null);
    assert.deepEqual(ctx.progress.at(-1), ['download', 1]);
    assert.ok(ctx.progress.every(([s, f], i) => s === 'download' && f >= 0 && f <= 1 && (i === 0 || f >= ctx.progress[i - 1][1])));
  }
});

test('keeps the artist and title the job gives', { skip: !real }, async () => {
  const ctx = await context();
  const got = await new YtDlpMedia({ env: LOW_MIN }).fetch({ artist: 'Nina', title: 'Tone', youtube_url: `${base}/tone-mp3.mp3` }, ctx);
  assert.equal(got.artist, 'Nina');
  assert.equal(got.title, 'Tone');
});

test('fails a file below POST_DOWNLOAD_MIN_SIZE_MB with the protocol message', { skip: !real }, async () => {
  const size = (await stat(join(clips, 'tone-ogg.ogg'))).size;
  const media = new YtDlpMedia({ ytdlpPath: 'yt-dlp', env: { ...process.env, POST_DOWNLOAD_MIN_SIZE_MB: '0.5' } });
  await assert.rejects(media.fetch(urlJob(`${base}/tone-ogg.ogg`), await context()), (e) => {
    assert.ok(e instanceof JobError);
    assert.equal(e.message, `File size out of range: ${(size / 1048576).toFixed(2)}MB`);
    return true;
  });
});

test('a file above POST_DOWNLOAD_MAX_SIZE_MB is refused by yt-dlp (--max-filesize) before it is downloaded', { skip: !real }, async () => {
  const size = (await stat(join(clips, 'tone-mp3.mp3'))).size;
  for (const ytdlpPath of ['yt-dlp', ...(CURRENT ? [CURRENT] : [])]) {
    const media = new YtDlpMedia({ ytdlpPath, env: { ...process.env, POST_DOWNLOAD_MIN_SIZE_MB: '0', POST_DOWNLOAD_MAX_SIZE_MB: '0.1' } });
    const ctx = await context();
    await assert.rejects(media.fetch(urlJob(`${base}/tone-mp3.mp3`), ctx), {
      name: 'JobError',
      message: `File size out of range: ${(size / 1048576).toFixed(2)}MB`,
    });
    // 2023's yt-dlp has no --no-quiet to print its refusal: it downloads, and the size check after it refuses
    if (ytdlpPath === CURRENT)
      assert.deepEqual(readdirSync(ctx.workDir).filter((f) => f.startsWith('media')), [], `${ytdlpPath}: no media file was written to the job folder`);
  }
  if (!CURRENT) assert.fail('the current yt-dlp (../shared/tools/yt-dlp or CHAARFM_TEST_YTDLP) is needed for --max-filesize');
  assert.equal(parseTooLargeLine('[download] File is larger than max-filesize (2000000 bytes > 1048576 bytes). Aborting.'), 2000000);
  assert.equal(parseTooLargeLine('[download]  42.0% of 1.00MiB'), null);
});

test('falls back to the default size limits with a warning on bad values', () => {
  const log = capture();
  assert.deepEqual(sizeLimits({}, log), { minMb: 0.5, maxMb: 50 });
  assert.deepEqual(sizeLimits({ POST_DOWNLOAD_MIN_SIZE_MB: '1', POST_DOWNLOAD_MAX_SIZE_MB: '20' }, log), { minMb: 1, maxMb: 20 });
  assert.equal(log.lines.length, 0);
  assert.deepEqual(sizeLimits({ POST_DOWNLOAD_MIN_SIZE_MB: 'lots', POST_DOWNLOAD_MAX_SIZE_MB: '-3' }, log), { minMb: 0.5, maxMb: 50 });
  assert.match(log.lines[0], /^Expected a number >= 0 for POST_DOWNLOAD_MIN_SIZE_MB but received "lots"/);
  assert.match(log.lines[1], /POST_DOWNLOAD_MAX_SIZE_MB but received "-3"/);
  assert.deepEqual(sizeLimits({ POST_DOWNLOAD_MIN_SIZE_MB: '60' }, log), { minMb: 0.5, maxMb: 50 });
  assert.match(log.lines[2], /above POST_DOWNLOAD_MAX_SIZE_MB/);
});

test('a 404 fails with "Download failed: " and yt-dlp\'s reason on one line', { skip: !real }, async () => {
  await assert.rejects(new YtDlpMedia({ env: LOW_MIN }).fetch(urlJob(`${base}/missing.mp3`), await context()), (e) => {
    assert.ok(e instanceof JobError);
    assert.match(e.message, /^Download failed: .*HTTP Error 404/);
    assert.ok(!/\n|please report/.test(e.message), e.message);
    return true;
  });
});

function ytdlpProcessesFor(url: string): number[] {
  const pids: number[] = [];
  for (const pid of readdirSync('/proc').filter((p) => /^\d+$/.test(p))) {
    try {
      if (readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes(url)) pids.push(Number(pid));
    } catch {
      /* gone meanwhile */
    }
  }
  return pids;
}

const abortSkip = !real ? 'needs yt-dlp and ffmpeg' : unverifiedOnWindows('taskkillTree') || (process.platform !== 'linux' && 'reads /proc to see that no yt-dlp is left: Linux only');
test('abort kills the download and rejects with the abort reason', { skip: abortSkip }, async () => {
  const ac = new AbortController();
  const reason = new Error('job timeout');
  const url = `${base}/stall.mp3`;
  let firstProgress!: () => void;
  const progressed = new Promise<void>((r) => (firstProgress = r));
  const ctx = await context({ signal: ac.signal, onProgress: (s, f) => f > 0 && firstProgress() });
  const run = new YtDlpMedia({ env: LOW_MIN }).fetch(urlJob(url), ctx);
  await progressed;
  assert.ok(ytdlpProcessesFor(url).length > 0, 'yt-dlp is running');
  ac.abort(reason);
  await assert.rejects(run, (e) => e === reason);
  assert.deepEqual(ytdlpProcessesFor(url), [], 'no yt-dlp process is left');
  await stallClosed;
});

test('searches with ytsearch1, the duration filter and best audio, via a stand-in', { skip: !posix }, async () => {
  const { bin, argv } = await fake({ download: { ext: 'webm', sizeBytes: 2 * 1048576, info: { id: 'abcDEF12345', title: 'Song (Lyrics)', uploader: 'Chan', duration: 201 } } });
  const ctx = await context();
  const got = await new YtDlpMedia({ ytdlpPath: bin, env: {} }).fetch({ artist: 'Nina Simone', title: 'Sinnerman', youtube_url: null }, ctx);
  assert.deepEqual(
    { ...got, path: undefined },
    { path: undefined, artist: 'Nina Simone', title: 'Sinnerman', youtubeId: 'abcDEF12345', sourceUrl: 'https://www.youtube.com/watch?v=abcDEF12345', metadataDuration: 201, sizeBytes: 2 * 1048576 },
  );
  assert.equal(got.path, join(ctx.workDir, 'media.webm'));
  assert.deepEqual(ctx.progress.map(([, f]) => f), [0.001, 0.25, 0.5, 1]);
  const run = (await argv()).find((a) => a.includes('--print'))!;
  assert.equal(run.at(-1), 'ytsearch1:Nina Simone Sinnerman lyrics');
  assert.equal(run[run.indexOf('--match-filter') + 1], 'duration > 60 & duration < 600');
  assert.equal(run[run.indexOf('-f') + 1], 'bestaudio/best');
  assert.ok(run.includes('--no-playlist') && run.includes('--newline'));
  assert.ok(!run.includes('-x') && !run.includes('--extract-audio') && !run.includes('--audio-format'));
  assert.ok(!run.includes('--js-runtimes'), 'the stand-in does not list --js-runtimes');
  assert.ok(!run.includes('--cookies'));
});

test('fills artist and title from the metadata when the job has none', { skip: !posix }, async () => {
  const cases: [Record<string, unknown>, string, string][] = [
    [{ id: 'aaaaaaaaaaa', title: 'T', artist: 'A', uploader: 'U' }, 'A', 'T'],
    [{ id: 'bbbbbbbbbbb', title: 'T', uploader: 'U' }, 'U', 'T'],
    [{ id: 'ccccccccccc' }, 'YouTube Artist', 'Test Track ccccccccccc'],
  ];
  for (const [info, artist, title] of cases) {
    const { bin } = await fake({ download: { info } });
    const got = await new YtDlpMedia({ ytdlpPath: bin, env: {} }).fetch(urlJob(`https://www.youtube.com/watch?v=${info.id}`), await context());
    assert.deepEqual([got.artist, got.title, got.youtubeId], [artist, title, info.id]);
  }
  assert.equal(trackMetadata({ artist: ' ', title: '', youtube_url: null }, { id: 'x', artists: ['P', 'Q'] }).artist, 'P, Q');
});

test('a search that passes no filter fails with "Download failed: no search result"', { skip: !posix }, async () => {
  const { bin } = await fake({ download: { noMatch: true } });
  await assert.rejects(new YtDlpMedia({ ytdlpPath: bin, env: {} }).fetch({ artist: 'A', title: null, youtube_url: null }, await context()), {
    name: 'JobError',
    message: 'Download failed: no search result for "A lyrics" lasting between 60 and 600 s',
  });
});

test('passes --js-runtimes node:<the worker itself> only to a yt-dlp that has it', { skip: !posix }, async () => {
  const { bin, argv } = await fake({ jsRuntimes: true, download: {} });
  await new YtDlpMedia({ ytdlpPath: bin, env: {} }).fetch(urlJob('https://www.youtube.com/watch?v=x'), await context());
  const run = (await argv()).find((a) => a.includes('--print'))!;
  const spec = run[run.indexOf('--js-runtimes') + 1];
  assert.equal(spec, (await jsRuntime()).spec);
  assert.match(spec, /^(node:.*node-runtime-[0-9a-f]{12}|deno:.*|node:.*)$/);
  // the launcher answers yt-dlp's version call as this Node
  if (spec.includes('node-runtime-'))
    assert.equal(execFileSync(spec.slice(5), ['--version'], { env: ytdlpEnv(), encoding: 'utf8' }), `${process.version}\n`);
});

test('YTDL_COOKIES: content or a path, copied into the job folder', { skip: !posix }, async () => {
  const content = '# Netscape HTTP Cookie File\n.youtube.com\tTRUE\t/\tTRUE\t0\tSID\tabc\n';
  const userFile = join(root, 'user-cookies.txt');
  await writeFile(userFile, content);
  for (const value of [content, userFile]) {
    const { bin, argv } = await fake({ download: {} });
    const ctx = await context();
    await new YtDlpMedia({ ytdlpPath: bin, env: { YTDL_COOKIES: value } }).fetch(urlJob('https://www.youtube.com/watch?v=x'), ctx);
    const run = (await argv()).find((a) => a.includes('--print'))!;
    const passed = run[run.indexOf('--cookies') + 1];
    assert.equal(passed, join(ctx.workDir, 'cookies.txt'));
    assert.equal(await readFile(passed, 'utf8'), content);
  }
  const log = capture();
  const { bin, argv } = await fake({ download: {} });
  await new YtDlpMedia({ ytdlpPath: bin, env: { YTDL_COOKIES: join(root, 'nope.txt') } }).fetch(urlJob('https://www.youtube.com/watch?v=x'), await context({ log }));
  assert.ok(!(await argv()).some((a) => a.includes('--cookies')));
  assert.match(log.lines[0], /YTDL_COOKIES names a file that cannot be read/);
});

test('reads progress from --newline lines', () => {
  assert.equal(parseProgressLine('[download]  42.5% of  626.17KiB at  199.59KiB/s ETA 00:02'), 0.425);
  assert.equal(parseProgressLine('[download] 100% of  626.17KiB in 00:00:03 at 199.76KiB/s'), 1);
  assert.equal(parseProgressLine('[download]   5.0% of ~  3.10MiB at  Unknown B/s ETA Unknown (frag 1/20)'), 0.05);
  assert.equal(parseProgressLine('[download] Destination: media.mp3'), null);
  assert.equal(parseProgressLine('{"id": "x"}'), null);
  assert.equal(searchTarget({ artist: null, title: 'Only Title', youtube_url: null }), 'ytsearch1:Only Title lyrics');
});

const BOT = "ERROR: [youtube] dQw4w9WgXcQ: Sign in to confirm you’re not a bot. Use --cookies-from-browser or --cookies for the authentication. See  https://github.com/yt-dlp/yt-dlp/wiki/FAQ#how-do-i-pass-cookies-to-yt-dlp  for how to manually pass cookies. Also see  https://github.com/yt-dlp/yt-dlp/wiki/Extractors#exporting-youtube-cookies  for tips on effectively exporting YouTube cookies";
const LATER = "ERROR: [youtube] dQw4w9WgXcQ: Video unavailable. This content isn't available, try again later. The current session has been rate-limited by YouTube for up to an hour. It is recommended to use `-t sleep` to add a delay between video requests to avoid exceeding the rate limit. For more information, refer to  https://github.com/yt-dlp/yt-dlp/wiki/Extractors#this-content-isnt-available-try-again-later";
const HTTP429 = 'ERROR: [youtube] dQw4w9WgXcQ: Unable to download API page: HTTP Error 429: Too Many Requests (caused by <HTTPError 429: Too Many Requests>)';

test('YouTube\'s limits pause the gate with a growing backoff and the job runs again after the pause', { skip: !posix }, async () => {
  const dir = join(root, `limits-${jobs++}`);
  await mkdir(dir);
  const { bin, argv } = await fake({ failures: [[BOT], [LATER], [HTTP429]], counter: join(dir, 'n'), download: { info: { id: 'dQw4w9WgXcQ', title: 'T' } } });
  const gate = new YouTubeGate({ gapMs: 0, initialPauseMs: 40, factor: 2, maxPauseMs: 1000 });
  const log = capture();
  const started = Date.now();
  const got = await new YtDlpMedia({ ytdlpPath: bin, env: {}, gate }).fetch(urlJob('https://www.youtube.com/watch?v=dQw4w9WgXcQ'), await context({ log, deadline: Date.now() + 600_000 }));
  assert.equal(got.youtubeId, 'dQw4w9WgXcQ');
  assert.equal((await argv()).filter((a) => a.includes('--print')).length, 4, 'three limited runs, then the one that got through');
  assert.ok(Date.now() - started >= 40 + 80 + 160, 'it waited out the three pauses');
  assert.equal(log.lines.length, 3);
  assert.match(log.lines[0], /^YouTube is limiting this worker \(Sign in to confirm you're not a bot\): every socket pauses 0 s; this job runs again after the pause$/);
  assert.match(log.lines[1], /\(try again later\)/);
  assert.match(log.lines[2], /\(HTTP 429 Too Many Requests\)/);
  assert.equal(gate.pause(), 40, 'the run that got through reset the backoff');
});

test('a limit with no time left before the deadline fails the job as a YouTube limit', { skip: !posix }, async () => {
  const dir = join(root, `limits-${jobs++}`);
  await mkdir(dir);
  const { bin, argv } = await fake({ failures: [[HTTP429]], counter: join(dir, 'n'), download: {} });
  const gate = new YouTubeGate({ gapMs: 0 });
  const log = capture();
  await assert.rejects(
    new YtDlpMedia({ ytdlpPath: bin, env: {}, gate }).fetch(urlJob('https://www.youtube.com/watch?v=dQw4w9WgXcQ'), await context({ log, deadline: Date.now() + 30_000 })),
    (e) => {
      assert.ok(e instanceof YouTubeLimitError);
      assert.equal(e.message, 'Download failed: YouTube is limiting this worker (HTTP 429 Too Many Requests)');
      return true;
    },
  );
  assert.equal((await argv()).filter((a) => a.includes('--print')).length, 1);
  assert.match(log.lines[0], /every socket pauses 60 s; this job fails \(no time left for a retry\)/);
  assert.ok(gate.pausedUntil > Date.now() + 50_000, 'the pause holds the other sockets');
});

test('an ordinary failure is not a limit: no pause, no retry', { skip: !posix }, async () => {
  const dir = join(root, `limits-${jobs++}`);
  await mkdir(dir);
  const { bin, argv } = await fake({ failures: [['ERROR: [youtube] dQw4w9WgXcQ: Video unavailable. This video is private']], counter: join(dir, 'n'), download: {} });
  const gate = new YouTubeGate({ gapMs: 0 });
  await assert.rejects(new YtDlpMedia({ ytdlpPath: bin, env: {}, gate }).fetch(urlJob('https://www.youtube.com/watch?v=dQw4w9WgXcQ'), await context()), {
    name: 'JobError',
    message: 'Download failed: Video unavailable. This video is private',
  });
  assert.equal((await argv()).length, 1 + 1, '--help for --js-runtimes, then one run');
  assert.equal(gate.pausedUntil, 0);
});

test('YouTube runs are spaced by the gap over every job of the worker', { skip: !posix }, async () => {
  const { bin } = await fake({ download: {} });
  const gate = new YouTubeGate({ gapMs: 300 });
  const media = new YtDlpMedia({ ytdlpPath: bin, env: {}, gate });
  const started = Date.now();
  await Promise.all([0, 1, 2].map(async () => media.fetch(urlJob('https://www.youtube.com/watch?v=x'), await context())));
  assert.ok(Date.now() - started >= 600, 'three runs over two gaps');
});

test('--yt-dlp-arg values reach every yt-dlp run right after --ignore-config, downloads and genre lookups', { skip: !posix }, async () => {
  const extra = ['--extractor-args', 'youtube:player_client=web', '--plugin-dirs=/opt/plugins'];
  const { bin, argv } = await fake({
    noQuiet: true,
    download: {},
    search: { entries: [{ id: 'aaaaaaaaaaa', title: 'A', duration: 200, view_count: 5000 }] },
    videos: { aaaaaaaaaaa: { title: 'A', duration: 200, view_count: 5000, like_count: 100 } },
  });
  const media = new YtDlpMedia({ ytdlpPath: bin, env: {}, extraArgs: extra, gate: new YouTubeGate({ gapMs: 0 }) });
  await media.fetch(urlJob('https://www.youtube.com/watch?v=x'), await context());
  await media.fetchGenre({ job_type: 'fetch_genre', genre: 'jazz', limit: 1, quality_config: null }, await context());
  const runs = (await argv()).filter((a) => !a.includes('--help'));
  assert.equal(runs.length, 3, 'the download, the search, the lookup');
  for (const run of runs) assert.deepEqual(run.slice(0, 4), ['--ignore-config', ...extra]);
  const dl = runs.find((a) => a.includes('--print'))!;
  assert.equal(dl[dl.indexOf('--max-filesize') + 1], String(50 * 1024 * 1024));
  assert.ok(dl.includes('--no-quiet'));
});

test('a failure naming an outdated extractor updates the cached yt-dlp at once and runs the job again on it', { skip: !posix || !releaseAssetName(process.platform, process.arch) }, async () => {
  const asset = releaseAssetName(process.platform, process.arch)!;
  const dir = join(root, `outdated-${jobs++}`);
  const cache = join(dir, 'cache', 'chaarfm-worker');
  await mkdir(cache, { recursive: true });
  await mkdir(join(dir, 'empty'));
  const outdated = 'ERROR: [youtube] dQw4w9WgXcQ: Unable to extract yt initial data; please report this issue on  https://github.com/yt-dlp/yt-dlp/issues?q= , filling out the appropriate issue template. Confirm you are on the latest version using  yt-dlp -U';
  const old = `#!/bin/sh\ncase "$1" in --version) echo 2026.11.01;; --help) echo Usage;; *) echo '${outdated}' >&2; exit 1;; esac\n`;
  await writeFile(join(cache, 'yt-dlp'), old, { mode: 0o755 });
  const { bin } = await fake({ version: '2026.11.30', download: { info: { id: 'dQw4w9WgXcQ', title: 'T' } } });
  const fresh = await readFile(bin, 'utf8');
  const served: string[] = [];
  const release = createServer((req, res) => {
    served.push(req.url ?? '');
    if (req.url === '/rel/SHA2-256SUMS') return void res.end(`${createHash('sha256').update(fresh).digest('hex')}  ${asset}\n`);
    if (req.url === `/rel/${asset}`) return void res.end(fresh);
    res.writeHead(404).end();
  });
  await new Promise<void>((r) => release.listen(0, '127.0.0.1', r));
  try {
    const port = (release.address() as { port: number }).port;
    const env = { PATH: join(dir, 'empty'), XDG_CACHE_HOME: join(dir, 'cache'), CHAARFM_YTDLP_RELEASE_URL: `http://127.0.0.1:${port}/rel` };
    const media = new YtDlpMedia({ env, gate: new YouTubeGate({ gapMs: 0 }) });
    assert.equal(await media.binary(), join(cache, 'yt-dlp'));
    const got = await media.fetch(urlJob('https://www.youtube.com/watch?v=dQw4w9WgXcQ'), await context());
    assert.equal(got.youtubeId, 'dQw4w9WgXcQ');
    assert.deepEqual(served, ['/rel/SHA2-256SUMS', `/rel/${asset}`]);
    assert.equal(await readFile(join(cache, 'yt-dlp'), 'utf8'), fresh, 'the new build is in place');
  } finally {
    await new Promise((r) => release.close(r));
  }
});

test('runtimeProblem: none with a yt-dlp that has --js-runtimes and a supported runtime; the reason otherwise', { skip: !posix }, async () => {
  const withFlag = await fake({ version: '2026.11.30', jsRuntimes: true });
  const rt = await jsRuntime();
  const problem = await new YtDlpMedia({ ytdlpPath: withFlag.bin, env: {} }).runtimeProblem();
  if (rt.supported) assert.equal(problem, null);
  else assert.match(problem ?? '', new RegExp(`^yt-dlp gets no JavaScript runtime it supports \\(.* is node v${process.versions.node.replace(/\./g, '\\.')}; it needs node >= 22 or deno >= 2\\.3`));
  const without = await fake({ version: '2023.03.04' });
  assert.match((await new YtDlpMedia({ ytdlpPath: without.bin, env: {} }).runtimeProblem()) ?? '', /^yt-dlp 2023\.03\.04 at .* has no --js-runtimes/);
  assert.equal(await new YtDlpMedia({ env: { PATH: join(root, 'nothing'), XDG_CACHE_HOME: join(root, 'no-cache') } }).runtimeProblem(), null, 'no yt-dlp yet: the first job downloads a current one');
});

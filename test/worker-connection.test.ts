// SPDX-License-Identifier: MIT
/** The real worker against a real ws server playing the coordinator, with stand-in audio work. */
import assert from 'node:assert/strict';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, afterEach, test } from 'node:test';
import { MAX_FRAME_BYTES } from '../src/protocol/messages.js';
import { LogEvent, isLogEvent } from '../src/log/events.js';
import { startWorker, type WorkerHandle, type WorkerOptions } from '../src/worker/worker.js';
import { FakeServer, resultsOf } from './support/fake-server.js';
import { StubEmbedder, StubMedia } from './support/stand-ins.js';
import { waitUntil } from './support/wait.js';

const tmp = await mkdtemp(join(tmpdir(), 'cfw-conn-'));
after(() => rm(tmp, { recursive: true, force: true }));

let server: FakeServer | null = null;
let worker: WorkerHandle | null = null;
afterEach(async () => {
  await worker?.stop();
  await server?.stop().catch(() => {});
  worker = null;
  server = null;
});

async function setup(over: Partial<WorkerOptions> = {}) {
  server = await FakeServer.start();
  worker = await startWorker({
    url: server.url,
    code: 'ABC123',
    tmpDir: tmp,
    embedder: new StubEmbedder(),
    media: new StubMedia(),
    reconnect: { initialMs: 50, factor: 1.5, maxMs: 200 },
    ...over,
  });
  const [peer] = await server.waitForPeers(1);
  return { server, worker, peer };
}

const download = { artist: 'A', title: 'T', youtube_url: 'https://example.test/a.mp3', table_name: null };

test('connects to /ws/remote/{code}/worker and says hello first', async () => {
  const { peer } = await setup({ name: 'box' });
  assert.equal(peer.path, '/ws/remote/ABC123/worker');
  const hello = await server!.waitForMessage(peer, (m) => m.type === 'hello');
  assert.equal(peer.messages[0], hello);
  const w = hello.worker as Record<string, unknown>;
  assert.equal(w.name, 'box');
  assert.equal(w.backend, 'stub');
  assert.equal(w.jobs, 1);
  assert.equal(typeof w.version, 'string');
  assert.match(String(w.platform), /^\w+-\w+ node-\d+/);
});

test('job in, one result out with the same job_id', async () => {
  const { peer } = await setup();
  server!.sendJob(peer, 'j-1', download);
  const r = await server!.waitForMessage(peer, (m) => m.type === 'result');
  assert.equal(r.job_id, 'j-1');
  assert.equal(r.status, 'success');
  assert.equal(((r.data as Record<string, unknown>).vector as number[]).length, 200);
  await new Promise((res) => setTimeout(res, 100));
  assert.equal(resultsOf(peer).length, 1);
});

test('ping is answered with pong', async () => {
  const { peer } = await setup();
  server!.sendRaw(peer, '{"type":"ping"}');
  await server!.waitForMessage(peer, (m) => m.type === 'pong');
});

test('progress frames are sent at most twice a second', async () => {
  const { peer } = await setup({ embedder: new StubEmbedder({ delayMs: 1500 }), media: new StubMedia({ delayMs: 300, progressSteps: 30 }) });
  const t0 = Date.now();
  server!.sendJob(peer, 'j-p', download);
  await server!.waitForMessage(peer, (m) => m.type === 'result', 10000);
  const span = Date.now() - t0;
  const progress = peer.messages.filter((m) => m.type === 'progress');
  assert.ok(progress.length >= 2, `got ${progress.length} progress frames`);
  for (const p of progress) {
    assert.equal(p.job_id, 'j-p');
    assert.equal(typeof p.stage, 'string');
    assert.ok(typeof p.fraction === 'number' && p.fraction >= 0 && p.fraction <= 1);
  }
  // Frames sent at least 500 ms apart all fall within the job, which the test saw take `span`
  // ms (from before the job went out to after its result came): so at most span/500 + 1 of
  // them, however slow the machine (a load only lengthens span). Arrival gaps are not the
  // sender's: a busy receiver takes two frames at once. 31 reports came in (30 download steps
  // and the inference), so an unthrottled sender fails here; the throttle's own timing is
  // tested with a clock of its own (worker-progress-throttle.test.ts).
  assert.ok(progress.length <= Math.floor(span / 500) + 1, `${progress.length} progress frames in ${span} ms`);
});

test('garbage frames are ignored and the worker keeps working', async () => {
  const { peer } = await setup();
  for (const g of ['not json', '[1,2]', '{"type":"reboot"}', '{"type":"job"}', '', 'null', '{"type":7}'])
    server!.sendRaw(peer, g);
  server!.sendRaw(peer, Buffer.from([0, 1, 2, 255]), true);
  server!.sendRaw(peer, '{"type":"ping"}');
  await server!.waitForMessage(peer, (m) => m.type === 'pong');
  assert.equal(resultsOf(peer).length, 0, 'nothing to answer without a job id');
  server!.sendJob(peer, 'j-after', download);
  await server!.waitForMessage(peer, (m) => m.type === 'result' && m.job_id === 'j-after' && m.status === 'success');
});

test('a job with a bad payload is answered failed with the reason', async () => {
  const { peer } = await setup();
  server!.sendJob(peer, 'j-bad', { youtube_url: 42 });
  const r = await server!.waitForMessage(peer, (m) => m.type === 'result');
  assert.deepEqual(r, {
    type: 'result',
    job_id: 'j-bad',
    status: 'failed',
    error: 'Invalid job: Expected a string or null for payload.youtube_url but received a number',
  });
});

test('a frame over 1 MiB is refused; a job in it is answered failed; the socket stays up', async () => {
  const { peer } = await setup();
  const big = JSON.stringify({ type: 'job', job_id: 'j-big', payload: { ...download, title: 'x'.repeat(MAX_FRAME_BYTES + 10) } });
  server!.sendRaw(peer, big);
  const r = await server!.waitForMessage(peer, (m) => m.type === 'result');
  assert.equal(r.job_id, 'j-big');
  assert.equal(r.status, 'failed');
  assert.match(String(r.error), /too large/);
  server!.sendRaw(peer, '{"type":"ping"}');
  await server!.waitForMessage(peer, (m) => m.type === 'pong');
  assert.equal(peer.closed, false);
});

test('a second job while one is running is answered failed; the first still finishes', async () => {
  const { peer } = await setup({ embedder: new StubEmbedder({ delayMs: 400 }) });
  server!.sendJob(peer, 'j-1', download);
  await new Promise((r) => setTimeout(r, 50));
  server!.sendJob(peer, 'j-2', download);
  server!.sendJob(peer, 'j-1', download); // a repeat of the job in hand is ignored, not failed
  const second = await server!.waitForMessage(peer, (m) => m.type === 'result' && m.job_id === 'j-2');
  assert.equal(second.status, 'failed');
  assert.match(String(second.error), /busy/);
  const first = await server!.waitForMessage(peer, (m) => m.type === 'result' && m.job_id === 'j-1');
  assert.equal(first.status, 'success');
  await new Promise((r) => setTimeout(r, 100));
  assert.equal(resultsOf(peer).filter((m) => m.job_id === 'j-1').length, 1);
});

test('pongs are answered while a slow job runs', async () => {
  const { peer } = await setup({ embedder: new StubEmbedder({ delayMs: 3000 }) });
  server!.sendJob(peer, 'j-slow', download);
  // Each ping is answered while the job is still running (no result yet): the property, with
  // no bound on how fast, which a loaded machine could break.
  for (let i = 0; i < 5; i++) {
    const before = peer.messages.filter((m) => m.type === 'pong').length;
    server!.sendRaw(peer, '{"type":"ping"}');
    await server!.waitFor(() => peer.messages.filter((m) => m.type === 'pong').length > before || resultsOf(peer).length > 0, 5000, 'pong');
    assert.equal(resultsOf(peer).length, 0, `pong ${i + 1} came while the job was running`);
  }
  await new Promise<void>((resolve) => {
    peer.ws.once('pong', () => resolve());
    peer.ws.ping();
  });
  assert.equal(resultsOf(peer).length, 0, 'the WebSocket-level ping was answered while the job was running');
  await server!.waitForMessage(peer, (m) => m.type === 'result', 5000);
});

test('a socket dropped mid-job: the job is abandoned, its folder removed, and the worker reconnects', async () => {
  const { peer } = await setup({ embedder: new StubEmbedder({ delayMs: 2000 }) });
  let finished: { status: string; sent: boolean } | null = null;
  worker!.on('job-finished', (e) => (finished = e));
  server!.sendJob(peer, 'j-drop', download);
  await new Promise((r) => setTimeout(r, 200));
  peer.ws.terminate();
  const peer2 = await server!.waitFor(() => server!.openPeers().find((p) => p !== peer), 5000, 'reconnect');
  await server!.waitFor(() => finished, 5000, 'job end');
  assert.equal(finished!.sent, false);
  assert.deepEqual((await readdir(join(tmp, 'chaarfm-worker'))).length, 0);
  server!.sendJob(peer2, 'j-next', download);
  await server!.waitForMessage(peer2, (m) => m.type === 'result' && m.status === 'success');
});

test('reconnects after the server restarts, with the backoff and a logged reason', async () => {
  const lines: string[] = [];
  const { createLogger } = await import('../src/log/logger.js');
  const logger = createLogger({ format: 'json', stream: { write: (s: string) => lines.push(s) } });
  await setup({ logger });
  const disconnects: { reason: string; willRetryInMs: number | null }[] = [];
  worker!.on('disconnected', (e) => disconnects.push(e));
  await server!.stop();
  await new Promise((r) => setTimeout(r, 400));
  await server!.restart();
  const [peer] = await server!.waitForPeers(1, 5000);
  server!.sendJob(peer, 'j-r', download);
  await server!.waitForMessage(peer, (m) => m.type === 'result' && m.status === 'success');
  assert.ok(disconnects.length >= 2, `${disconnects.length} disconnects`);
  assert.deepEqual(
    disconnects.slice(0, 3).map((d) => d.willRetryInMs),
    [50, 75, 112.5].slice(0, Math.min(3, disconnects.length)),
  );
  assert.ok(disconnects.some((d) => /refused/.test(d.reason)), JSON.stringify(disconnects));
  assert.ok(lines.some((l) => /reconnecting in/.test(l)));
});

test('keep-alive hits /api/keepalive while connected; a 404 is harmless', async () => {
  const { peer } = await setup({ keepaliveMs: 100 });
  await server!.waitFor(() => server!.keepaliveHits >= 2, 5000, 'keep-alive');
  server!.sendRaw(peer, '{"type":"ping"}');
  await server!.waitForMessage(peer, (m) => m.type === 'pong');
});

test('--jobs 3 opens three sockets that run three jobs at once', async () => {
  const embedder = new StubEmbedder({ delayMs: 600 });
  server = await FakeServer.start();
  worker = await startWorker({ url: server.url, code: 'C3', jobs: 3, tmpDir: tmp, embedder, media: new StubMedia() });
  const peers = await server.waitForPeers(3);
  const hellos = await Promise.all(peers.map((p) => server!.waitForMessage(p, (m) => m.type === 'hello')));
  assert.deepEqual(new Set(hellos.map((h) => (h.worker as { name: string }).name)).size, 3);
  peers.forEach((p, i) => server!.sendJob(p, `j${i}`, { ...download, title: `t${i}` }));
  await Promise.all(peers.map((p) => server!.waitForMessage(p, (m) => m.type === 'result' && m.status === 'success')));
  assert.equal(embedder.maxRunning, 3);
  assert.equal(worker.connectedCount(), 3);
});

test('stop() closes the sockets, abandons the job in hand and leaves no temp folder', async () => {
  const { peer } = await setup({ embedder: new StubEmbedder({ delayMs: 5000 }) });
  server!.sendJob(peer, 'j-stop', download);
  await new Promise((r) => setTimeout(r, 100));
  const t0 = Date.now();
  await worker!.stop();
  assert.ok(Date.now() - t0 < 2000);
  await server!.waitFor(() => peer.closed, 2000, 'close');
  assert.equal(resultsOf(peer).length, 0);
  assert.deepEqual(await readdir(join(tmp, 'chaarfm-worker')), []);
});

test('a job failed on the source\'s limits is announced with rate_limited just before its failed result', async () => {
  const { YouTubeLimitError } = await import('../src/media/youtube-gate.js');
  const { JobError } = await import('../src/worker/job-error.js');
  const media = new StubMedia();
  let limited = true;
  media.fetch = async () => {
    throw limited ? new YouTubeLimitError('HTTP 429 Too Many Requests') : new JobError('Download failed: Video unavailable');
  };
  const { peer } = await setup({ media });
  server!.sendJob(peer, 'j-lim', download);
  const r = await server!.waitForMessage(peer, (m) => m.type === 'result');
  const i = peer.messages.indexOf(r);
  assert.deepEqual(peer.messages[i - 1], { type: 'rate_limited', job_id: 'j-lim', reason: 'Download failed: YouTube is limiting this worker (HTTP 429 Too Many Requests)' });
  assert.deepEqual(r, { type: 'result', job_id: 'j-lim', status: 'failed', error: 'Download failed: YouTube is limiting this worker (HTTP 429 Too Many Requests)' });
  // an ordinary failure is not announced
  limited = false;
  server!.sendJob(peer, 'j-plain', download);
  await server!.waitForMessage(peer, (m) => m.type === 'result' && m.job_id === 'j-plain');
  assert.equal(peer.messages.filter((m) => m.type === 'rate_limited').length, 1);
});

test('the default yt-dlp media: --yt-dlp-arg values reach yt-dlp, and a yt-dlp without a usable JS runtime is one warning at start', { skip: process.platform === 'win32' && 'its stand-in yt-dlp is a #!/bin/sh script, which Windows cannot run' }, async () => {
  const { writeFile, readFile, chmod, mkdir } = await import('node:fs/promises');
  const { fileURLToPath } = await import('node:url');
  const { createLogger } = await import('../src/log/logger.js');
  const fakeJs = fileURLToPath(new URL('../../test/fixtures/fake-ytdlp.mjs', import.meta.url));
  const dir = join(tmp, 'fake-ytdlp');
  await mkdir(dir, { recursive: true });
  const argvLog = join(dir, 'argv.jsonl');
  await writeFile(join(dir, 'sc.json'), JSON.stringify({ version: '2023.03.04', argvLog, download: { info: { id: 'dQw4w9WgXcQ', title: 'T' } } }));
  const bin = join(dir, 'yt-dlp');
  await writeFile(bin, `#!/bin/sh\nFAKE_YTDLP_SCENARIO='${join(dir, 'sc.json')}' exec '${process.execPath}' '${fakeJs}' "$@"\n`);
  await chmod(bin, 0o755);
  const lines: string[] = [];
  const logger = createLogger({ format: 'json', stream: { write: (s: string) => (lines.push(s), true) } as never });
  const { peer } = await setup({ media: undefined, ytdlpPath: bin, ytdlpArgs: ['--plugin-dirs=/opt/p'], youtubeGapMs: 0, logger });
  const warnings = () => lines.map((l) => JSON.parse(l) as { level: string; msg: string }).filter((l) => l.level === 'warn');
  const warns = await waitUntil(() => warnings().length > 0 && warnings(), 20_000, 'the runtime warning');
  assert.equal(warns.length, 1);
  assert.ok(isLogEvent(warns[0].msg, LogEvent.ytdlpNoJsRuntime), warns[0].msg);
  assert.match(warns[0].msg, /: yt-dlp 2023\.03\.04 at .*yt-dlp has no --js-runtimes, so it cannot solve YouTube's JavaScript challenges: .*; use a current yt-dlp$/);
  server!.sendJob(peer, 'j-args', { artist: null, title: null, youtube_url: 'https://www.youtube.com/watch?v=dQw4w9WgXcQ', table_name: null });
  const r = await server!.waitForMessage(peer, (m) => m.type === 'result');
  assert.equal(r.status, 'success', JSON.stringify(r));
  const runs = (await readFile(argvLog, 'utf8')).trim().split('\n').map((l) => JSON.parse(l) as string[]);
  const dl = runs.find((a) => a.includes('--print'))!;
  assert.deepEqual(dl.slice(0, 2), ['--ignore-config', '--plugin-dirs=/opt/p']);
});

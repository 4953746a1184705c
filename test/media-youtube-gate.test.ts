// SPDX-License-Identifier: MIT
/**
 * Tests of src/media/youtube-gate.ts on a fake clock: turns spaced by the gap over all callers,
 * a pause that holds every turn and grows (and does not grow again for callers meeting the same
 * limit during it), back to the start after a run that got through; the limit lines of the real
 * yt-dlp; which targets are YouTube.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SourceLimitError, JobError } from '../src/worker/job-error.js';
import { YouTubeGate, YouTubeLimitError, isYouTubeTarget, youtubeLimitReason } from '../src/media/youtube-gate.js';

/** A clock that moves only when a turn waits: each wait jumps it forward. */
function fakeClock() {
  let t = 1_000_000;
  const waits: number[] = [];
  return {
    now: () => t,
    wait: async (ms: number, signal?: AbortSignal) => {
      signal?.throwIfAborted();
      waits.push(ms);
      t += ms;
    },
    waits,
    advance: (ms: number) => (t += ms),
    get t() {
      return t;
    },
  };
}

test('turns start gapMs apart over every caller', async () => {
  const c = fakeClock();
  const gate = new YouTubeGate({ gapMs: 2000, now: c.now, wait: c.wait });
  const start = c.t;
  const starts: number[] = [];
  for (let i = 0; i < 3; i++) {
    await gate.turn();
    starts.push(c.t - start);
  }
  assert.deepEqual(starts, [0, 2000, 4000]);
  c.advance(10_000);
  await gate.turn();
  assert.deepEqual(c.waits, [2000, 2000], 'a turn long after the last one does not wait');
});

test('a pause holds every turn and grows 1 min, 2 min, 4 min, ... up to 10 min; a run that got through resets it', async () => {
  const c = fakeClock();
  const gate = new YouTubeGate({ gapMs: 0, now: c.now, wait: c.wait });
  const pauses: number[] = [];
  for (let i = 0; i < 6; i++) {
    pauses.push(gate.pause());
    assert.equal(gate.pausedUntil, c.t + pauses.at(-1)!);
    await gate.turn();
  }
  assert.deepEqual(pauses, [60_000, 120_000, 240_000, 480_000, 600_000, 600_000]);
  assert.deepEqual(c.waits, pauses, 'each turn waited out its pause');
  gate.passed();
  assert.equal(gate.pause(), 60_000);
});

test('callers meeting the same limit during a pause do not grow it', () => {
  const c = fakeClock();
  const gate = new YouTubeGate({ now: c.now, wait: c.wait });
  assert.equal(gate.pause(), 60_000);
  c.advance(10_000);
  assert.equal(gate.pause(), 50_000, 'the rest of the same pause');
  c.advance(50_001);
  assert.equal(gate.pause(), 120_000, 'a new limit after the pause grows it');
});

test('an aborted wait rejects with the reason', async () => {
  const gate = new YouTubeGate({ gapMs: 60_000 });
  await gate.turn();
  const ac = new AbortController();
  const reason = new Error('job timeout');
  const waiting = gate.turn(ac.signal);
  ac.abort(reason);
  await assert.rejects(waiting, (e) => e === reason);
});

test('rejects bad settings', () => {
  assert.throws(() => new YouTubeGate({ gapMs: -1 }), RangeError);
  assert.throws(() => new YouTubeGate({ initialPauseMs: 0 }), RangeError);
  assert.throws(() => new YouTubeGate({ initialPauseMs: 10, maxPauseMs: 5 }), RangeError);
});

test('knows the real yt-dlp lines of YouTube\'s limits, and nothing else', () => {
  const bot = "ERROR: [youtube] dQw4w9WgXcQ: Sign in to confirm you’re not a bot. Use --cookies-from-browser or --cookies for the authentication. See  https://github.com/yt-dlp/yt-dlp/wiki/FAQ#how-do-i-pass-cookies-to-yt-dlp  for how to manually pass cookies. Also see  https://github.com/yt-dlp/yt-dlp/wiki/Extractors#exporting-youtube-cookies  for tips on effectively exporting YouTube cookies";
  const later = "ERROR: [youtube] dQw4w9WgXcQ: Video unavailable. This content isn't available, try again later. The current session has been rate-limited by YouTube for up to an hour. It is recommended to use `-t sleep` to add a delay between video requests to avoid exceeding the rate limit.";
  const http = 'ERROR: [youtube] dQw4w9WgXcQ: Unable to download API page: HTTP Error 429: Too Many Requests (caused by <HTTPError 429: Too Many Requests>)';
  assert.equal(youtubeLimitReason([bot]), "Sign in to confirm you're not a bot");
  assert.equal(youtubeLimitReason([later]), 'try again later');
  assert.equal(youtubeLimitReason([http]), 'HTTP 429 Too Many Requests');
  assert.equal(youtubeLimitReason(['ERROR: [youtube] dQw4w9WgXcQ: Video unavailable. This video is private']), null);
  assert.equal(youtubeLimitReason(['ERROR: [generic] x: HTTP Error 404: Not Found']), null);
  const e = new YouTubeLimitError('try again later');
  assert.ok(e instanceof SourceLimitError && e instanceof JobError);
  assert.equal(e.message, 'Download failed: YouTube is limiting this worker (try again later)');
});

test('YouTube targets: searches and youtube.com / youtu.be URLs', () => {
  for (const t of ['ytsearch1:a b lyrics', 'ytsearch200:jazz music playlist', 'https://www.youtube.com/watch?v=x', 'https://music.youtube.com/watch?v=x', 'https://youtu.be/x'])
    assert.equal(isYouTubeTarget(t), true, t);
  for (const t of ['http://127.0.0.1:8000/a.mp3', 'https://notyoutube.com/x', 'https://youtube.com.evil.example/x', 'garbage'])
    assert.equal(isYouTubeTarget(t), false, t);
});

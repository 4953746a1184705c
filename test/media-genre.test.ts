// SPDX-License-Identifier: MIT
/**
 * Tests of src/media/genre.ts: the pure filter and sampling steps, and the whole fetch_genre
 * job against the stand-in test/fixtures/fake-ytdlp.mjs, which replays flat-search JSON and
 * per-video JSON of the real yt-dlp's shape.
 */
import { test, after, before } from 'node:test';
import assert from 'node:assert/strict';
import { chmod, mkdtemp, mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { JobContext } from '../src/media/media.js';
import type { GenrePayload } from '../src/protocol/messages.js';
import {
  DEFAULT_QUALITY,
  fetchGenre,
  mergeQualityConfig,
  mulberry32,
  passesQuality,
  relaxQualityConfig,
  sampleByTiers,
  searchCount,
  selectQualityTracks,
  tierSizes,
  trackFromInfo,
  type GenreTrack,
} from '../src/media/genre.js';
import { JobError } from '../src/worker/job-error.js';
import { silentLogger } from '../src/log/logger.js';

const FAKE = fileURLToPath(new URL('../../test/fixtures/fake-ytdlp.mjs', import.meta.url));
const posix = process.platform !== 'win32';
const cfg = mergeQualityConfig(null);

let root: string;
before(async () => {
  root = await mkdtemp(join(tmpdir(), 'chaarfm-genre-'));
});
after(async () => {
  await rm(root, { recursive: true, force: true });
});

const track = (id: string, views: number, likes = views / 10, duration: number | null = 200): GenreTrack => ({
  id, title: id, artist: null, views, likes, duration,
});
/** `n` passing tracks, views 1000*(i+1) for i = 0..n-1, in a shuffled order. */
const ladder = (n: number): GenreTrack[] =>
  Array.from({ length: n }, (_, i) => track(`v${String(i).padStart(3, '0')}`, 1000 * (i + 1))).sort((a, b) => (a.id.charCodeAt(3) % 3) - (b.id.charCodeAt(3) % 3));

test('lists min(limit*3 if limit else 100, 200) search results', () => {
  assert.equal(searchCount(null), 100);
  assert.equal(searchCount(0), 100);
  assert.equal(searchCount(10), 30);
  assert.equal(searchCount(66), 198);
  assert.equal(searchCount(100), 200);
});

test('overlays quality_config on the spec defaults', () => {
  assert.deepEqual(DEFAULT_QUALITY, {
    min_views: 1000, min_likes: 10, min_like_ratio: 0.001, min_duration: 60, max_duration: 600,
    diversity_top_pct: 0.2, diversity_mid_pct: 0.6, diversity_bottom_pct: 0.2,
  });
  assert.deepEqual(mergeQualityConfig({ min_views: 5, max_duration: 300 }), { ...DEFAULT_QUALITY, min_views: 5, max_duration: 300 });
});

test('thresholds are inclusive; a missing duration fails', () => {
  assert.ok(passesQuality(track('a', 1000, 10, 60), cfg));
  assert.ok(passesQuality(track('a', 10000, 10, 600), cfg), 'ratio exactly 0.001');
  assert.ok(!passesQuality(track('a', 999, 10, 200), cfg), 'views');
  assert.ok(!passesQuality(track('a', 1000, 9, 200), cfg), 'likes');
  assert.ok(!passesQuality(track('a', 20000, 19, 200), cfg), 'like ratio');
  assert.ok(!passesQuality(track('a', 1000, 10, 59.5), cfg), 'too short');
  assert.ok(!passesQuality(track('a', 1000, 10, 600.5), cfg), 'too long');
  assert.ok(!passesQuality(track('a', 1000, 10, null), cfg), 'no duration');
});

test('relaxes views, likes and like ratio 10x once when none pass, not the durations', () => {
  assert.deepEqual(relaxQualityConfig(cfg), { ...cfg, min_views: 100, min_likes: 1, min_like_ratio: 0.0001 });
  const weak = [track('a', 150, 2), track('b', 50, 2), track('c', 500, 5, 30), track('d', 900, 0)];
  assert.deepEqual(selectQualityTracks(weak, cfg), { tracks: [weak[0]], relaxed: true });
  const mixed = [...weak, track('e', 5000, 100)];
  assert.deepEqual(selectQualityTracks(mixed, cfg), { tracks: [mixed[4]], relaxed: false }, 'no relaxing when one passes');
  assert.deepEqual(selectQualityTracks([], cfg), { tracks: [], relaxed: false });
});

test('splits 20/60/20 and samples a limit in those proportions', () => {
  assert.deepEqual(tierSizes(50, cfg), [10, 30, 10]);
  assert.deepEqual(tierSizes(10, cfg), [2, 6, 2]);
  assert.deepEqual(tierSizes(1, cfg), [0, 1, 0]);
  const all = ladder(50);
  const got = sampleByTiers(all, 10, cfg, mulberry32(7));
  assert.equal(got.length, 10);
  assert.deepEqual(got.map((t) => t.views), got.map((t) => t.views).sort((a, b) => b - a), 'view order');
  const rank = (t: GenreTrack) => 50 - t.views / 1000; // 0 = most viewed
  assert.equal(got.filter((t) => rank(t) < 10).length, 2, 'top 20%');
  assert.equal(got.filter((t) => rank(t) >= 10 && rank(t) < 40).length, 6, 'middle 60%');
  assert.equal(got.filter((t) => rank(t) >= 40).length, 2, 'bottom 20%');
  assert.equal(new Set(got).size, 10);
  assert.deepEqual(sampleByTiers(all, 10, cfg, mulberry32(7)), got, 'the same seed gives the same sample');
  assert.notDeepEqual(sampleByTiers(all, 10, cfg, mulberry32(8)), got);
});

test('takes all tracks, by views, with no limit or a limit above the count', () => {
  const all = ladder(7);
  const byViews = all.slice().sort((a, b) => b.views - a.views);
  assert.deepEqual(sampleByTiers(all, null, cfg, mulberry32(1)), byViews);
  assert.deepEqual(sampleByTiers(all, 0, cfg, mulberry32(1)), byViews);
  assert.deepEqual(sampleByTiers(all, 7, cfg, mulberry32(1)), byViews);
  assert.deepEqual(sampleByTiers(all, 99, cfg, mulberry32(1)), byViews);
});

test('fills a short tier from the middle, then the top', () => {
  // 3 tracks: tiers [1, 1, 1]; a limit of 2 asks [0, 2, 0]; the middle has 1, the top gives the other.
  assert.deepEqual(tierSizes(3, cfg), [1, 1, 1]);
  assert.deepEqual(tierSizes(2, cfg), [0, 2, 0]);
  const got = sampleByTiers(ladder(3), 2, cfg, mulberry32(3));
  assert.deepEqual(got.map((t) => t.views), [3000, 2000]);
  const noBottom = { ...cfg, diversity_top_pct: 1, diversity_mid_pct: 3, diversity_bottom_pct: 0 };
  assert.deepEqual(tierSizes(8, noBottom), [2, 6, 0], 'percentages are normalised to sum 1');
});

test('reads a track from yt-dlp info, with missing counts as 0', () => {
  assert.deepEqual(trackFromInfo({ id: 'abc_-123XYZ', title: 'T', uploader: 'U', view_count: 5, like_count: null, duration: 61.5 }), {
    id: 'abc_-123XYZ', title: 'T', artist: 'U', views: 5, likes: 0, duration: 61.5,
  });
  assert.equal(trackFromInfo({ title: 'no id' }), null);
  assert.equal(trackFromInfo({ id: 'bad id/../x' }), null);
});

// ---- the whole job through the stand-in yt-dlp ----

interface Video { id: string; views: number; likes: number | null; duration: number; unavailable?: boolean }

let fakes = 0;
async function fake(videos: Video[], extra: Record<string, unknown> = {}): Promise<{ bin: string; argv: () => Promise<string[][]> }> {
  const dir = join(root, `fake-${fakes++}`);
  await mkdir(dir);
  const argvLog = join(dir, 'argv.jsonl');
  const scenario = {
    argvLog,
    search: { entries: videos.map((v) => ({ id: v.id, title: `Song ${v.id}`, duration: v.duration, view_count: v.views, channel: 'Chan' })) },
    videos: Object.fromEntries(videos.map((v) => [v.id, v.unavailable ? null : { title: `Song ${v.id}`, uploader: 'Chan', view_count: v.views, like_count: v.likes, duration: v.duration }])),
    ...extra,
  };
  await writeFile(join(dir, 'scenario.json'), JSON.stringify(scenario));
  const bin = join(dir, 'yt-dlp');
  await writeFile(bin, `#!/bin/sh\nFAKE_YTDLP_SCENARIO='${join(dir, 'scenario.json')}' exec '${process.execPath}' '${FAKE}' "$@"\n`);
  await chmod(bin, 0o755);
  return { bin, argv: async () => (await readFile(argvLog, 'utf8')).trim().split('\n').map((l) => JSON.parse(l) as string[]) };
}

function ctx(): JobContext & { progress: number[] } {
  const progress: number[] = [];
  return { workDir: root, signal: new AbortController().signal, log: silentLogger, onProgress: (_s, f) => progress.push(f), progress };
}

const id = (i: number) => `vid${String(i).padStart(8, '0')}`;
const payload = (genre: string, limit: number | null, quality_config: GenrePayload['quality_config'] = null): GenrePayload => ({
  job_type: 'fetch_genre', genre, limit, quality_config,
});

test('runs the flat search, looks each video up in batches, filters and returns watch URLs', { skip: !posix }, async () => {
  const videos: Video[] = [
    { id: id(0), views: 90000, likes: 900, duration: 200 },
    { id: id(1), views: 50000, likes: null, duration: 200 }, // likes hidden: fails min_likes
    { id: id(2), views: 40000, likes: 400, duration: 30 }, // too short
    { id: id(3), views: 30000, likes: 300, duration: 240, unavailable: true },
    { id: id(4), views: 20000, likes: 200, duration: 300 },
    { id: id(5), views: 500, likes: 50, duration: 300 }, // too few views
    { id: id(6), views: 99999, likes: 999, duration: 200 }, // beyond N = 2*3
  ];
  const { bin, argv } = await fake(videos);
  const c = ctx();
  const got = await fetchGenre(bin, payload('lofi hip hop', 2), c, { batchSize: 2, concurrency: 2, rng: mulberry32(1) });
  assert.deepEqual(got, {
    genre: 'lofi hip hop',
    tracks: [{ youtube_url: `https://www.youtube.com/watch?v=${id(0)}` }, { youtube_url: `https://www.youtube.com/watch?v=${id(4)}` }],
  });
  const runs = await argv();
  const search = runs.find((a) => a.includes('--flat-playlist'))!;
  assert.ok(search.includes('-J'));
  assert.equal(search.at(-1), 'ytsearch6:lofi hip hop music playlist');
  const lookups = runs.filter((a) => a.includes('-j'));
  assert.equal(lookups.length, 3, 'six entries in batches of two');
  assert.deepEqual(lookups.flatMap((a) => a.filter((x) => x.startsWith('https://'))).sort(), videos.slice(0, 6).map((v) => `https://www.youtube.com/watch?v=${v.id}`));
  assert.equal(c.progress.at(-1), 1);
});

test('returns all passing tracks by views when the limit is null', { skip: !posix }, async () => {
  const videos: Video[] = Array.from({ length: 12 }, (_, i) => ({ id: id(i), views: 2000 + 1000 * ((i * 7) % 12), likes: 100, duration: 180 }));
  videos[3].duration = 700;
  const { bin, argv } = await fake(videos);
  const got = await fetchGenre(bin, payload('jazz', null), ctx(), { rng: mulberry32(2) });
  const want = videos.filter((v) => v.duration <= 600).sort((a, b) => b.views - a.views).map((v) => ({ youtube_url: `https://www.youtube.com/watch?v=${v.id}` }));
  assert.deepEqual(got.tracks, want);
  assert.equal((await argv()).find((a) => a.includes('--flat-playlist'))!.at(-1), 'ytsearch100:jazz music playlist');
});

test('relaxes the thresholds once when no track passes, and honours quality_config', { skip: !posix }, async () => {
  const videos: Video[] = [
    { id: id(0), views: 1500, likes: 4, duration: 200 },
    { id: id(1), views: 90, likes: 4, duration: 200 },
    { id: id(2), views: 5000, likes: 60, duration: 200 },
  ];
  const { bin } = await fake(videos);
  const strict = await fetchGenre(bin, payload('dub', null, { min_views: 1000, min_likes: 50 }), ctx());
  assert.deepEqual(strict.tracks, [{ youtube_url: `https://www.youtube.com/watch?v=${id(2)}` }]);
  const relaxed = await fetchGenre(bin, payload('dub', null, { min_views: 10000 }), ctx());
  assert.deepEqual(relaxed.tracks.map((t) => t.youtube_url.slice(-11)), [id(2), id(0)], 'min_views 1000, min_likes 1 after relaxing');
  const none = await fetchGenre(bin, payload('dub', null, { min_views: 1e9 }), ctx());
  assert.deepEqual(none, { genre: 'dub', tracks: [] });
});

test('samples limit tracks 20/60/20 from the sorted passing tracks', { skip: !posix }, async () => {
  const videos: Video[] = Array.from({ length: 30 }, (_, i) => ({ id: id(i), views: 10000 * (30 - i), likes: 1000, duration: 200 }));
  const { bin } = await fake(videos);
  const got = await fetchGenre(bin, payload('techno', 10), ctx(), { rng: mulberry32(5) });
  const ranks = got.tracks.map((t) => Number(t.youtube_url.slice(-8)));
  assert.equal(ranks.length, 10);
  assert.deepEqual(ranks, ranks.slice().sort((a, b) => a - b));
  assert.equal(ranks.filter((r) => r < 6).length, 2);
  assert.equal(ranks.filter((r) => r >= 6 && r < 24).length, 6);
  assert.equal(ranks.filter((r) => r >= 24).length, 2);
});

test('a failed search fails the job with "Download failed: genre search failed"', { skip: !posix }, async () => {
  const { bin } = await fake([], { search: { error: 'Unable to download API page: HTTP Error 429: Too Many Requests' } });
  await assert.rejects(fetchGenre(bin, payload('house', 5), ctx()), (e) => {
    assert.ok(e instanceof JobError);
    assert.equal(e.message, 'Download failed: genre search failed: Unable to download API page: HTTP Error 429: Too Many Requests');
    return true;
  });
});

test('an aborted genre fetch rejects with the abort reason', { skip: !posix }, async () => {
  const { bin } = await fake([{ id: id(0), views: 5000, likes: 50, duration: 200 }]);
  const reason = new Error('shutdown');
  await assert.rejects(fetchGenre(bin, payload('ska', 1), { ...ctx(), signal: AbortSignal.abort(reason) }), (e) => e === reason);
});

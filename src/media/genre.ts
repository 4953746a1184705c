// SPDX-License-Identifier: MIT
/**
 * The `fetch_genre` job (protocol.md, "Genre fetch"):
 *  1. flat search: `yt-dlp --flat-playlist -J "ytsearch<N>:<genre> music playlist"`,
 *     N = min(limit*3 if limit else 100, 200) (a limit of 0 counts as no limit, as in Python);
 *  2. each entry's metadata with `-j --ignore-errors` over batches of watch URLs, a few
 *     batches at a time (one Python start per batch, not per video); an entry whose lookup
 *     fails is dropped, and per-video fields win over the flat entry's;
 *  3. quality filter with the spec's defaults overlaid by payload.quality_config;
 *     thresholds are inclusive (views >= min_views, likes >= min_likes,
 *     likes/views >= min_like_ratio, min_duration <= duration <= max_duration); a missing count
 *     is 0 and a missing duration fails;
 *  4. if none pass, one relaxed pass: min_views, min_likes and min_like_ratio divided by 10;
 *     the duration bounds stay, since they say what a track is, not how popular it is;
 *  5. sort by views (descending), split into top / middle / bottom tiers by the diversity
 *     percentages (normalised to sum 1) and sample `limit` tracks with the same proportions,
 *     filling a tier's shortfall from the middle, then top, then bottom; no limit → all.
 * The tracks come back in view order. Pure steps are exported for tests; the RNG is injectable.
 */
import type { GenrePayload, GenreResultData, QualityConfig } from '../protocol/messages.js';
import { DOWNLOAD_FAILED, JobError } from '../worker/job-error.js';
import type { JobContext } from './media.js';
import { jobRun, jsRuntimeArgs, runYtDlp, ytdlpErrorReason } from './ytdlp-binary.js';
import type { YtDlpRun } from './ytdlp-media.js';

export type FullQualityConfig = Required<QualityConfig>;

export const DEFAULT_QUALITY: Readonly<FullQualityConfig> = Object.freeze({
  min_views: 1000,
  min_likes: 10,
  min_like_ratio: 0.001,
  min_duration: 60,
  max_duration: 600,
  diversity_top_pct: 0.2,
  diversity_mid_pct: 0.6,
  diversity_bottom_pct: 0.2,
});

export interface GenreTrack {
  id: string;
  title: string | null;
  artist: string | null;
  views: number;
  likes: number;
  duration: number | null;
}

export interface GenreOptions {
  /** yt-dlp processes at a time for the per-video lookups (default 3). */
  concurrency?: number;
  /** Videos per yt-dlp process (default 10). */
  batchSize?: number;
  /** Uniform [0, 1) source for sampling (default Math.random). */
  rng?: () => number;
  /** How a yt-dlp run is made (ytdlp-media.ts: the YouTube gate, the user's args); default a plain run. */
  run?: YtDlpRun;
}

/** How many search results to list. */
export function searchCount(limit: number | null): number {
  return Math.min(limit ? limit * 3 : 100, 200);
}

export function mergeQualityConfig(qc: QualityConfig | null | undefined): FullQualityConfig {
  const out: FullQualityConfig = { ...DEFAULT_QUALITY };
  for (const [k, v] of Object.entries(qc ?? {}) as [keyof QualityConfig, unknown][])
    if (k in out && typeof v === 'number' && Number.isFinite(v)) out[k] = v;
  return out;
}

/** The one relaxed pass: popularity thresholds divided by 10, duration bounds unchanged. */
export function relaxQualityConfig(cfg: FullQualityConfig): FullQualityConfig {
  return { ...cfg, min_views: cfg.min_views / 10, min_likes: cfg.min_likes / 10, min_like_ratio: cfg.min_like_ratio / 10 };
}

export function passesQuality(t: GenreTrack, cfg: FullQualityConfig): boolean {
  const ratio = t.views > 0 ? t.likes / t.views : 0;
  return (
    t.views >= cfg.min_views &&
    t.likes >= cfg.min_likes &&
    ratio >= cfg.min_like_ratio &&
    t.duration !== null &&
    t.duration >= cfg.min_duration &&
    t.duration <= cfg.max_duration
  );
}

/** Tracks that pass `cfg`, or, if none do, those that pass the relaxed config. */
export function selectQualityTracks(tracks: GenreTrack[], cfg: FullQualityConfig): { tracks: GenreTrack[]; relaxed: boolean } {
  const strict = tracks.filter((t) => passesQuality(t, cfg));
  if (strict.length > 0 || tracks.length === 0) return { tracks: strict, relaxed: false };
  const loose = relaxQualityConfig(cfg);
  return { tracks: tracks.filter((t) => passesQuality(t, loose)), relaxed: true };
}

function weights(cfg: FullQualityConfig): [number, number, number] {
  const w = [cfg.diversity_top_pct, cfg.diversity_mid_pct, cfg.diversity_bottom_pct].map((x) => (x > 0 ? x : 0));
  const sum = w[0] + w[1] + w[2];
  if (sum <= 0) return [0.2, 0.6, 0.2];
  return [w[0] / sum, w[1] / sum, w[2] / sum];
}

/** Split `n` into [top, middle, bottom] counts by the normalised weights. */
export function tierSizes(n: number, cfg: FullQualityConfig): [number, number, number] {
  const [t, , b] = weights(cfg);
  const top = Math.min(n, Math.round(n * t));
  const bottom = Math.min(n - top, Math.round(n * b));
  return [top, n - top - bottom, bottom];
}

function pick<T>(items: T[], k: number, rng: () => number): T[] {
  const a = items.slice();
  const n = Math.min(k, a.length);
  for (let i = 0; i < n; i++) {
    const j = i + Math.floor(rng() * (a.length - i));
    [a[i], a[j]] = [a[j], a[i]];
  }
  return a.slice(0, n);
}

/**
 * Sort by views and sample `limit` in the tier proportions (all when `limit` is null or 0).
 * Returns the sample in view order.
 */
export function sampleByTiers(tracks: GenreTrack[], limit: number | null, cfg: FullQualityConfig, rng: () => number = Math.random): GenreTrack[] {
  const sorted = tracks.slice().sort((a, b) => b.views - a.views);
  if (!limit || limit >= sorted.length) return sorted;
  const [nt, nm] = tierSizes(sorted.length, cfg);
  const tiers = [sorted.slice(0, nt), sorted.slice(nt, nt + nm), sorted.slice(nt + nm)];
  const quota = tierSizes(limit, cfg);
  const take = quota.map((q, i) => Math.min(q, tiers[i].length));
  let short = limit - take[0] - take[1] - take[2];
  for (const i of [1, 0, 2]) {
    const extra = Math.min(short, tiers[i].length - take[i]);
    take[i] += extra;
    short -= extra;
  }
  const chosen = new Set(tiers.flatMap((tier, i) => pick(tier, take[i], rng)));
  return sorted.filter((t) => chosen.has(t));
}

function num(v: unknown): number | null {
  return typeof v === 'number' && Number.isFinite(v) ? v : null;
}

function text(v: unknown): string | null {
  return typeof v === 'string' && v.trim() !== '' ? v : null;
}

/** A yt-dlp info object (flat entry or full) as a GenreTrack; null without a usable id. */
export function trackFromInfo(info: Record<string, unknown>): GenreTrack | null {
  const id = text(info.id);
  if (!id || !/^[\w-]+$/.test(id)) return null;
  return {
    id,
    title: text(info.title),
    artist: text(info.artist) ?? text(info.uploader) ?? text(info.channel),
    views: num(info.view_count) ?? 0,
    likes: num(info.like_count) ?? 0,
    duration: num(info.duration),
  };
}

export { mulberry32 } from '../util/random.js';

export function watchUrl(id: string): string {
  return `https://www.youtube.com/watch?v=${id}`;
}

async function flatSearch(run: YtDlpRun, query: string, js: string[]): Promise<Record<string, unknown>[]> {
  let out = '';
  const r = await run(['--ignore-config', '--flat-playlist', '-J', ...js, '--', query], {
    target: query,
    onStdoutLine: (l) => (out += l + '\n'),
  });
  if (r.code !== 0) throw new JobError(`${DOWNLOAD_FAILED}: genre search failed: ${ytdlpErrorReason(r)}`);
  let parsed: unknown;
  try {
    parsed = JSON.parse(out);
  } catch {
    throw new JobError(`${DOWNLOAD_FAILED}: genre search failed: yt-dlp printed no JSON`);
  }
  const entries = (parsed as { entries?: unknown } | null)?.entries;
  return Array.isArray(entries) ? entries.filter((e): e is Record<string, unknown> => typeof e === 'object' && e !== null) : [];
}

async function lookupBatch(run: YtDlpRun, ids: string[], js: string[], ctx: JobContext): Promise<Map<string, Record<string, unknown>>> {
  const found = new Map<string, Record<string, unknown>>();
  const args = ['--ignore-config', '--no-playlist', '-j', '--ignore-errors', '--ignore-no-formats-error', ...js, '--', ...ids.map(watchUrl)];
  const r = await run(args, {
    target: watchUrl(ids[0]),
    onStdoutLine: (l) => {
      if (!l.startsWith('{')) return;
      try {
        const info = JSON.parse(l) as Record<string, unknown>;
        if (typeof info.id === 'string') found.set(info.id, info);
      } catch {
        /* a line that is not JSON: ignore */
      }
    },
  });
  if (r.code !== 0) ctx.log.debug('some genre lookups failed', { missing: ids.length - found.size, reason: ytdlpErrorReason(r) });
  return found;
}

export async function fetchGenre(bin: string, payload: GenrePayload, ctx: JobContext, opts: GenreOptions = {}): Promise<GenreResultData> {
  const cfg = mergeQualityConfig(payload.quality_config);
  const n = searchCount(payload.limit);
  const js = await jsRuntimeArgs(bin);
  const run: YtDlpRun = opts.run ?? ((args, o) => runYtDlp(bin, args, { ...jobRun(ctx), onStdoutLine: o.onStdoutLine }));
  const entries = await flatSearch(run, `ytsearch${n}:${payload.genre} music playlist`, js);
  const flat = new Map<string, Record<string, unknown>>();
  for (const e of entries) if (typeof e.id === 'string' && /^[\w-]+$/.test(e.id) && !flat.has(e.id) && flat.size < n) flat.set(e.id, e);
  ctx.log.info('genre search listed entries', { genre: payload.genre, entries: flat.size });

  const ids = [...flat.keys()];
  const size = Math.max(1, opts.batchSize ?? 10);
  const batches: string[][] = [];
  for (let i = 0; i < ids.length; i += size) batches.push(ids.slice(i, i + size));
  const tracks: GenreTrack[] = [];
  let next = 0;
  let done = 0;
  const worker = async (): Promise<void> => {
    while (next < batches.length) {
      const batch = batches[next++];
      const infos = await lookupBatch(run, batch, js, ctx);
      for (const id of batch) {
        const full = infos.get(id);
        const t = full ? trackFromInfo({ ...flat.get(id), ...full }) : null;
        if (t) tracks.push(t);
      }
      done += batch.length;
      ctx.onProgress('genre', done / ids.length);
    }
  };
  // allSettled: on abort, wait until every yt-dlp started here has exited.
  const runs = Array.from({ length: Math.min(Math.max(1, opts.concurrency ?? 3), batches.length) }, worker);
  const failed = (await Promise.allSettled(runs)).find((s): s is PromiseRejectedResult => s.status === 'rejected');
  if (failed) throw failed.reason;

  const { tracks: good, relaxed } = selectQualityTracks(tracks, cfg);
  if (relaxed) ctx.log.info('no track passed the quality filter; relaxed the thresholds 10x', { passed: good.length });
  if (good.length === 0) ctx.log.warn('no track passed the quality filter', { genre: payload.genre, looked_up: tracks.length });
  const chosen = sampleByTiers(good, payload.limit, cfg, opts.rng);
  return { tracks: chosen.map((t) => ({ youtube_url: watchUrl(t.id) })), genre: payload.genre };
}

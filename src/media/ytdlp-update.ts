// SPDX-License-Identifier: MIT
/**
 * Keeping yt-dlp current: YouTube breaks old yt-dlp every few weeks.
 *  - A yt-dlp's age is the date in its version (`2026.08.19`, nightlies `2026.08.19.232500`).
 *    One on PATH older than {@link PATH_MAX_AGE_DAYS} is skipped (ytdlp-binary.ts says why).
 *  - The copy in the cache folder is checked against the release when it was last checked more
 *    than {@link CACHE_CHECK_MS} ago (its mtime: set by the download, touched by a check that
 *    found it current), or at once after a run whose error says the extractor is outdated
 *    ({@link namesOutdatedExtractor}; such forced checks at most once per {@link FORCED_CHECK_MS}).
 *    A check reads SHA2-256SUMS; when our asset's hash differs from the copy's, the new build
 *    is downloaded to a temp file, verified, and renamed over the copy: atomic, so a job that
 *    starts meanwhile runs either the old or the new file, and running ones keep the old one.
 */
import { createHash, randomBytes } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { chmod, mkdir, rename, rm, stat, utimes } from 'node:fs/promises';
import { dirname } from 'node:path';
import { Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { ReadableStream as WebReadableStream } from 'node:stream/web';

export const CACHE_CHECK_MS = 7 * 24 * 3600 * 1000;
export const FORCED_CHECK_MS = 3600 * 1000;
export const PATH_MAX_AGE_DAYS = 90;

/** The release date in a yt-dlp version, or null for a version without one. */
export function releaseDate(version: string): Date | null {
  const m = /^(\d{4})\.(\d{2})\.(\d{2})/.exec(version.trim());
  if (!m) return null;
  const d = new Date(Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3])));
  return Number.isNaN(d.getTime()) ? null : d;
}

/** Whole days from the release in `version` to `now`, or null. */
export function ageDays(version: string, now = Date.now()): number | null {
  const d = releaseDate(version);
  return d ? Math.floor((now - d.getTime()) / 86_400_000) : null;
}

/**
 * Whether yt-dlp's error lines say its extractor no longer matches the site: the bug-report
 * tail yt-dlp adds to unexpected extractor errors ("Confirm you are on the latest version")
 * and the challenge-solving failures that mean a changed player. (Not its "older than 90 days"
 * warning: it comes with every run of a release that age, failed or not.)
 */
export function namesOutdatedExtractor(lines: readonly string[]): boolean {
  return lines.some((l) =>
    /Confirm you are on the latest version|nsig extraction failed|Signature extraction failed|Unable to extract (?:yt initial data|initial player response|nsig|signature)/i.test(l),
  );
}

/** Parse a `sha256sum`-style file; the hash listed for `asset`, lower case, or null. */
export function checksumFor(sums: string, asset: string): string | null {
  for (const line of sums.split(/\r?\n/)) {
    const m = /^([0-9a-fA-F]{64})\s+\*?(.+?)\s*$/.exec(line);
    if (m && m[2] === asset) return m[1].toLowerCase();
  }
  return null;
}

async function expectedHash(base: string, asset: string): Promise<string> {
  const sumsUrl = `${base}/SHA2-256SUMS`;
  const res = await fetch(sumsUrl, { signal: AbortSignal.timeout(60_000) });
  if (!res.ok) throw new Error(`${sumsUrl}: HTTP ${res.status}`);
  const expected = checksumFor(await res.text(), asset);
  if (!expected) throw new Error(`${asset} is not listed in ${sumsUrl}`);
  return expected;
}

async function fileHash(path: string): Promise<string> {
  const h = createHash('sha256');
  await pipeline(createReadStream(path), new Transform({ transform: (c: Buffer, _e, cb) => (h.update(c), cb()) }));
  return h.digest('hex');
}

/** Download `asset` of the release at `base` into `dest`, checked against `expected`, atomically. */
async function download(base: string, asset: string, dest: string, expected: string): Promise<void> {
  await mkdir(dirname(dest), { recursive: true });
  const tmp = `${dest}.${process.pid}-${randomBytes(4).toString('hex')}.tmp`;
  try {
    const url = `${base}/${asset}`;
    const res = await fetch(url, { signal: AbortSignal.timeout(10 * 60_000) });
    if (!res.ok || !res.body) throw new Error(`${url}: HTTP ${res.status}`);
    const hash = createHash('sha256');
    const tap = new Transform({
      transform(chunk: Buffer, _enc, cb) {
        hash.update(chunk);
        cb(null, chunk);
      },
    });
    const body = Readable.fromWeb(res.body as unknown as WebReadableStream<Uint8Array>);
    await pipeline(body, tap, createWriteStream(tmp, { mode: 0o755 }));
    const actual = hash.digest('hex');
    if (actual !== expected) throw new Error(`checksum mismatch for ${asset} (expected ${expected}, got ${actual})`);
    await chmod(tmp, 0o755);
    // Windows cannot rename over a program that is running: the caller keeps the old copy
    await rename(tmp, dest);
  } catch (e) {
    await rm(tmp, { force: true });
    throw e;
  }
}

/** Download the release's `asset` into `dest` (first download). */
export async function downloadRelease(base: string, asset: string, dest: string): Promise<void> {
  await download(base, asset, dest, await expectedHash(base, asset));
}

export type RefreshOutcome = 'current' | 'updated';

/**
 * Check the copy at `dest` against the release: 'current' (its mtime is touched, so the next
 * check is a week away) or 'updated' (the new build swapped in). Throws when the release cannot
 * be read or the download fails; the old copy is then left as it was.
 */
export async function refreshCachedCopy(base: string, asset: string, dest: string): Promise<RefreshOutcome> {
  const expected = await expectedHash(base, asset);
  if ((await fileHash(dest).catch(() => null)) === expected) {
    const now = new Date();
    await utimes(dest, now, now);
    return 'current';
  }
  await download(base, asset, dest, expected);
  return 'updated';
}

/** Whether the copy at `dest` was last checked more than {@link CACHE_CHECK_MS} before `now`. */
export async function cachedCopyIsDue(dest: string, now = Date.now()): Promise<boolean> {
  try {
    return now - (await stat(dest)).mtimeMs > CACHE_CHECK_MS;
  } catch {
    return false;
  }
}

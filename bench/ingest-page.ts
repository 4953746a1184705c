// SPDX-License-Identifier: MIT
/**
 * Does the /ingest page stay smooth with a 2,000-track session? A coordinator in this process,
 * four raw worker sockets answering with generated clustered vectors (three with tags), and the
 * page in headless Chromium. Measured in the page: the longest gap between animation frames
 * and the long tasks (over 50 ms) while 2,000 results stream in and the map fills, against the
 * same page left idle for as long (the baseline, same run); then the size and time of
 * /map and /similar at 2,000 tracks and the time from a click on the map to the nearest list.
 * Run: `npm run build && node dist/bench/ingest-page.js [--tracks 2000]`. Needs playwright-core
 * and Chromium (CHAARFM_CHROMIUM, default /usr/bin/chromium). Not part of the tests.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startCoordinator } from '../src/coordinator/server.js';
import { RawWorker, trackLine } from '../test/support/collection.js';
import { api, newSession, socketUrl } from '../test/support/coordinator.js';

const i = process.argv.indexOf('--tracks');
const TRACKS = i > 0 ? Number(process.argv[i + 1]) : 2000;
const CHROMIUM = process.env.CHAARFM_CHROMIUM ?? '/usr/bin/chromium';

const MONITOR = () => {
  const w = window as unknown as { __m: { gaps: number[]; long: number[]; last: number } };
  w.__m = { gaps: [], long: [], last: performance.now() };
  const tick = (t: number) => {
    w.__m.gaps.push(t - w.__m.last);
    w.__m.last = t;
    requestAnimationFrame(tick);
  };
  requestAnimationFrame(tick);
  new PerformanceObserver((l) => l.getEntries().forEach((e) => w.__m.long.push(e.duration))).observe({ type: 'longtask', buffered: false });
};
type Sample = { gaps: number[]; long: number[] };
const READ = () => {
  const m = (window as unknown as { __m: Sample }).__m;
  const out = { gaps: m.gaps.slice(), long: m.long.slice() };
  m.gaps.length = 0;
  m.long.length = 0;
  return out;
};
function summary(s: Sample) {
  const g = s.gaps.slice().sort((a, b) => a - b);
  return {
    frames: g.length,
    p95_gap_ms: Math.round(g[Math.floor(g.length * 0.95)] ?? 0),
    max_gap_ms: Math.round(g[g.length - 1] ?? 0),
    long_tasks: s.long.length,
    long_ms: Math.round(s.long.reduce((a, b) => a + b, 0)),
  };
}

const playwright = await import('playwright-core');
const c = await startCoordinator({ port: 0, db: ':memory:', heartbeatMs: 0 });
const profile = await mkdtemp(join(tmpdir(), 'cfw-bench-page-'));
const ctx = await playwright.chromium.launchPersistentContext(profile, {
  executablePath: CHROMIUM,
  headless: true,
  viewport: { width: 1200, height: 900 },
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
});
const workers: RawWorker[] = [];
try {
  const code = await newSession(c.url);
  const page = ctx.pages()[0] ?? (await ctx.newPage());
  await page.goto(`${c.url}/ingest?code=${code}`);
  await page.evaluate(MONITOR);
  await page.locator('[data-testid=map]').scrollIntoViewIfNeeded();
  for (let k = 0; k < 4; k++) workers.push(await RawWorker.connect(socketUrl(c.url, code), { tags: k < 3, delayMs: 8, hello: k < 3 ? { name: `w${k}`, version: '0', backend: 'native', platform: 'linux-x64' } : undefined }));
  // Baseline: the same page, idle, for about as long as the load below takes.
  const t0 = Date.now();
  await api(c.url, `/api/sessions/${code}/jobs`, { body: { text: Array.from({ length: TRACKS }, (_, k) => trackLine(k)).join('\n'), start: false } });
  await page.evaluate(READ);
  await new Promise((r) => setTimeout(r, 6000));
  const idle = summary(await page.evaluate(READ));
  // Load: start, stream every result in, wait for the map to show them all.
  const t1 = Date.now();
  await api(c.url, `/api/sessions/${code}/control`, { body: { type: 'start', mode: 'queue' } });
  await page.waitForFunction((n) => document.querySelector('[data-testid=map]')?.getAttribute('data-points') === String(n), TRACKS, { timeout: 120000 });
  const loadS = (Date.now() - t1) / 1000;
  const load = summary(await page.evaluate(READ));
  // The API at TRACKS tracks.
  let t = performance.now();
  const mapRes = await fetch(`${c.url}/api/sessions/${code}/map`);
  const mapBytes = (await mapRes.arrayBuffer()).byteLength;
  const mapMs = performance.now() - t;
  const incr = await fetch(`${c.url}/api/sessions/${code}/map?from=${TRACKS}&epoch=0`);
  const incrBytes = (await incr.arrayBuffer()).byteLength;
  const first = (await api<{ job_id: string }[]>(c.url, `/api/sessions/${code}/results?vectors=0&limit=1`)).body[0].job_id;
  t = performance.now();
  await fetch(`${c.url}/api/sessions/${code}/similar?result=${first}&k=10`).then((r) => r.text());
  const simMs = performance.now() - t;
  // A click on the map to the nearest list.
  const pts = (await page.evaluate(() => (window as unknown as { chaarfmMap: { points(): { x: number; y: number }[] } }).chaarfmMap.points())) as { x: number; y: number }[];
  const box = (await page.locator('[data-testid=map]').boundingBox())!;
  t = performance.now();
  await page.mouse.click(box.x + pts[10].x, box.y + pts[10].y);
  await page.waitForFunction(() => document.querySelectorAll('[data-testid=nearest] li').length === 10);
  const clickMs = performance.now() - t;
  const out = {
    tracks: TRACKS,
    idle_s: Number(((t1 - t0) / 1000).toFixed(1)),
    load_s: Number(loadS.toFixed(1)),
    idle,
    load,
    max_gap_ratio_load_to_idle: Number((load.max_gap_ms / Math.max(1, idle.max_gap_ms)).toFixed(2)),
    p95_gap_ratio_load_to_idle: Number((load.p95_gap_ms / Math.max(1, idle.p95_gap_ms)).toFixed(2)),
    map_full: { bytes: mapBytes, ms: Math.round(mapMs) },
    map_incremental_bytes: incrBytes,
    similar_ms: Math.round(simMs),
    click_to_list_ms: Math.round(clickMs),
  };
  console.log(JSON.stringify(out, null, 2));
} finally {
  for (const w of workers) w.close();
  await ctx.close();
  await c.close();
  await rm(profile, { recursive: true, force: true });
}

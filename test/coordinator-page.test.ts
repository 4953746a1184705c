// SPDX-License-Identifier: MIT
/**
 * The /ingest page in real headless Chromium (Debian's `chromium` driven by playwright-core):
 * make a code, start a worker with it (the real worker with stand-in audio work), queue three
 * tracks served from a local HTTP server, watch them finish on the page, export them, then
 * upload a CSV file. Then a session of a few hundred generated tracks: the map has one point
 * per result, hover and click give the right titles, the nearest list is the brute-force
 * cosine ranking, worker cards show a live bar (ours) and an indeterminate one (an original
 * worker), at 360 px nothing overflows, and nothing is fetched from another origin. With
 * CHAARFM_PAGE_SHOTS=<dir> it saves the README's screenshots there. Skips, saying why, when
 * Chromium or playwright-core is missing.
 */
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import type { CoordinatorHandle } from '../src/coordinator/server.js';
import type { WorkerHandle } from '../src/worker/worker.js';
import { bruteNearest, RawWorker, trackLine } from './support/collection.js';
import { api, coordinator, newSession, socketUrl, stubWorker } from './support/coordinator.js';
import { waitUntil } from './support/wait.js';
import { MediaServer } from './support/media-server.js';

const CHROMIUM = process.env.CHAARFM_CHROMIUM ?? '/usr/bin/chromium';
let playwright: typeof import('playwright-core') | null = null;
try {
  playwright = await import('playwright-core');
} catch {
  playwright = null;
}
const skip = !playwright ? 'playwright-core is not installed' : !existsSync(CHROMIUM) ? `no Chromium at ${CHROMIUM} (apt-get install chromium, or set CHAARFM_CHROMIUM)` : false;

let srv: CoordinatorHandle | null = null;
let media: MediaServer | null = null;
let worker: WorkerHandle | null = null;
const dirs: string[] = [];
const raw: RawWorker[] = [];

const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'];

after(async () => {
  for (const r of raw) r.close();
  await worker?.stop();
  await srv?.close();
  await media?.stop();
  for (const d of dirs) await rm(d, { recursive: true, force: true });
});

test('make a code, start a worker, queue three tracks, watch them finish, export, upload a CSV', { skip, timeout: 60000 }, async () => {
  const dir = await mkdtemp(join(tmpdir(), 'cfw-page-'));
  const profile = await mkdtemp(join(tmpdir(), 'cfw-chromium-'));
  dirs.push(dir, profile);
  for (let i = 1; i <= 3; i++) await writeFile(join(dir, `track${i}.ogg`), `generated track ${i}`);
  media = await MediaServer.start(dir);
  srv = await coordinator();
  const ctx = await playwright!.chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
  });
  try {
    const page = ctx.pages()[0] ?? (await ctx.newPage());
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    await page.goto(`${srv.url}/ingest`);
    await page.click('#make');
    await page.waitForURL(/\?code=/);
    const code = (await page.textContent('[data-testid=code]'))!.trim();
    assert.match(code, /^[0-9A-Z]{5}-[0-9A-Z]{5}$/);
    assert.equal((await page.textContent('[data-testid=command]'))!.trim(), `npx chaarfm-worker --url ${srv.url} --code ${code}`);

    worker = await stubWorker(srv.url, code, { name: 'page-worker', delayMs: 100 });
    await page.waitForFunction(() => document.querySelector('[data-testid=worker-count]')?.textContent === '1', undefined, { timeout: 10000 });
    await page.fill('[data-testid=lines]', [1, 2, 3].map((i) => media!.url(`track${i}.ogg`)).join('\n'));
    await page.click('#queue');
    await page.waitForFunction(() => document.querySelector('[data-testid=status]')?.textContent === 'complete', undefined, { timeout: 15000 });
    await page.waitForFunction(() => document.querySelector('[data-testid=done]')?.textContent === '3', undefined, { timeout: 5000 });
    await page.waitForFunction(() => document.querySelectorAll('[data-testid=results] tr').length === 3, undefined, { timeout: 5000 });
    const logText = (await page.textContent('[data-testid=log]')) ?? '';
    assert.equal((logText.match(/Done: /g) ?? []).length, 3, logText);
    const exported = await page.evaluate(async () => {
      const get = (id: string) => fetch((document.getElementById(id) as HTMLAnchorElement).href);
      const jsonl = await (await get('x-jsonl')).text();
      const npy = await (await get('x-npy')).arrayBuffer();
      const csv = await (await get('x-csv')).text();
      return { lines: jsonl.trim().split('\n').length, npyBytes: npy.byteLength, csvLines: csv.trim().split('\n').length };
    });
    assert.deepEqual(exported, { lines: 3, npyBytes: 128 + 3 * 200 * 4, csvLines: 4 });
    // An uploaded CSV file: two new rows and one already done.
    const csv = `artist,title,url\nUp,Loaded,\nAlso,New,\n,,${media.url('track1.ogg')}\n`;
    await page.setInputFiles('#file', { name: 'tracks.csv', mimeType: 'text/csv', buffer: Buffer.from(csv) });
    await page.waitForFunction(() => /2 queued, 1 duplicate/.test(document.getElementById('queue-result')?.textContent ?? ''), undefined, { timeout: 5000 });
    await page.waitForFunction(() => document.querySelector('[data-testid=done]')?.textContent === '5', undefined, { timeout: 10000 });
    if (process.env.CHAARFM_PAGE_SHOT) await page.screenshot({ path: process.env.CHAARFM_PAGE_SHOT, fullPage: true });
    assert.deepEqual(errors, []);
  } finally {
    await ctx.close();
  }
});

test('a few hundred tracks: one map point per result, hover and click titles, nearest = brute-force cosine, live and indeterminate bars', { skip, timeout: 120000 }, async () => {
  const TRACKS = 300;
  const profile = await mkdtemp(join(tmpdir(), 'cfw-chromium-'));
  dirs.push(profile);
  const c = await coordinator();
  const code = await newSession(c.url);
  const shots = process.env.CHAARFM_PAGE_SHOTS;
  const ctx = await playwright!.chromium.launchPersistentContext(profile, { executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS, viewport: { width: 1200, height: 900 } });
  let ours: WorkerHandle | null = null;
  try {
    // Our worker's extras (hello, tags) from one raw socket, an original worker (neither) from another.
    raw.push(await RawWorker.connect(socketUrl(c.url, code), { hello: { name: 'laptop-1', version: '0.4.0', backend: 'native', platform: 'linux-x64', jobs: 1 }, tags: true }));
    raw.push(await RawWorker.connect(socketUrl(c.url, code), { hello: { name: 'mac-mini', version: '0.4.0', backend: 'wasm', platform: 'darwin-arm64', jobs: 1 }, tags: true }));
    raw.push(await RawWorker.connect(socketUrl(c.url, code), { tags: false }));
    const lines = Array.from({ length: TRACKS + 10 }, (_, i) => trackLine(i)).join('\n');
    const page = ctx.pages()[0] ?? (await ctx.newPage());
    const errors: string[] = [];
    const foreign: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    page.on('request', (r) => {
      if (!r.url().startsWith(c.url) && !r.url().startsWith(c.url.replace(/^http/, 'ws'))) foreign.push(r.url());
    });
    await page.goto(`${c.url}/ingest?code=${code}`);
    // The raw workers answer until TRACKS are stored, then hold the job they have.
    const done = () => raw.reduce((n, r) => n + r.answered, 0);
    for (const r of raw) r.ws.on('message', () => void (done() >= TRACKS - 1 && raw.forEach((x) => (x.hold = true))));
    assert.equal((await api(c.url, `/api/sessions/${code}/jobs`, { body: { text: lines } })).status, 200);
    await waitUntil(async () => (await api<{ queue: { done: number } }>(c.url, `/api/sessions/${code}`)).body.queue.done >= TRACKS - 1, 30000, 'stored results');
    await waitUntil(() => raw.every((r) => r.held.length === 1), 10000, 'every raw worker holding a job');
    // ... and our real worker (stand-in audio work) runs one slowly, reporting progress.
    ours = await stubWorker(c.url, code, { name: 'studio-pc', delayMs: 40000 });
    const results = (await api<{ job_id: string; artist: string; title: string; vector: number[] }[]>(c.url, `/api/sessions/${code}/results`)).body;
    const n = results.length;
    assert.ok(n >= TRACKS - 1, `${n} results`);

    await page.waitForFunction((want) => document.querySelector('[data-testid=map]')?.getAttribute('data-points') === String(want), n, { timeout: 15000 });
    type Pt = { id: string; artist: string; title: string; tag: string | null; x: number; y: number };
    const pts = (await page.evaluate(() => (window as unknown as { chaarfmMap: { points(): Pt[] } }).chaarfmMap.points())) as Pt[];
    assert.equal(pts.length, n, 'one point per result');
    assert.deepEqual(pts.map((p) => p.id).sort(), results.map((r) => r.job_id).sort());
    const byId = new Map(results.map((r) => [r.job_id, r]));
    for (const p of pts) assert.equal(`${p.artist} - ${p.title}`, `${byId.get(p.id)!.artist} - ${byId.get(p.id)!.title}`);
    assert.ok(pts.some((p) => p.tag === 'rock') && pts.some((p) => p.tag === null), 'tagged and untagged points');
    const legend = (await page.textContent('[data-testid=legend]')) ?? '';
    assert.match(legend, /rock \(\d+\)/);
    assert.match(legend, /no tags \(\d+\)/);

    // Hover: points with no other within 8 px, so the one under the mouse is unambiguous.
    await page.locator('[data-testid=map]').scrollIntoViewIfNeeded();
    const box = (await page.locator('[data-testid=map]').boundingBox())!;
    const alone = pts.filter((p) => pts.every((q) => q === p || Math.hypot(q.x - p.x, q.y - p.y) > 8)).slice(0, 3);
    assert.ok(alone.length >= 2, 'isolated points to hover');
    for (const p of alone) {
      await page.mouse.move(box.x + p.x, box.y + p.y);
      await page.waitForFunction((want) => (document.querySelector('[data-testid=map-tip]')?.textContent ?? '').startsWith(want), `${p.artist} - ${p.title}`, { timeout: 3000 });
    }
    // Click: the nearest list is the brute-force cosine ranking.
    const target = alone[0];
    await page.mouse.click(box.x + target.x, box.y + target.y);
    await page.waitForFunction(() => document.querySelectorAll('[data-testid=nearest] li').length === 10, undefined, { timeout: 5000 });
    assert.equal(await page.textContent('[data-testid=selected]'), `Nearest to ${target.artist} - ${target.title}:`);
    const shown = await page.$$eval('[data-testid=nearest] li button', (bs) => bs.map((b) => b.getAttribute('data-id')));
    assert.deepEqual(shown, bruteNearest(results, target.id, 10));
    const shownTitles = await page.$$eval('[data-testid=nearest] li button', (bs) => bs.map((b) => b.textContent));
    assert.deepEqual(shownTitles, bruteNearest(results, target.id, 10).map((id) => `${byId.get(id)!.artist} - ${byId.get(id)!.title}`));

    // Keyboard: focus the map, move with an arrow, Enter lists the neighbours of the new track.
    await page.focus('[data-testid=map]');
    await page.keyboard.press('ArrowRight');
    await page.keyboard.press('Enter');
    await page.waitForFunction((was) => {
      const t = document.querySelector('[data-testid=selected]')?.textContent ?? '';
      return t.startsWith('Nearest to ') && t !== was && document.querySelectorAll('[data-testid=nearest] li').length === 10;
    }, `Nearest to ${target.artist} - ${target.title}:`, { timeout: 5000 });
    await page.keyboard.press('Tab');
    assert.equal(await page.evaluate(() => !!document.activeElement?.closest('[data-testid=nearest]')), true, 'Tab goes from the map to the nearest list');

    // Worker cards: ours with a live bar from progress messages, the original with an indeterminate one.
    await page.waitForFunction(() => {
      const li = document.querySelector('[data-worker=studio-pc]');
      const bar = li?.querySelector('.bar');
      return !!bar && !bar.classList.contains('indet') && Number(bar.getAttribute('aria-valuenow')) > 0 && /inference/.test(li!.textContent ?? '');
    }, undefined, { timeout: 15000 });
    const cards = await page.$$eval('[data-testid=workers] li', (lis) => lis.map((li) => ({ text: li.textContent ?? '', indet: !!li.querySelector('.bar.indet') })));
    const original = cards.filter((x) => /original worker/.test(x.text));
    assert.equal(original.length, 1, JSON.stringify(cards));
    assert.equal(original[0].indet, true, 'an original worker holding a job shows an indeterminate bar');
    const laptop = cards.find((x) => /laptop-1/.test(x.text))!;
    assert.match(laptop.text, /native · linux-x64 · v0\.4\.0 · \d+ done/);
    assert.equal(laptop.indet, true, 'ours before its first progress message: no fraction yet');
    assert.match((await page.textContent('[data-testid=eta-how]')) ?? '', /tracks left .* tracks per minute/);
    const rate = (await api<{ per_minute: number[] }>(c.url, `/api/sessions/${code}/throughput`)).body.per_minute;
    assert.equal(rate.length, 60);
    assert.equal(rate.reduce((a, b) => a + b, 0), n);
    const shoot = async (name: string) => {
      if (!shots) return;
      await page.evaluate(() => (document.activeElement as HTMLElement | null)?.blur());
      // From the worker cards to the throughput chart: the part this README section is about.
      const clip = await page.evaluate(() => {
        const a = document.querySelector('[data-testid=workers]')!.closest('section')!.getBoundingClientRect();
        const b = document.querySelector('[data-testid=rate-chart]')!.closest('section')!.getBoundingClientRect();
        return { x: 0, y: a.top + scrollY - 8, width: document.documentElement.clientWidth, height: b.bottom - a.top + 16 };
      });
      await page.screenshot({ path: join(shots, name), fullPage: true, clip });
    };
    await shoot('ingest-desktop.png');

    // 360 px wide: nothing wider than the screen.
    await page.setViewportSize({ width: 360, height: 780 });
    await page.waitForTimeout(300);
    assert.ok((await page.evaluate(() => document.documentElement.scrollWidth)) <= 360, 'no horizontal scrolling at 360 px');
    await shoot('ingest-360.png');
    await page.setViewportSize({ width: 1200, height: 900 });
    await page.emulateMedia({ colorScheme: 'dark' });
    await page.evaluate(() => window.dispatchEvent(new Event('resize')));
    await page.waitForTimeout(300);
    const bg = await page.evaluate(() => getComputedStyle(document.body).backgroundColor);
    assert.equal(bg, 'rgb(22, 23, 27)', 'dark mode');
    await shoot('ingest-dark.png');
    assert.deepEqual(errors, []);
    assert.deepEqual(foreign, [], 'nothing fetched from another origin');
  } finally {
    await ours?.stop();
    await ctx.close();
    await c.close();
  }
});

// SPDX-License-Identifier: MIT
/**
 * The /ingest page in real headless Chromium (Debian's `chromium` driven by playwright-core):
 * make a code, start a worker with it (the real worker with stand-in audio work), queue three
 * tracks served from a local HTTP server, watch them finish on the page, export them, then
 * upload a CSV file. Skips,
 * saying why, when Chromium or playwright-core is missing.
 */
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import type { CoordinatorHandle } from '../src/coordinator/server.js';
import type { WorkerHandle } from '../src/worker/worker.js';
import { coordinator, stubWorker } from './support/coordinator.js';
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

after(async () => {
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

// SPDX-License-Identifier: MIT
/**
 * `chaarfm-worker similar song.wav --db FILE` in a child process, on the portable backend:
 * the file is embedded with the normal embedder and the stored vectors of that database are
 * ranked by cosine (the same ranking as a brute force here); --code keeps one session; bad
 * input is one readable line and exit 1.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, before, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { writeClip } from '../src/audio/synth-clip.js';
import { SqliteStore } from '../src/coordinator/store-sqlite.js';
import { createEmbedder } from '../src/embed/create-embedder.js';
import { cosine } from './support/collection.js';

const here = dirname(fileURLToPath(import.meta.url));
const BIN = join(here, '..', 'src', 'bin.js');
const haveFfmpeg = spawnSync('ffmpeg', ['-version']).status === 0;
const skip = !haveFfmpeg && 'needs ffmpeg';
let dir: string;
let db: string;
let clip: string;
const stored: { code: string; title: string; vector: Float32Array }[] = [];

const run = (args: string[]) => spawnSync(process.execPath, [BIN, 'similar', ...args], { encoding: 'utf8', timeout: 120000 });

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'cfw-similar-'));
  if (!haveFfmpeg) return;
  clip = join(dir, 'song.wav');
  await writeClip(clip, { seconds: 5, seed: 3 });
  const e = await createEmbedder({ backend: 'wasm', threads: 1 });
  const own = (await e.embed(clip)).vector;
  await e.close();
  // The clip's own vector, nudged copies of it and unrelated ones, in two sessions.
  let seed = 9;
  const rnd = () => ((seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648) - 0.5;
  db = join(dir, 'c.db');
  const s = new SqliteStore(db);
  for (const code of ['AAAAA-AAAAA', 'BBBBB-BBBBB']) await s.createSession(code, Date.now() + 3600_000, Date.now());
  for (let i = 0; i < 30; i++) {
    const code = i % 2 ? 'BBBBB-BBBBB' : 'AAAAA-AAAAA';
    const vector = i === 7 ? Float32Array.from(own) : i < 15 ? Float32Array.from(own, (x) => x + rnd() * 0.8 * (i + 1)) : Float32Array.from(own, () => rnd() * 4);
    const title = i === 7 ? 'Itself' : `Track ${i}`;
    await s.addJobs(code, [{ kind: 'download', payload: { artist: 'A', title, youtube_url: null }, dedupeKey: title, label: title }]);
    const j = (await s.claimNext(code, { worker: 'w', token: 't', owner: 'o' }, 1, 2))!;
    await s.completeDownload(j.id, 't', { artist: 'A', title, youtubeId: 'y', sourceUrl: null, vector, worker: 'w', finishedAt: 3, tags: i % 3 ? ['rock'] : null });
    stored.push({ code, title, vector });
  }
  await s.close();
});
after(() => rm(dir, { recursive: true, force: true }));

const brute = (k: number, code?: string) =>
  stored
    .filter((r) => !code || r.code === code)
    .map((r) => ({ title: r.title, s: cosine(stored[7].vector, r.vector) }))
    .sort((a, b) => b.s - a.s)
    .slice(0, k)
    .map((r) => r.title);

test('ranks every stored vector of the database by cosine to the embedded file', { skip, timeout: 120000 }, () => {
  const r = run([clip, '--db', db, '--backend', 'wasm', '--threads', '1', '-k', '5', '--json']);
  assert.equal(r.status, 0, r.stderr);
  const out = JSON.parse(r.stdout) as { searched: number; backend: string; nearest: { title: string; score: number; code: string; tags: string[] | null }[] };
  assert.equal(out.searched, 30);
  assert.equal(out.backend, 'wasm');
  assert.deepEqual(out.nearest.map((t) => t.title), brute(5));
  assert.equal(out.nearest[0].title, 'Itself');
  assert.ok(out.nearest[0].score > 0.99999, `its own vector: ${out.nearest[0].score}`);
  assert.deepEqual(out.nearest[0].tags, ['rock']);
});

test('--code keeps one session; the plain output is one line per track', { skip, timeout: 120000 }, () => {
  const r = run([clip, '--db', db, '--backend', 'wasm', '--threads', '1', '--code', 'bbbbb-bbbbb']);
  assert.equal(r.status, 0, r.stderr);
  const lines = r.stdout.trim().split('\n');
  assert.equal(lines.length, 10);
  assert.deepEqual(lines.map((l) => /^-?\d\.\d{4}  A - (.+)  \(BBBBB-BBBBB, [0-9a-f-]{36}\)$/.exec(l)?.[1]), brute(10, 'BBBBB-BBBBB'));
});

test('bad input: one line and exit 1', { skip, timeout: 60000 }, () => {
  const cases: [string[], RegExp][] = [
    [[clip], /^chaarfm-worker: Expected --db <file or postgres:\/\/ URL>: the coordinator database to search\n$/],
    [[clip, '--db', join(dir, 'missing.db')], /^chaarfm-worker: No database at --db ".*missing\.db"\n$/],
    [[join(dir, 'nope.mp3'), '--db', db], /^chaarfm-worker: No such file: ".*nope\.mp3"\n$/],
    [[clip, '--db', db, '-k', '0'], /^chaarfm-worker: Expected an integer from 1 to 100 for --top but received "0"\n$/],
    [[clip, '--db', db, '--top', '101'], /^chaarfm-worker: Expected an integer from 1 to 100 for --top but received "101"\n$/],
    [[clip, '--db', db, '--code', 'ZZZZZ-ZZZZZ', '--backend', 'wasm'], /^chaarfm-worker: No session "ZZZZZ-ZZZZZ" in .*c\.db\n$/],
    [['--db', db], /^chaarfm-worker: Expected an audio file for similar/],
  ];
  for (const [args, want] of cases) {
    const r = run(args);
    assert.equal(r.status, 1, `${args.join(' ')}: ${r.stderr}`);
    assert.match(r.stderr, want);
    assert.equal(r.stdout, '');
  }
});

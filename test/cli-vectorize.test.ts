// SPDX-License-Identifier: MIT
/** `vectorize` and `demo` as users run them, in child processes, on the portable backend. */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, before, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { writeClip } from '../src/audio/synth-clip.js';
import { MSD_TAGS } from '../src/embed/msd-tags.js';
import { decodeNpy } from '../src/util/npy.js';

const here = dirname(fileURLToPath(import.meta.url));
const BIN = join(here, '..', 'src', 'bin.js');
const haveFfmpeg = spawnSync('ffmpeg', ['-version']).status === 0;
const CURRENT =
  process.env.CHAARFM_TEST_YTDLP ??
  ['../../../shared/tools/yt-dlp', '../../../../shared/tools/yt-dlp'].map((u) => fileURLToPath(new URL(u, import.meta.url))).find((p) => existsSync(p));
let dir: string;

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'cfw-vec-'));
  await writeClip(join(dir, 'a.wav'), { seconds: 6, seed: 1 });
  await writeClip(join(dir, 'b.wav'), { seconds: 6, seed: 2, sampleRate: 22050, channels: 1 });
});
after(() => rm(dir, { recursive: true, force: true }));

const run = (args: string[]) =>
  spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8', timeout: 120000, maxBuffer: 1 << 24 });

test('prints one JSON line per input with source, vector, duration, backend, ms and --tags names', { skip: !haveFfmpeg && 'needs ffmpeg' }, () => {
  const r = run(['vectorize', '--backend', 'wasm', '--tags', '3', join(dir, 'a.wav'), join(dir, 'b.wav')]);
  assert.equal(r.status, 0, r.stderr);
  const lines = r.stdout.trim().split('\n').map((l) => JSON.parse(l));
  assert.equal(lines.length, 2);
  for (const [i, l] of lines.entries()) {
    assert.deepEqual(Object.keys(l).sort(), ['backend', 'duration', 'ms', 'source', 'tags', 'vector']);
    assert.equal(l.source, join(dir, i ? 'b.wav' : 'a.wav'));
    assert.equal(l.vector.length, 200);
    assert.ok(l.vector.every(Number.isFinite));
    assert.equal(l.backend, 'wasm');
    assert.ok(Math.abs(l.duration - 6) < 0.01);
    assert.equal(l.tags.length, 3);
    for (const t of l.tags) assert.ok(MSD_TAGS.includes(t.name) && t.score >= 0 && t.score <= 1);
    assert.ok(l.tags[0].score >= l.tags[1].score && l.tags[1].score >= l.tags[2].score);
  }
  assert.notDeepEqual(lines[0].vector, lines[1].vector);
});

test('--out .npy and .jsonl hold the same vectors as stdout', { skip: !haveFfmpeg && 'needs ffmpeg' }, () => {
  const plain = run(['vectorize', '--backend', 'wasm', join(dir, 'a.wav'), join(dir, 'b.wav')]);
  const want = plain.stdout.trim().split('\n').map((l) => JSON.parse(l).vector as number[]);
  const npy = join(dir, 'v.npy');
  const r1 = run(['vectorize', '--backend', 'wasm', '--out', npy, join(dir, 'a.wav'), join(dir, 'b.wav')]);
  assert.equal(r1.status, 0, r1.stderr);
  assert.equal(r1.stdout, '');
  const { shape, data } = decodeNpy(readFileSync(npy));
  assert.deepEqual(shape, [2, 200]);
  assert.deepEqual(Array.from(data.subarray(0, 200)), want[0]);
  assert.deepEqual(Array.from(data.subarray(200)), want[1]);
  const jl = join(dir, 'v.jsonl');
  const r2 = run(['vectorize', '--backend', 'wasm', '--out', jl, join(dir, 'a.wav'), join(dir, 'b.wav')]);
  assert.equal(r2.status, 0, r2.stderr);
  assert.deepEqual(readFileSync(jl, 'utf8').trim().split('\n').map((l) => JSON.parse(l).vector), want);
});

test('a bad input is one line on stderr, the others still come out, exit 1', { skip: !haveFfmpeg && 'needs ffmpeg' }, async () => {
  const { writeFileSync } = await import('node:fs');
  writeFileSync(join(dir, 'junk.mp3'), 'not audio');
  const r = run(['vectorize', '--backend', 'wasm', join(dir, 'nope.wav'), join(dir, 'junk.mp3'), join(dir, 'a.wav')]);
  assert.equal(r.status, 1);
  assert.equal(r.stdout.trim().split('\n').length, 1);
  assert.match(r.stderr, /nope\.wav: no such file/);
  assert.match(r.stderr, /junk\.mp3: .+/);
  assert.doesNotMatch(r.stderr, /\n\s+at /);
});

test('refuses an --out of another kind and a missing input list', () => {
  const r = run(['vectorize', '--out', 'x.csv', 'a.wav']);
  assert.equal(r.status, 1);
  assert.match(r.stderr, /Expected a \.jsonl or \.npy file for --out but received "x\.csv"/);
  const r2 = run(['vectorize']);
  assert.equal(r2.status, 1);
  assert.match(r2.stderr, /missing required args|Expected at least one/i);
});

test('demo embeds a generated clip and shows tags', { skip: !haveFfmpeg && 'needs ffmpeg' }, () => {
  const r = run(['demo', '--backend', 'wasm']);
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /vector: 200 values from 19 patches/);
  assert.match(r.stdout, /top tags: /);
});

test('doctor reports every check; a missing ffmpeg fails it with exit 1', () => {
  const ok = run(['doctor', '--json']);
  const report = JSON.parse(ok.stdout) as { ok: boolean; checks: { name: string; ok: boolean; detail: string }[] };
  assert.deepEqual(report.checks.map((c) => c.name), ['chaarfm-worker', 'node', 'backend', 'model', 'decoder', 'yt-dlp', 'js runtime', 'cache folder', 'temp folder']);
  const model = report.checks.find((c) => c.name === 'model')!;
  assert.ok(model.ok && model.detail.includes('cdea0722bcee7f731286843f2233e3aa69887bb5c3e2dce011eff55f38d04f3e'));
  if (haveFfmpeg) assert.equal(ok.status, 0, ok.stdout);
  const bad = run(['doctor', '--ffmpeg', join(dir, 'no-ffmpeg-here')]);
  assert.equal(bad.status, 1);
  assert.match(bad.stdout, /FAIL\s+decoder/);
});

test('doctor shows yt-dlp\'s version, age and source, and the JS runtime it gets (supported on Node >= 22)', { skip: !CURRENT && 'needs the current yt-dlp (../shared/tools/yt-dlp or CHAARFM_TEST_YTDLP)' }, () => {
  const r = run(['doctor', '--json', '--yt-dlp', CURRENT!]);
  const checks = (JSON.parse(r.stdout) as { checks: { name: string; ok: boolean; warning?: boolean; detail: string }[] }).checks;
  const yt = checks.find((c) => c.name === 'yt-dlp')!;
  assert.match(yt.detail, /^.*yt-dlp \(\d{4}\.\d{2}\.\d{2}, \d+ days old, from --yt-dlp\)$/);
  const js = checks.find((c) => c.name === 'js runtime')!;
  const self = `\\(node ${process.version.replace(/\./g, '\\.')}, the worker itself\\)`;
  if (Number(process.versions.node.split('.')[0]) >= 22) {
    assert.ok(js.ok, js.detail);
    assert.match(js.detail, new RegExp(`node-runtime-[0-9a-f]{12} ${self}, supported by yt-dlp$`));
  } else {
    assert.equal(js.warning, true);
    assert.match(js.detail, new RegExp(`${self}: yt-dlp gets no JavaScript runtime it supports`));
  }
  const dec = checks.find((c) => c.name === 'decoder')!;
  if (haveFfmpeg) assert.match(dec.detail, /^ffmpeg \S+ \(/);
});

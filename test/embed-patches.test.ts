// SPDX-License-Identifier: MIT
/**
 * src/embed/patches.ts: Essentia's VectorRealToTensor (187 frames, hop 93, last incomplete
 * patch discarded), streamed in batches; and, through src/embed/frontend.ts, Essentia's own
 * regression recording giving exactly one patch.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { resolveFfmpeg } from '../src/audio/ffmpeg.js';
import { melPatches, type FrontendBatch } from '../src/embed/frontend.js';
import { VIGNESH_WAV } from './support/fixtures.js';
import { MEL_BANDS } from '../src/embed/mel.js';
import { PATCH_FRAMES, PATCH_HOP, PatchAssembler, patchCount, type PatchBatch } from '../src/embed/patches.js';

const vignesh = VIGNESH_WAV;
let ffmpeg = '';
try {
  ffmpeg = await resolveFfmpeg();
} catch {
  /* skipped below */
}
const noVignesh = !existsSync(vignesh)
  ? `no fixture at ${vignesh} (set CHAARFM_ESSENTIA_FIXTURES)`
  : !ffmpeg
    ? 'ffmpeg is not installed'
    : false;

/** Row r is filled with the value r + 1. */
function rows(from: number, count: number): Float32Array {
  const out = new Float32Array(count * MEL_BANDS);
  for (let r = 0; r < count; r++) out.fill(from + r + 1, r * MEL_BANDS, (r + 1) * MEL_BANDS);
  return out;
}

function assemble(frames: number, chunk: number, batchSize: number): PatchBatch[] {
  const pa = new PatchAssembler(batchSize);
  const out: PatchBatch[] = [];
  for (let f = 0; f < frames; f += chunk) out.push(...pa.push(rows(f, Math.min(chunk, frames - f))));
  const last = pa.end();
  if (last) out.push(last);
  assert.equal(pa.frames, frames);
  return out;
}

test('patch count: 187 frames each, hop 93, the incomplete last one discarded', () => {
  const cases: [number, number][] = [[0, 0], [186, 0], [187, 1], [279, 1], [280, 2], [195, 1], [187 + 93 * 9, 10], [187 + 93 * 9 - 1, 9]];
  for (const [frames, patches] of cases) assert.equal(patchCount(frames), patches, `${frames} frames`);
});

test('patch p holds frames [93p, 93p + 187) and batches keep stream order', () => {
  for (const frames of [186, 187, 300, 1000, 2047]) {
    for (const [chunk, batch] of [[frames, 4], [1, 3], [50, 1], [93, 8], [400, 64]]) {
      const batches = assemble(frames, chunk, batch);
      let p = 0;
      for (const b of batches) {
        assert.equal(b.first, p);
        assert.ok(b.count >= 1 && b.count <= batch);
        assert.equal(b.patches.length, b.count * PATCH_FRAMES * MEL_BANDS);
        for (let i = 0; i < b.count; i++, p++) {
          for (const t of [0, 1, 92, 93, 186]) {
            const v = b.patches[(i * PATCH_FRAMES + t) * MEL_BANDS + 7];
            assert.equal(v, p * PATCH_HOP + t + 1, `frames=${frames} chunk=${chunk} patch ${p} row ${t}`);
          }
        }
      }
      assert.equal(p, patchCount(frames), `frames=${frames} chunk=${chunk}`);
      assert.ok(batches.slice(0, -1).every((b) => b.count === batch), 'only the last batch is partial');
    }
  }
});

test('rejects a bad batch size', () => {
  assert.throws(() => new PatchAssembler(0), RangeError);
  assert.throws(() => new PatchAssembler(2.5), /positive integer/);
});

async function run(input: string, melBackend: 'essentia' | 'typescript'): Promise<FrontendBatch[]> {
  const out: FrontendBatch[] = [];
  for await (const b of melPatches(input, { ffmpegPath: ffmpeg, melBackend, batchSize: 4 })) out.push(b);
  return out;
}

test('Essentia\'s MusiCNN regression recording gives exactly one patch', { skip: noVignesh }, async () => {
  const viaEssentia = await run(vignesh, 'essentia');
  const last = viaEssentia.at(-1)!;
  assert.ok(last.summary, 'the last item carries the summary');
  const { summary } = last;
  assert.equal(summary.sampleRate, 44100);
  assert.equal(summary.channels, 1);
  assert.ok(Math.abs(summary.duration - 3.09) < 0.01, `${summary.duration} s`);
  assert.equal(summary.frames, Math.ceil(summary.samples16k / 256) + 1);
  assert.equal(summary.patches, 1);
  assert.equal(summary.melBackend, 'essentia');
  const patches = viaEssentia.filter((b) => b.count > 0);
  assert.equal(patches.length, 1);
  assert.equal(patches[0].count, 1);

  const viaReference = await run(vignesh, 'typescript');
  const ref = viaReference.find((b) => b.count > 0)!;
  let worst = 0;
  for (let i = 0; i < ref.patches.length; i++) worst = Math.max(worst, Math.abs(ref.patches[i] - patches[0].patches[i]));
  assert.ok(worst <= 5e-5, `max |difference| between the mel backends ${worst}`);
});

test('audio shorter than a patch gives no patch and a summary saying so', { skip: ffmpeg ? false : 'ffmpeg is not installed' }, async () => {
  const dir = await mkdtemp(join(tmpdir(), 'chaarfm-patches-test-'));
  try {
    const file = join(dir, 'short.ogg');
    execFileSync('ffmpeg', ['-nostdin', '-v', 'error', '-f', 'lavfi', '-i', 'sine=frequency=500:sample_rate=48000:duration=2', '-c:a', 'libvorbis', file]);
    const items = await run(file, 'typescript');
    assert.equal(items.length, 1);
    assert.equal(items[0].count, 0);
    assert.equal(items[0].summary?.patches, 0);
    assert.ok(items[0].summary!.frames > 100 && items[0].summary!.frames < PATCH_FRAMES);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

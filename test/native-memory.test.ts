// SPDX-License-Identifier: MIT
/**
 * Memory stays bounded while the native backend embeds a long track: the decoded PCM must not
 * pile up in JS (a 6-minute 44.1 kHz track is 63 MB of mono float samples; a leak of every
 * chunk would hold all of it). Runs in a child process with --expose-gc so each sample of
 * `arrayBuffers` is taken after a full collection. Skips when the addon is not built.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { writeClip } from '../src/audio/synth-clip.js';
import { loadTestBinding } from './support/native-addon.js';

const here = dirname(fileURLToPath(import.meta.url));
const noAddon = loadTestBinding().skip;
const haveFfmpeg = spawnSync('ffmpeg', ['-version']).status === 0;

test('a 6-minute track does not keep its PCM chunks alive (native backend)', { skip: noAddon || (!haveFfmpeg && 'needs ffmpeg') }, async () => {
  const dir = await mkdtemp(join(tmpdir(), 'cfw-mem-'));
  try {
    const clip = join(dir, 'six-min.wav');
    await writeClip(clip, { seconds: 360, seed: 3 });
    const script = join(dir, 'probe.mjs');
    const embedderUrl = new URL(`file://${join(here, '..', 'src', 'embed', 'create-embedder.js')}`).href;
    await writeFile(
      script,
      `import { createEmbedder } from ${JSON.stringify(embedderUrl)};
const e = await createEmbedder({ backend: 'native', threads: 1 });
let max = 0;
const t = setInterval(() => { global.gc(); max = Math.max(max, process.memoryUsage().arrayBuffers); }, 200);
const r = await e.embed(${JSON.stringify(clip)});
clearInterval(t);
await e.close();
console.log(JSON.stringify({ maxArrayBuffers: max, patches: r.patches }));
`,
    );
    const r = spawnSync(process.execPath, ['--expose-gc', script], { encoding: 'utf8', timeout: 300000 });
    assert.equal(r.status, 0, r.stderr);
    const out = JSON.parse(r.stdout.trim().split('\n').pop()!) as { maxArrayBuffers: number; patches: number };
    assert.ok(out.patches > 200, `${out.patches} patches`);
    assert.ok(out.maxArrayBuffers < 40e6, `JS array buffers reached ${(out.maxArrayBuffers / 1e6).toFixed(1)} MB`);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

// The bound: peak RSS of `vectorize` on a 10-minute track at most 200 MB, for one
// thread (where the engine once ran on libuv's pool threads, each with its own BLAS buffer:
// 207 MB) and for two. The peak is read in the CLI's own process when it exits, from VmHWM in
// /proc/self/status: getrusage's maxRSS is no good here, because on Linux a spawned child starts
// with its parent's peak (this test process holds a 10-minute clip: ~210 MB).
const notLinux = process.platform !== 'linux' && 'reads /proc/self/status (Linux only)';
test('vectorize keeps peak RSS under 200 MB on a 10-minute track, threads 1 and 2', { skip: noAddon || (!haveFfmpeg && 'needs ffmpeg') || notLinux }, async () => {
  const dir = await mkdtemp(join(tmpdir(), 'cfw-rss-'));
  try {
    const clip = join(dir, 'ten-min.wav');
    await writeClip(clip, { seconds: 600, seed: 5 });
    const script = join(dir, 'rss.mjs');
    const binUrl = new URL(`file://${join(here, '..', 'src', 'bin.js')}`).href;
    await writeFile(
      script,
      `import { readFileSync } from 'node:fs';
process.on('exit', () => process.stderr.write('PEAK_RSS_KB ' + /VmHWM:\\s*(\\d+) kB/.exec(readFileSync('/proc/self/status', 'utf8'))[1] + '\\n'));
await import(${JSON.stringify(binUrl)});
`,
    );
    for (const threads of ['1', '2']) {
      const r = spawnSync(process.execPath, [script, 'vectorize', clip, '--backend', 'native', '--threads', threads], { encoding: 'utf8', timeout: 300000 });
      assert.equal(r.status, 0, r.stderr);
      const line = JSON.parse(r.stdout.trim()) as { vector: number[]; backend: string };
      assert.equal(line.backend, 'native');
      assert.equal(line.vector.length, 200);
      const kb = Number(/PEAK_RSS_KB (\d+)/.exec(r.stderr)?.[1]);
      assert.ok(kb > 0, r.stderr);
      assert.ok(kb < 200 * 1024, `--threads ${threads}: peak RSS ${(kb / 1024).toFixed(0)} MB`);
      console.log(`# vectorize, 10-min track, --threads ${threads}: peak RSS ${(kb / 1024).toFixed(0)} MB`);
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

// SPDX-License-Identifier: MIT
/**
 * One thread budget per process: the native engine's default threads per embed are the cores
 * shared by the embeds that run at once (a worker's --jobs sockets), floor(cores / jobs), at
 * least 1 and at most 8, so jobs x threads never exceed the cores; the portable backend's pool is
 * shared by all embeds and keeps one thread per core. Checked on the rule itself and on what the
 * native embedder asks the addon for (a recording stand-in binding: no addon needed).
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { availableParallelism, tmpdir } from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { writeClip } from '../src/audio/synth-clip.js';
import { defaultThreads } from '../src/embed/embedder-options.js';
import { createNativeEmbedder } from '../src/embed/native-embedder.js';

test('defaultThreads: floor(cores / jobs), at least 1, at most 8; jobs x threads never exceed the cores', () => {
  assert.equal(defaultThreads(1, 2), 2);
  assert.equal(defaultThreads(2, 2), 1);
  assert.equal(defaultThreads(3, 2), 1);
  assert.equal(defaultThreads(2, 8), 4);
  assert.equal(defaultThreads(3, 8), 2);
  assert.equal(defaultThreads(8, 8), 1);
  assert.equal(defaultThreads(1, 32), 8);
  assert.equal(defaultThreads(1, 1), 1);
  for (let cores = 1; cores <= 64; cores++)
    for (let jobs = 1; jobs <= cores; jobs++) assert.ok(jobs * defaultThreads(jobs, cores) <= cores, `${jobs} jobs on ${cores} cores`);
  assert.equal(defaultThreads(), Math.max(1, Math.min(8, availableParallelism())));
  assert.throws(() => defaultThreads(0, 4), /positive integer for jobs/);
});

test('the native embedder opens each session with the threads of its jobs share', async () => {
  const dir = await mkdtemp(path.join(tmpdir(), 'chaarfm-budget-'));
  try {
    const file = path.join(dir, 'a.wav');
    await writeClip(file, { seconds: 1, seed: 1 });
    const asked: number[] = [];
    const fail = () => Promise.reject(new Error('not in this test'));
    const binding = {
      info: () => ({ engine: 'musicnn', napiVersion: 8, libsamplerate: 'x', isa: 'generic', cpuIsa: 'generic' }),
      createModel: () => ({}),
      openSession: (_m: unknown, _rate: number, threads: number) => {
        asked.push(threads);
        return Promise.reject(new Error('stand-in: no engine'));
      },
      sessionPush: fail,
      sessionFinish: fail,
      sessionClose: () => {},
      runPatches: fail,
      runFrames: fail,
      resample: fail,
      melBands: fail,
      frontend: fail,
    };
    const cores = availableParallelism();
    for (const [jobs, want] of [[1, defaultThreads(1)], [2, defaultThreads(2)], [cores + 1, 1]] as const) {
      const e = await createNativeEmbedder(binding, { jobs });
      await assert.rejects(e.embed(file), /stand-in: no engine/);
      await e.close();
      assert.equal(asked.at(-1), want, `jobs ${jobs}`);
      assert.ok(jobs * (asked.at(-1) as number) <= Math.max(cores, jobs));
    }
    // an explicit threads wins
    const e = await createNativeEmbedder(binding, { jobs: 2, threads: 3 });
    await assert.rejects(e.embed(file), /stand-in: no engine/);
    await e.close();
    assert.equal(asked.at(-1), 3);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

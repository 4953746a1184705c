// SPDX-License-Identifier: MIT
/**
 * How many jobs at once (`--jobs N`) one machine should run: the real worker against a local
 * test coordinator, the real yt-dlp downloading generated 30 s tracks from a local HTTP server,
 * for N = 1, 2, 3 (and 4 with `--max 4`). Prints tracks per minute and the speed-up over N = 1,
 * measured in the same run. Each N gets an embedder made as the worker makes it (`jobs: N`), so
 * the native backend runs floor(cores / N) engine threads per job (the thread budget), unless
 * `--threads T` fixes them. Run: `npm run build && node dist/bench/jobs-scaling.js [--tracks 6]
 * [--backend wasm|native] [--max 3] [--threads T]`. Not part of the tests.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { availableParallelism, cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { writeClip } from '../src/audio/synth-clip.js';
import { createEmbedder } from '../src/embed/create-embedder.js';
import { defaultThreads } from '../src/embed/embedder-options.js';
import { YtDlpMedia } from '../src/media/ytdlp-media.js';
import { startWorker } from '../src/worker/worker.js';
import { FakeServer } from '../test/support/fake-server.js';
import { MediaServer } from '../test/support/media-server.js';

function arg(name: string, def: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1] : def;
}

const tracks = Number(arg('tracks', '6'));
const maxJobs = Number(arg('max', '3'));
const backend = arg('backend', 'auto') as 'auto' | 'wasm' | 'native';
const threads = process.argv.includes('--threads') ? Number(arg('threads', '1')) : undefined;

const dir = await mkdtemp(join(tmpdir(), 'chaarfm-jobs-bench-'));
const media = await MediaServer.start(dir);
const server = await FakeServer.start();
const probe = await createEmbedder({ backend });
console.log(`cores: ${availableParallelism()} (${cpus()[0]?.model ?? '?'}), backend ${probe.backend}, ${tracks} tracks of 30 s`);
await probe.close();
try {
  for (let i = 0; i < tracks; i++) await writeClip(join(dir, `t${i}.wav`), { seconds: 30, seed: i + 1 });
  let base = 0;
  for (let jobs = 1; jobs <= maxJobs; jobs++) {
    const code = `J${jobs}`;
    const embedder = await createEmbedder({ backend, jobs, threads });
    const worker = await startWorker({
      url: server.url,
      code,
      jobs,
      embedder,
      media: new YtDlpMedia({ env: { ...process.env, POST_DOWNLOAD_MIN_SIZE_MB: '0' } }),
    });
    const peers = await server.waitFor(() => {
      const p = server.openPeers().filter((x) => x.code === code);
      return p.length === jobs ? p : undefined;
    });
    const t0 = performance.now();
    let next = 0;
    let done = 0;
    // the server's scheduling: a job to each idle socket, the next one after each result
    await new Promise<void>((resolve, reject) => {
      const give = (k: number) => {
        if (next >= tracks) return;
        const id = `${code}-${next}`;
        server.sendJob(peers[k], id, { artist: null, title: null, youtube_url: media.url(`t${next++}.wav`) });
        server
          .waitForMessage(peers[k], (m) => m.type === 'result' && m.job_id === id, 600000)
          .then((r) => {
            if (r.status !== 'success') throw new Error(`job failed: ${String(r.error)}`);
            if (++done === tracks) resolve();
            else give(k);
          })
          .catch(reject);
      };
      peers.forEach((_, k) => give(k));
    });
    const secs = (performance.now() - t0) / 1000;
    const perMin = (tracks / secs) * 60;
    if (jobs === 1) base = perMin;
    const each = embedder.backend === 'native' ? `, ${threads ?? defaultThreads(jobs)} engine thread(s) per job` : '';
    console.log(`--jobs ${jobs}${each}: ${secs.toFixed(1)} s, ${perMin.toFixed(2)} tracks/min, x${(perMin / base).toFixed(2)} vs --jobs 1`);
    await worker.stop();
    await embedder.close();
  }
} finally {
  await server.stop();
  await media.stop();
  await rm(dir, { recursive: true, force: true });
}

// SPDX-License-Identifier: MIT
/**
 * `chaarfm-worker demo`: a first run for newcomers. Writes a generated 30 s music-like clip to a
 * temp folder, embeds it like a job would, prints the vector's size, its first values, the top
 * MSD tags and the time taken, then removes the clip.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { writeClip } from '../audio/synth-clip.js';
import { createLogger } from '../log/logger.js';
import { embeddingFlags } from './vectorize-command.js';
import type { CliIO } from './worker-command.js';

export async function runDemoCommand(argv: readonly string[], opts: Record<string, unknown>, io: CliIO): Promise<void> {
  const flags = embeddingFlags(argv, opts);
  const log = createLogger({ format: 'pretty', stream: io.stderr, level: 'info' });
  const dir = await mkdtemp(join(flags.tmpDir ?? tmpdir(), 'chaarfm-demo-'));
  try {
    const clip = join(dir, 'demo-clip.wav');
    await writeClip(clip, { seconds: 30, seed: 7 });
    io.stdout.write(`generated a 30 s music-like clip: ${clip}\n`);
    const { createEmbedder } = await import('../embed/create-embedder.js');
    const t0 = Date.now();
    const embedder = await createEmbedder({ ...flags, tagsNode: 'model/Sigmoid', logger: log });
    const tLoad = Date.now() - t0;
    try {
      const t1 = Date.now();
      const r = await embedder.embed(clip);
      const ms = Date.now() - t1;
      const { topTags } = await import('../embed/msd-tags.js');
      io.stdout.write(`backend ${embedder.backend}; model loaded in ${tLoad} ms; embedded in ${ms} ms (${(30000 / ms).toFixed(1)}x realtime)\n`);
      io.stdout.write(`vector: ${r.vector.length} values from ${r.patches} patches; first 5: ${Array.from(r.vector.slice(0, 5), (x) => x.toFixed(4)).join(', ')}\n`);
      if (r.tags) io.stdout.write(`top tags: ${topTags(r.tags, 5).map((t) => `${t.name} ${t.score.toFixed(3)}`).join(', ')}\n`);
      io.stdout.write('next: chaarfm-worker vectorize <your file or URL>, or chaarfm-worker --url <server> --code <code>\n');
    } finally {
      await embedder.close();
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

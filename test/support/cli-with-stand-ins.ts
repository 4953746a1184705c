// SPDX-License-Identifier: MIT
/**
 * The real CLI with stand-in audio work, for child-process tests of signals, prompts and logs.
 * STANDIN_EMBED_MS: embed time; STANDIN_STUBBORN=1: a media layer that ignores aborts.
 */
import { main } from '../../src/cli/main.js';
import type { Media } from '../../src/media/media.js';
import { StubEmbedder, StubMedia } from './stand-ins.js';

const stubborn: Media = {
  async fetch(_p, ctx) {
    ctx.onProgress('download', 0.1);
    // ignores ctx.signal on purpose, and outlasts any test: only an exit ends it
    await new Promise((r) => setTimeout(r, 600_000));
    throw new Error('never');
  },
  async fetchGenre() {
    throw new Error('never');
  },
};

await main(process.argv, undefined, {
  embedder: new StubEmbedder({ delayMs: Number(process.env.STANDIN_EMBED_MS ?? 0) }),
  media: process.env.STANDIN_STUBBORN === '1' ? stubborn : new StubMedia(),
  reconnect: { initialMs: 50, maxMs: 200 },
});

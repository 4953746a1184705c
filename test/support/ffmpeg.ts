// SPDX-License-Identifier: MIT
/** Whether the tests that decode audio can run: the ffmpeg the package would use, or why not. */
import { resolveFfmpeg } from '../../src/audio/ffmpeg.js';

/** False when an ffmpeg resolves (CHAARFM_FFMPEG, the bundled decoder, PATH); else the skip reason. */
export const ffmpegSkip: string | false = await resolveFfmpeg().then(
  () => false,
  (e: unknown) => `needs ffmpeg (${(e instanceof Error ? e.message : String(e)).split(';')[0]})`,
);

// SPDX-License-Identifier: MIT
/**
 * Writes the CI legs' test clip: a generated, seeded stereo 44.1 kHz WAV (src/audio/synth-clip.ts).
 *   node scripts/ci/make-clip.mjs <out.wav> <seconds> [seed]      (after npm run build)
 */
import { writeClip } from '../../dist/src/audio/synth-clip.js';

const [file, seconds, seed = '7'] = process.argv.slice(2);
if (!file || !(Number(seconds) > 0)) {
  console.error('usage: make-clip.mjs <out.wav> <seconds> [seed]');
  process.exit(2);
}
await writeClip(file, { seconds: Number(seconds), seed: Number(seed) });

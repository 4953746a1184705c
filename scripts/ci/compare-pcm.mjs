// SPDX-License-Identifier: MIT
/**
 * Compares two raw float32 little-endian PCM files (ffmpeg -f f32le): prints whether they are
 * bit-identical, else how many samples differ and the largest difference; exit 1 when they
 * differ by more than --within (default 0: bit for bit) or in length.
 *   node scripts/ci/compare-pcm.mjs <a.f32> <b.f32> [--within X] [--label TEXT]
 */
import { readFileSync } from 'node:fs';

const argv = process.argv.slice(2);
const opt = (name, dflt) => (argv.includes(name) ? argv[argv.indexOf(name) + 1] : dflt);
const [a, b] = argv;
const within = Number(opt('--within', '0'));
const label = opt('--label', `${a} vs ${b}`);
const read = (f) => {
  const buf = readFileSync(f);
  if (buf.length % 4) throw new Error(`${f}: ${buf.length} bytes is not whole float32 samples`);
  return new Float32Array(buf.buffer, buf.byteOffset, buf.length / 4);
};
const x = read(a);
const y = read(b);
if (x.length === 0 || x.length !== y.length) {
  console.log(`${label}: ${x.length} vs ${y.length} samples`);
  process.exit(1);
}
let differ = 0;
let max = 0;
for (let i = 0; i < x.length; i++) {
  if (Object.is(x[i], y[i])) continue;
  differ++;
  max = Math.max(max, Math.abs(x[i] - y[i]));
}
console.log(differ === 0 ? `${label}: bit-identical (${x.length} samples)` : `${label}: ${differ} of ${x.length} samples differ, by at most ${max.toExponential(3)}`);
process.exit(differ === 0 || max <= within ? 0 : 1);

// SPDX-License-Identifier: MIT
/**
 * A deterministic music-like test clip (chords, a bass line, kick, hi-hat noise), written as a
 * 16-bit stereo WAV without any external tool: used by `chaarfm-worker demo`, the benches and
 * tests. Same arguments, same bytes.
 */
import { writeFile } from 'node:fs/promises';
import { mulberry32 } from '../util/random.js';

export interface ClipOptions {
  seconds: number;
  sampleRate?: number;
  channels?: 1 | 2;
  /** Changes the chord progression, tempo and noise, so different seeds give different music. */
  seed?: number;
}

const midiHz = (m: number) => 440 * Math.pow(2, (m - 69) / 12);

/** Interleaved 16-bit samples of the clip. */
export function synthClip(opts: ClipOptions): Int16Array {
  const sr = opts.sampleRate ?? 44100;
  const ch = opts.channels ?? 2;
  const n = Math.round(opts.seconds * sr);
  const rand = mulberry32(opts.seed ?? 1);
  const bpm = 90 + Math.floor(rand() * 60);
  const beat = 60 / bpm;
  const roots = [57, 53, 60, 55, 50, 52, 48].map((r) => r + Math.floor(rand() * 5));
  const progression = Array.from({ length: 4 }, () => roots[Math.floor(rand() * roots.length)]);
  const out = new Int16Array(n * ch);
  let noise = 0;
  for (let i = 0; i < n; i++) {
    const t = i / sr;
    const bar = Math.floor(t / (4 * beat));
    const root = progression[bar % progression.length];
    const chord = [root, root + 4, root + 7, root + 12];
    let s = 0;
    for (const m of chord) s += 0.07 * Math.sin(2 * Math.PI * midiHz(m) * t);
    s += 0.18 * Math.sin(2 * Math.PI * midiHz(root - 24) * t) * (0.6 + 0.4 * Math.cos((2 * Math.PI * t) / beat));
    const inBeat = t % beat;
    s += 0.5 * Math.sin(2 * Math.PI * 55 * inBeat) * Math.exp(-18 * inBeat);
    const inHalf = (t + beat / 2) % beat;
    noise = 0.6 * noise + 0.4 * (rand() * 2 - 1);
    s += 0.12 * noise * Math.exp(-60 * inHalf);
    const v = Math.max(-1, Math.min(1, s));
    for (let c = 0; c < ch; c++) out[i * ch + c] = Math.round((c === 1 ? 0.9 : 1) * v * 32000);
  }
  return out;
}

export function wavBytes(samples: Int16Array, sampleRate: number, channels: number): Buffer {
  const data = Buffer.from(samples.buffer, samples.byteOffset, samples.byteLength);
  const h = Buffer.alloc(44);
  h.write('RIFF', 0, 'latin1');
  h.writeUInt32LE(36 + data.length, 4);
  h.write('WAVEfmt ', 8, 'latin1');
  h.writeUInt32LE(16, 16);
  h.writeUInt16LE(1, 20);
  h.writeUInt16LE(channels, 22);
  h.writeUInt32LE(sampleRate, 24);
  h.writeUInt32LE(sampleRate * channels * 2, 28);
  h.writeUInt16LE(channels * 2, 32);
  h.writeUInt16LE(16, 34);
  h.write('data', 36, 'latin1');
  h.writeUInt32LE(data.length, 40);
  return Buffer.concat([h, data]);
}

/** Writes the clip to `file` as WAV. */
export async function writeClip(file: string, opts: ClipOptions): Promise<void> {
  const sr = opts.sampleRate ?? 44100;
  const ch = opts.channels ?? 2;
  await writeFile(file, wavBytes(synthClip(opts), sr, ch));
}

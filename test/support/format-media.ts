// SPDX-License-Identifier: MIT
/**
 * One short stereo clip in each format a worker downloads, encoded by the full ffmpeg on PATH
 * (Debian's in CI: libopus, aac, libmp3lame, libvorbis, flac, pcm): what the bundled decoder
 * must read exactly as that ffmpeg does (test/ffmpeg-bundled.test.ts, test/ship-exe.test.ts).
 */
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';

/** [file name, encoder arguments]: webm/opus, m4a/aac, mp3, ogg/vorbis, flac, wav. */
export const FORMATS: readonly (readonly [string, readonly string[]])[] = [
  ['clip.webm', ['-c:a', 'libopus', '-b:a', '96k']],
  ['clip.m4a', ['-c:a', 'aac', '-b:a', '128k']],
  ['clip.mp3', ['-c:a', 'libmp3lame', '-b:a', '128k']],
  ['clip.ogg', ['-c:a', 'libvorbis', '-q:a', '4']],
  ['clip.flac', ['-c:a', 'flac']],
  ['clip.wav', ['-c:a', 'pcm_s16le']],
];

/** Writes every format's clip into `dir` (`seconds` of 44.1 kHz stereo music-like audio); returns their paths. */
export function makeFormatClips(dir: string, seconds = 4): string[] {
  const expr = '0.2*sin(2*PI*220*t)+0.15*sin(2*PI*277.2*t)+0.4*sin(2*PI*55*t)*exp(-8*mod(t,0.5))';
  return FORMATS.map(([name, codec]) => {
    const file = join(dir, name);
    execFileSync('ffmpeg', [
      '-nostdin', '-hide_banner', '-v', 'error', '-y',
      '-f', 'lavfi', '-i', `aevalsrc='${expr}|${expr}*0.8':s=44100:d=${seconds}`,
      '-f', 'lavfi', '-i', `anoisesrc=color=pink:amplitude=0.05:seed=3:r=44100:d=${seconds}`,
      '-filter_complex', '[0:a][1:a]amix=inputs=2:normalize=0', ...codec, file,
    ]);
    return file;
  });
}

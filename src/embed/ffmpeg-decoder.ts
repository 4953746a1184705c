// SPDX-License-Identifier: MIT
/** The ffmpeg decoder both backends use, and the duration probe behind its progress. */
import { execFile } from 'node:child_process';
import { decodeToPcm, resolveFfmpeg } from '../audio/ffmpeg.js';
import type { DecodeFn } from './wasm-embedder.js';

/**
 * The container's announced duration in seconds (ffmpeg's "Duration:" line), for progress
 * only; undefined when unknown. Costs one short ffmpeg run that reads only the header.
 */
export function probeDuration(ffmpegPath: string, file: string, signal?: AbortSignal): Promise<number | undefined> {
  return new Promise((resolve) => {
    execFile(
      ffmpegPath,
      ['-hide_banner', '-nostdin', '-i', `file:${file}`],
      { timeout: 15_000, windowsHide: true, signal },
      (_err, _stdout, stderr) => {
        const m = /Duration: (\d+):(\d\d):(\d\d(?:\.\d+)?)/.exec(String(stderr));
        resolve(m ? Number(m[1]) * 3600 + Number(m[2]) * 60 + Number(m[3]) : undefined);
      },
    );
  });
}

/** The ffmpeg decoder for the portable embedder (plus a duration probe for file inputs). */
export function ffmpegDecoder(): DecodeFn {
  return async (input, o) => {
    const ffmpegPath = o.ffmpegPath ?? (await resolveFfmpeg());
    const [pcm, duration] = await Promise.all([
      decodeToPcm(input, { ffmpegPath, signal: o.signal }),
      typeof input === 'string' ? probeDuration(ffmpegPath, input, o.signal) : undefined,
    ]);
    return { sampleRate: pcm.sampleRate, duration, chunks: pcm, close: () => pcm.close() };
  };
}

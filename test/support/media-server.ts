// SPDX-License-Identifier: MIT
/**
 * A local HTTP server that serves files from one folder, for the real yt-dlp's generic
 * extractor, plus helpers that make music-like clips with ffmpeg in several formats.
 */
import { execFileSync } from 'node:child_process';
import { createReadStream, statSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { basename, join } from 'node:path';

export class MediaServer {
  private constructor(
    private readonly server: Server,
    readonly dir: string,
  ) {}

  static async start(dir: string): Promise<MediaServer> {
    const server = createServer((req, res) => {
      const name = basename(decodeURIComponent((req.url ?? '/').split('?')[0]));
      const file = join(dir, name);
      let size: number;
      try {
        size = statSync(file).size;
      } catch {
        res.writeHead(404).end('not found');
        return;
      }
      const type = name.endsWith('.mp3') ? 'audio/mpeg' : name.endsWith('.wav') ? 'audio/wav' : name.endsWith('.m4a') ? 'audio/mp4' : 'audio/ogg';
      res.writeHead(200, { 'content-type': type, 'content-length': size });
      if (req.method === 'HEAD') res.end();
      else createReadStream(file).pipe(res);
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    return new MediaServer(server, dir);
  }

  url(name: string): string {
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}/${encodeURIComponent(name)}`;
  }

  async stop(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((r) => this.server.close(() => r()));
  }
}

/** Chords, a kick and filtered noise: music-like enough for MusiCNN, made by ffmpeg. */
export function makeMusicClip(file: string, o: { seconds: number; rate: number; channels: 1 | 2; codec: string[]; seed?: number }): void {
  const f = 110 * (1 + (o.seed ?? 0) * 0.25);
  const chord = `0.15*sin(2*PI*${f * 2}*t)+0.1*sin(2*PI*${f * 2.52}*t)+0.1*sin(2*PI*${f * 3}*t)`;
  const kick = `0.45*sin(2*PI*55*t)*exp(-10*mod(t,0.5))`;
  const expr = `${chord}+${kick}`;
  execFileSync('ffmpeg', [
    '-hide_banner', '-v', 'error', '-y',
    '-f', 'lavfi', '-i', `aevalsrc='${o.channels === 2 ? `${expr}|${expr}*0.9` : expr}':s=${o.rate}:d=${o.seconds}`,
    '-f', 'lavfi', '-i', `anoisesrc=color=pink:amplitude=0.05:seed=${(o.seed ?? 0) + 1}:r=${o.rate}:d=${o.seconds}`,
    '-filter_complex', `[1]aformat=channel_layouts=${o.channels === 2 ? 'stereo' : 'mono'}[n];[0][n]amix=inputs=2:normalize=0`,
    '-ac', String(o.channels), '-ar', String(o.rate), ...o.codec, file,
  ]);
}

export const CODECS = {
  mp3: ['-c:a', 'libmp3lame', '-b:a', '128k'],
  opus: ['-c:a', 'libopus', '-b:a', '96k'],
  m4a: ['-c:a', 'aac', '-b:a', '128k'],
  wav: ['-c:a', 'pcm_s16le'],
};

// SPDX-License-Identifier: MIT
/**
 * A corpus of broken and odd media for the broken-media suite, made with ffmpeg and by hand:
 * empty files, files cut in the header or mid-frame, the wrong container behind a name, absurd
 * headers (a WAV claiming 4 GiB of data or a 2 GiB chunk, an 8 MB ID3 tag, rates of 0 and 4 GHz),
 * a 0-channel WAV, one sample, NaN samples, 2 s, silence, valid audio at 8 kHz and 192 kHz, and
 * 8 channels (refused, as Essentia's loader does). Each entry says what `vectorize` and a worker
 * job must make of it.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/**
 * `fail`: a one-line error (matching `error` where given); `vector`: a finite 200-d vector;
 * `either`: one or the other, never a crash. Separately for `vectorize` and for a worker job
 * (which also refuses silence).
 */
export type Outcome = 'fail' | 'vector' | 'either';

export interface CorpusEntry {
  name: string;
  what: string;
  vectorize: Outcome;
  job: Outcome;
  /** The error's text (after the `Download failed: ` / `Vectorization failed: ` prefix for jobs). */
  error?: RegExp;
  /** The same music at a normal rate, for a similarity check. */
  sameAs?: string;
}

/** Chords and a kick, no noise: the same signal in every channel, at any rate. */
function music(file: string, o: { rate: number; channels: number; seconds: number; codec: string[]; format?: string }): void {
  const expr = '0.2*sin(2*PI*220*t)+0.12*sin(2*PI*277.2*t)+0.12*sin(2*PI*329.6*t)+0.4*sin(2*PI*55*t)*exp(-10*mod(t,0.5))';
  execFileSync('ffmpeg', [
    '-hide_banner', '-v', 'error', '-y',
    '-f', 'lavfi', '-i', `aevalsrc='${Array.from({ length: o.channels }, () => expr).join('|')}':s=${o.rate}:d=${o.seconds}`,
    ...o.codec, ...(o.format ? ['-f', o.format] : []), file,
  ]);
}

/** A canonical 44-byte PCM WAV header. */
export function wavHeader(o: { channels: number; rate: number; bits: number; dataBytes: number; format?: number; riffBytes?: number }): Buffer {
  const h = Buffer.alloc(44);
  const blockAlign = (o.channels * o.bits) / 8;
  h.write('RIFF', 0, 'latin1');
  h.writeUInt32LE(o.riffBytes ?? (36 + o.dataBytes) >>> 0, 4);
  h.write('WAVE', 8, 'latin1');
  h.write('fmt ', 12, 'latin1');
  h.writeUInt32LE(16, 16);
  h.writeUInt16LE(o.format ?? 1, 20);
  h.writeUInt16LE(o.channels, 22);
  h.writeUInt32LE(o.rate, 24);
  h.writeUInt32LE((o.rate * blockAlign) >>> 0, 28);
  h.writeUInt16LE(blockAlign, 32);
  h.writeUInt16LE(o.bits, 34);
  h.write('data', 36, 'latin1');
  h.writeUInt32LE(o.dataBytes >>> 0, 40);
  return h;
}

/** Writes the corpus into `dir` and returns its entries. Needs ffmpeg. */
export function makeCorpus(dir: string): CorpusEntry[] {
  const p = (n: string) => join(dir, n);
  const pcm = ['-c:a', 'pcm_s16le'];
  const mp3 = ['-c:a', 'libmp3lame', '-b:a', '128k'];
  const ogg = ['-c:a', 'libvorbis', '-q:a', '4'];
  music(p('ref-44k.wav'), { rate: 44100, channels: 2, seconds: 6, codec: pcm });
  music(p('ref-44k.mp3'), { rate: 44100, channels: 2, seconds: 6, codec: mp3 });
  music(p('ref-44k.ogg'), { rate: 44100, channels: 2, seconds: 6, codec: ogg });
  music(p('rate-8k.wav'), { rate: 8000, channels: 1, seconds: 6, codec: pcm });
  music(p('rate-192k.wav'), { rate: 192000, channels: 2, seconds: 6, codec: pcm });
  music(p('ch-8.wav'), { rate: 48000, channels: 8, seconds: 6, codec: pcm });
  music(p('short-2s.wav'), { rate: 44100, channels: 2, seconds: 2, codec: pcm });
  execFileSync('ffmpeg', ['-v', 'error', '-y', '-f', 'lavfi', '-i', 'anullsrc=r=44100:cl=stereo', '-t', '5', '-c:a', 'pcm_s16le', p('silence.wav')]);
  execFileSync('ffmpeg', ['-v', 'error', '-y', '-f', 'lavfi', '-i', 'color=c=red:s=64x64:d=1', '-frames:v', '1', '-f', 'image2', '-c:v', 'png', p('image-as.mp3')]);
  const refWav = readFileSync(p('ref-44k.wav'));
  const refMp3 = readFileSync(p('ref-44k.mp3'));
  const refOgg = readFileSync(p('ref-44k.ogg'));
  const rnd = Buffer.alloc(65536);
  let s = 12345;
  for (let i = 0; i < rnd.length; i++) rnd[i] = (s = (s * 1103515245 + 12345) >>> 0) >>> 24;

  writeFileSync(p('zero-bytes.mp3'), '');
  writeFileSync(p('zero-bytes.wav'), '');
  writeFileSync(p('header-only.mp3'), refMp3.subarray(0, 200));
  writeFileSync(p('header-only.ogg'), refOgg.subarray(0, 120));
  writeFileSync(p('header-only.wav'), refWav.subarray(0, 44));
  writeFileSync(p('cut-mid.mp3'), refMp3.subarray(0, Math.floor(refMp3.length * 0.7) + 3));
  writeFileSync(p('cut-mid.ogg'), refOgg.subarray(0, Math.floor(refOgg.length * 0.7) + 5));
  writeFileSync(p('cut-mid.wav'), refWav.subarray(0, Math.floor(refWav.length * 0.7) + 1)); // mid-sample
  writeFileSync(p('cut-early.mp3'), refMp3.subarray(0, 9000)); // under a second of audio
  writeFileSync(p('mp3-named.wav'), refMp3);
  writeFileSync(p('text-named.mp3'), 'this is a text file, not audio\n'.repeat(200));
  writeFileSync(p('random-bytes.ogg'), rnd);
  // a WAV whose header claims ~4 GiB of data but holds 6 s
  const wavData = refWav.subarray(refWav.indexOf('data', 12, 'latin1') + 8); // after ffmpeg's LIST chunk too
  writeFileSync(p('claims-4gib.wav'), Buffer.concat([wavHeader({ channels: 2, rate: 44100, bits: 16, dataBytes: 0xfffffff0, riffBytes: 0xffffffff }), wavData]));
  // a 2 GiB LIST chunk before the data: nothing after it can be reached
  const list = Buffer.alloc(8);
  list.write('LIST', 0, 'latin1');
  list.writeUInt32LE(0x7ffffff0, 4);
  const hdr = wavHeader({ channels: 2, rate: 44100, bits: 16, dataBytes: wavData.length });
  writeFileSync(p('huge-chunk.wav'), Buffer.concat([hdr.subarray(0, 36), list, hdr.subarray(36), wavData]));
  // an ID3v2 tag of 8 MB (padding) in front of real audio
  const tagBytes = 8 * 1024 * 1024;
  const id3 = Buffer.alloc(10 + tagBytes);
  id3.write('ID3', 0, 'latin1');
  id3[3] = 4;
  for (let i = 0; i < 4; i++) id3[6 + i] = (tagBytes >>> (7 * (3 - i))) & 0x7f; // syncsafe size
  writeFileSync(p('id3-8mb.mp3'), Buffer.concat([id3, refMp3]));
  // an fmt chunk that says 0 channels
  writeFileSync(p('zero-channels.wav'), Buffer.concat([wavHeader({ channels: 0, rate: 44100, bits: 16, dataBytes: 44100 * 4 }), Buffer.alloc(44100 * 4, 1)]));
  // a sample rate of 0 and one of 4 billion
  writeFileSync(p('rate-zero.wav'), Buffer.concat([wavHeader({ channels: 1, rate: 0, bits: 16, dataBytes: 88200 }), wavData.subarray(0, 88200)]));
  writeFileSync(p('rate-4g.wav'), Buffer.concat([wavHeader({ channels: 1, rate: 0xfffffff0, bits: 16, dataBytes: 88200 }), wavData.subarray(0, 88200)]));
  // one sample
  writeFileSync(p('one-sample.wav'), Buffer.concat([wavHeader({ channels: 1, rate: 44100, bits: 16, dataBytes: 2 }), Buffer.from([0x00, 0x40])]));
  // float samples, some NaN and infinite
  const n = 44100 * 5;
  const f = Buffer.alloc(n * 4);
  for (let i = 0; i < n; i++) f.writeFloatLE(i % 1000 === 7 ? NaN : i % 1000 === 500 ? Infinity : 0.3 * Math.sin((2 * Math.PI * 440 * i) / 44100), i * 4);
  writeFileSync(p('nan-samples.wav'), Buffer.concat([wavHeader({ channels: 1, rate: 44100, bits: 32, dataBytes: f.length, format: 3 }), f]));

  const tooShort = /Audio too short \(\d+\.\d s; MusiCNN needs 3 s\)/;
  return [
    { name: 'ref-44k.wav', what: 'reference, 44.1 kHz stereo WAV', vectorize: 'vector', job: 'vector' },
    { name: 'ref-44k.mp3', what: 'reference, MP3', vectorize: 'vector', job: 'vector' },
    { name: 'ref-44k.ogg', what: 'reference, Ogg Vorbis', vectorize: 'vector', job: 'vector' },
    { name: 'rate-8k.wav', what: '8 kHz mono', vectorize: 'vector', job: 'vector', sameAs: 'ref-44k.wav' },
    { name: 'rate-192k.wav', what: '192 kHz stereo', vectorize: 'vector', job: 'vector', sameAs: 'ref-44k.wav' },
    // Essentia's AudioLoader refuses more than two channels, and so does this worker (fidelity)
    { name: 'ch-8.wav', what: '8 channels, 48 kHz', vectorize: 'fail', job: 'fail', error: /has 8 channels at 48000 Hz; Essentia's MonoLoader loads only mono or stereo audio/ },
    { name: 'mp3-named.wav', what: 'MP3 bytes named .wav', vectorize: 'vector', job: 'vector', sameAs: 'ref-44k.mp3' },
    { name: 'id3-8mb.mp3', what: 'an 8 MB ID3 tag before the audio', vectorize: 'vector', job: 'vector', sameAs: 'ref-44k.mp3' },
    { name: 'claims-4gib.wav', what: 'WAV header claiming 4 GiB of data', vectorize: 'vector', job: 'vector', sameAs: 'ref-44k.wav' },
    { name: 'cut-mid.mp3', what: 'MP3 cut mid-frame at 70%', vectorize: 'vector', job: 'vector' },
    { name: 'cut-mid.ogg', what: 'Ogg cut mid-page at 70%', vectorize: 'vector', job: 'vector' },
    { name: 'cut-mid.wav', what: 'WAV cut mid-sample at 70%', vectorize: 'vector', job: 'vector' },
    { name: 'silence.wav', what: '5 s of digital silence', vectorize: 'vector', job: 'fail', error: /^the audio is silent/ },
    { name: 'short-2s.wav', what: '2 s of music', vectorize: 'fail', job: 'fail', error: /^Audio too short \(2\.0 s; MusiCNN needs 3 s\)$/ },
    { name: 'one-sample.wav', what: 'a single sample', vectorize: 'fail', job: 'fail', error: tooShort },
    { name: 'cut-early.mp3', what: 'MP3 cut after 9 kB', vectorize: 'fail', job: 'fail', error: tooShort },
    { name: 'zero-bytes.mp3', what: 'empty .mp3', vectorize: 'fail', job: 'fail' },
    { name: 'zero-bytes.wav', what: 'empty .wav', vectorize: 'fail', job: 'fail' },
    { name: 'header-only.mp3', what: 'first 200 bytes of an MP3', vectorize: 'fail', job: 'fail' },
    { name: 'header-only.ogg', what: 'first 120 bytes of an Ogg', vectorize: 'fail', job: 'fail' },
    { name: 'header-only.wav', what: 'a WAV header with no samples', vectorize: 'fail', job: 'fail' },
    { name: 'text-named.mp3', what: 'a text file named .mp3', vectorize: 'fail', job: 'fail' },
    { name: 'image-as.mp3', what: 'a PNG image named .mp3 (no audio stream)', vectorize: 'fail', job: 'fail', error: /the file has no audio stream/ },
    { name: 'random-bytes.ogg', what: '64 kB of random bytes', vectorize: 'either', job: 'either' },
    { name: 'huge-chunk.wav', what: 'a 2 GiB LIST chunk before the data', vectorize: 'either', job: 'either' },
    { name: 'zero-channels.wav', what: 'a WAV header with 0 channels', vectorize: 'fail', job: 'fail' },
    { name: 'rate-zero.wav', what: 'a WAV header with a 0 Hz rate', vectorize: 'fail', job: 'fail' },
    { name: 'rate-4g.wav', what: 'a WAV header with a 4 GHz rate', vectorize: 'fail', job: 'fail' },
    { name: 'nan-samples.wav', what: 'float WAV with NaN and infinite samples', vectorize: 'fail', job: 'fail', error: /^the audio contains NaN or infinite samples$/ },
  ];
}

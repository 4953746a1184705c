// SPDX-License-Identifier: MIT
/**
 * src/audio/ffmpeg.ts: finding ffmpeg, decoding to mono float PCM as Essentia's MonoLoader does
 * before resampling, and the errors bad media produce. Test audio is made with ffmpeg itself in
 * a temporary folder that is removed afterwards; everything skips when ffmpeg is absent.
 */
import { concatFloat32 } from '../src/util/float32.js';
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createReadStream } from 'node:fs';
import { mkdtemp, readdir, rm, writeFile, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  DecodeError,
  FfmpegNotFoundError,
  decodeToPcm,
  ffmpegVersion,
  resolveFfmpeg,
  type PcmStream,
} from '../src/audio/ffmpeg.js';

let ffmpeg = '';
try {
  ffmpeg = await resolveFfmpeg();
} catch {
  /* tests below skip */
}
const skip = ffmpeg ? false : 'ffmpeg is not installed';
let dir = '';

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'chaarfm-ffmpeg-test-'));
});
after(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

/** Runs the full ffmpeg on PATH (lavfi, encoders: not the bundled decoder) to make a test file in the temp folder; returns its path. */
function make(name: string, args: string[]): string {
  const out = join(dir, name);
  execFileSync('ffmpeg', ['-nostdin', '-v', 'error', '-y', ...args, out]);
  return out;
}

/** Stereo test source: a different tone and level in each channel. */
const STEREO = ['-f', 'lavfi', '-i', 'sine=frequency=440:sample_rate=44100:duration=2', '-f', 'lavfi', '-i',
  'anoisesrc=color=pink:sample_rate=44100:duration=2:amplitude=0.3:seed=7', '-filter_complex', '[0:a][1:a]amerge=inputs=2'];

async function collect(stream: PcmStream): Promise<Float32Array> {
  const parts: Float32Array[] = [];
  for await (const c of stream) parts.push(c);
  return concatFloat32(parts);
}

/** Raw interleaved float32 channels straight from ffmpeg, for comparison. */
function rawChannels(file: string, channels: number): Float32Array {
  const buf = execFileSync(ffmpeg, ['-nostdin', '-v', 'error', '-i', file, '-f', 'f32le', '-ac', String(channels), 'pipe:1'], {
    maxBuffer: 1 << 28,
  });
  return new Float32Array(buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.length));
}

test('resolveFfmpeg rejects an explicit path that does not exist, naming the option', async () => {
  await assert.rejects(resolveFfmpeg({ ffmpegPath: '/nonexistent/ffmpeg' }), (err: Error) => {
    assert.ok(err instanceof FfmpegNotFoundError);
    assert.match(err.message, /ffmpegPath/);
    assert.match(err.message, /\/nonexistent\/ffmpeg/);
    return true;
  });
});

test('resolveFfmpeg rejects a bad CHAARFM_FFMPEG instead of falling back', async () => {
  await assert.rejects(resolveFfmpeg({ env: { CHAARFM_FFMPEG: 'no-such-ffmpeg-binary', PATH: process.env.PATH } }), (err: Error) => {
    assert.ok(err instanceof FfmpegNotFoundError);
    assert.match(err.message, /CHAARFM_FFMPEG/);
    return true;
  });
});

test('resolveFfmpeg says how to install ffmpeg when there is none', async () => {
  // a package root without prebuilds/: no bundled decoder
  await assert.rejects(resolveFfmpeg({ env: { PATH: '' }, root: dir }), (err: Error) => {
    assert.ok(err instanceof FfmpegNotFoundError);
    assert.match(err.message, /apt install ffmpeg/);
    assert.match(err.message, /brew install ffmpeg/);
    assert.match(err.message, /winget install/);
    return true;
  });
});

test('resolveFfmpeg finds ffmpeg on PATH and ffmpegVersion reads its version', { skip }, async () => {
  const version = await ffmpegVersion(ffmpeg);
  assert.match(version, /^[\w.+~-]+$/);
  assert.equal(await resolveFfmpeg({ ffmpegPath: ffmpeg }), ffmpeg);
});

test('decodes 16-bit mono WAV to exactly sample / 32768', { skip }, async () => {
  const file = make('mono.wav', ['-f', 'lavfi', '-i', 'sine=frequency=1000:sample_rate=22050:duration=1', '-c:a', 'pcm_s16le']);
  const pcm = await decodeToPcm(file, { ffmpegPath: ffmpeg });
  assert.equal(pcm.sampleRate, 22050);
  assert.equal(pcm.channels, 1);
  const got = await collect(pcm);
  const wav = await readFile(file);
  const dataAt = wav.indexOf('data') + 8;
  const ints = new Int16Array(wav.buffer.slice(wav.byteOffset + dataAt, wav.byteOffset + wav.length));
  assert.equal(got.length, ints.length);
  for (let i = 0; i < ints.length; i++) assert.equal(got[i], ints[i] / 32768);
  assert.equal(pcm.samples, got.length);
});

test('downmixes stereo as float32 (L + R) * 0.5, like MonoMixer', { skip }, async () => {
  for (const [name, codec] of [['stereo.wav', 'pcm_s16le'], ['stereo.mp3', 'libmp3lame']] as const) {
    const file = make(name, [...STEREO, '-c:a', codec]);
    const pcm = await decodeToPcm(file, { ffmpegPath: ffmpeg });
    assert.equal(pcm.channels, 2);
    const mono = await collect(pcm);
    const lr = rawChannels(file, 2);
    assert.equal(mono.length, lr.length / 2);
    let differ = 0;
    for (let i = 0; i < mono.length; i++) {
      assert.equal(mono[i], Math.fround(Math.fround(lr[2 * i] + lr[2 * i + 1]) * 0.5));
      if (lr[2 * i] !== lr[2 * i + 1]) differ++;
    }
    assert.ok(differ > mono.length / 2, 'the two channels differ');
  }
});

test('reports the native rate of mp3, ogg and m4a files and streams bounded chunks', { skip }, async () => {
  const cases = [
    ['a.mp3', 44100, ['-c:a', 'libmp3lame']],
    ['b.ogg', 22050, ['-c:a', 'libvorbis']],
    ['c.m4a', 48000, ['-c:a', 'aac']],
  ] as const;
  for (const [name, rate, codec] of cases) {
    const file = make(name, ['-f', 'lavfi', '-i', `sine=frequency=300:sample_rate=${rate}:duration=3`, '-ac', '2', ...codec]);
    const pcm = await decodeToPcm(file, { ffmpegPath: ffmpeg });
    assert.equal(pcm.sampleRate, rate, name);
    let total = 0;
    for await (const chunk of pcm) {
      assert.ok(chunk.length <= 1 << 16, 'chunks stay small');
      total += chunk.length;
    }
    // encoders pad or trim a little; the duration is still about 3 s
    assert.ok(Math.abs(total / rate - 3) < 0.1, `${name}: ${total} samples`);
  }
});

test('decodes a stream exactly like the same file (mp3 padding trimmed) and removes its temp copy', { skip }, async () => {
  const file = make('piped.mp3', [...STEREO, '-c:a', 'libmp3lame']);
  const fromFile = await collect(await decodeToPcm(file, { ffmpegPath: ffmpeg }));
  const piped = await decodeToPcm(createReadStream(file), { ffmpegPath: ffmpeg });
  assert.equal(piped.sampleRate, 44100);
  assert.deepEqual(await collect(piped), fromFile);
  const left = (await readdir(tmpdir())).filter((n) => n.startsWith('chaarfm-decode-'));
  assert.deepEqual(left, []);
});

async function decodeError(input: string): Promise<DecodeError> {
  try {
    await collect(await decodeToPcm(input, { ffmpegPath: ffmpeg }));
  } catch (err) {
    assert.ok(err instanceof DecodeError, `expected a DecodeError, got ${String(err)}`);
    assert.ok(!err.message.includes('\n'), 'the message is one line');
    return err;
  }
  assert.fail('decoding should have failed');
}

test('rejects an empty file with ffmpeg\'s reason', { skip }, async () => {
  const file = join(dir, 'empty.mp3');
  await writeFile(file, '');
  const err = await decodeError(file);
  assert.match(err.message, /ffmpeg could not decode "empty\.mp3"/);
  assert.match(err.message, /Invalid (data|argument)|Failed to read/);
  assert.doesNotMatch(err.message, /@ 0x/, 'no pointer noise');
});

test('rejects a text file named .mp3', { skip }, async () => {
  const file = join(dir, 'text.mp3');
  await writeFile(file, 'this is not audio at all\n'.repeat(50));
  const err = await decodeError(file);
  assert.match(err.message, /text\.mp3/);
  assert.match(err.message, /Invalid (data|argument)|Failed to read/);
});

test('rejects a truncated m4a whose index is missing', { skip }, async () => {
  const whole = make('whole.m4a', ['-f', 'lavfi', '-i', 'sine=frequency=300:duration=5', '-c:a', 'aac']);
  const bytes = await readFile(whole);
  const file = join(dir, 'truncated.m4a');
  await writeFile(file, bytes.subarray(0, bytes.length >> 1));
  const err = await decodeError(file);
  assert.match(err.message, /moov atom not found|Invalid data/);
});

test('rejects a file without an audio stream', { skip }, async () => {
  const file = make('video.mp4', ['-f', 'lavfi', '-i', 'color=c=black:s=32x32:d=1', '-c:v', 'mpeg4']);
  const err = await decodeError(file);
  assert.match(err.message, /matches no streams/);
});

test('rejects more than two channels, as Essentia\'s AudioLoader does', { skip }, async () => {
  const file = make('surround.wav', ['-f', 'lavfi', '-i', 'sine=frequency=300:duration=1', '-ac', '6', '-c:a', 'pcm_s16le']);
  await assert.rejects(decodeToPcm(file, { ffmpegPath: ffmpeg }), (err: Error) => {
    assert.ok(err instanceof DecodeError);
    assert.match(err.message, /6 channels/);
    return true;
  });
});

test('an abort kills ffmpeg and rejects with an AbortError', { skip }, async () => {
  const file = make('long.wav', ['-f', 'lavfi', '-i', 'anoisesrc=sample_rate=48000:duration=60', '-c:a', 'pcm_s16le']);
  const ac = new AbortController();
  const pcm = await decodeToPcm(file, { ffmpegPath: ffmpeg, signal: ac.signal });
  let chunks = 0;
  await assert.rejects(
    (async () => {
      for await (const _ of pcm) {
        if (++chunks === 2) ac.abort();
      }
    })(),
    { name: 'AbortError' },
  );
  assert.ok(pcm.samples < 48000 * 60);
  // an already aborted signal never starts ffmpeg
  await assert.rejects(decodeToPcm(file, { ffmpegPath: ffmpeg, signal: ac.signal }), { name: 'AbortError' });
});

test('leaving the loop early closes the stream', { skip }, async () => {
  const file = make('ten.wav', ['-f', 'lavfi', '-i', 'anoisesrc=sample_rate=48000:duration=10', '-c:a', 'pcm_s16le']);
  const pcm = await decodeToPcm(file, { ffmpegPath: ffmpeg });
  for await (const _ of pcm) break;
  pcm.close();
  await assert.rejects(
    (async () => {
      for await (const _ of pcm);
    })(),
    /only once/,
  );
});

// SPDX-License-Identifier: MIT
/**
 * The bundled decoder (prebuilds/<platform>-<arch>/ffmpeg, built by native/scripts/build-ffmpeg.mjs
 * from the pinned FFmpeg source): for one clip of each format a worker downloads, encoded by
 * Debian's ffmpeg (libopus, aac, libmp3lame, libvorbis, flac, pcm), its output with the worker's
 * exact arguments (src/audio/ffmpeg.ts decodeArgs) and as raw f32le equals the bytes of the
 * full ffmpeg on PATH (Debian's /usr/bin/ffmpeg in CI), so no vector moves. Also: it is what the
 * package resolves to when nothing is given, it is LGPL and carries only what decoding needs,
 * and malformed media still gives a clear error.
 * Skips without the bundled decoder or a full ffmpeg on PATH, except in CI
 * (CHAARFM_REQUIRE_NATIVE=1), where a missing bundled decoder is a failure.
 */
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { after, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { DecodeError, bundledFfmpegPath, decodeArgs, decodeToPcm, findFfmpeg } from '../src/audio/ffmpeg.js';
import { findOnPath } from '../src/util/executables.js';
import { FORMATS, makeFormatClips } from './support/format-media.js';

const bundled = bundledFfmpegPath();
const reference = await findOnPath('ffmpeg');
const required = process.env.CHAARFM_REQUIRE_NATIVE === '1';
const skip: string | false = !existsSync(bundled)
  ? required
    ? false // CI: the tests below fail on the missing file
    : `no bundled decoder at ${bundled} (node native/scripts/build-ffmpeg.mjs)`
  : !reference
    ? 'needs a full ffmpeg on PATH to encode the clips and compare with'
    : false;

const dir = mkdtempSync(join(tmpdir(), 'chaarfm-ffmpeg-bundled-'));
after(() => rmSync(dir, { recursive: true, force: true }));
const clips = skip ? [] : makeFormatClips(dir);

const digest = (b: Buffer) => createHash('sha256').update(b).digest('hex');
const output = (ffmpeg: string, args: string[]) => execFileSync(ffmpeg, args, { maxBuffer: 1 << 28 });

test('the bundled decoder exists and is what the package resolves to without --ffmpeg, CHAARFM_FFMPEG or PATH', { skip }, async () => {
  assert.ok(existsSync(bundled), `${bundled} exists (CI builds it with node native/scripts/build-ffmpeg.mjs)`);
  const found = await findFfmpeg({ env: { PATH: dir } });
  assert.deepEqual(found, { path: bundled, source: 'bundled' });
  // the order: an explicit choice wins over the bundled decoder
  assert.equal((await findFfmpeg({ env: { PATH: dir, CHAARFM_FFMPEG: reference! } })).source, 'CHAARFM_FFMPEG');
  assert.equal((await findFfmpeg({ ffmpegPath: reference!, env: { PATH: dir } })).source, 'option');
});

test('doctor names the bundled decoder and where it came from', { skip }, () => {
  const bin = join(dirname(fileURLToPath(import.meta.url)), '..', 'src', 'bin.js');
  const r = spawnSync(process.execPath, [bin, 'doctor', '--json'], { encoding: 'utf8', env: { ...process.env, PATH: dir, CHAARFM_FFMPEG: '' }, timeout: 120_000 });
  const checks = (JSON.parse(r.stdout) as { checks: { name: string; ok: boolean; detail: string }[] }).checks;
  const dec = checks.find((c) => c.name === 'decoder')!;
  assert.ok(dec.ok, dec.detail);
  assert.equal(dec.detail, `ffmpeg ${bundled} (5.1.9-chaarfm, bundled)`);
  const given = spawnSync(process.execPath, [bin, 'doctor', '--json', '--ffmpeg', reference!], { encoding: 'utf8', timeout: 120_000 });
  const d2 = (JSON.parse(given.stdout) as { checks: { name: string; detail: string }[] }).checks.find((c) => c.name === 'decoder')!;
  assert.match(d2.detail, / from --ffmpeg\)$/);
});

test('the bundled decoder is an LGPL build of the pinned version with only the parts decoding needs', { skip }, () => {
  const v = output(bundled, ['-hide_banner', '-version']).toString();
  assert.match(v, /^ffmpeg version 5\.1\.9-chaarfm /);
  assert.doesNotMatch(v, /--enable-(gpl|nonfree|version3)/);
  const decoders = output(bundled, ['-hide_banner', '-decoders']).toString();
  for (const d of ['opus', 'aac', 'mp3float', 'vorbis', 'flac', 'pcm_s16le']) assert.match(decoders, new RegExp(`^ A\\S* ${d} `, 'm'), d);
  assert.doesNotMatch(decoders, /^ V\S{5} \w/m, 'no video decoder');
  const protocols = output(bundled, ['-hide_banner', '-protocols']).toString();
  assert.doesNotMatch(protocols, /\b(https?|tcp|udp|rtmp)\b/, 'no network protocol');
});

for (const [name] of FORMATS) {
  test(`${name}: the bundled decoder's output equals ${reference ?? 'ffmpeg'}'s bit for bit`, { skip }, () => {
    const file = clips.find((f) => basename(f) === name)!;
    const ours = output(bundled, decodeArgs(file));
    const theirs = output(reference!, decodeArgs(file));
    assert.ok(theirs.length > 44 + 4 * 44100, `the reference decoded ${theirs.length} bytes`);
    assert.equal(digest(ours), digest(theirs), `${name}: ${ours.length} vs ${theirs.length} bytes`);
    const raw = ['-nostdin', '-v', 'error', '-i', `file:${file}`, '-map', '0:a:0', '-f', 'f32le', 'pipe:1'];
    assert.equal(digest(output(bundled, raw)), digest(output(reference!, raw)), `${name} as raw f32le`);
  });
}

test('decodeToPcm on the bundled decoder gives the same samples as on the reference', { skip }, async () => {
  const file = clips.find((f) => f.endsWith('.webm'))!;
  const samples = async (ffmpegPath: string) => {
    const parts: Buffer[] = [];
    for await (const c of await decodeToPcm(file, { ffmpegPath })) parts.push(Buffer.from(c.buffer, c.byteOffset, c.byteLength));
    return Buffer.concat(parts);
  };
  const ours = await samples(bundled);
  assert.ok(ours.length > 0);
  assert.equal(digest(ours), digest(await samples(reference!)));
});

test('malformed media through the bundled decoder is a clear DecodeError', { skip }, async () => {
  const junk = join(dir, 'junk.mp3');
  writeFileSync(junk, Buffer.from('this is not audio at all, just text pretending to be an mp3\n'.repeat(40)));
  await assert.rejects(decodeToPcm(junk, { ffmpegPath: bundled }), (err: Error) => {
    assert.ok(err instanceof DecodeError, String(err));
    assert.match(err.message, /^ffmpeg could not decode "junk\.mp3": cannot open it: /);
    return true;
  });
  // a truncated container (half of a real m4a: its index points past the end)
  const m4a = clips.find((f) => f.endsWith('.m4a'))!;
  const half = join(dir, 'half.m4a');
  const whole = readFileSync(m4a);
  writeFileSync(half, whole.subarray(0, 200));
  await assert.rejects(decodeToPcm(half, { ffmpegPath: bundled }), (err: Error) => {
    assert.ok(err instanceof DecodeError, String(err));
    assert.match(err.message, /^ffmpeg could not decode "half\.m4a": /);
    return true;
  });
  assert.equal(spawnSync(bundled, ['-version']).status, 0, 'the decoder still runs');
});

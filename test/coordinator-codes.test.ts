// SPDX-License-Identifier: MIT
/** Pairing codes (50 random bits, forgiving input) and the parsing of queued tracks. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { CODE_BITS, canonicalCode, newCode, sessionKey } from '../src/coordinator/codes.js';
import { normaliseText, parseTracks, splitCsvLine, youtubeId } from '../src/coordinator/tracks.js';

test('codes: at least 40 random bits, Crockford base32 without I, L, O, U, shown as XXXXX-XXXXX', () => {
  const ALPHABET = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';
  const seen = new Set<string>();
  const perPosition = Array.from({ length: 10 }, () => new Set<string>());
  for (let i = 0; i < 2000; i++) {
    const c = newCode();
    assert.match(c, /^[0-9A-HJKMNP-TV-Z]{5}-[0-9A-HJKMNP-TV-Z]{5}$/);
    seen.add(c);
    [...c.replace('-', '')].forEach((ch, k) => perPosition[k].add(ch));
  }
  assert.equal(seen.size, 2000);
  // The bits are measured, not read from a constant: every one of the 10 places takes all 32
  // symbols over 2000 codes (a place drawn from fewer symbols, or fixed, fails; a uniform one
  // misses a symbol with probability about 32 * (31/32)^2000 = 1e-26), so 10 x 5 = 50 bits.
  const bits = perPosition.reduce((a, p) => a + Math.log2(p.size), 0);
  for (const [k, p] of perPosition.entries()) assert.equal(p.size, ALPHABET.length, `place ${k + 1} takes all 32 symbols: ${[...p].sort().join('')}`);
  assert.ok(bits >= 40, `${bits} bits`);
  assert.equal(CODE_BITS, bits, 'CODE_BITS says what the codes carry');
});

test('codes: typed forms canonicalise; malformed ones name nothing unless any code is accepted', () => {
  assert.equal(canonicalCode('7k3qd m9xta'), '7K3QD-M9XTA');
  assert.equal(canonicalCode('ABCDE-FGHIO'), 'ABCDE-FGH10');
  assert.equal(canonicalCode('abcde-fghlo'), 'ABCDE-FGH10');
  assert.equal(canonicalCode('ABCDE-FGHJU'), null, 'U is not in the alphabet');
  assert.equal(canonicalCode('1234'), null);
  assert.equal(sessionKey('1234', false), null);
  assert.equal(sessionKey('1234', true), '1234');
  assert.equal(sessionKey(' ', true), null);
});

test('tracks: YouTube ids from the usual URL shapes', () => {
  for (const u of ['https://www.youtube.com/watch?v=dQw4w9WgXcQ&t=1', 'https://youtu.be/dQw4w9WgXcQ', 'https://m.youtube.com/shorts/dQw4w9WgXcQ', 'https://music.youtube.com/watch?v=dQw4w9WgXcQ'])
    assert.equal(youtubeId(u), 'dQw4w9WgXcQ', u);
  assert.equal(youtubeId('https://example.com/watch?v=dQw4w9WgXcQ'), null);
  assert.equal(youtubeId('https://www.youtube.com/watch?v=short'), null);
});

test('tracks: normalised artist/title and CSV cells', () => {
  assert.equal(normaliseText('  Beyoncé — “Halo”  '), 'beyonce halo');
  assert.deepEqual(splitCsvLine('a,"b, c","d ""e"""'), ['a', 'b, c', 'd "e"']);
  const p = parseTracks('Artist,Title\nA,B\n');
  assert.deepEqual(p.tracks.map((t) => t.label), ['A - B']);
  const q = parseTracks('A - B - C\nftp://x\n');
  assert.deepEqual(q.tracks.map((t) => t.payload), [{ artist: 'A', title: 'B - C', youtube_url: null }]);
  assert.equal(q.invalid.length, 1);
});

// SPDX-License-Identifier: MIT
/**
 * Pairing codes made by the coordinator: 10 characters of Crockford base32 (50 bits from the
 * system CSPRNG), shown as `XXXXX-XXXXX`. The alphabet has no I, L, O or U, and what people
 * type is forgiven: case, spaces and dashes are ignored, O reads as 0 and I/L as 1.
 */
import { randomBytes } from 'node:crypto';

const ALPHABET = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';
/** Characters in a code; 5 bits each. */
export const CODE_LENGTH = 10;
export const CODE_BITS = CODE_LENGTH * 5;

/** A fresh random code in its display form, e.g. `7K3QD-M9XTA`. */
export function newCode(): string {
  const bytes = randomBytes(CODE_LENGTH);
  let s = '';
  for (let i = 0; i < CODE_LENGTH; i++) s += ALPHABET[bytes[i] & 31];
  return `${s.slice(0, 5)}-${s.slice(5)}`;
}

/**
 * The canonical form of what someone typed, or null when it is not a well-formed code:
 * upper case, no separators, confusable letters mapped, then shown as `XXXXX-XXXXX`.
 */
export function canonicalCode(input: string): string | null {
  const s = String(input)
    .toUpperCase()
    .replace(/[\s_-]+/g, '')
    .replace(/O/g, '0')
    .replace(/[IL]/g, '1');
  if (s.length !== CODE_LENGTH) return null;
  for (const ch of s) if (!ALPHABET.includes(ch)) return null;
  return `${s.slice(0, 5)}-${s.slice(5)}`;
}

/**
 * The session key for a code in a URL. Well-formed codes are canonicalised; with
 * `acceptAny` other strings (the 4-digit codes of the original page) are kept as typed.
 * Returns null for a code that can never name a session.
 */
export function sessionKey(input: string, acceptAny: boolean): string | null {
  const c = canonicalCode(input);
  if (c) return c;
  if (!acceptAny) return null;
  const t = String(input).trim();
  return t.length > 0 && t.length <= 128 ? t : null;
}

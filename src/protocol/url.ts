// SPDX-License-Identifier: MIT
/** Server URL handling: the worker socket and keep-alive addresses derived from `--url`. */

export const DEFAULT_SERVER_URL = 'https://chaarfm.onrender.com';

/**
 * Normalise what the user typed as a server URL: trim, default to https:// for a bare host,
 * strip trailing slashes. Throws a TypeError naming the problem for anything else.
 */
export function normaliseServerUrl(input: string): string {
  let s = input.trim();
  if (s === '') throw new TypeError('Expected a server URL for --url but received an empty string');
  if (!/^[a-z][a-z0-9+.-]*:\/\//i.test(s)) s = `https://${s}`;
  let u: URL;
  try {
    u = new URL(s);
  } catch {
    throw new TypeError(`Expected a URL like https://host for --url but received ${JSON.stringify(input)}`);
  }
  if (!['http:', 'https:', 'ws:', 'wss:'].includes(u.protocol))
    throw new TypeError(`Expected an http, https, ws or wss URL for --url but received ${JSON.stringify(input)}`);
  return s.replace(/\/+$/, '');
}

/** Normalise a pairing code: trimmed, non-empty, at most 128 characters. */
export function normaliseCode(input: string): string {
  const c = String(input).trim();
  if (c === '') throw new TypeError('Expected a pairing code for --code but received an empty string');
  if (c.length > 128) throw new TypeError(`Expected a pairing code of at most 128 characters for --code but received ${c.length}`);
  return c;
}

/**
 * The worker socket of the protocol: strip trailing `/`, a leading `http` becomes `ws`
 * (so `https` becomes `wss`), then `/ws/remote/{code}/worker` with the code URL-encoded.
 */
export function workerSocketUrl(serverUrl: string, code: string): string {
  const base = serverUrl.replace(/\/+$/, '').replace(/^http/i, 'ws');
  return `${base}/ws/remote/${encodeURIComponent(code)}/worker`;
}

/** The keep-alive endpoint, always over http(s). */
export function keepaliveUrl(serverUrl: string): string {
  const base = serverUrl.replace(/\/+$/, '').replace(/^ws/i, 'http');
  return `${base}/api/keepalive`;
}

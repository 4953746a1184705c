// SPDX-License-Identifier: MIT
/**
 * What people queue: pasted lines (YouTube or other http(s) URLs, or "Artist - Title"), an
 * uploaded text/CSV file, or track lists a genre job returns; turned into download payloads
 * with a de-duplication key (the YouTube video id or URL, or the normalised artist/title).
 */
import type { DownloadPayload } from '../protocol/messages.js';

export interface TrackInput {
  payload: DownloadPayload;
  /** Equal for two inputs that name the same track. */
  dedupeKey: string;
  /** Short text for logs and the page. */
  label: string;
}

export interface ParsedTracks {
  tracks: TrackInput[];
  /** Lines that name no track, with the reason. */
  invalid: { line: number; text: string; reason: string }[];
}

/** The 11-character video id of a YouTube URL, or null. */
export function youtubeId(url: string): string | null {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    return null;
  }
  const host = u.hostname.toLowerCase().replace(/^(www\.|m\.|music\.)/, '');
  let id: string | null = null;
  if (host === 'youtu.be') id = u.pathname.slice(1).split('/')[0];
  else if (host === 'youtube.com' || host === 'youtube-nocookie.com') {
    if (u.pathname === '/watch') id = u.searchParams.get('v');
    else {
      const m = /^\/(?:shorts|embed|live|v)\/([^/]+)/.exec(u.pathname);
      id = m?.[1] ?? null;
    }
  }
  return id && /^[A-Za-z0-9_-]{11}$/.test(id) ? id : null;
}

/** Lower case, accents removed, punctuation collapsed to single spaces. */
export function normaliseText(s: string): string {
  return s
    .normalize('NFKD')
    .replace(/[\u0300-\u036f]/g, '')
    .toLowerCase()
    .replace(/[^\p{L}\p{N}]+/gu, ' ')
    .trim();
}

export function urlTrack(url: string): TrackInput {
  const id = youtubeId(url);
  let key: string;
  if (id) key = `yt:${id}`;
  else {
    const u = new URL(url);
    u.hash = '';
    key = `url:${u.protocol}//${u.host.toLowerCase()}${u.pathname.replace(/\/+$/, '')}${u.search}`;
  }
  return { payload: { artist: null, title: null, youtube_url: url }, dedupeKey: key, label: url.length > 100 ? url.slice(0, 97) + '...' : url };
}

export function artistTitleTrack(artist: string, title: string): TrackInput {
  const a = artist.trim().slice(0, 300);
  const t = title.trim().slice(0, 300);
  return { payload: { artist: a, title: t, youtube_url: null }, dedupeKey: `at:${normaliseText(a)}|${normaliseText(t)}`, label: `${a} - ${t}` };
}

function isHttpUrl(s: string): boolean {
  if (!/^https?:\/\/\S+$/i.test(s)) return false;
  try {
    new URL(s);
    return true;
  } catch {
    return false;
  }
}

/** One pasted line: a URL or "Artist - Title" (also with an en or em dash). */
export function parseLine(text: string): TrackInput | string {
  const s = text.trim();
  if (isHttpUrl(s)) return urlTrack(s);
  const m = /^(.+?)\s+[-\u2013\u2014]\s+(.+)$/.exec(s);
  if (m && normaliseText(m[1]) && normaliseText(m[2])) return artistTitleTrack(m[1], m[2]);
  return 'expected an http(s) URL or "Artist - Title"';
}

/** Split one CSV record (RFC 4180 quotes). */
export function splitCsvLine(line: string): string[] {
  const out: string[] = [];
  let cur = '';
  let q = false;
  for (let i = 0; i < line.length; i++) {
    const c = line[i];
    if (q) {
      if (c === '"' && line[i + 1] === '"') (cur += '"'), i++;
      else if (c === '"') q = false;
      else cur += c;
    } else if (c === '"') q = true;
    else if (c === ',') out.push(cur), (cur = '');
    else cur += c;
  }
  out.push(cur);
  return out.map((s) => s.trim());
}

/**
 * Parse pasted text or an uploaded file. Blank lines and `#` comments are skipped. A CSV whose
 * first line names columns (`url`/`youtube_url`, `artist`, `title`) is read by column; other
 * lines that hold a comma and no " - " are read as `url` or `artist,title`.
 */
export function parseTracks(text: string, maxLines = 100000): ParsedTracks {
  const lines = text.replace(/^\uFEFF/, '').split(/\r?\n/);
  const tracks: TrackInput[] = [];
  const invalid: ParsedTracks['invalid'] = [];
  let cols: { url: number; artist: number; title: number } | null = null;
  const head = lines.find((l) => l.trim() !== '' && !l.trim().startsWith('#'));
  if (head && head.includes(',')) {
    const names = splitCsvLine(head).map((s) => s.toLowerCase());
    const url = names.findIndex((n) => n === 'url' || n === 'youtube_url' || n === 'source_url');
    const artist = names.indexOf('artist');
    const title = names.indexOf('title');
    if (url >= 0 || (artist >= 0 && title >= 0)) cols = { url, artist, title };
  }
  let headerSkipped = false;
  for (let i = 0; i < lines.length && i < maxLines; i++) {
    const raw = lines[i];
    const s = raw.trim();
    if (s === '' || s.startsWith('#')) continue;
    if (cols && !headerSkipped) {
      headerSkipped = true;
      continue;
    }
    let r: TrackInput | string;
    if (cols) {
      const cells = splitCsvLine(s);
      const url = cols.url >= 0 ? (cells[cols.url] ?? '') : '';
      const artist = cols.artist >= 0 ? (cells[cols.artist] ?? '') : '';
      const title = cols.title >= 0 ? (cells[cols.title] ?? '') : '';
      if (url && isHttpUrl(url)) r = urlTrack(url);
      else if (normaliseText(artist) && normaliseText(title)) r = artistTitleTrack(artist, title);
      else r = 'expected a URL or an artist and a title in this row';
    } else if (s.includes(',') && !/\s[-\u2013\u2014]\s/.test(s) && !isHttpUrl(s)) {
      const cells = splitCsvLine(s);
      if (cells.length >= 1 && isHttpUrl(cells[0])) r = urlTrack(cells[0]);
      else if (cells.length >= 2 && normaliseText(cells[0]) && normaliseText(cells[1])) r = artistTitleTrack(cells[0], cells[1]);
      else r = parseLine(s);
    } else r = parseLine(s);
    if (typeof r === 'string') invalid.push({ line: i + 1, text: s.slice(0, 120), reason: r });
    else tracks.push(r);
  }
  return { tracks, invalid };
}

// SPDX-License-Identifier: MIT
/**
 * The collection of one session as the page draws it: every stored vector projected to 2-D by
 * PCA (./pca.ts), with artist, title and top tag, and the nearest tracks of any of them
 * (./similar.ts). The vectors stay here; the page gets two numbers per track and the
 * metadata of the tracks it has not seen yet. Each refresh reads only the results stored
 * since the last one (store.listVectors after the last `n`), adds them to the running PCA
 * sums and re-projects; it runs at most once per `minRefreshMs` per session, and callers in
 * between share its answer. With a store shared by several processes a result can commit
 * out of `n` order; the count check then reloads the session from scratch (a new `epoch`,
 * so the page starts over too).
 */
import { RunningPca } from './pca.js';
import { nearestByCosine, norm } from './similar.js';
import type { Store, VectorRow } from './store.js';
import { VECTOR_LENGTH } from './validate.js';

export interface MapPoint {
  id: string;
  artist: string;
  title: string;
  /** Top MSD tag, or null when the worker sent none. */
  tag: string | null;
}

export interface MapView {
  epoch: number;
  count: number;
  /** x0, y0, x1, y1, ... for every stored track in store order, 5 significant digits. */
  xy: number[];
  /** Metadata of points[from..count). */
  from: number;
  points: MapPoint[];
  /** Share of the variance on each axis. */
  explained: [number, number];
}

export interface SimilarTrack {
  id: string;
  artist: string;
  title: string;
  tags: string[] | null;
  score: number;
}

const round5 = (x: number) => Number(x.toPrecision(5));

class SessionCollection {
  epoch = 0;
  rows: VectorRow[] = [];
  norms: number[] = [];
  byId = new Map<string, number>();
  lastN = -1;
  pca = new RunningPca(VECTOR_LENGTH);
  xy: number[] = [];
  xyFor = -1;
  lastRefresh = 0;
  refreshing: Promise<void> | null = null;
  usedAt = Date.now();

  constructor(readonly code: string) {}

  reset(): void {
    this.epoch++;
    this.rows = [];
    this.norms = [];
    this.byId.clear();
    this.lastN = -1;
    this.pca = new RunningPca(VECTOR_LENGTH);
    this.xyFor = -1;
  }

  append(rows: VectorRow[]): void {
    for (const r of rows) {
      this.lastN = Math.max(this.lastN, r.n);
      if (r.vector.length !== VECTOR_LENGTH || this.byId.has(r.jobId)) continue;
      this.byId.set(r.jobId, this.rows.length);
      this.rows.push(r);
      this.norms.push(norm(r.vector));
      this.pca.add(r.vector);
    }
  }

  /** Coordinates of every row on the current axes. */
  project(): number[] {
    if (this.xyFor === this.rows.length) return this.xy;
    const axes = this.pca.axes();
    const mean = this.pca.mean();
    const xy = new Array<number>(this.rows.length * 2);
    this.rows.forEach((r, i) => {
      const [x, y] = this.pca.project(r.vector, axes, mean);
      xy[2 * i] = round5(x);
      xy[2 * i + 1] = round5(y);
    });
    this.xy = xy;
    this.xyFor = this.rows.length;
    return xy;
  }
}

export class Collections {
  private readonly sessions = new Map<string, SessionCollection>();

  constructor(
    private readonly store: Store,
    private readonly opts: { minRefreshMs?: number; maxSessions?: number } = {},
  ) {}

  private get(code: string): SessionCollection {
    let c = this.sessions.get(code);
    if (!c) {
      c = new SessionCollection(code);
      this.sessions.set(code, c);
      // Keep the most recently used few in memory (each holds its vectors: 800 bytes a track).
      const max = this.opts.maxSessions ?? 16;
      if (this.sessions.size > max) {
        const oldest = [...this.sessions.values()].sort((a, b) => a.usedAt - b.usedAt)[0];
        this.sessions.delete(oldest.code);
      }
    }
    c.usedAt = Date.now();
    return c;
  }

  /** Bring the session's copy up to date with the store (throttled, shared). */
  private async refreshed(code: string, force = false): Promise<SessionCollection> {
    const c = this.get(code);
    if (c.refreshing) await c.refreshing;
    else if (force || Date.now() - c.lastRefresh >= (this.opts.minRefreshMs ?? 500)) {
      c.refreshing = (async () => {
        try {
          for (;;) {
            const rows = await this.store.listVectors({ code, afterN: c.lastN, limit: 10_000 });
            c.append(rows);
            if (rows.length < 10_000) break;
          }
          const total = await this.store.doneSince(code, 0);
          if (total !== c.rows.length) {
            // a result committed behind the last one read (several processes): start over
            c.reset();
            for (;;) {
              const rows = await this.store.listVectors({ code, afterN: c.lastN, limit: 10_000 });
              c.append(rows);
              if (rows.length < 10_000) break;
            }
          }
          c.lastRefresh = Date.now();
        } finally {
          c.refreshing = null;
        }
      })();
      await c.refreshing;
    }
    return c;
  }

  /** The map, with metadata from index `from` on (from 0 when `epoch` is not the current one). */
  async map(code: string, from: number, epoch: number | null): Promise<MapView> {
    const c = await this.refreshed(code);
    const start = epoch === c.epoch ? Math.min(from, c.rows.length) : 0;
    const xy = c.project();
    return {
      epoch: c.epoch,
      count: c.rows.length,
      xy,
      from: start,
      points: c.rows.slice(start).map((r) => ({ id: r.jobId, artist: r.artist, title: r.title, tag: r.tags?.[0] ?? null })),
      explained: c.rows.length >= 3 ? (c.pca.explained().map((x) => Number(x.toFixed(4))) as [number, number]) : [0, 0],
    };
  }

  /** The `k` stored tracks nearest to stored result `id` by cosine; null when no such result. */
  async similar(code: string, id: string, k: number): Promise<{ track: SimilarTrack; nearest: SimilarTrack[] } | null> {
    let c = await this.refreshed(code);
    // A result stored since the last refresh (inside the throttle window) is found all the same.
    if (!c.byId.has(id)) c = await this.refreshed(code, true);
    const at = c.byId.get(id);
    if (at === undefined) return null;
    const q = c.rows[at];
    const found = nearestByCosine(q.vector, c.rows, k, { skip: (_r, i) => i === at, norms: c.norms });
    const track = (r: VectorRow, score: number): SimilarTrack => ({ id: r.jobId, artist: r.artist, title: r.title, tags: r.tags, score: Number(score.toFixed(6)) });
    return { track: track(q, 1), nearest: found.map((f) => track(f.item, f.score)) };
  }

  /** Results stored per minute over the last `minutes` minutes, oldest first. */
  async perMinute(code: string, minutes: number, now = Date.now()): Promise<number[]> {
    const c = await this.refreshed(code);
    const out = new Array<number>(minutes).fill(0);
    const start = now - minutes * 60_000;
    for (const r of c.rows) {
      if (r.finishedAt < start || r.finishedAt > now) continue;
      out[Math.min(minutes - 1, Math.floor((r.finishedAt - start) / 60_000))]++;
    }
    return out;
  }
}

const perStore = new WeakMap<Store, Collections>();

/** The one Collections of a store (every API request of a coordinator shares it). */
export function collectionsOf(store: Store): Collections {
  let c = perStore.get(store);
  if (!c) perStore.set(store, (c = new Collections(store)));
  return c;
}

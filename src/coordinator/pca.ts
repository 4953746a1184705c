// SPDX-License-Identifier: MIT
/**
 * Principal components for the collection map, kept as running sums so that each new vector
 * costs one outer-product update (d² adds) instead of a pass over the whole collection:
 * mean = Σx / n, covariance = (Σxxᵀ − n·mean·meanᵀ) / (n − 1). The top two eigenvectors of
 * that 200×200 matrix come from orthogonal (subspace) iteration, warm-started from the last
 * axes, so an update converges in a few steps and the map does not flip or spin between
 * updates (each axis keeps the sign of its predecessor; a first axis points so that its
 * largest component is positive). Sync and cheap (d = 200): well under a millisecond per
 * iteration, a few milliseconds per update.
 */
export class RunningPca {
  readonly dim: number;
  count = 0;
  private readonly sum: Float64Array;
  /** Upper triangle (i <= j) of Σxxᵀ, row-major in a full d×d array. */
  private readonly cross: Float64Array;
  private axesCache: [Float64Array, Float64Array] | null = null;
  private axesFor = -1;
  private variances: [number, number] = [0, 0];
  private totalVariance = 0;

  constructor(dim: number) {
    if (!Number.isInteger(dim) || dim < 2) throw new RangeError(`Expected an integer of at least 2 for dim but received ${dim}`);
    this.dim = dim;
    this.sum = new Float64Array(dim);
    this.cross = new Float64Array(dim * dim);
  }

  add(v: ArrayLike<number>): void {
    const d = this.dim;
    if (v.length !== d) throw new RangeError(`Expected ${d} values but received ${v.length}`);
    const s = this.sum;
    const c = this.cross;
    for (let i = 0; i < d; i++) {
      const xi = v[i];
      s[i] += xi;
      const row = i * d;
      for (let j = i; j < d; j++) c[row + j] += xi * v[j];
    }
    this.count++;
  }

  mean(): Float64Array {
    const m = new Float64Array(this.dim);
    if (this.count) for (let i = 0; i < this.dim; i++) m[i] = this.sum[i] / this.count;
    return m;
  }

  /** The sample covariance matrix (full, symmetric). */
  covariance(): Float64Array {
    const d = this.dim;
    const n = this.count;
    const m = this.mean();
    const cov = new Float64Array(d * d);
    if (n < 2) return cov;
    for (let i = 0; i < d; i++)
      for (let j = i; j < d; j++) {
        const x = (this.cross[i * d + j] - n * m[i] * m[j]) / (n - 1);
        cov[i * d + j] = x;
        cov[j * d + i] = x;
      }
    return cov;
  }

  /**
   * The top two principal axes (unit vectors), recomputed when vectors were added since the
   * last call; null with fewer than 3 vectors.
   */
  axes(): [Float64Array, Float64Array] | null {
    if (this.count < 3) return null;
    if (this.axesFor === this.count && this.axesCache) return this.axesCache;
    const d = this.dim;
    const cov = this.covariance();
    let trace = 0;
    for (let i = 0; i < d; i++) trace += cov[i * d + i];
    this.totalVariance = trace;
    const prev = this.axesCache;
    let a = prev ? Float64Array.from(prev[0]) : seedVector(d, 1);
    let b = prev ? Float64Array.from(prev[1]) : seedVector(d, 2);
    orthonormalise(a, b);
    for (let it = 0; it < 500; it++) {
      const na = matVec(cov, a, d);
      const nb = matVec(cov, b, d);
      if (!orthonormalise(na, nb)) break; // a rank-0/1 covariance: keep what we have
      const delta = 2 - Math.abs(dot(na, a)) - Math.abs(dot(nb, b));
      a = na;
      b = nb;
      if (delta < 1e-13) break;
    }
    // Rayleigh–Ritz on the 2-d subspace: the exact eigenvectors inside it, largest first.
    const ca = matVec(cov, a, d);
    const cb = matVec(cov, b, d);
    const [u, w, l1, l2] = ritz2(dot(a, ca), dot(a, cb), dot(b, cb));
    const e1 = combine(a, b, u[0], u[1]);
    const e2 = combine(a, b, w[0], w[1]);
    orient(e1, prev?.[0]);
    orient(e2, prev?.[1]);
    this.axesCache = [e1, e2];
    this.variances = [l1, l2];
    this.axesFor = this.count;
    return this.axesCache;
  }

  /** Share of the total variance along each axis (after axes()). */
  explained(): [number, number] {
    const t = this.totalVariance;
    return t > 0 ? [this.variances[0] / t, this.variances[1] / t] : [0, 0];
  }

  /** Coordinates of `v` on the current axes (call axes() first); [0, 0] without axes. */
  project(v: ArrayLike<number>, axes: [Float64Array, Float64Array] | null, mean: Float64Array): [number, number] {
    if (!axes) return [0, 0];
    let x = 0;
    let y = 0;
    for (let i = 0; i < this.dim; i++) {
      const c = v[i] - mean[i];
      x += c * axes[0][i];
      y += c * axes[1][i];
    }
    return [x, y];
  }
}

function dot(a: Float64Array, b: Float64Array): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i] * b[i];
  return s;
}

function matVec(m: Float64Array, v: Float64Array, d: number): Float64Array {
  const out = new Float64Array(d);
  for (let i = 0; i < d; i++) {
    let s = 0;
    const row = i * d;
    for (let j = 0; j < d; j++) s += m[row + j] * v[j];
    out[i] = s;
  }
  return out;
}

/** Gram–Schmidt in place; false when either vector vanishes. */
function orthonormalise(a: Float64Array, b: Float64Array): boolean {
  const na = Math.sqrt(dot(a, a));
  if (!(na > 1e-300)) return false;
  for (let i = 0; i < a.length; i++) a[i] /= na;
  const p = dot(a, b);
  for (let i = 0; i < b.length; i++) b[i] -= p * a[i];
  const nb = Math.sqrt(dot(b, b));
  if (!(nb > 1e-300)) return false;
  for (let i = 0; i < b.length; i++) b[i] /= nb;
  return true;
}

/** Eigenvectors (unit, in the a/b basis) and eigenvalues of [[p, q], [q, r]], largest first. */
function ritz2(p: number, q: number, r: number): [[number, number], [number, number], number, number] {
  const half = (p - r) / 2;
  const root = Math.hypot(half, q);
  const l1 = (p + r) / 2 + root;
  const l2 = (p + r) / 2 - root;
  // (q, l1 - p) or (l1 - r, q), whichever is better conditioned
  let u: [number, number] = Math.abs(l1 - p) > Math.abs(l1 - r) ? [q, l1 - p] : [l1 - r, q];
  const n = Math.hypot(u[0], u[1]);
  u = n > 0 ? [u[0] / n, u[1] / n] : [1, 0];
  return [u, [-u[1], u[0]], l1, l2];
}

function combine(a: Float64Array, b: Float64Array, x: number, y: number): Float64Array {
  const out = new Float64Array(a.length);
  for (let i = 0; i < a.length; i++) out[i] = x * a[i] + y * b[i];
  return out;
}

/** Same sign as `prev` when given, else largest |component| positive. */
function orient(e: Float64Array, prev: Float64Array | undefined): void {
  let flip: boolean;
  if (prev) flip = dot(e, prev) < 0;
  else {
    let k = 0;
    for (let i = 1; i < e.length; i++) if (Math.abs(e[i]) > Math.abs(e[k])) k = i;
    flip = e[k] < 0;
  }
  if (flip) for (let i = 0; i < e.length; i++) e[i] = -e[i];
}

/** A fixed, non-degenerate start vector (deterministic: the same data gives the same map). */
function seedVector(d: number, salt: number): Float64Array {
  const v = new Float64Array(d);
  let x = 0x9e3779b9 ^ salt;
  for (let i = 0; i < d; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    v[i] = ((x >>> 0) / 4294967296) - 0.5;
  }
  return v;
}

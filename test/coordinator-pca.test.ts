// SPDX-License-Identifier: MIT
/**
 * The collection map's PCA (src/coordinator/pca.ts: running sums and subspace iteration)
 * against an independent computation: the covariance built in two passes from the centred
 * data and diagonalised completely by cyclic Jacobi rotations.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { RunningPca } from '../src/coordinator/pca.js';

function rng(seed: number): () => number {
  let x = seed >>> 0 || 1;
  return () => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return (x >>> 0) / 4294967296;
  };
}

/** n vectors of dimension d with variances 25, 9, 1 along three random orthonormal directions, plus small noise. */
function data(n: number, d: number, seed: number): number[][] {
  const r = rng(seed);
  const gauss = () => Math.sqrt(-2 * Math.log(r() + 1e-12)) * Math.cos(2 * Math.PI * r());
  const dirs: number[][] = [];
  for (let k = 0; k < 3; k++) {
    const v = Array.from({ length: d }, gauss);
    for (const u of dirs) {
      const p = v.reduce((s, x, i) => s + x * u[i], 0);
      for (let i = 0; i < d; i++) v[i] -= p * u[i];
    }
    const nv = Math.hypot(...v);
    dirs.push(v.map((x) => x / nv));
  }
  const offset = Array.from({ length: d }, () => r() * 4 - 2);
  return Array.from({ length: n }, () => {
    const z = [5 * gauss(), 3 * gauss(), 1 * gauss()];
    return offset.map((o, i) => o + z[0] * dirs[0][i] + z[1] * dirs[1][i] + z[2] * dirs[2][i] + 0.05 * gauss());
  });
}

/** Two-pass covariance and a full Jacobi eigendecomposition: eigenpairs sorted by eigenvalue. */
function reference(rows: number[][]): { mean: number[]; values: number[]; vectors: number[][] } {
  const n = rows.length;
  const d = rows[0].length;
  const mean = Array.from({ length: d }, (_, i) => rows.reduce((s, r) => s + r[i], 0) / n);
  const a = Array.from({ length: d }, () => new Array<number>(d).fill(0));
  for (const r of rows) {
    const c = r.map((x, i) => x - mean[i]);
    for (let i = 0; i < d; i++) for (let j = 0; j < d; j++) a[i][j] += (c[i] * c[j]) / (n - 1);
  }
  const v = Array.from({ length: d }, (_, i) => Array.from({ length: d }, (_, j): number => (i === j ? 1 : 0)));
  for (let sweep = 0; sweep < 50; sweep++) {
    let off = 0;
    for (let p = 0; p < d; p++) for (let q = p + 1; q < d; q++) off += a[p][q] * a[p][q];
    if (off < 1e-22) break;
    for (let p = 0; p < d; p++)
      for (let q = p + 1; q < d; q++) {
        if (Math.abs(a[p][q]) < 1e-300) continue;
        const theta = (a[q][q] - a[p][p]) / (2 * a[p][q]);
        const t = Math.sign(theta || 1) / (Math.abs(theta) + Math.sqrt(theta * theta + 1));
        const c = 1 / Math.sqrt(t * t + 1);
        const s = t * c;
        for (let k = 0; k < d; k++) {
          const akp = a[k][p];
          const akq = a[k][q];
          a[k][p] = c * akp - s * akq;
          a[k][q] = s * akp + c * akq;
        }
        for (let k = 0; k < d; k++) {
          const apk = a[p][k];
          const aqk = a[q][k];
          a[p][k] = c * apk - s * aqk;
          a[q][k] = s * apk + c * aqk;
        }
        for (let k = 0; k < d; k++) {
          const vkp = v[k][p];
          const vkq = v[k][q];
          v[k][p] = c * vkp - s * vkq;
          v[k][q] = s * vkp + c * vkq;
        }
      }
  }
  const order = Array.from({ length: d }, (_, i) => i).sort((x, y) => a[y][y] - a[x][x]);
  return { mean, values: order.map((i) => a[i][i]), vectors: order.map((i) => v.map((row) => row[i])) };
}

const dot = (a: ArrayLike<number>, b: ArrayLike<number>) => {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i] * b[i];
  return s;
};

test('axes, explained variance and projections match a two-pass covariance diagonalised by Jacobi', () => {
  const d = 200;
  const rows = data(400, d, 7);
  const pca = new RunningPca(d);
  for (const r of rows) pca.add(Float32Array.from(r));
  // the reference sees the same float32 values the store keeps
  const ref = reference(rows.map((r) => Array.from(Float32Array.from(r))));
  const axes = pca.axes()!;
  for (let k = 0; k < 2; k++) {
    assert.ok(Math.abs(Math.hypot(...axes[k]) - 1) < 1e-12, `axis ${k} is a unit vector`);
    assert.ok(Math.abs(Math.abs(dot(axes[k], ref.vectors[k])) - 1) < 1e-9, `axis ${k} is eigenvector ${k} up to sign: |dot| = ${Math.abs(dot(axes[k], ref.vectors[k]))}`);
  }
  assert.ok(Math.abs(dot(axes[0], axes[1])) < 1e-12, 'orthogonal');
  const trace = ref.values.reduce((s, x) => s + x, 0);
  const [e1, e2] = pca.explained();
  assert.ok(Math.abs(e1 - ref.values[0] / trace) < 1e-9, `explained ${e1} vs ${ref.values[0] / trace}`);
  assert.ok(Math.abs(e2 - ref.values[1] / trace) < 1e-9);
  const mean = pca.mean();
  for (let i = 0; i < d; i++) assert.ok(Math.abs(mean[i] - ref.mean[i]) < 1e-9);
  for (const r of rows.slice(0, 50)) {
    const f = Float32Array.from(r);
    const [x, y] = pca.project(f, axes, mean);
    const c = Array.from(f, (v, i) => v - ref.mean[i]);
    const sx = Math.sign(dot(axes[0], ref.vectors[0]));
    const sy = Math.sign(dot(axes[1], ref.vectors[1]));
    assert.ok(Math.abs(x - sx * dot(c, ref.vectors[0])) < 1e-6 && Math.abs(y - sy * dot(c, ref.vectors[1])) < 1e-6, 'projection');
  }
});

test('updates as vectors arrive: each recomputation equals a fresh one, and an axis never flips sign', () => {
  const d = 200;
  const rows = data(300, d, 11);
  const pca = new RunningPca(d);
  assert.equal(pca.axes(), null, 'no axes without vectors');
  let prev: [Float64Array, Float64Array] | null = null;
  for (const [from, to] of [[0, 2], [2, 60], [60, 61], [61, 300]]) {
    for (const r of rows.slice(from, to)) pca.add(r);
    const axes = pca.axes();
    if (to < 3) {
      assert.equal(axes, null, 'fewer than 3 vectors: no axes');
      continue;
    }
    const fresh = new RunningPca(d);
    for (const r of rows.slice(0, to)) fresh.add(r);
    const f = fresh.axes()!;
    for (let k = 0; k < 2; k++) assert.ok(Math.abs(Math.abs(dot(axes![k], f[k])) - 1) < 1e-8, `after ${to}: axis ${k} as a fresh computation`);
    if (prev) for (let k = 0; k < 2; k++) assert.ok(dot(axes![k], prev[k]) > 0, `after ${to}: axis ${k} kept its sign`);
    prev = [Float64Array.from(axes![0]), Float64Array.from(axes![1])];
  }
});

test('rejects a vector of the wrong length and a dimension below 2', () => {
  const pca = new RunningPca(200);
  assert.throws(() => pca.add(new Float32Array(199)), { name: 'RangeError', message: 'Expected 200 values but received 199' });
  assert.throws(() => new RunningPca(1), { name: 'RangeError', message: 'Expected an integer of at least 2 for dim but received 1' });
});

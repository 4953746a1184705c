/** Max |a - b| and the cosine similarity of two vectors: the two figures every fidelity bar uses. */
import assert from 'node:assert/strict';

export function compareVectors(a: ArrayLike<number>, b: ArrayLike<number>): { maxDiff: number; cosine: number } {
  assert.equal(a.length, b.length);
  let maxDiff = 0;
  let dot = 0;
  let na = 0;
  let nb = 0;
  for (let i = 0; i < a.length; i++) {
    maxDiff = Math.max(maxDiff, Math.abs(a[i] - b[i]));
    dot += a[i] * b[i];
    na += a[i] * a[i];
    nb += b[i] * b[i];
  }
  return { maxDiff, cosine: dot / Math.sqrt(na * nb) };
}

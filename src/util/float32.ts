// SPDX-License-Identifier: MIT
/** Joins Float32Array parts into one array (streamed stages collected whole, for tests and benches). */
export function concatFloat32(parts: Float32Array[]): Float32Array {
  const out = new Float32Array(parts.reduce((n, p) => n + p.length, 0));
  let pos = 0;
  for (const p of parts) {
    out.set(p, pos);
    pos += p.length;
  }
  return out;
}

// SPDX-License-Identifier: MIT
/**
 * NumPy .npy (format 1.0) for a float32 matrix [rows, cols], little-endian, C order, so
 * `numpy.load` reads the vectors exactly.
 */
export function npyHeader(rows: number, cols: number): Buffer {
  const dict = `{'descr': '<f4', 'fortran_order': False, 'shape': (${rows}, ${cols}), }`;
  // magic(6) + version(2) + header length(2) + dict + padding + '\n', total a multiple of 64
  const unpadded = 10 + dict.length + 1;
  const pad = (64 - (unpadded % 64)) % 64;
  const header = dict + ' '.repeat(pad) + '\n';
  const buf = Buffer.alloc(10 + header.length);
  buf.write('\x93NUMPY', 0, 'latin1');
  buf[6] = 1;
  buf[7] = 0;
  buf.writeUInt16LE(header.length, 8);
  buf.write(header, 10, 'latin1');
  return buf;
}

/** The data of rows (no header): what follows npyHeader, in pieces when written as a stream. */
export function npyRows(rows: Float32Array[], cols: number): Buffer {
  const body = Buffer.alloc(rows.length * cols * 4);
  rows.forEach((r, i) => {
    if (r.length !== cols) throw new RangeError(`Expected rows of ${cols} values but row ${i} has ${r.length}`);
    for (let j = 0; j < cols; j++) body.writeFloatLE(r[j], (i * cols + j) * 4);
  });
  return body;
}

export function encodeNpy(rows: Float32Array[], cols: number): Buffer {
  return Buffer.concat([npyHeader(rows.length, cols), npyRows(rows, cols)]);
}

/** Parse a float32 .npy written by encodeNpy (for tests and round trips). */
export function decodeNpy(buf: Buffer): { shape: number[]; data: Float32Array } {
  if (buf.subarray(0, 6).toString('latin1') !== '\x93NUMPY') throw new Error('not a .npy file');
  const hlen = buf.readUInt16LE(8);
  const header = buf.subarray(10, 10 + hlen).toString('latin1');
  if (!header.includes("'<f4'")) throw new Error('only little-endian float32 .npy is supported');
  const m = /'shape': \(([^)]*)\)/.exec(header);
  const shape = (m?.[1] ?? '').split(',').map((s) => s.trim()).filter(Boolean).map(Number);
  const start = 10 + hlen;
  const n = (buf.length - start) / 4;
  const data = new Float32Array(n);
  for (let i = 0; i < n; i++) data[i] = buf.readFloatLE(start + 4 * i);
  return { shape, data };
}

// SPDX-License-Identifier: MIT
/**
 * A GraphSpecJs (native-binding.ts) as one flat little-endian buffer, the wasm engine's way in
 * (copied once into the module's memory). The format, read by native/src/wasm/graph_from_blob.cc:
 *   "CFG1"  u32 nodes  { str name, str op, u32 n, str input * n, u32 attrs, { str key, attr } * attrs } * nodes
 *           u32 consts { str name, u32 rank, f64 dim * rank, u8 kind (1 f32, 2 ints), u32 count,
 *                        (f32 * count | f64 * count) } * consts
 *           str input, u32 outputs, str output * outputs
 *   str  = u32 byte length + UTF-8 bytes
 *   attr = u8 kind (0 none, 1 int, 2 float, 3 bool, 4 string, 5 type, 6 intList, 7 shape), then
 *          int: f64; float: f32; bool: u8; string/type: str; intList/shape: u32 n + f64 * n
 */
import type { AttrJs, GraphSpecJs } from './native-binding.js';

const ATTR_KIND: Record<AttrJs['kind'], number> = {
  none: 0, int: 1, float: 2, bool: 3, string: 4, type: 5, intList: 6, shape: 7,
};

class Writer {
  private buf = new Uint8Array(1 << 16);
  private view = new DataView(this.buf.buffer);
  private pos = 0;
  private readonly text = new TextEncoder();

  private reserve(n: number): void {
    if (this.pos + n <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < this.pos + n) size *= 2;
    const next = new Uint8Array(size);
    next.set(this.buf.subarray(0, this.pos));
    this.buf = next;
    this.view = new DataView(next.buffer);
  }
  u8(v: number): void { this.reserve(1); this.view.setUint8(this.pos, v); this.pos += 1; }
  u32(v: number): void { this.reserve(4); this.view.setUint32(this.pos, v, true); this.pos += 4; }
  f32(v: number): void { this.reserve(4); this.view.setFloat32(this.pos, v, true); this.pos += 4; }
  f64(v: number): void { this.reserve(8); this.view.setFloat64(this.pos, v, true); this.pos += 8; }
  str(s: string): void {
    const b = this.text.encode(s);
    this.u32(b.length);
    this.reserve(b.length);
    this.buf.set(b, this.pos);
    this.pos += b.length;
  }
  floats(a: Float32Array): void {
    this.reserve(a.length * 4);
    // byte-wise copy: little-endian on every platform node runs on for this package
    this.buf.set(new Uint8Array(a.buffer, a.byteOffset, a.byteLength), this.pos);
    this.pos += a.byteLength;
  }
  bytes(): Uint8Array { return this.buf.slice(0, this.pos); }
}

function writeAttr(w: Writer, a: AttrJs): void {
  w.u8(ATTR_KIND[a.kind]);
  switch (a.kind) {
    case 'int': w.f64(a.i ?? 0); break;
    case 'float': w.f32(a.f ?? 0); break;
    case 'bool': w.u8(a.b ? 1 : 0); break;
    case 'string': case 'type': w.str(a.s ?? ''); break;
    case 'intList': case 'shape': {
      const ints = a.ints ?? [];
      w.u32(ints.length);
      for (const v of ints) w.f64(v);
      break;
    }
    default: break;
  }
}

/** The graph as the wasm engine's flat buffer. */
export function graphToBlob(g: GraphSpecJs): Uint8Array {
  const w = new Writer();
  w.u32(0x31474643); // "CFG1"
  w.u32(g.nodes.length);
  for (const n of g.nodes) {
    w.str(n.name);
    w.str(n.op);
    w.u32(n.inputs.length);
    for (const i of n.inputs) w.str(i);
    const attrs = Object.entries(n.attrs);
    w.u32(attrs.length);
    for (const [k, a] of attrs) {
      w.str(k);
      writeAttr(w, a);
    }
  }
  w.u32(g.consts.length);
  for (const c of g.consts) {
    w.str(c.name);
    w.u32(c.shape.length);
    for (const d of c.shape) w.f64(d);
    if (c.f32) {
      w.u8(1);
      w.u32(c.f32.length);
      w.floats(c.f32);
    } else {
      const ints = c.ints ?? [];
      w.u8(2);
      w.u32(ints.length);
      for (const v of ints) w.f64(v);
    }
  }
  w.str(g.input);
  w.u32(g.outputs.length);
  for (const o of g.outputs) w.str(o);
  return w.bytes();
}

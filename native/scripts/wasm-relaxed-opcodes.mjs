// SPDX-License-Identifier: MIT
/**
 * Re-encodes the relaxed-SIMD instructions of a .wasm from the prototype opcodes Debian's
 * clang 14 / binaryen 108 emit to the final ones of the relaxed-SIMD proposal (phase 5; what
 * V8 in Node >= 22 validates). Only the one instruction the engine uses is mapped:
 *   prototype f32x4.fma  0xfd 0xaf 0x01  ->  f32x4.relaxed_madd  0xfd 0x85 0x02
 * Both encodings are two LEB bytes, so the patch is in place and no size field moves.
 *
 * The code section is walked instruction by instruction (every immediate of the MVP, sign
 * extension, saturating truncation, bulk memory, reference types, exceptions, SIMD128 and
 * atomics), not searched for bytes: a byte pattern inside an immediate is never touched. Each
 * function body must end exactly at its last `end`, so a misread immediate is an error, not a
 * silent corruption. Any other prototype relaxed opcode is an error (nothing maps it).
 *
 *   node native/scripts/wasm-relaxed-opcodes.mjs in.wasm [out.wasm]   (in place without out)
 *   import { reencodeRelaxedSimd } from './wasm-relaxed-opcodes.mjs'
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/** prototype SIMD sub-opcode -> final sub-opcode */
const MAP = new Map([[0xaf, 0x105]]);
/**
 * The other sub-opcodes LLVM 14 gives relaxed-SIMD (swizzle, trunc, fms, laneselect, min/max):
 * all unused in final SIMD128, where V8 refuses them. Refused here with a reason.
 */
const PROTOTYPE_RELAXED = new Set([0xa2, 0xa5, 0xa6, 0xb0, 0xb2, 0xb3, 0xb4, 0xc5, 0xc6, 0xcf, 0xd0, 0xd2, 0xd3, 0xd4, 0xe2, 0xee]);

class Reader {
  constructor(buf, pos, end) {
    this.b = buf;
    this.p = pos;
    this.end = end;
  }
  byte() {
    if (this.p >= this.end) throw new Error(`wasm: read past the end at ${this.p}`);
    return this.b[this.p++];
  }
  u32() {
    let result = 0;
    let shift = 0;
    for (;;) {
      const x = this.byte();
      if (shift < 35) result += (x & 0x7f) * 2 ** shift;
      shift += 7;
      if (!(x & 0x80)) break;
      if (shift > 35) throw new Error(`wasm: LEB128 too long at ${this.p}`);
    }
    return result;
  }
  /** a signed LEB of any width: only its length matters here */
  sleb(maxBytes) {
    for (let n = 1; ; n++) {
      const x = this.byte();
      if (!(x & 0x80)) return;
      if (n >= maxBytes) throw new Error(`wasm: signed LEB128 too long at ${this.p}`);
    }
  }
  skip(n) {
    if (this.p + n > this.end) throw new Error(`wasm: immediate past the end at ${this.p}`);
    this.p += n;
  }
  memarg() {
    const align = this.u32();
    if (align & 0x40) this.u32(); // multi-memory: a memory index
    this.u32();
  }
  blocktype() {
    const x = this.b[this.p];
    if (x === 0x40 || (x >= 0x6f && x <= 0x7f)) this.p++;
    else this.sleb(5);
  }
}

/** Walks one expression (a function body after its locals) to its end; calls onSimd(subOpcode, posOfSubOpcode, lebLen). */
function walkExpr(r, onSimd) {
  let depth = 1;
  while (depth > 0) {
    const op = r.byte();
    switch (op) {
      case 0x02: case 0x03: case 0x04: case 0x06: r.blocktype(); depth++; break; // block loop if try
      case 0x0b: depth--; break; // end
      case 0x05: case 0x19: break; // else catch_all
      case 0x07: case 0x08: case 0x09: case 0x0c: case 0x0d: r.u32(); break; // catch throw rethrow br br_if
      case 0x18: r.u32(); depth--; break; // delegate ends a try
      case 0x0e: { const n = r.u32(); for (let i = 0; i <= n; i++) r.u32(); break; } // br_table
      case 0x10: case 0x12: r.u32(); break; // call return_call
      case 0x11: case 0x13: r.u32(); r.u32(); break; // call_indirect return_call_indirect
      case 0x1c: { const n = r.u32(); r.skip(n); break; } // select t*
      case 0x20: case 0x21: case 0x22: case 0x23: case 0x24: case 0x25: case 0x26: r.u32(); break;
      case 0x3f: case 0x40: r.u32(); break; // memory.size/grow: memory index
      case 0x41: r.sleb(5); break;
      case 0x42: r.sleb(10); break;
      case 0x43: r.skip(4); break;
      case 0x44: r.skip(8); break;
      case 0xd0: r.byte(); break; // ref.null t
      case 0xd2: r.u32(); break; // ref.func
      case 0xfc: {
        const sub = r.u32();
        if (sub <= 7) break; // trunc_sat
        // memory.init, memory.copy, table.init, table.copy: two indexes; the rest of 9..17: one
        if (sub === 8 || sub === 10 || sub === 12 || sub === 14) { r.u32(); r.u32(); }
        else if (sub <= 17) r.u32();
        else throw new Error(`wasm: unknown 0xfc sub-opcode ${sub} at ${r.p}`);
        break;
      }
      case 0xfd: {
        const at = r.p;
        const sub = r.u32();
        const len = r.p - at;
        if (sub <= 0x0b || sub === 0x5c || sub === 0x5d) r.memarg(); // loads, store, load_zero
        else if (sub === 0x0c || sub === 0x0d) r.skip(16); // v128.const, i8x16.shuffle
        else if (sub >= 0x15 && sub <= 0x22) r.skip(1); // extract/replace lane
        else if (sub >= 0x54 && sub <= 0x5b) { r.memarg(); r.skip(1); } // load/store lane
        onSimd(sub, at, len);
        break;
      }
      case 0xfe: { // atomics
        const sub = r.u32();
        if (sub === 0x03) r.byte(); // atomic.fence
        else r.memarg();
        break;
      }
      default:
        if ((op >= 0x28 && op <= 0x3e)) r.memarg(); // loads and stores
        else if (op <= 0x01 || op === 0x0f || op === 0x1a || op === 0x1b || op === 0xd1 || (op >= 0x45 && op <= 0xc4)) break;
        else throw new Error(`wasm: unknown opcode 0x${op.toString(16)} at ${r.p - 1}`);
    }
  }
}

/**
 * Returns a copy of `bytes` with each prototype relaxed-SIMD opcode re-encoded (see the top),
 * how many were, the function bodies walked and the f32x4.relaxed_madd instructions the result
 * holds; throws on a module it cannot walk or an unmapped prototype opcode.
 */
export function reencodeRelaxedSimd(bytes) {
  const out = Buffer.from(bytes);
  if (out.readUInt32LE(0) !== 0x6d736100 || out.readUInt32LE(4) !== 1) throw new Error('wasm: not a version-1 module');
  const top = new Reader(out, 8, out.length);
  let mapped = 0;
  let bodies = 0;
  let relaxedMadd = 0; // final f32x4.relaxed_madd instructions in the result (mapped or already there)
  while (top.p < out.length) {
    const id = top.byte();
    const size = top.u32();
    const start = top.p;
    const end = start + size;
    if (end > out.length) throw new Error(`wasm: section ${id} runs past the end`);
    if (id === 10) {
      const r = new Reader(out, start, end);
      const count = r.u32();
      for (let f = 0; f < count; f++) {
        const bodySize = r.u32();
        const bodyEnd = r.p + bodySize;
        const br = new Reader(out, r.p, bodyEnd);
        const groups = br.u32();
        for (let g = 0; g < groups; g++) {
          br.u32();
          br.byte();
        }
        walkExpr(br, (sub, at, len) => {
          if (sub === 0x105) relaxedMadd++;
          const to = MAP.get(sub);
          if (to === undefined) {
            if (PROTOTYPE_RELAXED.has(sub)) throw new Error(`wasm: prototype relaxed-SIMD opcode 0x${sub.toString(16)} at ${at} has no mapping`);
            return;
          }
          if (len !== 2) throw new Error(`wasm: opcode 0x${sub.toString(16)} at ${at} is ${len} LEB bytes, not 2`);
          out[at] = 0x80 | (to & 0x7f);
          out[at + 1] = to >> 7;
          mapped++;
          if (to === 0x105) relaxedMadd++;
        });
        if (br.p !== bodyEnd) throw new Error(`wasm: function ${f} ends at ${br.p}, its body at ${bodyEnd}`);
        r.p = bodyEnd;
        bodies++;
      }
      if (r.p !== end) throw new Error('wasm: the code section has bytes after its last body');
    }
    top.p = end;
  }
  return { bytes: out, mapped, bodies, relaxedMadd };
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const [src, dst] = process.argv.slice(2);
  if (!src) {
    console.error('usage: node native/scripts/wasm-relaxed-opcodes.mjs in.wasm [out.wasm]');
    process.exit(1);
  }
  const { bytes, mapped, bodies } = reencodeRelaxedSimd(readFileSync(src));
  writeFileSync(dst ?? src, bytes);
  console.log(`${dst ?? src}: ${mapped} relaxed-SIMD instruction(s) re-encoded in ${bodies} function bodies`);
}

// SPDX-License-Identifier: MIT
/**
 * native/scripts/wasm-relaxed-opcodes.mjs, the re-encoder of relaxed-SIMD opcodes that the
 * relaxed wasm engine is built through: on hand-assembled modules, the prototype f32x4.fma
 * becomes the final relaxed_madd (and computes a * b + c), while the same bytes inside an
 * i32.const and a v128.const are left alone; an unmapped prototype opcode, a body whose end is
 * not where its size says and a truncated module are errors. And the shipped modules: the
 * relaxed one holds relaxed_madd and nothing left to map, the SIMD128 one none.
 */
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { WASM_ENGINE_DIR, runtimeHasRelaxedSimd } from '../src/embed/wasm-engine-binding.js';

const root = path.resolve(fileURLToPath(new URL('../..', import.meta.url)));
type Reencode = (b: Uint8Array) => { bytes: Uint8Array<ArrayBuffer>; mapped: number; bodies: number; relaxedMadd: number };
const { reencodeRelaxedSimd } = (await import(pathToFileURL(path.join(root, 'native', 'scripts', 'wasm-relaxed-opcodes.mjs')).href)) as {
  reencodeRelaxedSimd: Reencode;
};

const leb = (n: number): number[] => {
  const out: number[] = [];
  do {
    let b = n & 0x7f;
    n >>>= 7;
    if (n) b |= 0x80;
    out.push(b);
  } while (n);
  return out;
};
const section = (id: number, content: number[]) => [id, ...leb(content.length), ...content];
const vec = (items: number[][]) => [...leb(items.length), ...items.flat()];

/** A module of functions, each [params, results, body without locals]; all exported as f0, f1, ... */
function module(funcs: { params: number[]; results: number[]; body: number[] }[]): Uint8Array<ArrayBuffer> {
  const types = vec(funcs.map((f) => [0x60, ...vec(f.params.map((p) => [p])), ...vec(f.results.map((r) => [r]))]));
  const fsec = vec(funcs.map((_, i) => leb(i)));
  const exports = vec(funcs.map((_, i) => [...vec([...Buffer.from(`f${i}`)].map((c) => [c])), 0x00, ...leb(i)]));
  const code = vec(funcs.map((f) => {
    const body = [0x00, ...f.body]; // no locals
    return [...leb(body.length), ...body];
  }));
  return Uint8Array.from([0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00, ...section(1, types), ...section(3, fsec),
    ...section(7, exports), ...section(10, code)]);
}

const F32 = 0x7d;
const I32 = 0x7f;
const splat = (local: number) => [0x20, local, 0xfd, 0x13]; // local.get; f32x4.splat
const PROTO_FMA = [0xfd, 0xaf, 0x01];
// (a, b, c) -> lane 0 of the prototype f32x4.fma(splat a, splat b, splat c)
const fmaFn = (op: number[]) => ({ params: [F32, F32, F32], results: [F32], body: [...splat(0), ...splat(1), ...splat(2), ...op, 0xfd, 0x1f, 0x00, 0x0b] });
// i32.const 22525 is encoded 0x41 0xfd 0xaf 0x01: the prototype opcode's bytes as an immediate
const constFn = { params: [], results: [I32], body: [0x41, 0xfd, 0xaf, 0x01, 0x0b] };
// lane 1 (u8) of a v128.const whose immediate starts 0xfd 0xaf 0x01
const v128Fn = { params: [], results: [I32], body: [0xfd, 0x0c, 0xfd, 0xaf, 0x01, ...new Array(13).fill(0), 0xfd, 0x16, 0x01, 0x0b] };

test('re-encoder: the prototype f32x4.fma becomes relaxed_madd (a * b + c); the same bytes in immediates stay', () => {
  const src = module([fmaFn(PROTO_FMA), constFn, v128Fn]);
  assert.equal(WebAssembly.validate(src), false, 'the prototype opcode is not valid wasm');
  const r = reencodeRelaxedSimd(src);
  assert.equal(r.mapped, 1);
  assert.equal(r.bodies, 3);
  assert.equal(r.relaxedMadd, 1);
  assert.equal(r.bytes.length, src.length, 'in place');
  const changed = [...r.bytes].flatMap((b, i) => (b !== src[i] ? [i] : []));
  assert.equal(changed.length, 2, `bytes changed at ${changed.join(', ')}`);
  assert.equal(src.length, r.bytes.length);
  if (!runtimeHasRelaxedSimd()) return;
  const inst = new WebAssembly.Instance(new WebAssembly.Module(r.bytes), {});
  const ex = inst.exports as Record<string, (...a: number[]) => number>;
  assert.equal(ex.f0(2, 3, 5), 11, 'relaxed_madd(a, b, c) = a * b + c');
  assert.equal(ex.f1(), 22525, 'an i32.const holding the bytes is unchanged');
  assert.equal(ex.f2(), 0xaf, 'a v128.const holding the bytes is unchanged');
});

test('re-encoder: an unmapped prototype opcode, a body that ends early or late, and a cut module are errors', () => {
  assert.throws(() => reencodeRelaxedSimd(module([fmaFn([0xfd, 0xb0, 0x01])])), /prototype relaxed-SIMD opcode 0xb0 at \d+ has no mapping/);
  // a body with one byte more than its last end
  const late = module([{ params: [], results: [I32], body: [0x41, 0x05, 0x0b, 0x01] }]);
  assert.throws(() => reencodeRelaxedSimd(late), /function 0 ends at \d+, its body at \d+/);
  const cut = module([fmaFn(PROTO_FMA)]);
  assert.throws(() => reencodeRelaxedSimd(cut.subarray(0, cut.length - 6)), /runs past the end/);
  assert.throws(() => reencodeRelaxedSimd(Uint8Array.from([1, 2, 3, 4, 5, 6, 7, 8])), /not a version-1 module/);
  // an unknown opcode is refused rather than skipped
  assert.throws(() => reencodeRelaxedSimd(module([{ params: [], results: [], body: [0xff, 0x0b] }])), /unknown opcode 0xff/);
});

const relaxedFile = path.join(WASM_ENGINE_DIR, 'chaarfm-engine-relaxed.wasm');
const plainFile = path.join(WASM_ENGINE_DIR, 'chaarfm-engine.wasm');
const skipShipped = existsSync(relaxedFile) && existsSync(plainFile) ? false : `the wasm engine is not built (no ${relaxedFile}); build it with: npm run build:wasm`;

test('the shipped wasm modules: the relaxed one holds relaxed_madd and no prototype opcode, and validates; the SIMD128 one has none', { skip: skipShipped }, (t) => {
  const relaxed = reencodeRelaxedSimd(readFileSync(relaxedFile));
  assert.equal(relaxed.mapped, 0, 'nothing left to re-encode');
  assert.ok(relaxed.relaxedMadd > 0, 'no relaxed_madd in the relaxed module');
  const plain = reencodeRelaxedSimd(readFileSync(plainFile));
  assert.equal(plain.mapped, 0);
  assert.equal(plain.relaxedMadd, 0);
  assert.equal(WebAssembly.validate(new Uint8Array(readFileSync(plainFile))), true);
  if (runtimeHasRelaxedSimd()) assert.equal(WebAssembly.validate(new Uint8Array(readFileSync(relaxedFile))), true);
  t.diagnostic(`relaxed module: ${relaxed.relaxedMadd} relaxed_madd in ${relaxed.bodies} functions`);
});

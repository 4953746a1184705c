// SPDX-License-Identifier: MIT
/**
 * Writes the fixtures of the native engine's C++ tests (native/test) into a folder:
 * for each MusiCNN graph, <name>.graph.txt + <name>.graph.bin (the parsed GraphDef in a plain
 * text/binary form the C++ test loader reads), <name>.frames.bin (a stream of random
 * log-mel-like frames [F][96], float32 LE) and <name>.tfjs.bin (the TF.js CPU-backend output
 * rows of the patches cut from that stream, 187 frames every 93: per output, [P][width]).
 * Usage: npm run build && node test/native/dump-engine-fixtures.mjs <out-dir> [patches]
 * The genre graph is Essentia's regression model, found as the tests find it
 * (test/support/fixtures.ts): $CHAARFM_ESSENTIA_FIXTURES, else ../shared/fixtures/essentia-regression
 * beside the package; without it the script fails saying where it looked. Paths come from
 * fileURLToPath (a URL's pathname is percent-encoded, and on Windows has a leading slash).
 * Single-threaded, synchronous apart from TF.js setup.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseGraphDef } from '../../dist/src/embed/graphdef.js';
import { loadTfjsGraph } from '../../dist/src/embed/tfjs-graph.js';

const out = process.argv[2];
const P = Number(process.argv[3] ?? 3);
if (!out) throw new Error('usage: dump-engine-fixtures.mjs <out-dir> [patches]');
mkdirSync(out, { recursive: true });

const root = fileURLToPath(new URL('../../', import.meta.url));
const fixtures = process.env.CHAARFM_ESSENTIA_FIXTURES || join(root, '..', 'shared', 'fixtures', 'essentia-regression');
const GRAPHS = [
  { name: 'msd', file: join(root, 'models', 'msd-musicnn-1.pb'), outputs: ['model/dense/BiasAdd', 'model/Sigmoid'] },
  { name: 'genre', file: join(fixtures, 'genre_dortmund_musicnn_msd.pb'), outputs: ['model/dense/BiasAdd', 'model/Sigmoid'] },
];
for (const g of GRAPHS) {
  if (!existsSync(g.file)) {
    console.error(`dump-engine-fixtures: no ${g.name} graph at ${g.file}${g.name === 'genre' ? ' (set CHAARFM_ESSENTIA_FIXTURES to the folder of Essentia\'s regression fixtures)' : ''}`);
    process.exit(2);
  }
}

const clean = (s) => s.replace(/^\^/, '').replace(/:0$/, '');

function dumpGraph(g, base) {
  const lines = [];
  const blobs = [];
  let offset = 0;
  for (const n of g.nodes) {
    const ins = n.inputs.filter((i) => !i.startsWith('^')).map(clean);
    const attrs = [];
    for (const [k, a] of Object.entries(n.attrs)) {
      if (a.kind === 's') attrs.push(`attr ${k} s ${a.value.length ? a.value : '-'}`);
      else if (a.kind === 'i') attrs.push(`attr ${k} i ${a.value}`);
      else if (a.kind === 'f') attrs.push(`attr ${k} f ${a.value}`);
      else if (a.kind === 'b') attrs.push(`attr ${k} b ${a.value ? 1 : 0}`);
      else if (a.kind === 'type') attrs.push(`attr ${k} t ${a.value}`);
      else if (a.kind === 'shape') attrs.push(`attr ${k} shape ${a.value ? a.value.length + ' ' + a.value.join(' ') : '-1'}`);
      else if (a.kind === 'list' && (a.value.i?.length ?? 0) > 0) attrs.push(`attr ${k} l ${a.value.i.length} ${a.value.i.join(' ')}`);
      else if (a.kind === 'list') attrs.push(`attr ${k} l 0`);
    }
    lines.push(`node ${n.name} ${n.op} ${ins.length}${ins.length ? ' ' + ins.join(' ') : ''} ${attrs.length}`, ...attrs);
    const w = g.weights.get(n.name);
    if (!w) continue;
    const dims = `${w.shape.length}${w.shape.length ? ' ' + w.shape.join(' ') : ''}`;
    if (w.dtype === 'float32') {
      lines.push(`const ${n.name} f ${dims} ${offset} ${w.data.length}`);
      blobs.push(Buffer.from(w.data.buffer, w.data.byteOffset, w.data.byteLength));
      offset += w.data.byteLength;
    } else {
      const vals = Array.from(w.data, (v) => Number(v));
      lines.push(`const ${n.name} i ${dims} ${vals.length}${vals.length ? ' ' + vals.join(' ') : ''}`);
    }
  }
  writeFileSync(base + '.graph.txt', lines.join('\n') + '\n');
  writeFileSync(base + '.graph.bin', Buffer.concat(blobs));
}

const frames = 187 + 93 * (P - 1);
for (const spec of GRAPHS) {
  const g = parseGraphDef(readFileSync(spec.file));
  const base = join(out, spec.name);
  dumpGraph(g, base);
  // frames: smooth-ish random log-mel values in [0, 4)
  const x = new Float32Array(frames * 96);
  let s = spec.name === 'msd' ? 12345 : 999;
  for (let i = 0; i < x.length; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    x[i] = (s / 2 ** 32) * 4;
  }
  writeFileSync(base + '.frames.bin', Buffer.from(x.buffer));
  const patches = new Float32Array(P * 187 * 96);
  for (let p = 0; p < P; p++) patches.set(x.subarray(p * 93 * 96, (p * 93 + 187) * 96), p * 187 * 96);
  const tg = await loadTfjsGraph(g, { backend: 'cpu', outputs: spec.outputs });
  const res = [];
  for (let p = 0; p < P; p++) res.push(tg.run(patches.subarray(p * 187 * 96, (p + 1) * 187 * 96), 1));
  tg.dispose();
  const parts = spec.outputs.map((_, o) => Buffer.concat(res.map((r) => Buffer.from(r[o].buffer))));
  writeFileSync(base + '.tfjs.bin', Buffer.concat(parts));
  writeFileSync(base + '.meta.txt', `patches ${P}\nframes ${frames}\noutputs ${spec.outputs.length} ${spec.outputs.join(' ')}\nwidths ${res[0].map((r) => r.length).join(' ')}\n`);
  console.log(`${spec.name}: ${spec.file}: ${P} patches, widths ${res[0].map((r) => r.length).join(',')}`);
}

// SPDX-License-Identifier: MIT
/**
 * A short native run for a leak check under valgrind (not part of the tests: too slow):
 *   valgrind --leak-check=full --errors-for-leak-kinds=definite --error-exitcode=3 \
 *     node --expose-gc native/scripts/leak-check.mjs [addon.node]
 * It opens sessions on the bundled model, finishes one, abandons one mid-stream (closed without
 * finish), runs resample/frontend/runPatches once, drops every handle and lets GC free them.
 * Valgrind must report no "definitely lost" block from the addon.
 */
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const addonPath = process.argv[2] ?? path.join(root, 'build', 'Release', 'chaarfm.node');
const b = createRequire(import.meta.url)(addonPath);
const { openModelFile } = await import(path.join(root, 'dist/src/embed/model-file.js'));
const { graphToSpec } = await import(path.join(root, 'dist/src/embed/native-binding.js'));

const model = await openModelFile();
let handle = b.createModel(graphToSpec(model.graph, [model.outputNode, 'model/Sigmoid']));
const pcm = new Float32Array(44100 * 3.5).map((_, i) => 0.4 * Math.sin(i / 9) * Math.sin(i / 3001));

let s1 = await b.openSession(handle, 44100, 2);
for (let p = 0; p < pcm.length; p += 20000) await b.sessionPush(s1, pcm.subarray(p, p + 20000));
const r = await b.sessionFinish(s1);
b.sessionClose(s1);
let s2 = await b.openSession(handle, 48000, 1);
await b.sessionPush(s2, pcm);
b.sessionClose(s2); // abandoned mid-stream
await b.resample(pcm, 44100);
await b.frontend(pcm.subarray(0, 16000));
await b.runPatches(handle, new Float32Array(187 * 96), 1);
handle = s1 = s2 = null; // every handle unreachable: GC runs their finalizers
for (let i = 0; i < 5; i++) {
  globalThis.gc?.();
  await new Promise((res) => setTimeout(res, 20));
}
console.log(`leak-check run done: ${r.patches} patches, finite ${r.finite}`);

// SPDX-License-Identifier: MIT
/**
 * Finding, checking and opening the MusiCNN model file.
 *
 * - The bundled model is `models/msd-musicnn-1.pb` under the package root, found by walking up
 *   from this module's own URL to the folder whose package.json is chaarfm-worker's (works from
 *   `src/embed/` and from `dist/src/embed/`). Its sha256 must match BUNDLED_MODEL_SHA256;
 *   a mismatch is a ModelFileError telling the user to reinstall.
 * - `--model PATH` selects another MusiCNN graph: its sha256 is computed and reported
 *   (`ModelFile.sha256`), not enforced.
 * - The output node (default `model/dense/BiasAdd`) and the optional tags node must exist in
 *   the graph; otherwise a ModelFileError lists the nodes that look like outputs.
 */
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { GraphDefError, parseGraphDef, type ParsedGraph } from './graphdef.js';

export const BUNDLED_MODEL_NAME = 'msd-musicnn-1.pb';
export const BUNDLED_MODEL_SHA256 = 'cdea0722bcee7f731286843f2233e3aa69887bb5c3e2dce011eff55f38d04f3e';
export const DEFAULT_OUTPUT_NODE = 'model/dense/BiasAdd';
export const PACKAGE_NAME = 'chaarfm-worker';

/** A model file that cannot be used: missing, corrupted, not a graph, or a bad node name. */
export class ModelFileError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'ModelFileError';
  }
}

/** The package root: the nearest folder above this module whose package.json is ours. */
export function packageRoot(from: string = fileURLToPath(import.meta.url)): string {
  let dir = path.dirname(from);
  for (;;) {
    const pj = path.join(dir, 'package.json');
    if (existsSync(pj)) {
      try {
        if (JSON.parse(readFileSync(pj, 'utf8')).name === PACKAGE_NAME) return dir;
      } catch {
        // not ours; keep walking
      }
    }
    const up = path.dirname(dir);
    if (up === dir) throw new ModelFileError(`Cannot find the ${PACKAGE_NAME} package root above ${from}`);
    dir = up;
  }
}

export function bundledModelPath(): string {
  return path.join(packageRoot(), 'models', BUNDLED_MODEL_NAME);
}

export function sha256Hex(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

/** Throws a ModelFileError when `bytes` do not hash to `expected`. */
export function checkSha256(bytes: Uint8Array, expected: string, file: string): string {
  const got = sha256Hex(bytes);
  if (got !== expected.toLowerCase()) {
    throw new ModelFileError(
      `Model file ${file} is corrupted or not the expected model: sha256 ${got}, expected ${expected}. ` +
        `Reinstall ${PACKAGE_NAME} to restore it, or pass --model to use another MusiCNN graph.`,
    );
  }
  return got;
}

export interface ModelFile {
  path: string;
  bundled: boolean;
  sha256: string;
  /** The file's bytes (to hand to a thread or a native engine). */
  bytes: Uint8Array;
  graph: ParsedGraph;
  outputNode: string;
  tagsNode?: string;
}

export interface OpenModelOptions {
  /** Another frozen MusiCNN graph; default: the bundled model. */
  modelPath?: string;
  outputNode?: string;
  tagsNode?: string;
  /** Enforce this sha256 (defaults to BUNDLED_MODEL_SHA256 for the bundled file only). */
  expectedSha256?: string;
}

/** Ops that end a useful output (used to suggest node names). */
const OUTPUT_OPS = new Set(['BiasAdd', 'Sigmoid', 'MatMul', 'Add', 'Relu']);

/** Throws a ModelFileError if `name` is not a node of `graph`. */
export function checkNodeName(graph: ParsedGraph, name: string, what: string, file: string): void {
  if (graph.nodes.some((n) => n.name === name)) return;
  const hints = graph.nodes
    .filter((n) => OUTPUT_OPS.has(n.op) && n.name.startsWith('model/dense'))
    .map((n) => n.name);
  const more = graph.nodes.filter((n) => n.op === 'Sigmoid').map((n) => n.name);
  const list = [...new Set([...hints, ...more])].slice(0, 8);
  throw new ModelFileError(
    `Expected a node of ${file} for ${what} but received ${JSON.stringify(name)}` +
      (list.length ? `; output candidates: ${list.join(', ')}` : ''),
  );
}

/** Reads, checks and parses the model; validates the requested node names. */
export async function openModelFile(opts: OpenModelOptions = {}): Promise<ModelFile> {
  const bundled = !opts.modelPath;
  const file = path.resolve(opts.modelPath ?? bundledModelPath());
  let bytes: Uint8Array;
  try {
    bytes = await readFile(file);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const why = code === 'ENOENT' ? 'no such file' : (err as Error).message;
    throw new ModelFileError(
      bundled
        ? `The bundled model ${file} is missing (${why}); reinstall ${PACKAGE_NAME}`
        : `Cannot read the model file ${file}: ${why}`,
      { cause: err },
    );
  }
  const expected = opts.expectedSha256 ?? (bundled ? BUNDLED_MODEL_SHA256 : undefined);
  const sha256 = expected ? checkSha256(bytes, expected, file) : sha256Hex(bytes);
  let graph: ParsedGraph;
  try {
    graph = parseGraphDef(bytes, `Model file ${file}`);
  } catch (err) {
    if (err instanceof GraphDefError) throw new ModelFileError(err.message, { cause: err });
    throw err;
  }
  const outputNode = opts.outputNode ?? DEFAULT_OUTPUT_NODE;
  checkNodeName(graph, 'model/Placeholder', 'the input', file);
  checkNodeName(graph, outputNode, 'the output node', file);
  if (opts.tagsNode) checkNodeName(graph, opts.tagsNode, 'the tags node', file);
  return { path: file, bundled, sha256, bytes, graph, outputNode, tagsNode: opts.tagsNode };
}

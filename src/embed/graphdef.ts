// SPDX-License-Identifier: MIT
/**
 * Frozen TensorFlow GraphDef reader, backend-neutral.
 *
 * The few message types needed (GraphDef, NodeDef, AttrValue, TensorProto, TensorShapeProto,
 * DataType, ...) are declared here through protobufjs reflection, with field numbers from
 * TensorFlow's `graph.proto`, `node_def.proto`, `attr_value.proto`, `tensor.proto`,
 * `tensor_shape.proto` and `types.proto`; no .proto file is read at run time.
 *
 * `parseGraphDef(bytes)` decodes and validates a frozen graph and returns:
 * - `nodes`: every node with its op, inputs and attributes as plain JS values
 *   (a Const node keeps its dtype/shape; its value moves to `weights`);
 * - `weights`: every Const tensor as a typed array in row-major order.
 * Validation accepts only the op set of spec/embedding.md step 6 and checks that every input
 * names an existing node; anything else is a GraphDefError with a message that says why.
 * The same structure is meant to feed the TF.js executor and a later native engine.
 */
import protobuf from 'protobufjs';
import { endianness } from 'node:os';

/** The ops a frozen MusiCNN graph uses (spec/embedding.md step 6). */
export const ALLOWED_OPS: ReadonlySet<string> = new Set([
  'Placeholder', 'Const', 'Identity', 'ExpandDims', 'Pad', 'Conv2D', 'BiasAdd', 'Relu',
  'FusedBatchNorm', 'MaxPool', 'Squeeze', 'ConcatV2', 'Transpose', 'Add', 'Sub', 'Mul', 'Rsqrt',
  'Max', 'Mean', 'SquaredDifference', 'StopGradient', 'Shape', 'StridedSlice', 'Pack', 'Reshape',
  'MatMul', 'Sigmoid',
]);

/** TensorFlow DataType enum values (types.proto). */
const DATA_TYPES: Record<string, number> = {
  DT_INVALID: 0, DT_FLOAT: 1, DT_DOUBLE: 2, DT_INT32: 3, DT_UINT8: 4, DT_INT16: 5, DT_INT8: 6,
  DT_STRING: 7, DT_COMPLEX64: 8, DT_INT64: 9, DT_BOOL: 10, DT_QINT8: 11, DT_QUINT8: 12,
  DT_QINT32: 13, DT_BFLOAT16: 14, DT_QINT16: 15, DT_QUINT16: 16, DT_UINT16: 17,
  DT_COMPLEX128: 18, DT_HALF: 19, DT_RESOURCE: 20, DT_VARIANT: 21, DT_UINT32: 22, DT_UINT64: 23,
};

const rep = (id: number, type: string) => ({ id, type, rule: 'repeated' });
const one = (id: number, type: string) => ({ id, type });

const ROOT = protobuf.Root.fromJSON({
  nested: {
    tensorflow: {
      options: { syntax: 'proto3' },
      nested: {
        DataType: { values: DATA_TYPES },
        TensorShapeProto: {
          fields: { dim: rep(2, 'Dim'), unknownRank: one(3, 'bool') },
          nested: { Dim: { fields: { size: one(1, 'int64'), name: one(2, 'string') } } },
        },
        TensorProto: {
          fields: {
            dtype: one(1, 'DataType'), tensorShape: one(2, 'TensorShapeProto'),
            versionNumber: one(3, 'int32'), tensorContent: one(4, 'bytes'),
            halfVal: rep(13, 'int32'), floatVal: rep(5, 'float'), doubleVal: rep(6, 'double'),
            intVal: rep(7, 'int32'), stringVal: rep(8, 'bytes'), int64Val: rep(10, 'int64'),
            boolVal: rep(11, 'bool'), uint32Val: rep(16, 'uint32'), uint64Val: rep(17, 'uint64'),
          },
        },
        NameAttrList: {
          fields: { name: one(1, 'string') },
        },
        AttrValue: {
          oneofs: { value: { oneof: ['s', 'i', 'f', 'b', 'type', 'shape', 'tensor', 'list', 'func', 'placeholder'] } },
          fields: {
            list: one(1, 'ListValue'), s: one(2, 'bytes'), i: one(3, 'int64'), f: one(4, 'float'),
            b: one(5, 'bool'), type: one(6, 'DataType'), shape: one(7, 'TensorShapeProto'),
            tensor: one(8, 'TensorProto'), placeholder: one(9, 'string'), func: one(10, 'NameAttrList'),
          },
          nested: {
            ListValue: {
              fields: {
                s: rep(2, 'bytes'), i: rep(3, 'int64'), f: rep(4, 'float'), b: rep(5, 'bool'),
                type: rep(6, 'DataType'), shape: rep(7, 'TensorShapeProto'), tensor: rep(8, 'TensorProto'),
              },
            },
          },
        },
        NodeDef: {
          fields: {
            name: one(1, 'string'), op: one(2, 'string'), input: rep(3, 'string'),
            device: one(4, 'string'), attr: { id: 5, keyType: 'string', type: 'AttrValue' } as protobuf.IField,
          },
        },
        VersionDef: {
          fields: { producer: one(1, 'int32'), minConsumer: one(2, 'int32'), badConsumers: rep(3, 'int32') },
        },
        GraphDef: {
          fields: { node: rep(1, 'NodeDef'), versions: one(4, 'VersionDef'), version: one(3, 'int32') },
        },
      },
    },
  },
});
const GraphDefType = ROOT.lookupType('tensorflow.GraphDef');

/** Element types we turn into typed arrays. */
export type TensorDType = 'float32' | 'float64' | 'int32' | 'int64' | 'uint8' | 'int8' | 'int16' | 'bool';
export type TensorData = Float32Array | Float64Array | Int32Array | BigInt64Array | Uint8Array | Int8Array | Int16Array;

export interface ConstTensor {
  dtype: TensorDType;
  /** Dimensions; [] for a scalar. */
  shape: number[];
  /** Row-major values, length = product of shape (bool as Uint8Array of 0/1). */
  data: TensorData;
}

/** One attribute, decoded to plain JS. `s` values are decoded as UTF-8 strings. */
export type Attr =
  | { kind: 's'; value: string }
  | { kind: 'i'; value: number }
  | { kind: 'f'; value: number }
  | { kind: 'b'; value: boolean }
  | { kind: 'type'; value: string }
  /** null: unknown rank; -1: unknown dimension */
  | { kind: 'shape'; value: number[] | null }
  | { kind: 'tensor'; value: ConstTensor }
  | { kind: 'list'; value: AttrList }
  | { kind: 'other'; value: string };

export interface AttrList {
  s?: string[];
  i?: number[];
  f?: number[];
  b?: boolean[];
  type?: string[];
  shape?: (number[] | null)[];
}

export interface GraphNode {
  name: string;
  op: string;
  /** Input names as in the GraphDef ("node", "node:1", or "^node" for a control input). */
  inputs: string[];
  /** Attributes; a Const node's `value` tensor is removed (it is in `weights`). */
  attrs: Record<string, Attr>;
}

export interface ParsedGraph {
  nodes: GraphNode[];
  /** Const node name -> its tensor. */
  weights: Map<string, ConstTensor>;
  /** GraphDef versions.producer (0 when absent). */
  producer: number;
}

/** A file that is not a usable frozen graph. */
export class GraphDefError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'GraphDefError';
  }
}

const DTYPE_NAMES: Record<number, string> = Object.fromEntries(
  Object.entries(DATA_TYPES).map(([k, v]) => [v, k]),
);

const TENSOR_DTYPES: Record<string, TensorDType> = {
  DT_FLOAT: 'float32', DT_DOUBLE: 'float64', DT_INT32: 'int32', DT_INT64: 'int64',
  DT_UINT8: 'uint8', DT_INT8: 'int8', DT_INT16: 'int16', DT_BOOL: 'bool',
};

const BYTES_PER: Record<TensorDType, number> = {
  float32: 4, float64: 8, int32: 4, int64: 8, uint8: 1, int8: 1, int16: 2, bool: 1,
};

function toNumber(v: unknown): number {
  if (typeof v === 'number') return v;
  if (typeof v === 'bigint') return Number(v);
  if (v && typeof (v as { toNumber?: unknown }).toNumber === 'function') {
    return (v as { toNumber(): number }).toNumber();
  }
  return Number(v ?? 0);
}

function dtypeName(v: unknown): string {
  const n = toNumber(v);
  return DTYPE_NAMES[n] ?? (n > 100 && DTYPE_NAMES[n - 100] ? `${DTYPE_NAMES[n - 100]}_REF` : `DT_UNKNOWN_${n}`);
}

function decodeShape(s: any): number[] | null {
  if (!s) return [];
  if (s.unknownRank) return null;
  return (s.dim ?? []).map((d: any) => toNumber(d.size));
}

function allocate(dtype: TensorDType, n: number): TensorData {
  switch (dtype) {
    case 'float32': return new Float32Array(n);
    case 'float64': return new Float64Array(n);
    case 'int32': return new Int32Array(n);
    case 'int64': return new BigInt64Array(n);
    case 'int8': return new Int8Array(n);
    case 'int16': return new Int16Array(n);
    default: return new Uint8Array(n);
  }
}

/** Decodes a TensorProto (tensor_content or the typed *_val fields, last value repeated). */
export function decodeTensor(t: any, where: string): ConstTensor {
  const dtName = dtypeName(t.dtype);
  const dtype = TENSOR_DTYPES[dtName];
  if (!dtype) throw new GraphDefError(`${where}: unsupported tensor dtype ${dtName}`);
  const shape = decodeShape(t.tensorShape);
  if (shape === null || shape.some((d) => d < 0)) {
    throw new GraphDefError(`${where}: constant with an unknown shape`);
  }
  const n = shape.reduce((a, b) => a * b, 1);
  const content: Uint8Array | undefined = t.tensorContent;
  if (content && content.length > 0) {
    const want = n * BYTES_PER[dtype];
    if (content.length !== want) {
      throw new GraphDefError(`${where}: tensor_content has ${content.length} bytes, expected ${want} for shape [${shape}]`);
    }
    const copy = new Uint8Array(want); // copy: aligned, and detached from the file buffer
    copy.set(content);
    const buf = copy.buffer;
    switch (dtype) {
      case 'float32': return { dtype, shape, data: new Float32Array(buf) };
      case 'float64': return { dtype, shape, data: new Float64Array(buf) };
      case 'int32': return { dtype, shape, data: new Int32Array(buf) };
      case 'int64': return { dtype, shape, data: new BigInt64Array(buf) };
      case 'int8': return { dtype, shape, data: new Int8Array(buf) };
      case 'int16': return { dtype, shape, data: new Int16Array(buf) };
      default: return { dtype, shape, data: copy };
    }
  }
  let vals: ArrayLike<unknown>;
  switch (dtype) {
    case 'float32': vals = t.floatVal ?? []; break;
    case 'float64': vals = t.doubleVal ?? []; break;
    case 'int64': vals = t.int64Val ?? []; break;
    case 'bool': vals = t.boolVal ?? []; break;
    default: vals = t.intVal ?? []; break; // int32, int16, int8, uint8 all use int_val
  }
  const data = allocate(dtype, n);
  if (vals.length > n) throw new GraphDefError(`${where}: ${vals.length} values for shape [${shape}]`);
  for (let k = 0; k < n; k++) {
    const v = vals.length === 0 ? 0 : vals[Math.min(k, vals.length - 1)];
    if (data instanceof BigInt64Array) data[k] = BigInt(typeof v === 'object' && v ? String(v) : (v as number));
    else data[k] = typeof v === 'boolean' ? (v ? 1 : 0) : toNumber(v);
  }
  return { dtype, shape, data };
}

function decodeAttr(a: any, where: string): Attr {
  const utf8 = (b: Uint8Array) => Buffer.from(b).toString('utf8');
  switch (a.value) {
    case 's': return { kind: 's', value: utf8(a.s) };
    case 'i': return { kind: 'i', value: toNumber(a.i) };
    case 'f': return { kind: 'f', value: a.f };
    case 'b': return { kind: 'b', value: a.b };
    case 'type': return { kind: 'type', value: dtypeName(a.type) };
    case 'shape': return { kind: 'shape', value: decodeShape(a.shape) };
    case 'tensor': return { kind: 'tensor', value: decodeTensor(a.tensor, where) };
    case 'list': {
      const l = a.list ?? {};
      const out: AttrList = {};
      if (l.s?.length) out.s = l.s.map(utf8);
      if (l.i?.length) out.i = l.i.map(toNumber);
      if (l.f?.length) out.f = [...l.f];
      if (l.b?.length) out.b = [...l.b];
      if (l.type?.length) out.type = l.type.map(dtypeName);
      if (l.shape?.length) out.shape = l.shape.map(decodeShape);
      return { kind: 'list', value: out };
    }
    default: return { kind: 'other', value: String(a.value ?? 'empty') };
  }
}

/** Node name of an input reference: "^a" -> "a", "a:1" -> "a". */
export function inputNodeName(input: string): string {
  const s = input.startsWith('^') ? input.slice(1) : input;
  const colon = s.lastIndexOf(':');
  return colon > 0 && /^\d+$/.test(s.slice(colon + 1)) ? s.slice(0, colon) : s;
}

/**
 * Decodes and validates a frozen GraphDef.
 * @param bytes the file's contents
 * @param label how to name the file in error messages
 */
export function parseGraphDef(bytes: Uint8Array, label = 'graph'): ParsedGraph {
  if (endianness() !== 'LE') throw new GraphDefError('Frozen graphs can only be read on a little-endian CPU');
  if (bytes.length === 0) throw new GraphDefError(`${label} is not a TensorFlow GraphDef: the file is empty`);
  let msg: any;
  try {
    msg = GraphDefType.decode(bytes);
  } catch (err) {
    throw new GraphDefError(
      `${label} is not a TensorFlow GraphDef (truncated or another kind of file): ${(err as Error).message}`,
      { cause: err },
    );
  }
  const raw: any[] = msg.node ?? [];
  if (raw.length === 0) throw new GraphDefError(`${label} is not a TensorFlow GraphDef: it has no nodes`);
  const nodes: GraphNode[] = [];
  const weights = new Map<string, ConstTensor>();
  const names = new Set<string>();
  for (const n of raw) {
    const name: string = n.name ?? '';
    const op: string = n.op ?? '';
    if (!name || !op) throw new GraphDefError(`${label} is not a TensorFlow GraphDef: a node has no name or op`);
    if (names.has(name)) throw new GraphDefError(`${label}: node ${name} appears twice`);
    names.add(name);
    const attrs: Record<string, Attr> = {};
    for (const [k, v] of Object.entries(n.attr ?? {})) {
      if (op === 'Const' && k === 'value') continue;
      attrs[k] = decodeAttr(v, `${label}: node ${name} attr ${k}`);
    }
    if (op === 'Const') {
      const value = n.attr?.value;
      if (!value?.tensor) throw new GraphDefError(`${label}: Const node ${name} has no value`);
      weights.set(name, decodeTensor(value.tensor, `${label}: Const node ${name}`));
    }
    nodes.push({ name, op, inputs: [...(n.input ?? [])], attrs });
  }
  const bad = [...new Set(nodes.map((n) => n.op).filter((op) => !ALLOWED_OPS.has(op)))];
  if (bad.length > 0) {
    throw new GraphDefError(
      `${label} uses ops outside the MusiCNN op set: ${bad.sort().join(', ')} (allowed: ${[...ALLOWED_OPS].join(', ')})`,
    );
  }
  for (const n of nodes) {
    for (const i of n.inputs) {
      if (!names.has(inputNodeName(i))) {
        throw new GraphDefError(`${label} is incomplete (truncated?): node ${n.name} reads ${i}, which is not in the graph`);
      }
    }
  }
  return { nodes, weights, producer: toNumber(msg.versions?.producer) };
}

/** Names of the nodes in the graph, for output-node validation. */
export function nodeNames(g: ParsedGraph): Set<string> {
  return new Set(g.nodes.map((n) => n.name));
}

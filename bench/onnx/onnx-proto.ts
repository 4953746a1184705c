// SPDX-License-Identifier: MIT
/**
 * The few ONNX messages a converted graph needs (ModelProto, GraphProto, NodeProto,
 * AttributeProto, TensorProto, ValueInfoProto, TypeProto, TensorShapeProto,
 * OperatorSetIdProto), declared through protobufjs reflection with the field numbers of ONNX's
 * documented `onnx.proto` (IR version 7). Only what bench/onnx/musicnn-onnx.ts writes; no .proto
 * file is read. `encodeModel(model)` returns the serialised bytes for an InferenceSession.
 */
import protobuf from 'protobufjs';

const rep = (id: number, type: string) => ({ id, type, rule: 'repeated' });
const one = (id: number, type: string) => ({ id, type });

const ROOT = protobuf.Root.fromJSON({
  nested: {
    onnx: {
      nested: {
        AttributeType: { values: { UNDEFINED: 0, FLOAT: 1, INT: 2, STRING: 3, TENSOR: 4, GRAPH: 5, FLOATS: 6, INTS: 7, STRINGS: 8 } },
        OperatorSetIdProto: { fields: { domain: one(1, 'string'), version: one(2, 'int64') } },
        TensorProto: {
          fields: {
            dims: rep(1, 'int64'), dataType: one(2, 'int32'), floatData: rep(4, 'float'), int64Data: rep(7, 'int64'),
            name: one(8, 'string'), rawData: one(9, 'bytes'),
          },
        },
        AttributeProto: {
          fields: {
            name: one(1, 'string'), f: one(2, 'float'), i: one(3, 'int64'), s: one(4, 'bytes'), t: one(5, 'TensorProto'),
            floats: rep(7, 'float'), ints: rep(8, 'int64'), type: one(20, 'AttributeType'),
          },
        },
        NodeProto: {
          fields: {
            input: rep(1, 'string'), output: rep(2, 'string'), name: one(3, 'string'), opType: one(4, 'string'),
            attribute: rep(5, 'AttributeProto'), domain: one(7, 'string'),
          },
        },
        TensorShapeProto: {
          fields: { dim: rep(1, 'Dimension') },
          nested: { Dimension: { fields: { dimValue: one(1, 'int64'), dimParam: one(2, 'string') } } },
        },
        TypeProto: {
          fields: { tensorType: one(1, 'Tensor') },
          nested: { Tensor: { fields: { elemType: one(1, 'int32'), shape: one(2, 'TensorShapeProto') } } },
        },
        ValueInfoProto: { fields: { name: one(1, 'string'), type: one(2, 'TypeProto') } },
        GraphProto: {
          fields: {
            node: rep(1, 'NodeProto'), name: one(2, 'string'), initializer: rep(5, 'TensorProto'),
            input: rep(11, 'ValueInfoProto'), output: rep(12, 'ValueInfoProto'),
          },
        },
        ModelProto: {
          fields: {
            irVersion: one(1, 'int64'), producerName: one(2, 'string'), graph: one(7, 'GraphProto'),
            opsetImport: rep(8, 'OperatorSetIdProto'),
          },
        },
      },
    },
  },
});

/** TensorProto.DataType values. */
export const ONNX_FLOAT = 1;
export const ONNX_INT64 = 7;
/** AttributeProto.AttributeType values. */
export const ATTR = { FLOAT: 1, INT: 2, STRING: 3, FLOATS: 6, INTS: 7 } as const;

export interface OnnxAttribute {
  name: string;
  type: number;
  f?: number;
  i?: number;
  s?: Uint8Array;
  floats?: number[];
  ints?: number[];
}
export interface OnnxNode {
  name: string;
  opType: string;
  input: string[];
  output: string[];
  attribute: OnnxAttribute[];
}
export interface OnnxTensor {
  name: string;
  dims: number[];
  dataType: number;
  /** Little-endian values (float32 or int64). */
  rawData: Uint8Array;
}
export interface OnnxValueInfo {
  name: string;
  /** Element type and dimensions; a string is a symbolic dimension (dim_param). */
  elemType: number;
  dims: (number | string)[];
}
export interface OnnxModel {
  opset: number;
  nodes: OnnxNode[];
  initializers: OnnxTensor[];
  inputs: OnnxValueInfo[];
  outputs: OnnxValueInfo[];
}

const valueInfo = (v: OnnxValueInfo) => ({
  name: v.name,
  type: {
    tensorType: {
      elemType: v.elemType,
      shape: { dim: v.dims.map((d) => (typeof d === 'string' ? { dimParam: d } : { dimValue: d })) },
    },
  },
});

/** Serialises a model (IR version 7, the default ONNX domain at `opset`). */
export function encodeModel(m: OnnxModel): Uint8Array {
  const Model = ROOT.lookupType('onnx.ModelProto');
  const msg = {
    irVersion: 7,
    producerName: 'chaarfm-bench',
    opsetImport: [{ domain: '', version: m.opset }],
    graph: {
      name: 'musicnn',
      node: m.nodes,
      initializer: m.initializers,
      input: m.inputs.map(valueInfo),
      output: m.outputs.map(valueInfo),
    },
  };
  const err = Model.verify(msg);
  if (err) throw new Error(`ONNX model message: ${err}`);
  return Model.encode(Model.fromObject(msg)).finish();
}

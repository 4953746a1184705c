// SPDX-License-Identifier: MIT
/**
 * A frozen MusiCNN GraphDef (parsed by src/embed/graphdef.ts) converted op by op to ONNX
 * (opset 13), for the ONNX Runtime comparison in bench/onnx-compare.ts only.
 *
 * Every TF node the outputs need becomes the ONNX op(s) that compute it; the tensors keep TF's
 * NHWC layout, and the ops that ONNX defines on NCHW (Conv, MaxPool, BatchNormalization) are
 * wrapped in Transposes, as tf2onnx does, for ONNX Runtime's optimiser (level `all`) to cancel
 * and fuse. Float constants become float32 initializers, integer ones int64 (Shape gives int64);
 * the operands that ONNX takes as attributes or fixed inputs (axes, paddings, perms) are read
 * from the constants here. Nothing is folded or fused here: that is the runtime's job.
 * An op outside the graph's set is an Error naming the node.
 */
import type { ConstTensor, GraphNode, ParsedGraph } from '../../src/embed/graphdef.js';
import { ATTR, ONNX_FLOAT, ONNX_INT64, type OnnxAttribute, type OnnxModel, type OnnxNode, type OnnxTensor } from './onnx-proto.js';

const clean = (s: string) => s.replace(/:0$/, '');

export function convertToOnnx(g: ParsedGraph, input: string, outputs: string[]): OnnxModel {
  const byName = new Map(g.nodes.map((n) => [n.name, n]));
  const nodes: OnnxNode[] = [];
  const initializers: OnnxTensor[] = [];
  const done = new Set<string>();
  let seq = 0;
  const tmp = (base: string) => `${base}/__onnx${seq++}`;

  const node = (name: string): GraphNode => {
    const n = byName.get(name);
    if (!n) throw new Error(`no node '${name}' in the graph`);
    return n;
  };
  const dataInputs = (n: GraphNode) => n.inputs.filter((i) => !i.startsWith('^')).map(clean);
  /** The constant behind a node (through Identity), or an Error naming what needed it. */
  const constOf = (name: string, why: string): ConstTensor => {
    let n = node(name);
    while (n.op === 'Identity') n = node(dataInputs(n)[0]);
    const t = g.weights.get(n.name);
    if (!t) throw new Error(`${why}: '${name}' is not a constant`);
    return t;
  };
  const ints = (name: string, why: string) => Array.from(constOf(name, why).data as ArrayLike<number | bigint>, Number);
  const emit = (opType: string, input: string[], output: string[], attribute: OnnxAttribute[] = []) =>
    nodes.push({ name: output[0], opType, input, output, attribute });
  const attrInts = (name: string, v: number[]): OnnxAttribute => ({ name, type: ATTR.INTS, ints: v });
  const attrInt = (name: string, v: number): OnnxAttribute => ({ name, type: ATTR.INT, i: v });
  const int64Const = (base: string, v: number[], dims = [v.length]) => {
    const name = tmp(base);
    const raw = new BigInt64Array(v.map((x) => BigInt(x)));
    initializers.push({ name, dims, dataType: ONNX_INT64, rawData: new Uint8Array(raw.buffer) });
    return name;
  };
  const transpose = (x: string, perm: number[], base: string) => {
    const y = tmp(base);
    emit('Transpose', [x], [y], [attrInts('perm', perm)]);
    return y;
  };
  const toNchw = (x: string, base: string) => transpose(x, [0, 3, 1, 2], base);
  const attrOf = (n: GraphNode, key: string) => n.attrs[key];
  const intList = (n: GraphNode, key: string): number[] => {
    const a = attrOf(n, key);
    return a?.kind === 'list' ? (a.value.i ?? []) : [];
  };
  const samePads = (n: GraphNode, kernel: number[], strides: number[], dilations: number[]) => {
    const a = attrOf(n, 'padding');
    const mode = a?.kind === 's' ? a.value : 'VALID';
    if (mode === 'VALID') return [0, 0, 0, 0];
    if (mode !== 'SAME') throw new Error(`${n.name}: padding '${mode}' is not converted`);
    if (strides.some((s) => s !== 1)) throw new Error(`${n.name}: SAME padding with strides is not converted`);
    const total = kernel.map((k, i) => (k - 1) * dilations[i]);
    const begin = total.map((t) => Math.floor(t / 2)); // TF: the extra row/column at the end
    return [...begin, ...total.map((t, i) => t - begin[i])];
  };

  const visit = (name: string): void => {
    if (done.has(name)) return;
    done.add(name);
    const n = node(name);
    const ins = dataInputs(n);
    const out = n.name;
    const need = (...idx: number[]) => idx.forEach((i) => visit(ins[i]));
    switch (n.op) {
      case 'Placeholder':
        if (name !== input) throw new Error(`placeholder '${name}' is not the input '${input}'`);
        return;
      case 'Const': {
        const t = g.weights.get(name);
        if (!t) throw new Error(`${name}: a Const without a value`);
        if (t.dtype === 'float32' || t.dtype === 'float64') {
          const f = t.dtype === 'float32' ? (t.data as Float32Array) : Float32Array.from(t.data as Float64Array);
          const copy = new Float32Array(f);
          initializers.push({ name, dims: t.shape, dataType: ONNX_FLOAT, rawData: new Uint8Array(copy.buffer) });
        } else {
          const raw = new BigInt64Array(Array.from(t.data as ArrayLike<number | bigint>, (x) => BigInt(x)));
          initializers.push({ name, dims: t.shape, dataType: ONNX_INT64, rawData: new Uint8Array(raw.buffer) });
        }
        return;
      }
      case 'Identity':
      case 'StopGradient':
        need(0);
        emit('Identity', [ins[0]], [out]);
        return;
      case 'ExpandDims':
        need(0);
        emit('Unsqueeze', [ins[0], int64Const(out, ints(ins[1], `${name} dim`))], [out]);
        return;
      case 'Squeeze':
        need(0);
        emit('Squeeze', [ins[0], int64Const(out, intList(n, 'squeeze_dims'))], [out]);
        return;
      case 'FusedBatchNorm': {
        need(0, 1, 2, 3, 4);
        const eps = attrOf(n, 'epsilon');
        const xt = toNchw(ins[0], out);
        const y = tmp(out);
        emit('BatchNormalization', [xt, ins[1], ins[2], ins[3], ins[4]], [y], [
          { name: 'epsilon', type: ATTR.FLOAT, f: eps?.kind === 'f' ? eps.value : 1e-3 },
        ]);
        emit('Transpose', [y], [out], [attrInts('perm', [0, 2, 3, 1])]);
        return;
      }
      case 'Pad': {
        need(0);
        const p = ints(ins[1], `${name} paddings`);
        const rank = p.length / 2;
        const pads = [...Array.from({ length: rank }, (_, i) => p[2 * i]), ...Array.from({ length: rank }, (_, i) => p[2 * i + 1])];
        emit('Pad', [ins[0], int64Const(out, pads)], [out], [{ name: 'mode', type: ATTR.STRING, s: new TextEncoder().encode('constant') }]);
        return;
      }
      case 'Conv2D': {
        need(0, 1);
        const k = constOf(ins[1], `${name} kernel`).shape; // HWIO
        const strides = intList(n, 'strides').slice(1, 3);
        const dil = intList(n, 'dilations').slice(1, 3);
        const dilations = dil.length === 2 ? dil : [1, 1];
        const w = transpose(ins[1], [3, 2, 0, 1], out); // OIHW
        const y = tmp(out);
        emit('Conv', [toNchw(ins[0], out), w], [y], [
          attrInts('kernel_shape', [k[0], k[1]]),
          attrInts('strides', strides.length === 2 ? strides : [1, 1]),
          attrInts('dilations', dilations),
          attrInts('pads', samePads(n, [k[0], k[1]], strides, dilations)),
        ]);
        emit('Transpose', [y], [out], [attrInts('perm', [0, 2, 3, 1])]);
        return;
      }
      case 'MaxPool': {
        need(0);
        const ks = intList(n, 'ksize').slice(1, 3);
        const st = intList(n, 'strides').slice(1, 3);
        const y = tmp(out);
        emit('MaxPool', [toNchw(ins[0], out)], [y], [
          attrInts('kernel_shape', ks),
          attrInts('strides', st),
          attrInts('pads', samePads(n, ks, st, [1, 1])),
        ]);
        emit('Transpose', [y], [out], [attrInts('perm', [0, 2, 3, 1])]);
        return;
      }
      case 'BiasAdd':
      case 'Add':
      case 'Sub':
      case 'Mul':
        need(0, 1);
        emit(n.op === 'BiasAdd' ? 'Add' : n.op, [ins[0], ins[1]], [out]);
        return;
      case 'SquaredDifference': {
        need(0, 1);
        const d = tmp(out);
        emit('Sub', [ins[0], ins[1]], [d]);
        emit('Mul', [d, d], [out]);
        return;
      }
      case 'Rsqrt': {
        need(0);
        const s = tmp(out);
        emit('Sqrt', [ins[0]], [s]);
        emit('Reciprocal', [s], [out]);
        return;
      }
      case 'Relu':
      case 'Sigmoid':
        need(0);
        emit(n.op, [ins[0]], [out]);
        return;
      case 'ConcatV2': {
        const data = ins.slice(0, -1);
        data.forEach(visit);
        emit('Concat', data, [out], [attrInt('axis', ints(ins[ins.length - 1], `${name} axis`)[0])]);
        return;
      }
      case 'Transpose':
        need(0);
        emit('Transpose', [ins[0]], [out], [attrInts('perm', ints(ins[1], `${name} perm`))]);
        return;
      case 'Max':
      case 'Mean': {
        need(0);
        const keep = attrOf(n, 'keep_dims');
        emit(n.op === 'Max' ? 'ReduceMax' : 'ReduceMean', [ins[0]], [out], [
          attrInts('axes', ints(ins[1], `${name} reduction indices`)),
          attrInt('keepdims', keep?.kind === 'b' && keep.value ? 1 : 0),
        ]);
        return;
      }
      case 'Shape':
        need(0);
        emit('Shape', [ins[0]], [out]);
        return;
      case 'StridedSlice': {
        need(0);
        const mask = (k: string) => {
          const a = attrOf(n, k);
          return a?.kind === 'i' ? a.value : 0;
        };
        if (mask('ellipsis_mask') || mask('new_axis_mask')) throw new Error(`${name}: ellipsis/new-axis masks are not converted`);
        const begin = ints(ins[1], `${name} begin`), end = ints(ins[2], `${name} end`), step = ints(ins[3], `${name} strides`);
        const shrink = mask('shrink_axis_mask'), bm = mask('begin_mask'), em = mask('end_mask');
        const big = 2 ** 62;
        const starts = begin.map((b, i) => (bm & (1 << i) ? (step[i] > 0 ? 0 : big) : b));
        const ends = end.map((e, i) => (shrink & (1 << i) ? begin[i] + 1 : em & (1 << i) ? (step[i] > 0 ? big : -big) : e));
        const axes = begin.map((_, i) => i);
        const sliced = shrink ? tmp(out) : out;
        emit('Slice', [ins[0], int64Const(out, starts), int64Const(out, ends), int64Const(out, axes), int64Const(out, step)], [sliced]);
        if (shrink) emit('Squeeze', [sliced, int64Const(out, axes.filter((i) => shrink & (1 << i)))], [out]);
        return;
      }
      case 'Pack': {
        ins.forEach(visit);
        const axisAttr = attrOf(n, 'axis');
        const axis = axisAttr?.kind === 'i' ? axisAttr.value : 0;
        const parts = ins.map((x) => {
          const u = tmp(out);
          emit('Unsqueeze', [x, int64Const(out, [axis])], [u]);
          return u;
        });
        emit('Concat', parts, [out], [attrInt('axis', axis)]);
        return;
      }
      case 'Reshape':
        need(0, 1);
        emit('Reshape', [ins[0], ins[1]], [out]);
        return;
      case 'MatMul': {
        need(0, 1);
        const flag = (k: string) => {
          const a = attrOf(n, k);
          return a?.kind === 'b' && a.value;
        };
        const a = flag('transpose_a') ? transpose(ins[0], [1, 0], out) : ins[0];
        const b = flag('transpose_b') ? transpose(ins[1], [1, 0], out) : ins[1];
        emit('MatMul', [a, b], [out]);
        return;
      }
      default:
        throw new Error(`${name}: op ${n.op} is not converted to ONNX`);
    }
  };
  outputs.forEach(visit);
  const inShape = (() => {
    const s = attrOf(node(input), 'shape');
    return s?.kind === 'shape' && s.value ? s.value : [-1, 187, 96];
  })();
  return {
    opset: 13,
    nodes,
    initializers,
    inputs: [{ name: input, elemType: ONNX_FLOAT, dims: inShape.map((d) => (d < 0 ? 'batch' : d)) }],
    outputs: outputs.map((o) => ({ name: o, elemType: ONNX_FLOAT, dims: ['batch', 'width'] })),
  };
}

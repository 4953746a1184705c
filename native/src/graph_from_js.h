// SPDX-License-Identifier: MIT
// JS graph description -> GraphSpec (graph/graph_spec.h). Synchronous, on the JS thread; copies
// everything (weights included) out of V8 so the engine never touches JS memory.
// The JS shape is GraphSpecJs in src/embed/native-binding.ts:
//   { nodes: [{ name, op, inputs: string[], attrs: { [k]: { kind, i?, f?, b?, s?, ints? } } }],
//     consts: [{ name, shape: number[], f32?: Float32Array, ints?: number[] }],
//     input: string, outputs: string[] }
// attr kind: 'none' | 'int' | 'float' | 'bool' | 'string' | 'type' | 'intList' | 'shape'.
// Throws TypeError/RangeError naming the offending path (e.g. "graph.nodes[3].attrs.strides").
#pragma once

#include <napi.h>

#include "graph/graph_spec.h"

namespace chaarfm {

GraphSpec GraphFromJs(const Napi::Value& graph);

}  // namespace chaarfm

// SPDX-License-Identifier: MIT
// The contract between the addon's JS surface and the graph engine: a frozen MusiCNN GraphDef,
// already parsed in TypeScript (src/embed/graphdef.ts), handed over as plain C++ data.
// The addon layer fills a GraphSpec from JS objects; the engine (native/src/graph/) never sees V8.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace chaarfm {

// One attribute value of a NodeDef, flattened: which fields are set depends on the attribute.
struct AttrValue {
  enum class Kind { kNone, kInt, kFloat, kBool, kString, kType, kIntList, kShape } kind = Kind::kNone;
  int64_t i = 0;
  float f = 0.f;
  bool b = false;
  std::string s;                // kString, or the DataType name for kType ("DT_FLOAT")
  std::vector<int64_t> ints;    // kIntList (strides, ksize, dilations, squeeze_dims), kShape dims (-1 unknown)
};

struct NodeSpec {
  std::string name;
  std::string op;                       // "Conv2D", "FusedBatchNorm", ...
  std::vector<std::string> inputs;      // node names; control inputs ("^x") removed, ":0" suffixes removed
  std::map<std::string, AttrValue> attrs;
};

// A Const node's value. Float tensors are float32; int tensors (shapes, axes, paddings) int32/int64 as int64.
struct TensorSpec {
  std::vector<int64_t> shape;
  std::vector<float> f32;               // when dtype is float32
  std::vector<int64_t> ints;            // when dtype is an integer type
  bool is_float = true;
};

struct GraphSpec {
  std::vector<NodeSpec> nodes;                   // in GraphDef order
  std::map<std::string, TensorSpec> consts;      // Const node name -> value
  std::string input = "model/Placeholder";       // [batch, 187, 96]
  std::vector<std::string> outputs;              // e.g. {"model/dense/BiasAdd"} or {..., "model/Sigmoid"}
};

}  // namespace chaarfm

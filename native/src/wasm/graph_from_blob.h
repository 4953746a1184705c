// SPDX-License-Identifier: MIT
// A GraphSpec from the flat buffer written by src/embed/graph-blob.ts (the wasm engine's way in:
// one copy into the module's memory instead of a walk over JS objects). Little-endian:
//   "CFG1"  u32 nodes  { str name, str op, u32 n, str input * n, u32 attrs, { str key, attr } * attrs } * nodes
//           u32 consts { str name, u32 rank, f64 dim * rank, u8 kind (1 f32, 2 ints), u32 count,
//                        (f32 * count | f64 * count) } * consts
//           str input, u32 outputs, str output * outputs
//   str  = u32 byte length + UTF-8 bytes
//   attr = u8 kind (0 none, 1 int, 2 float, 3 bool, 4 string, 5 type, 6 intList, 7 shape), then
//          int: f64; float: f32; bool: u8; string/type: str; intList/shape: u32 n + f64 * n
// Integers travel as float64 (exact below 2^53, checked to be integers). Throws
// std::invalid_argument naming the offset and the field on a malformed buffer.
#pragma once

#include <cstddef>
#include <cstdint>

#include "graph/graph_spec.h"

namespace chaarfm {

GraphSpec GraphFromBlob(const uint8_t* data, size_t size);

}  // namespace chaarfm

// SPDX-License-Identifier: MIT
// Test helper: reads the fixtures written by test/native/dump-engine-fixtures.mjs (a parsed
// GraphDef as <name>.graph.txt + .graph.bin, frames, TF.js outputs) into GraphSpec and floats.
// Header-only; not thread-safe (plain functions on files).
#pragma once

#include <fstream>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

#include "../src/graph/graph_spec.h"

namespace chaarfm {
namespace test {

inline std::vector<float> ReadFloats(const std::string& path) {
  std::ifstream f(path, std::ios::binary | std::ios::ate);
  if (!f) throw std::runtime_error("cannot open " + path);
  const auto size = static_cast<size_t>(f.tellg());
  std::vector<float> v(size / sizeof(float));
  f.seekg(0);
  f.read(reinterpret_cast<char*>(v.data()), static_cast<std::streamsize>(v.size() * sizeof(float)));
  return v;
}

inline GraphSpec LoadGraph(const std::string& base) {
  const std::vector<float> blob = ReadFloats(base + ".graph.bin");
  std::ifstream f(base + ".graph.txt");
  if (!f) throw std::runtime_error("cannot open " + base + ".graph.txt");
  GraphSpec g;
  std::string line;
  while (std::getline(f, line)) {
    std::istringstream s(line);
    std::string kind;
    s >> kind;
    if (kind == "node") {
      NodeSpec n;
      size_t nin, nattr;
      s >> n.name >> n.op >> nin;
      n.inputs.resize(nin);
      for (auto& i : n.inputs) s >> i;
      s >> nattr;
      for (size_t a = 0; a < nattr; ++a) {
        std::getline(f, line);
        std::istringstream as(line);
        std::string tag, key, k;
        as >> tag >> key >> k;
        AttrValue v;
        if (k == "s") { v.kind = AttrValue::Kind::kString; as >> v.s; if (v.s == "-") v.s.clear(); }
        else if (k == "t") { v.kind = AttrValue::Kind::kType; as >> v.s; }
        else if (k == "i") { v.kind = AttrValue::Kind::kInt; as >> v.i; }
        else if (k == "f") { v.kind = AttrValue::Kind::kFloat; double d; as >> d; v.f = static_cast<float>(d); }
        else if (k == "b") { v.kind = AttrValue::Kind::kBool; int b; as >> b; v.b = b != 0; }
        else if (k == "l" || k == "shape") {
          v.kind = k == "l" ? AttrValue::Kind::kIntList : AttrValue::Kind::kShape;
          long cnt; as >> cnt;
          for (long c = 0; c < cnt; ++c) { int64_t x; as >> x; v.ints.push_back(x); }
        }
        n.attrs[key] = v;
      }
      g.nodes.push_back(std::move(n));
    } else if (kind == "const") {
      std::string name, type;
      size_t rank;
      s >> name >> type >> rank;
      TensorSpec t;
      t.shape.resize(rank);
      for (auto& d : t.shape) s >> d;
      if (type == "f") {
        size_t off, cnt;
        s >> off >> cnt;
        t.f32.assign(blob.begin() + off / 4, blob.begin() + off / 4 + cnt);
      } else {
        size_t cnt;
        s >> cnt;
        t.is_float = false;
        t.ints.resize(cnt);
        for (auto& x : t.ints) s >> x;
      }
      g.consts[name] = std::move(t);
    }
  }
  return g;
}

}  // namespace test
}  // namespace chaarfm

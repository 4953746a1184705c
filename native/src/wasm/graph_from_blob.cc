// SPDX-License-Identifier: MIT
// See graph_from_blob.h.
#include "graph_from_blob.h"

#include <cmath>
#include <cstring>
#include <stdexcept>
#include <string>

namespace chaarfm {

namespace {

class Reader {
 public:
  Reader(const uint8_t* data, size_t size) : p_(data), size_(size) {}
  [[noreturn]] void Fail(const std::string& what) const {
    throw std::invalid_argument("graph buffer: " + what + " at byte " + std::to_string(pos_));
  }
  void Need(size_t n, const char* what) {
    if (n > size_ - pos_) Fail(std::string("truncated ") + what);
  }
  uint8_t U8(const char* what) {
    Need(1, what);
    return p_[pos_++];
  }
  uint32_t U32(const char* what) {
    Need(4, what);
    uint32_t v;
    std::memcpy(&v, p_ + pos_, 4);
    pos_ += 4;
    return v;
  }
  float F32(const char* what) {
    Need(4, what);
    float v;
    std::memcpy(&v, p_ + pos_, 4);
    pos_ += 4;
    return v;
  }
  int64_t Int(const char* what) {
    Need(8, what);
    double v;
    std::memcpy(&v, p_ + pos_, 8);
    if (!std::isfinite(v) || std::floor(v) != v || std::fabs(v) > 9007199254740992.0)
      Fail(std::string("non-integer ") + what);
    pos_ += 8;
    return static_cast<int64_t>(v);
  }
  // a count of items of at least `min_bytes` each: bounded by what is left
  size_t Count(const char* what, size_t min_bytes) {
    const uint32_t n = U32(what);
    if (min_bytes && n > (size_ - pos_) / min_bytes) Fail(std::string("impossible count of ") + what);
    return n;
  }
  std::string Str(const char* what) {
    const size_t n = U32(what);
    Need(n, what);
    std::string s(reinterpret_cast<const char*>(p_ + pos_), n);
    pos_ += n;
    return s;
  }
  void Floats(size_t n, std::vector<float>* out) {
    if (n > (size_ - pos_) / 4) Fail("truncated float data");
    out->resize(n);
    if (n) std::memcpy(out->data(), p_ + pos_, n * 4);
    pos_ += n * 4;
  }
  bool AtEnd() const { return pos_ == size_; }

 private:
  const uint8_t* p_;
  size_t size_, pos_ = 0;
};

AttrValue ReadAttr(Reader& r) {
  AttrValue a;
  const uint8_t kind = r.U8("attribute kind");
  switch (kind) {
    case 0: a.kind = AttrValue::Kind::kNone; break;
    case 1: a.kind = AttrValue::Kind::kInt; a.i = r.Int("int attribute"); break;
    case 2: a.kind = AttrValue::Kind::kFloat; a.f = r.F32("float attribute"); break;
    case 3: a.kind = AttrValue::Kind::kBool; a.b = r.U8("bool attribute") != 0; break;
    case 4: case 5:
      a.kind = kind == 4 ? AttrValue::Kind::kString : AttrValue::Kind::kType;
      a.s = r.Str("string attribute");
      break;
    case 6: case 7: {
      a.kind = kind == 6 ? AttrValue::Kind::kIntList : AttrValue::Kind::kShape;
      const size_t n = r.Count("list attribute", 8);
      for (size_t i = 0; i < n; ++i) a.ints.push_back(r.Int("list attribute item"));
      break;
    }
    default: r.Fail("unknown attribute kind " + std::to_string(kind));
  }
  return a;
}

}  // namespace

GraphSpec GraphFromBlob(const uint8_t* data, size_t size) {
  Reader r(data, size);
  if (r.U32("magic") != 0x31474643u) r.Fail("not a graph buffer (magic is not CFG1)");  // "CFG1"
  GraphSpec spec;
  const size_t nodes = r.Count("nodes", 12);
  spec.nodes.resize(nodes);
  for (NodeSpec& n : spec.nodes) {
    n.name = r.Str("node name");
    n.op = r.Str("node op");
    const size_t inputs = r.Count("inputs", 4);
    for (size_t i = 0; i < inputs; ++i) n.inputs.push_back(r.Str("input name"));
    const size_t attrs = r.Count("attributes", 5);
    for (size_t i = 0; i < attrs; ++i) {
      std::string key = r.Str("attribute key");
      n.attrs[key] = ReadAttr(r);
    }
  }
  const size_t consts = r.Count("consts", 13);
  for (size_t c = 0; c < consts; ++c) {
    std::string name = r.Str("const name");
    TensorSpec t;
    const size_t rank = r.Count("const rank", 8);
    size_t count = 1;
    for (size_t i = 0; i < rank; ++i) {
      const int64_t d = r.Int("const dimension");
      if (d < 0) r.Fail("negative dimension of const " + name);
      t.shape.push_back(d);
      count *= static_cast<size_t>(d);
    }
    const uint8_t kind = r.U8("const kind");
    const size_t n = r.U32("const value count");
    if (n != count) r.Fail("const " + name + " has " + std::to_string(n) + " values for " + std::to_string(count));
    if (kind == 1) {
      t.is_float = true;
      r.Floats(n, &t.f32);
    } else if (kind == 2) {
      t.is_float = false;
      if (n > size / 8) r.Fail("truncated int data");
      for (size_t i = 0; i < n; ++i) t.ints.push_back(r.Int("const int"));
    } else {
      r.Fail("unknown const kind " + std::to_string(kind));
    }
    spec.consts[name] = std::move(t);
  }
  spec.input = r.Str("input name");
  const size_t outputs = r.Count("outputs", 4);
  for (size_t i = 0; i < outputs; ++i) spec.outputs.push_back(r.Str("output name"));
  if (!r.AtEnd()) r.Fail("trailing bytes");
  return spec;
}

}  // namespace chaarfm

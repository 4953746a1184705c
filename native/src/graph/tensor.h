// SPDX-License-Identifier: MIT
// The engine's value type: a dense row-major tensor of float32 or int64 (shapes, axes).
// Plain data; not synchronised (one executor run owns its tensors).
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace chaarfm {

struct Tensor {
  std::vector<int64_t> shape;
  std::vector<float> f;     // when is_float
  std::vector<int64_t> i;   // otherwise
  bool is_float = true;

  size_t numel() const {
    size_t n = 1;
    for (auto d : shape) n *= static_cast<size_t>(d);
    return n;
  }
};
using TensorPtr = std::shared_ptr<Tensor>;

inline std::string ShapeString(const std::vector<int64_t>& s) {
  std::string r = "[";
  for (size_t k = 0; k < s.size(); ++k) r += (k ? "," : "") + std::to_string(s[k]);
  return r + "]";
}

}  // namespace chaarfm

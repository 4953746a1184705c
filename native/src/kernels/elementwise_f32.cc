// SPDX-License-Identifier: MIT
// Element-wise kernels (see elementwise_f32.h). Pure functions, thread-safe.
#include "elementwise_f32.h"

#include <cmath>

namespace chaarfm {

void relu_f32(const float* x, float* y, size_t n) {
  for (size_t i = 0; i < n; ++i) y[i] = x[i] > 0.f ? x[i] : 0.f;
}

void sigmoid_f32(const float* x, float* y, size_t n) {
  for (size_t i = 0; i < n; ++i) y[i] = 1.f / (1.f + std::exp(-x[i]));
}

void rsqrt_f32(const float* x, float* y, size_t n) {
  for (size_t i = 0; i < n; ++i) y[i] = 1.f / std::sqrt(x[i]);
}

void bias_add_f32(const float* x, const float* b, float* y, size_t rows, size_t c) {
  for (size_t r = 0; r < rows; ++r)
    for (size_t i = 0; i < c; ++i) y[r * c + i] = x[r * c + i] + b[i];
}

static inline float Apply(BinaryOp op, float a, float b) {
  switch (op) {
    case BinaryOp::kAdd: return a + b;
    case BinaryOp::kSub: return a - b;
    case BinaryOp::kMul: return a * b;
    case BinaryOp::kSquaredDifference: { const float d = a - b; return d * d; }
  }
  return 0.f;
}

void broadcast_f32(BinaryOp op, const float* a, const std::vector<int64_t>& as, const float* b,
                   const std::vector<int64_t>& bs, float* y, const std::vector<int64_t>& os) {
  const size_t rank = os.size();
  size_t total = 1;
  for (auto d : os) total *= static_cast<size_t>(d);
  if (as == os && bs == os) {
    for (size_t i = 0; i < total; ++i) y[i] = Apply(op, a[i], b[i]);
    return;
  }
  // Strides with 0 for broadcast dimensions.
  std::vector<size_t> sa(rank), sb(rank);
  size_t ma = 1, mb = 1;
  for (size_t d = rank; d-- > 0;) {
    sa[d] = as[d] == 1 ? 0 : ma;
    sb[d] = bs[d] == 1 ? 0 : mb;
    ma *= static_cast<size_t>(as[d]);
    mb *= static_cast<size_t>(bs[d]);
  }
  std::vector<size_t> idx(rank, 0);
  for (size_t i = 0; i < total; ++i) {
    size_t ia = 0, ib = 0;
    for (size_t d = 0; d < rank; ++d) {
      ia += idx[d] * sa[d];
      ib += idx[d] * sb[d];
    }
    y[i] = Apply(op, a[ia], b[ib]);
    for (size_t d = rank; d-- > 0;) {
      if (++idx[d] < static_cast<size_t>(os[d])) break;
      idx[d] = 0;
    }
  }
}

}  // namespace chaarfm

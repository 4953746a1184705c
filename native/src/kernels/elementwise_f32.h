// SPDX-License-Identifier: MIT
// Element-wise float32 kernels; pure functions, thread-safe; y may equal x.
// Binary ops take operands already broadcast by index maps from the caller (broadcast_f32).
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

namespace chaarfm {

enum class BinaryOp { kAdd, kSub, kMul, kSquaredDifference };

void relu_f32(const float* x, float* y, size_t n);
void sigmoid_f32(const float* x, float* y, size_t n);
void rsqrt_f32(const float* x, float* y, size_t n);
void bias_add_f32(const float* x, const float* b, float* y, size_t rows, size_t c);

// y[out_shape] = op(a[a_shape], b[b_shape]) with NumPy broadcasting; shapes already padded to
// the same rank by the caller.
void broadcast_f32(BinaryOp op, const float* a, const std::vector<int64_t>& a_shape, const float* b,
                   const std::vector<int64_t>& b_shape, float* y, const std::vector<int64_t>& out_shape);

}  // namespace chaarfm

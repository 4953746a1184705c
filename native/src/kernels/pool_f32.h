// SPDX-License-Identifier: MIT
// Pooling and reductions, float32, pure functions (thread-safe).
// maxpool_f32: NHWC, VALID, window kh x kw, strides sh x sw.
// reduce_{max,mean}_f32: x viewed as [outer][red][inner], reduced over `red` in increasing
// order with one float accumulator; mean divides the float sum by red in float.
#pragma once

#include <cstddef>

namespace chaarfm {

void maxpool_f32(const float* x, float* y, size_t n, size_t h, size_t w, size_t c, size_t kh,
                 size_t kw, size_t sh, size_t sw, size_t oh, size_t ow);
void reduce_max_f32(const float* x, float* y, size_t outer, size_t red, size_t inner);
void reduce_mean_f32(const float* x, float* y, size_t outer, size_t red, size_t inner);

}  // namespace chaarfm

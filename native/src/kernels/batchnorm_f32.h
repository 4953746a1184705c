// SPDX-License-Identifier: MIT
// Inference batch normalisation over the last (channel) axis, float32, pure (thread-safe):
// scale = gamma / sqrt(var + eps), shift = beta - mean * scale, y = x * scale + shift.
#pragma once

#include <cstddef>

namespace chaarfm {

void batchnorm_params_f32(const float* gamma, const float* beta, const float* mean, const float* var,
                          float eps, size_t c, float* scale, float* shift);
// y may equal x.
void batchnorm_f32(const float* x, float* y, size_t rows, size_t c, const float* scale,
                   const float* shift);

}  // namespace chaarfm

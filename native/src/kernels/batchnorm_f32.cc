// SPDX-License-Identifier: MIT
// Batch normalisation kernels (see batchnorm_f32.h). Pure functions, thread-safe.
#include "batchnorm_f32.h"

#include <cmath>

namespace chaarfm {

void batchnorm_params_f32(const float* gamma, const float* beta, const float* mean, const float* var,
                          float eps, size_t c, float* scale, float* shift) {
  for (size_t i = 0; i < c; ++i) {
    scale[i] = gamma[i] * (1.f / std::sqrt(var[i] + eps));
    shift[i] = beta[i] - mean[i] * scale[i];
  }
}

void batchnorm_f32(const float* x, float* y, size_t rows, size_t c, const float* scale,
                   const float* shift) {
  for (size_t r = 0; r < rows; ++r)
    for (size_t i = 0; i < c; ++i) y[r * c + i] = x[r * c + i] * scale[i] + shift[i];
}

}  // namespace chaarfm

// SPDX-License-Identifier: MIT
// Direct kernel for "wide" one-channel convolutions (kernel [kh, kw, 1, co] with kw > 1, VALID,
// MusiCNN's timbral layers 7x38 and 7x67 over the 96 mel bands) fused with bias, Relu,
// batchnorm and a max over the whole output width:
//   y[t][o] = max_f bn(relu(bias[o] + sum_{i,j} x[t + i][f + j] * w[i][j][o])),  f < width-kw+1
// x: [t1 + kh - 1][width] rows. No im2col: vectorised over the output channels (weights read
// in place, HWIO), register-blocked over pixels. Variants: generic C++ (the reference of the
// tests) and AVX-512F (own compilation unit with its own -m flags), chosen by a CPU probe
// compiled without arch flags; elsewhere conv2d_f32 keeps im2col + GEMM.
// Each output element is computed by the same instruction sequence wherever it lies (its own
// FMA chain over the taps in increasing order), so row ranges may be split across threads
// freely and a row's value never depends on its neighbours. Pure functions: thread-safe.
#pragma once

#include <cstddef>

namespace chaarfm {

struct ConvEpilogue;

using ConvWideFn = void (*)(const float* x, size_t width, const float* w, size_t kh, size_t kw, size_t co,
                            const ConvEpilogue& ep, size_t t0, size_t t1, float* y);

void conv_wide_pool_generic_f32(const float* x, size_t width, const float* w, size_t kh, size_t kw, size_t co,
                                const ConvEpilogue& ep, size_t t0, size_t t1, float* y);
// The best variant for this CPU and shape (null when only the generic one applies).
ConvWideFn conv_wide_pool_best_f32(size_t width, size_t kw, size_t co);

}  // namespace chaarfm

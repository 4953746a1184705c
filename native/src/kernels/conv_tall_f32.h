// SPDX-License-Identifier: MIT
// Direct kernel for "tall" one-channel convolutions (kernel [kh, 1, 1, co], MusiCNN's temporal
// layers) fused with bias, Relu, batchnorm and a max over the whole width:
//   y[t][o] = max_f bn(relu(bias[o] + sum_k xpad[t + k][f] * w[k][o]))
// xpad: [t1 + kh - 1][width] rows, already zero-padded in time. No im2col, vectorised over the
// width. Variants: generic C++ (always built), AVX2+FMA and AVX-512F (x86, own compilation
// units with their own -m flags), NEON (arm64) and SIMD128 (wasm, wasm128_f32.h), chosen from
// CpuIsa() (cpu_features.h, capped by CHAARFM_MAX_ISA).
// Each output element is computed by the same instruction sequence wherever it lies, so row
// ranges may be split across threads freely. Pure functions: thread-safe. Where an FFT along
// time pays (128 and 64 taps on MusiCNN's patches) and the caller gives a plan, conv2d_f32
// takes conv_tall_dft.h instead.
#pragma once

#include <cstddef>

namespace chaarfm {

struct ConvEpilogue;

using ConvTallFn = void (*)(const float* xpad, size_t width, const float* w, size_t kh, size_t co,
                            const ConvEpilogue& ep, size_t t0, size_t t1, float* y);

void conv_tall_pool_generic_f32(const float* xpad, size_t width, const float* w, size_t kh, size_t co,
                                const ConvEpilogue& ep, size_t t0, size_t t1, float* y);
// The best variant for CpuIsa() and the shape (null when only the generic one applies).
ConvTallFn conv_tall_pool_best_f32(size_t width, size_t co);
const char* conv_tall_variant_name(size_t width, size_t co);
// One variant by ISA name ("avx512", "avx2", "neon", "wasm128"), null when not built here or the shape is
// not one it takes; never checks the CPU (tests check CpuBestIsa() before calling it).
ConvTallFn conv_tall_variant_f32(const char* isa, size_t width, size_t co);

}  // namespace chaarfm

// SPDX-License-Identifier: MIT
// Direct kernel for "wide" one-channel convolutions (kernel [kh, kw, 1, co] with kw > 1, VALID,
// MusiCNN's timbral layers 7x38 and 7x67 over the 96 mel bands) fused with bias, Relu,
// batchnorm and a max over the whole output width:
//   y[t][o] = max_f bn(relu(bias[o] + sum_{i,j} x[t + i][f + j] * w[i][j][o])),  f < width-kw+1
// x: [t1 + kh - 1][width] rows. No im2col: vectorised over the output channels (weights read
// in place, HWIO), register-blocked over pixels. Variants: generic C++ (the reference of the
// tests), AVX2+FMA and AVX-512F (x86, own compilation units with their own -m flags) and NEON
// (arm64) and SIMD128 (wasm, wasm128_f32.h), chosen from CpuIsa() (cpu_features.h, capped by CHAARFM_MAX_ISA); when none takes
// the shape, conv2d_f32 keeps im2col + GEMM. Where a DFT along the frequency axis pays (both
// MusiCNN timbral shapes) and the caller gives a plan, conv2d_f32 takes conv_wide_dft.h instead.
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
// The generic kernel for output channels [o0, co) only (a SIMD variant's leftover channels).
void conv_wide_pool_generic_channels_f32(const float* x, size_t width, const float* w, size_t kh, size_t kw,
                                         size_t co, const ConvEpilogue& ep, size_t t0, size_t t1, size_t o0,
                                         float* y);
// The best variant for CpuIsa() and the shape (null when only the generic one applies).
ConvWideFn conv_wide_pool_best_f32(size_t width, size_t kw, size_t co);
const char* conv_wide_variant_name(size_t width, size_t kw, size_t co);
// One variant by ISA name ("avx512", "avx2", "neon", "wasm128"), null when not built here or the shape is
// not one it takes; never checks the CPU (tests check CpuBestIsa() before calling it).
ConvWideFn conv_wide_variant_f32(const char* isa, size_t width, size_t kw, size_t co);

}  // namespace chaarfm

// SPDX-License-Identifier: MIT
// The WebAssembly SIMD128 kernel family (built only for wasm with -msimd128; selected in the
// dispatch files under `#if defined(__wasm_simd128__)`). Every kernel does the generic kernel's
// float operations in the generic kernel's order (a separate multiply and add per tap, k or tap
// order increasing, one accumulator per output element), so its results are the generic
// build's bits exactly; the vectors only run several output elements side by side. At most
// 8 accumulators a block: V8 keeps one of the 16 xmm registers for itself. Pure: thread-safe.
#pragma once

#include <cstddef>

#include "conv_tall_f32.h"
#include "conv_wide_f32.h"

namespace chaarfm {

// C[M,N] = A[M,K] * B[K,N], row-major, 4 x 8 register blocks; any M, N, K; bit-equal to
// gemm_ref_f32 and position-independent (no padding of short row blocks needed).
void gemm_wasm128_f32(const float* A, size_t lda, const float* B, size_t ldb, float* C, size_t ldc,
                      size_t M, size_t N, size_t K);
// null: a shape the kernel does not take (the generic kernel or im2col + GEMM then runs)
ConvTallFn conv_tall_wasm128_f32(size_t width, size_t co);
ConvWideFn conv_wide_wasm128_f32(size_t width, size_t kw, size_t co);

}  // namespace chaarfm
